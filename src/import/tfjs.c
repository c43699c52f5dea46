/*
 * tfjs.c — TensorFlow.js graph-model frontend: model.json + weight shards → IR.
 *
 * model.json: {format: "graph-model", modelTopology: {node: [...]}, weightsManifest:
 * [{paths: [...], weights: [{name, shape, dtype, quantization?}]}], signature?}.
 * Weights are read in manifest order from the concatenated shards of each group; values
 * quantized to float16 are widened exactly (IEEE binary16 → float32, as TF.js does), uint8 /
 * uint16 affine quantization as value = q * scale + min. TF.js stores int64 as int32.
 *
 * TF ops are NHWC; the IR's Conv/pool/Resize are NCHW. Every such op is imported as
 * Transpose(NHWC→NCHW) → op → Transpose(NCHW→NHWC); pass_fold_transposes cancels the
 * adjacent inverse pairs afterwards. Elementwise ops keep TF's (numpy) broadcasting.
 *
 * Outputs come from the signature (else nodes nobody consumes). An output whose subgraph
 * uses an op odet does not import (CenterNet's baked-in TopKV2/GatherV2 postprocess) is
 * dropped, and the reason is kept for `odet inspect` (g->note). If every output is
 * dropped, the import fails naming the op.
 */
#include "import/tfjs_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TFJS_MAX_JSON_BYTES ((size_t)64 << 20)
#define TFJS_MAX_WEIGHT_BYTES ((size_t)2 << 30)

/* ------------------------------------------------------------ small helpers */

static size_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return (size_t)h;
}

int tf_find_node(const tf_import *t, const char *name, size_t len)
{
	if (!t->index)
		return -1;
	size_t mask = t->index_cap - 1;
	for (size_t h = name_hash(name, len) & mask;; h = (h + 1) & mask) {
		int i = t->index[h];
		if (i < 0)
			return -1;
		if (strlen(t->nodes[i].name) == len && memcmp(t->nodes[i].name, name, len) == 0)
			return i;
	}
}

/* Index every node by name (the first of duplicate names wins, as a linear search would). */
odet_status tf_index_nodes(tf_import *t)
{
	size_t cap = 16;
	while (cap < 2 * (size_t)t->n_nodes)
		cap *= 2;
	t->index = odet_realloc_array(t->ctx, NULL, cap, sizeof(int));
	if (!t->index)
		return ODET_ERR_NO_MEMORY;
	t->index_cap = cap;
	for (size_t h = 0; h < cap; h++)
		t->index[h] = -1;
	for (int i = 0; i < t->n_nodes; i++) {
		const char *nm = t->nodes[i].name;
		size_t len = strlen(nm), h = name_hash(nm, len) & (cap - 1);
		while (t->index[h] >= 0 && strcmp(t->nodes[t->index[h]].name, nm) != 0)
			h = (h + 1) & (cap - 1);
		if (t->index[h] < 0)
			t->index[h] = i;
	}
	return ODET_OK;
}

/* "name:k" or "name" → node index and output k; control inputs ("^x") return -2. */
int tf_parse_ref(const tf_import *t, const char *ref, int *k)
{
	*k = 0;
	if (ref[0] == '^')
		return -2;
	const char *colon = strrchr(ref, ':');
	size_t len = strlen(ref);
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (*end == 0 && v >= 0 && v < IR_MAX_IO) {
			*k = (int)v;
			len = (size_t)(colon - ref);
		}
	}
	return tf_find_node(t, ref, len);
}

cJSON *tf_attr(const tf_node *n, const char *name)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(n->json, "attr");
	return a ? cJSON_GetObjectItemCaseSensitive(a, name) : NULL;
}

/* attr {"s": base64} decoded into buf */
const char *tf_attr_str(const tf_node *n, const char *name, char *buf, size_t cap)
{
	cJSON *a = tf_attr(n, name);
	cJSON *s = a ? cJSON_GetObjectItemCaseSensitive(a, "s") : NULL;
	buf[0] = 0;
	if (!cJSON_IsString(s))
		return buf;
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = s->valuestring;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (; *p && *p != '='; p++) {
		const char *q = strchr(b64, *p);
		if (!q)
			break;
		acc = (acc << 6) | (uint32_t)(q - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 < cap)
				buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[o] = 0;
	return buf;
}

int tf_attr_bool(const tf_node *n, const char *name, int def)
{
	cJSON *a = tf_attr(n, name);
	cJSON *b = a ? cJSON_GetObjectItemCaseSensitive(a, "b") : NULL;
	return cJSON_IsBool(b) ? cJSON_IsTrue(b) : def;
}

int64_t tf_attr_int(const tf_node *n, const char *name, int64_t def)
{
	cJSON *a = tf_attr(n, name);
	cJSON *i = a ? cJSON_GetObjectItemCaseSensitive(a, "i") : NULL;
	if (cJSON_IsString(i))
		return strtoll(i->valuestring, NULL, 10);
	if (cJSON_IsNumber(i))
		return (int64_t)i->valuedouble;
	return def;
}

float tf_attr_float(const tf_node *n, const char *name, float def)
{
	cJSON *a = tf_attr(n, name);
	cJSON *f = a ? cJSON_GetObjectItemCaseSensitive(a, "f") : NULL;
	return cJSON_IsNumber(f) ? (float)f->valuedouble : def;
}

/* attr {"list": {"i": ["1","2",...]}} → up to cap ints; returns count */
int tf_attr_ints(const tf_node *n, const char *name, int64_t *v, int cap)
{
	cJSON *a = tf_attr(n, name);
	cJSON *l = a ? cJSON_GetObjectItemCaseSensitive(a, "list") : NULL;
	cJSON *i = l ? cJSON_GetObjectItemCaseSensitive(l, "i") : NULL;
	int c = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, i)
	{
		if (c >= cap)
			return -1;
		v[c++] = cJSON_IsString(e) ? strtoll(e->valuestring, NULL, 10) : (int64_t)e->valuedouble;
	}
	return c;
}

int tf_n_inputs(const tf_node *n)
{
	cJSON *in = cJSON_GetObjectItemCaseSensitive(n->json, "input");
	int c = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, in)
	{
		if (cJSON_IsString(e) && e->valuestring[0] != '^')
			c++;
	}
	return c;
}

const char *tf_input_ref(const tf_node *n, int i)
{
	cJSON *in = cJSON_GetObjectItemCaseSensitive(n->json, "input");
	int c = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, in)
	{
		if (cJSON_IsString(e) && e->valuestring[0] != '^' && c++ == i)
			return e->valuestring;
	}
	return NULL;
}

/* ------------------------------------------------------------ weights */

static float dequant(const uint8_t *p, const char *qtype, int64_t i, float scale, float min)
{
	if (!strcmp(qtype, "float16")) {
		uint16_t h;
		memcpy(&h, p + 2 * i, 2);
		return odet_f16_to_f32(h);
	}
	if (!strcmp(qtype, "uint8"))
		return p[i] * scale + min;
	uint16_t u;
	memcpy(&u, p + 2 * i, 2);
	return u * scale + min;
}

static odet_status load_group(tf_import *t, const char *dir, cJSON *group)
{
	odet_ctx *ctx = t->ctx;
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(group, "paths");
	cJSON *weights = cJSON_GetObjectItemCaseSensitive(group, "weights");
	if (!cJSON_IsArray(paths) || !cJSON_IsArray(weights))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: weightsManifest group lacks paths or weights", t->path);
	/* concatenate shards */
	uint8_t *buf = NULL;
	size_t size = 0;
	odet_status rc = ODET_OK;
	cJSON *p;
	cJSON_ArrayForEach(p, paths)
	{
		if (!cJSON_IsString(p)) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: weight path is not a string", t->path);
			goto out_free;
		}
		int fd;
		uint64_t n;
		rc = odet_file_open_inside(ctx, dir, p->valuestring, t->path, "weight shard", &fd, &n);
		if (rc)
			goto out_free;
		if (n > TFJS_MAX_WEIGHT_BYTES - size) {
			close(fd);
			rc = odet_error(ctx, ODET_ERR_LIMIT, "%s: weight shards exceed %zu bytes", t->path,
					TFJS_MAX_WEIGHT_BYTES);
			goto out_free;
		}
		uint8_t *nb = odet_realloc_array(ctx, buf, size + (size_t)n + 1, 1);
		if (!nb) {
			close(fd);
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		buf = nb;
		char what[PATH_MAX + 64];
		snprintf(what, sizeof what, "%s: weight shard '%s'", t->path, p->valuestring);
		rc = odet_file_pread_all(ctx, fd, 0, buf + size, (size_t)n, what);
		close(fd);
		if (rc)
			goto out_free;
		size += (size_t)n;
	}
	size_t off = 0;
	int idx = 0;
	cJSON *w;
	cJSON_ArrayForEach(w, weights)
	{
		cJSON *name = cJSON_GetObjectItemCaseSensitive(w, "name");
		cJSON *shape = cJSON_GetObjectItemCaseSensitive(w, "shape");
		cJSON *dtype = cJSON_GetObjectItemCaseSensitive(w, "dtype");
		cJSON *quant = cJSON_GetObjectItemCaseSensitive(w, "quantization");
		if (!cJSON_IsString(name) || !cJSON_IsArray(shape) || !cJSON_IsString(dtype)) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: weight %d: missing name, shape or dtype", t->path, idx);
			goto out_free;
		}
		int64_t dims[ODET_MAX_RANK];
		int rank = 0;
		cJSON *d;
		cJSON_ArrayForEach(d, shape)
		{
			if (rank >= ODET_MAX_RANK || !cJSON_IsNumber(d) || !(d->valuedouble >= 0) || d->valuedouble > 1e12 ||
			    d->valuedouble != (double)(int64_t)d->valuedouble) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
						"%s: weight '%s': bad shape (rank <= 8, dims whole numbers >= 0)",
						t->path, name->valuestring);
				goto out_free;
			}
			dims[rank++] = (int64_t)d->valuedouble;
		}
		int64_t numel;
		if (!odet_dims_numel(dims, rank, &numel) || numel > ((int64_t)1 << 32)) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "%s: weight '%s': element count overflows", t->path,
					name->valuestring);
			goto out_free;
		}
		odet_dtype dt;
		const char *ds = dtype->valuestring;
		if (!strcmp(ds, "float32"))
			dt = ODET_F32;
		else if (!strcmp(ds, "int32"))
			dt = ODET_I32;
		else if (!strcmp(ds, "bool"))
			dt = ODET_BOOL;
		else {
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: weight '%s': dtype %s is not supported", t->path,
					name->valuestring, ds);
			goto out_free;
		}
		const char *qtype = NULL;
		float scale = 1, min = 0;
		if (cJSON_IsObject(quant)) {
			cJSON *qd = cJSON_GetObjectItemCaseSensitive(quant, "dtype");
			qtype = cJSON_IsString(qd) ? qd->valuestring : "";
			if (strcmp(qtype, "float16") && strcmp(qtype, "uint8") && strcmp(qtype, "uint16")) {
				rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: weight '%s': quantization %s is not supported",
						t->path, name->valuestring, qtype);
				goto out_free;
			}
			cJSON *s = cJSON_GetObjectItemCaseSensitive(quant, "scale");
			cJSON *m = cJSON_GetObjectItemCaseSensitive(quant, "min");
			scale = cJSON_IsNumber(s) ? (float)s->valuedouble : 1.0f;
			min = cJSON_IsNumber(m) ? (float)m->valuedouble : 0.0f;
		}
		size_t esize = qtype ? (strcmp(qtype, "uint8") ? 2 : 1) : odet_dtype_size(dt);
		size_t bytes = (size_t)numel * esize;
		if (off > size || bytes > size - off) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
					"%s: weight '%s' needs %zu bytes at offset %zu, shards hold %zu", t->path,
					name->valuestring, bytes, off, size);
			goto out_free;
		}
		size_t out_bytes = (size_t)numel * odet_dtype_size(dt);
		void *data = odet_malloc(ctx, out_bytes);
		if (!data) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		if (qtype) {
			float *f = data;
			for (int64_t i = 0; i < numel; i++)
				f[i] = dequant(buf + off, qtype, i, scale, min);
			if (dt != ODET_F32) { /* quantized ints: round back */
				int32_t *q = data;
				for (int64_t i = 0; i < numel; i++)
					q[i] = (int32_t)f[i];
			}
		} else {
			memcpy(data, buf + off, bytes);
		}
		off += bytes;
		int node = tf_find_node(t, name->valuestring, strlen(name->valuestring));
		int v = ir_const_add(t->g, name->valuestring, dt, rank, dims, data);
		if (v < 0) {
			rc = t->ctx->last_status ? t->ctx->last_status : ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		if (node >= 0 && t->nodes[node].n_out > 0) {
			t->nodes[node].out[0] = v;
			t->nodes[node].state = 2;
		}
		idx++;
	}
out_free:
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ entry point */

/* Output k of node src (after its translation) becomes a graph output. */
static odet_status add_output(tf_import *t, int src, int k, const char *ref)
{
	int v = k < t->nodes[src].n_out ? t->nodes[src].out[k] : -1;
	if (v < 0)
		return odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: output '%s': node '%s' has no output %d", t->path, ref,
				  t->nodes[src].name, k);
	int *no = odet_realloc_array(t->ctx, t->g->outputs, (size_t)t->g->n_outputs + 1, sizeof(int));
	if (!no)
		return ODET_ERR_NO_MEMORY;
	t->g->outputs = no;
	t->g->outputs[t->g->n_outputs++] = v;
	t->g->values[v].is_output = true;
	return ODET_OK;
}

/* Without a signature, the outputs are the nodes nobody consumes (constants aside), in
 * node order: one pass over every input reference, each looked up in the name index. */
static odet_status unconsumed_outputs(tf_import *t, int *n_try)
{
	odet_status rc = ODET_OK;
	char *used = odet_calloc(t->ctx, (size_t)t->n_nodes, 1);
	if (!used)
		return ODET_ERR_NO_MEMORY;
	for (int m = 0; m < t->n_nodes; m++) {
		cJSON *in = cJSON_GetObjectItemCaseSensitive(t->nodes[m].json, "input"), *e;
		cJSON_ArrayForEach(e, in)
		{
			int k, src = cJSON_IsString(e) ? tf_parse_ref(t, e->valuestring, &k) : -1;
			if (src >= 0)
				used[src] = 1;
		}
	}
	for (int ni = 0; ni < t->n_nodes; ni++) {
		if (used[ni] || !strcmp(t->nodes[ni].op, "Const"))
			continue;
		(*n_try)++;
		if ((rc = tfjs_translate(t, ni)) || (rc = add_output(t, ni, 0, t->nodes[ni].name)))
			break;
	}
	free(used);
	return rc;
}

/* Number of outputs a TF node has (at least 1). */
static int count_outputs(const tf_node *n)
{
	if (!strcmp(n->op, "SplitV") || !strcmp(n->op, "Split")) {
		int64_t k = tf_attr_int(n, "num_split", 1);
		return k > 0 && k <= IR_MAX_IO ? (int)k : 1;
	}
	if (!strcmp(n->op, "TopKV2"))
		return 2;
	return 1;
}

/* Deepest nesting of '[' / '{' outside strings, counted up to max + 1 (cJSON recurses once per
 * level; the context's max_json_depth applies to model.json as to every JSON file). */
static int json_depth(const char *s, size_t n, int max)
{
	int depth = 0, deepest = 0;
	bool in_str = false;
	for (size_t i = 0; i < n && deepest <= max; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

odet_status odet_import_tfjs_file(odet_ctx *ctx, const char *path, ir_graph **out)
{
	tf_import t = {.ctx = ctx, .path = path};
	void *text = NULL;
	size_t size;
	odet_status rc = odet_file_read(ctx, path, TFJS_MAX_JSON_BYTES, &text, &size);
	if (rc)
		return rc;
	int max_depth = ctx->opts.max_json_depth > 0 ? ctx->opts.max_json_depth : 64;
	if (json_depth(text, size, max_depth) > max_depth) {
		free(text);
		return odet_error(ctx, ODET_ERR_LIMIT, "%s: JSON nesting deeper than %d", path, max_depth);
	}
	t.root = cJSON_ParseWithLength(text, size);
	free(text);
	if (!t.root)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not valid JSON", path);
	cJSON *topo = cJSON_GetObjectItemCaseSensitive(t.root, "modelTopology");
	cJSON *nodes = topo ? cJSON_GetObjectItemCaseSensitive(topo, "node") : NULL;
	cJSON *manifest = cJSON_GetObjectItemCaseSensitive(t.root, "weightsManifest");
	cJSON *format = cJSON_GetObjectItemCaseSensitive(t.root, "format");
	if (cJSON_IsString(format) && strcmp(format->valuestring, "graph-model")) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: TF.js format '%s' (only graph-model is supported)", path,
				format->valuestring);
		goto out_json;
	}
	if (!cJSON_IsArray(nodes) || !cJSON_IsArray(manifest)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a TF.js graph model (no modelTopology.node / weightsManifest)",
				path);
		goto out_json;
	}
	t.n_nodes = cJSON_GetArraySize(nodes);
	if (t.n_nodes <= 0 || t.n_nodes > ODET_LIMIT_MAX_NODES) {
		rc = odet_error(ctx, t.n_nodes > 0 ? ODET_ERR_LIMIT : ODET_ERR_BAD_INPUT, "%s: %d nodes (limit %d)", path,
				t.n_nodes, ODET_LIMIT_MAX_NODES);
		goto out_json;
	}
	t.nodes = odet_calloc(ctx, (size_t)t.n_nodes, sizeof *t.nodes);
	if (!t.nodes || (rc = ir_graph_create(ctx, &t.g))) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_nodes;
	}
	int i = 0;
	cJSON *e;
	cJSON_ArrayForEach(e, nodes)
	{
		cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
		cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "op");
		if (!cJSON_IsString(name) || !cJSON_IsString(op)) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: node %d lacks name or op", path, i);
			goto out_graph;
		}
		tf_node *n = &t.nodes[i++];
		n->name = name->valuestring;
		n->op = op->valuestring;
		n->json = e;
		n->n_out = count_outputs(n);
		n->out = odet_calloc(ctx, (size_t)n->n_out, sizeof(int));
		if (!n->out) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_graph;
		}
		for (int k = 0; k < n->n_out; k++)
			n->out[k] = -1;
	}
	if ((rc = tf_index_nodes(&t)))
		goto out_graph;
	/* weights, from the folder of model.json */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	cJSON *group;
	cJSON_ArrayForEach(group, manifest)
	{
		if ((rc = load_group(&t, dir, group)))
			goto out_graph;
	}
	/* outputs: the signature's, else nodes nobody consumes */
	cJSON *sig = cJSON_GetObjectItemCaseSensitive(t.root, "signature");
	cJSON *souts = sig ? cJSON_GetObjectItemCaseSensitive(sig, "outputs") : NULL;
	char dropped[512] = "";
	odet_status first_err = ODET_OK;
	char first_msg[sizeof ctx->last_error] = "";
	int n_try = 0;
	if (cJSON_IsObject(souts)) {
		cJSON *so;
		cJSON_ArrayForEach(so, souts)
		{
			cJSON *nm = cJSON_GetObjectItemCaseSensitive(so, "name");
			const char *ref = cJSON_IsString(nm) ? nm->valuestring : so->string;
			int k, src = tf_parse_ref(&t, ref, &k);
			n_try++;
			if (src < 0) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: signature output '%s' names no node", path, ref);
				goto out_graph;
			}
			rc = tfjs_translate(&t, src);
			if (rc == ODET_ERR_UNSUPPORTED) {
				if (!first_err) {
					first_err = rc;
					memcpy(first_msg, ctx->last_error, sizeof first_msg);
				}
				size_t l = strlen(dropped);
				snprintf(dropped + l, sizeof dropped - l, "%s%s", l ? ", " : "", ref);
				continue;
			}
			if (rc)
				goto out_graph;
			if ((rc = add_output(&t, src, k, ref)))
				goto out_graph;
		}
	} else if ((rc = unconsumed_outputs(&t, &n_try))) {
		goto out_graph;
	}
	if (t.g->n_outputs == 0) {
		if (first_err) {
			memcpy(ctx->last_error, first_msg, sizeof first_msg);
			rc = first_err;
		} else {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: the model has no outputs", path);
		}
		goto out_graph;
	}
	if (dropped[0]) {
		/* kept for odet inspect: which outputs were cut and why */
		char note[1024];
		snprintf(note, sizeof note, "outputs dropped: %s (%s)", dropped, first_msg);
		odet_log(ctx, ODET_LOG_INFO, "%s", note);
		free(t.g->note);
		t.g->note = odet_strdup(ctx, note);
	}
	ctx->last_error[0] = 0;
	ctx->last_status = ODET_OK;
	t.g->opset = 18;
	if ((rc = ir_graph_toposort(t.g)) || (rc = ir_graph_compact(t.g)))
		goto out_graph;
	*out = t.g;
	t.g = NULL;
out_graph:
	ir_graph_free(t.g);
out_nodes:
	for (int k = 0; t.nodes && k < t.n_nodes; k++)
		free(t.nodes[k].out);
	free(t.nodes);
	free(t.index);
out_json:
	cJSON_Delete(t.root);
	return rc;
}
