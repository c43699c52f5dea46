/*
 * plan.c — plan files: odet_engine_save / odet_engine_load (layout: docs/plan-format.md).
 *
 *   header (128 bytes: magic "ODETPLAN", format version, odet version, backend, GPU arch,
 *   CUDA/cuDNN versions, build options, section count, file size, header CRC-32 over the
 *   header and the section table) | section table (32 bytes per section: type, offset, size,
 *   CRC-32) | sections, each 64-byte aligned: graph, head, tuning (the backend's tuned choices,
 *   read back into the engine before prepare), backend blob (reserved).
 *
 * All integers little-endian. Ops are stored by (domain, name), never by enum number, so
 * adding ops never breaks old plans. Loading treats the file as untrusted: every offset,
 * length, count and index is checked against the bytes that are there before it is used
 * or anything is allocated from it; after parsing, each node's stored output shapes are
 * compared with its shape function's, and the graph goes through the same structure
 * checks, backend check/prepare and memory plan as a fresh build.
 */
#include "engine/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "plan.c assumes a little-endian host (plan files are little-endian)"
#endif

#define PLAN_MAGIC "ODETPLAN"
/* 2: BatchedNms may carry activation/layout (it then reads logits, fuse_scores_nms.c), which
 * a version-1 reader would ignore; version 1 plans read as before. */
#define PLAN_FORMAT_VERSION 2u
#define PLAN_FORMAT_OLDEST 1u
#define PLAN_HEADER_SIZE 128u
#define PLAN_HEADER_CRC_AT 124u
#define PLAN_SECTION_ENTRY 32u
#define PLAN_MAX_SECTIONS 16u
#define PLAN_ALIGN 64u

#define PLAN_HEAD_INFO_BYTES 32u /* 3 + 3 floats, 2 int32 */

#define PLAN_FLAG_NO_HEAD 1u
#define PLAN_FLAG_HAS_HEAD 2u

enum plan_section_type {
	PLAN_SEC_GRAPH = 1,
	PLAN_SEC_HEAD = 2,    /* head description line + opaque head bytes (reserved, empty) */
	PLAN_SEC_BACKEND = 3, /* backend blob (reserved: packed weights) */
	PLAN_SEC_TUNING = 4,  /* tuned choices (KEY, VALUE strings; odet_tune_set) */
};

/* entries of a tuning section at most: a build has one per convolution shape (SSD300 ~50), and
 * the set is searched linearly, so an untrusted plan must not make its load quadratic in more */
#define PLAN_MAX_TUNING 4096u

static const char *section_name(uint32_t type)
{
	switch (type) {
	case PLAN_SEC_GRAPH: return "graph";
	case PLAN_SEC_HEAD: return "head";
	case PLAN_SEC_BACKEND: return "backend";
	case PLAN_SEC_TUNING: return "tuning";
	default: return "unknown";
	}
}

/* op (domain, name) table, from ops.def */
static const struct {
	const char *domain, *name;
} plan_ops[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = {dom, onnx},
#include "graph/ops.def"
#undef OP
};

/* ------------------------------------------------------------------ writer */

typedef struct wbuf {
	uint8_t *p;
	size_t n, cap;
	bool oom;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->n + n) {
			if (cap > SIZE_MAX / 2) {
				w->oom = true;
				return;
			}
			cap *= 2;
		}
		uint8_t *q = realloc(w->p, cap);
		if (!q) {
			w->oom = true;
			return;
		}
		w->p = q;
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void put_u32(wbuf *w, uint32_t v) { put(w, &v, 4); }
static void put_i32(wbuf *w, int32_t v) { put(w, &v, 4); }
static void put_u64(wbuf *w, uint64_t v) { put(w, &v, 8); }
static void put_i64(wbuf *w, int64_t v) { put(w, &v, 8); }
static void put_f32(wbuf *w, float v) { put(w, &v, 4); }

static void put_bytes_str(wbuf *w, const char *s, size_t n)
{
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

static void put_str(wbuf *w, const char *s)
{
	put_bytes_str(w, s ? s : "", s ? strlen(s) : 0);
}

static void put_align(wbuf *w, size_t base)
{
	static const uint8_t zeros[PLAN_ALIGN];
	size_t rel = (w->n - base) % PLAN_ALIGN;
	if (rel)
		put(w, zeros, PLAN_ALIGN - rel);
}

static void put_attr(wbuf *w, const ir_attr *a)
{
	put_str(w, a->name);
	put_u32(w, (uint32_t)a->type);
	switch (a->type) {
	case IR_ATTR_FLOAT: put_f32(w, a->f); break;
	case IR_ATTR_INT: put_i64(w, a->i); break;
	case IR_ATTR_STRING: put_bytes_str(w, a->s ? a->s : "", a->s ? a->s_len : 0); break;
	case IR_ATTR_TENSOR: put_i32(w, a->tensor); break;
	case IR_ATTR_FLOATS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_f32(w, a->floats[i]);
		break;
	case IR_ATTR_INTS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_i64(w, a->ints[i]);
		break;
	case IR_ATTR_STRINGS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_str(w, a->strings ? a->strings[i] : NULL);
		break;
	}
}

/* The graph section, starting at w->n (a multiple of PLAN_ALIGN). */
static odet_status write_graph(odet_ctx *ctx, const ir_graph *g, wbuf *w)
{
	size_t base = w->n;
	size_t *patch = odet_calloc(ctx, (size_t)g->n_values + 1, sizeof(size_t));
	if (!patch)
		return ODET_ERR_NO_MEMORY;
	put_u32(w, (uint32_t)g->n_values);
	put_u32(w, (uint32_t)g->n_nodes);
	put_u32(w, (uint32_t)g->n_inputs);
	put_u32(w, (uint32_t)g->n_outputs);
	put_i32(w, g->opset);
	put_str(w, g->name);
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *val = &g->values[v];
		put_str(w, val->name);
		put_u32(w, (uint32_t)val->kind);
		put_u32(w, (uint32_t)val->dtype);
		put_i32(w, val->rank);
		put_u32(w, val->is_output ? 1u : 0u);
		for (int k = 0; k < val->rank; k++)
			put_i64(w, val->dims[k]);
		uint32_t mask = 0;
		for (int k = 0; k < val->rank; k++)
			if (val->sym[k])
				mask |= 1u << k;
		put_u32(w, mask);
		for (int k = 0; k < val->rank; k++)
			if (val->sym[k])
				put_str(w, val->sym[k]);
		if (val->kind == IR_VALUE_CONST) {
			patch[v] = w->n;
			put_u64(w, 0);
			put_u64(w, val->nbytes);
		}
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		put_str(w, plan_ops[n->op].domain);
		put_str(w, plan_ops[n->op].name);
		put_str(w, n->name);
		put_u32(w, (uint32_t)n->n_in);
		for (int k = 0; k < n->n_in; k++)
			put_i32(w, n->in[k]);
		put_u32(w, (uint32_t)n->n_out);
		for (int k = 0; k < n->n_out; k++)
			put_i32(w, n->out[k]);
		put_u32(w, (uint32_t)n->n_attrs);
		for (int k = 0; k < n->n_attrs; k++)
			put_attr(w, &n->attrs[k]);
	}
	for (int i = 0; i < g->n_inputs; i++)
		put_i32(w, g->inputs[i]);
	for (int i = 0; i < g->n_outputs; i++)
		put_i32(w, g->outputs[i]);
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *val = &g->values[v];
		if (val->kind != IR_VALUE_CONST)
			continue;
		put_align(w, base);
		uint64_t off = w->n - base;
		put(w, val->data, val->nbytes);
		if (!w->oom)
			memcpy(w->p + patch[v], &off, 8);
	}
	free(patch);
	return w->oom ? odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan") : ODET_OK;
}

typedef struct sec_entry {
	uint32_t type;
	uint64_t offset, size;
	uint32_t crc;
} sec_entry;

odet_status engine_save_buffer(const odet_engine *e, void **data, size_t *size)
{
	odet_ctx *ctx = e->ctx;
	wbuf w = {0};
	sec_entry sec[PLAN_MAX_SECTIONS];
	uint32_t n_sec = 0;
	uint8_t zeros[PLAN_HEADER_SIZE] = {0};
	*data = NULL;
	*size = 0;
	/* reserve about the final size up front: constants dominate, and growing by doubling
	 * would hold up to twice the weights while copying */
	size_t reserve = 1 << 16;
	for (int v = 0; v < e->g->n_values; v++)
		reserve += e->g->values[v].nbytes + PLAN_ALIGN + 256;
	reserve += (size_t)e->g->n_nodes * 512;
	if (!(w.p = malloc(reserve)))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan (%zu bytes)", reserve);
	w.cap = reserve;
	/* header and table placeholders */
	put(&w, zeros, PLAN_HEADER_SIZE);
	uint32_t n_sec_planned = 1 + (e->has_head ? 1 : 0) + (e->tune.n > 0 ? 1 : 0);
	for (uint32_t i = 0; i < n_sec_planned; i++)
		put(&w, zeros, PLAN_SECTION_ENTRY);
	put_align(&w, 0);

	sec[n_sec].type = PLAN_SEC_GRAPH;
	sec[n_sec].offset = w.n;
	odet_status rc = write_graph(ctx, e->g, &w);
	if (rc)
		goto out_free;
	sec[n_sec].size = w.n - sec[n_sec].offset;
	n_sec++;
	if (e->has_head) {
		put_align(&w, 0);
		sec[n_sec].type = PLAN_SEC_HEAD;
		sec[n_sec].offset = w.n;
		put_str(&w, e->head_desc);
		/* head bytes: the model info (preprocessing, label set) of the head */
		const odet_model_info *mi = &e->g->info;
		put_u32(&w, PLAN_HEAD_INFO_BYTES);
		put(&w, mi->pixel_scale, sizeof mi->pixel_scale);
		put(&w, mi->pixel_bias, sizeof mi->pixel_bias);
		put_u32(&w, (uint32_t)mi->num_classes);
		put_u32(&w, (uint32_t)mi->coco_offset);
		sec[n_sec].size = w.n - sec[n_sec].offset;
		n_sec++;
	}
	if (e->tune.n > 0) {
		put_align(&w, 0);
		sec[n_sec].type = PLAN_SEC_TUNING;
		sec[n_sec].offset = w.n;
		put_u32(&w, (uint32_t)e->tune.n);
		for (int i = 0; i < e->tune.n; i++) {
			put_str(&w, e->tune.key[i]);
			put_str(&w, e->tune.val[i]);
		}
		sec[n_sec].size = w.n - sec[n_sec].offset;
		n_sec++;
	}
	if (w.oom) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan");
		goto out_free;
	}
	/* section table */
	for (uint32_t i = 0; i < n_sec; i++) {
		uint8_t *t = w.p + PLAN_HEADER_SIZE + i * PLAN_SECTION_ENTRY;
		sec[i].crc = odet_crc32(0, w.p + sec[i].offset, sec[i].size);
		memset(t, 0, PLAN_SECTION_ENTRY);
		memcpy(t + 0, &sec[i].type, 4);
		memcpy(t + 8, &sec[i].offset, 8);
		memcpy(t + 16, &sec[i].size, 8);
		memcpy(t + 24, &sec[i].crc, 4);
	}
	/* header */
	uint8_t *h = w.p;
	uint32_t u;
	int32_t s;
	uint64_t q;
	memcpy(h, PLAN_MAGIC, 8);
	u = PLAN_FORMAT_VERSION; memcpy(h + 8, &u, 4);
	u = PLAN_HEADER_SIZE; memcpy(h + 12, &u, 4);
	u = (ODET_VERSION_MAJOR << 16) | (ODET_VERSION_MINOR << 8) | ODET_VERSION_PATCH; memcpy(h + 16, &u, 4);
	u = (uint32_t)e->be->kind; memcpy(h + 20, &u, 4);
	/* 24: GPU architecture, 28: CUDA runtime version, 32: cuDNN version (0 on CPU) */
	memcpy(h + 24, &e->devinfo[0], 4);
	memcpy(h + 28, &e->devinfo[1], 4);
	memcpy(h + 32, &e->devinfo[2], 4);
	u = (uint32_t)e->opts.precision; memcpy(h + 36, &u, 4);
	s = e->opts.batch; memcpy(h + 40, &s, 4);
	s = e->opts.input_h; memcpy(h + 44, &s, 4);
	s = e->opts.input_w; memcpy(h + 48, &s, 4);
	u = (e->opts.no_head ? PLAN_FLAG_NO_HEAD : 0) | (e->has_head ? PLAN_FLAG_HAS_HEAD : 0);
	memcpy(h + 52, &u, 4);
	memcpy(h + 56, &n_sec, 4);
	q = PLAN_HEADER_SIZE; memcpy(h + 64, &q, 8);
	q = w.n; memcpy(h + 72, &q, 8);
	u = odet_crc32(0, h, PLAN_HEADER_CRC_AT);
	u = odet_crc32(u, h + PLAN_HEADER_SIZE, (size_t)n_sec * PLAN_SECTION_ENTRY);
	memcpy(h + PLAN_HEADER_CRC_AT, &u, 4);
	*data = w.p;
	*size = w.n;
	return ODET_OK;
out_free:
	free(w.p);
	return rc;
}

odet_status odet_engine_save(const odet_engine *e, const char *path)
{
	if (!e || !path)
		return ODET_ERR_INVALID_ARG;
	void *data;
	size_t size;
	odet_status rc = engine_save_buffer(e, &data, &size);
	if (rc)
		return rc;
	rc = odet_file_write_atomic(e->ctx, path, data, size);
	free(data);
	return rc;
}

/* ------------------------------------------------------------------ reader */

typedef struct rd {
	const uint8_t *p;
	size_t n, pos;
	bool bad;
} rd;

static bool get(rd *r, void *dst, size_t n)
{
	if (r->bad || n > r->n - r->pos) {
		r->bad = true;
		return false;
	}
	memcpy(dst, r->p + r->pos, n);
	r->pos += n;
	return true;
}

static uint32_t get_u32(rd *r) { uint32_t v = 0; get(r, &v, 4); return v; }
static int32_t get_i32(rd *r) { int32_t v = 0; get(r, &v, 4); return v; }
static uint64_t get_u64(rd *r) { uint64_t v = 0; get(r, &v, 8); return v; }
static int64_t get_i64(rd *r) { int64_t v = 0; get(r, &v, 8); return v; }
static float get_f32(rd *r) { float v = 0; get(r, &v, 4); return v; }

static size_t remaining(const rd *r)
{
	return r->bad ? 0 : r->n - r->pos;
}

/* A length-prefixed string, NUL-terminated copy (malloc); NULL on truncation or over max. */
static char *get_str(rd *r, size_t max, size_t *len_out)
{
	uint32_t len = get_u32(r);
	if (r->bad || len > max || len > remaining(r)) {
		r->bad = true;
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (!s) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p + r->pos, len);
	s[len] = 0;
	r->pos += len;
	if (len_out)
		*len_out = len;
	return s;
}

typedef struct loader {
	odet_ctx *ctx;
	const char *label;
	int sec_index; /* 1-based, for messages; 0 = not inside a section */
	const char *sec_name;
} loader;

#define LBAD(L, ...) plan_bad((L), ODET_ERR_BAD_INPUT, __VA_ARGS__)

static odet_status plan_bad(const loader *L, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static odet_status plan_bad(const loader *L, odet_status s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (L->sec_index > 0)
		return odet_error(L->ctx, s, "%s: section %d (%s): %s", L->label, L->sec_index, L->sec_name,
				  msg);
	return odet_error(L->ctx, s, "%s: %s", L->label, msg);
}

static ir_op op_from_names(const char *domain, const char *name)
{
	for (int i = 0; i < IR_OP_COUNT; i++)
		if (!strcmp(plan_ops[i].domain, domain) && !strcmp(plan_ops[i].name, name))
			return (ir_op)i;
	return IR_OP_COUNT;
}

static odet_status read_attr(const loader *L, rd *r, ir_graph *g, int node)
{
	ir_attr a;
	memset(&a, 0, sizeof a);
	a.tensor = -1;
	odet_status rc = ODET_OK;
	a.name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
	a.type = (ir_attr_type)get_u32(r);
	if (r->bad)
		goto out_trunc;
	uint32_t n;
	switch (a.type) {
	case IR_ATTR_FLOAT: a.f = get_f32(r); break;
	case IR_ATTR_INT: a.i = get_i64(r); break;
	case IR_ATTR_STRING: a.s = get_str(r, SIZE_MAX, &a.s_len); break;
	case IR_ATTR_TENSOR:
		a.tensor = get_i32(r);
		if (!r->bad && (a.tensor < 0 || a.tensor >= g->n_values ||
				g->values[a.tensor].kind != IR_VALUE_CONST)) {
			rc = LBAD(L, "node '%s': attribute '%s' refers to value %d, not a constant",
				  g->nodes[node].name, a.name, a.tensor);
			goto out_free;
		}
		break;
	case IR_ATTR_FLOATS:
	case IR_ATTR_INTS: {
		size_t es = a.type == IR_ATTR_FLOATS ? 4 : 8;
		n = get_u32(r);
		if (r->bad || n > remaining(r) / es || n > INT32_MAX)
			goto out_trunc;
		a.n = (int)n;
		if (a.type == IR_ATTR_FLOATS) {
			if (!(a.floats = odet_calloc(L->ctx, (size_t)n + 1, sizeof(float))))
				goto out_nomem;
			for (uint32_t i = 0; i < n; i++)
				a.floats[i] = get_f32(r);
		} else {
			if (!(a.ints = odet_calloc(L->ctx, (size_t)n + 1, sizeof(int64_t))))
				goto out_nomem;
			for (uint32_t i = 0; i < n; i++)
				a.ints[i] = get_i64(r);
		}
		break;
	}
	case IR_ATTR_STRINGS:
		n = get_u32(r);
		if (r->bad || n > remaining(r) / 4 || n > INT32_MAX)
			goto out_trunc;
		if (!(a.strings = odet_calloc(L->ctx, (size_t)n + 1, sizeof(char *))))
			goto out_nomem;
		a.n = (int)n;
		for (uint32_t i = 0; i < n && !r->bad; i++)
			a.strings[i] = get_str(r, SIZE_MAX, NULL);
		break;
	default:
		rc = LBAD(L, "node '%s': attribute '%s' has unknown type %d", g->nodes[node].name,
			  a.name ? a.name : "?", (int)a.type);
		goto out_free;
	}
	if (r->bad)
		goto out_trunc;
	return ir_attr_append(g, node, &a); /* takes ownership, frees on failure */
out_nomem:
	rc = ODET_ERR_NO_MEMORY;
	goto out_free;
out_trunc:
	rc = LBAD(L, "node '%s': attribute truncated or too long", g->nodes[node].name);
out_free:
	free(a.name);
	free(a.s);
	free(a.ints);
	free(a.floats);
	for (int i = 0; a.strings && i < a.n; i++)
		free(a.strings[i]);
	free(a.strings);
	return rc;
}

/* Minimal encoded sizes, used to bound counts before allocating. */
#define MIN_VALUE_BYTES 24u
#define MIN_NODE_BYTES 24u

static odet_status read_values(const loader *L, rd *r, ir_graph *g, uint32_t n_values, size_t sec_size)
{
	char *name = NULL;
	for (uint32_t v = 0; v < n_values; v++) {
		name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		uint32_t kind = get_u32(r), dtype = get_u32(r), flags;
		int32_t rank = get_i32(r);
		flags = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (kind > IR_VALUE_CONST || dtype >= ODET_DTYPE_MAX || rank < 0 || rank > ODET_MAX_RANK ||
		    flags > 1) {
			odet_status rc = LBAD(L, "value %u ('%s'): invalid kind %u, dtype %u, rank %d or flags %u",
					      v, name, kind, dtype, rank, flags);
			free(name);
			return rc;
		}
		int64_t dims[ODET_MAX_RANK];
		for (int k = 0; k < rank; k++)
			dims[k] = get_i64(r);
		if (r->bad)
			goto out_trunc;
		int idx = ir_value_add(g, name, (odet_dtype)dtype, rank, dims);
		free(name);
		name = NULL;
		if (idx < 0)
			return ODET_ERR_NO_MEMORY;
		ir_value *val = &g->values[idx];
		val->kind = (ir_value_kind)kind;
		val->is_output = false; /* set from the output list */
		int64_t numel;
		size_t bytes;
		if (!odet_dims_numel(val->dims, rank, &numel) ||
		    !odet_mul_size((size_t)numel, odet_dtype_size(val->dtype), &bytes) ||
		    bytes > (size_t)ODET_LIMIT_MAX_TENSOR_BYTES)
			return LBAD(L, "value '%s': invalid or too large dims", val->name);
		uint32_t mask = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (mask >> rank)
			return LBAD(L, "value '%s': symbolic dims mask 0x%x beyond rank %d", val->name, mask, rank);
		for (int k = 0; k < rank; k++) {
			if (!(mask & (1u << k)))
				continue;
			if (!(val->sym[k] = get_str(r, ODET_LIMIT_MAX_NAME, NULL)))
				goto out_trunc;
		}
		if (val->kind == IR_VALUE_CONST) {
			uint64_t off = get_u64(r), nb = get_u64(r);
			if (r->bad)
				goto out_trunc;
			if (odet_dtype_size(val->dtype) == 0 || nb != bytes)
				return LBAD(L, "constant '%s': %llu data bytes, %s%s needs %zu", val->name,
					    (unsigned long long)nb, odet_dtype_name(val->dtype),
					    odet_dtype_size(val->dtype) ? "" : " (unsupported dtype)", bytes);
			if (off % PLAN_ALIGN || off > sec_size || nb > sec_size - off)
				return LBAD(L, "constant '%s': data at %llu (+%llu) is outside the section or unaligned",
					    val->name, (unsigned long long)off, (unsigned long long)nb);
			if (!(val->data = odet_malloc(L->ctx, bytes ? bytes : 1)))
				return ODET_ERR_NO_MEMORY;
			if (bytes)
				memcpy(val->data, r->p + off, bytes);
			val->nbytes = bytes;
		}
	}
	return ODET_OK;
out_trunc:
	free(name);
	return LBAD(L, "value records truncated (at byte %zu of %zu)", r->pos, r->n);
}

static odet_status read_nodes(const loader *L, rd *r, ir_graph *g, uint32_t n_nodes)
{
	char *dom = NULL, *op = NULL, *name = NULL;
	int io[IR_MAX_IO];
	odet_status rc = ODET_OK;
	for (uint32_t i = 0; i < n_nodes; i++) {
		dom = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		op = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		uint32_t n_in = get_u32(r);
		if (r->bad)
			goto out_trunc;
		ir_op id = op_from_names(dom, op);
		if (id == IR_OP_COUNT) {
			rc = plan_bad(L, ODET_ERR_MISMATCH,
				      "node '%s': op '%s' (domain '%s') is unknown to this odet (plan from a newer version?)",
				      name, op, dom);
			goto out_free;
		}
		if (n_in > IR_MAX_IO) {
			rc = LBAD(L, "node '%s': %u inputs (limit %d)", name, n_in, IR_MAX_IO);
			goto out_free;
		}
		int in[IR_MAX_IO];
		for (uint32_t k = 0; k < n_in; k++) {
			in[k] = get_i32(r);
			if (in[k] < -1 || in[k] >= g->n_values) {
				rc = LBAD(L, "node '%s': input %u refers to value %d (graph has %d)", name, k,
					  in[k], g->n_values);
				goto out_free;
			}
		}
		uint32_t n_out = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (n_out > IR_MAX_IO) {
			rc = LBAD(L, "node '%s': %u outputs (limit %d)", name, n_out, IR_MAX_IO);
			goto out_free;
		}
		for (uint32_t k = 0; k < n_out; k++) {
			io[k] = get_i32(r);
			if (r->bad)
				goto out_trunc;
			if (io[k] < 0 || io[k] >= g->n_values || g->values[io[k]].kind != IR_VALUE_INTERMEDIATE ||
			    g->values[io[k]].producer >= 0) {
				rc = LBAD(L, "node '%s': output %u (value %d) is not a fresh intermediate", name,
					  k, io[k]);
				goto out_free;
			}
			for (uint32_t j = 0; j < k; j++)
				if (io[j] == io[k]) {
					rc = LBAD(L, "node '%s': output %u repeated", name, k);
					goto out_free;
				}
		}
		/* producers come first: every intermediate input is produced by an earlier node */
		for (uint32_t k = 0; k < n_in; k++) {
			if (in[k] >= 0 && g->values[in[k]].kind == IR_VALUE_INTERMEDIATE &&
			    g->values[in[k]].producer < 0) {
				rc = LBAD(L, "node '%s': input '%s' is not produced by an earlier node", name,
					  g->values[in[k]].name);
				goto out_free;
			}
		}
		int idx = ir_node_add(g, id, name, (int)n_in, in, (int)n_out, io);
		if (idx < 0) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		free(dom);
		free(op);
		free(name);
		dom = op = name = NULL;
		uint32_t n_attrs = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (n_attrs > remaining(r) / 8) {
			rc = LBAD(L, "node '%s': %u attributes do not fit the section", g->nodes[idx].name, n_attrs);
			goto out_free;
		}
		for (uint32_t k = 0; k < n_attrs; k++)
			if ((rc = read_attr(L, r, g, idx)))
				goto out_free;
	}
	return ODET_OK;
out_trunc:
	rc = LBAD(L, "node records truncated (at byte %zu of %zu)", r->pos, r->n);
out_free:
	free(dom);
	free(op);
	free(name);
	return rc;
}

static odet_status read_io_lists(const loader *L, rd *r, ir_graph *g, uint32_t n_in, uint32_t n_out)
{
	g->inputs = odet_calloc(L->ctx, (size_t)n_in + 1, sizeof(int));
	g->outputs = odet_calloc(L->ctx, (size_t)n_out + 1, sizeof(int));
	if (!g->inputs || !g->outputs)
		return ODET_ERR_NO_MEMORY;
	for (uint32_t i = 0; i < n_in; i++) {
		int v = get_i32(r);
		if (r->bad)
			return LBAD(L, "input list truncated");
		if (v < 0 || v >= g->n_values || g->values[v].kind != IR_VALUE_INPUT)
			return LBAD(L, "graph input %u refers to value %d, not an input value", i, v);
		for (uint32_t j = 0; j < i; j++)
			if (g->inputs[j] == v)
				return LBAD(L, "graph input %u repeated", i);
		g->inputs[g->n_inputs++] = v;
	}
	for (int v = 0; v < g->n_values; v++) {
		if (g->values[v].kind != IR_VALUE_INPUT)
			continue;
		int found = 0;
		for (int i = 0; i < g->n_inputs; i++)
			found |= g->inputs[i] == v;
		if (!found)
			return LBAD(L, "value '%s' is an input but not in the input list", g->values[v].name);
	}
	for (uint32_t i = 0; i < n_out; i++) {
		int v = get_i32(r);
		if (r->bad)
			return LBAD(L, "output list truncated");
		if (v < 0 || v >= g->n_values)
			return LBAD(L, "graph output %u refers to value %d (graph has %d)", i, v, g->n_values);
		if (g->values[v].kind == IR_VALUE_INTERMEDIATE && g->values[v].producer < 0)
			return LBAD(L, "graph output '%s' is never produced", g->values[v].name);
		g->values[v].is_output = true;
		g->outputs[g->n_outputs++] = v;
	}
	return ODET_OK;
}

/* Recompute each node's output shapes with its shape function and compare with the stored
 * ones: kernels trust shapes, so a plan must not be able to lie about them. Each output is
 * reset to unknown first, so a shape function that cannot infer it (or leaves it alone) is
 * refused rather than trusted: an engine has static shapes, all inferable from its inputs. */
static odet_status verify_shapes(const loader *L, ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		ir_shape_fn fn = ir_shape_fn_of(n->op);
		if (!fn)
			return LBAD(L, "node '%s' (%s): no shape function to check its stored shapes", n->name,
				    ir_op_name(n->op));
		ir_value saved[IR_MAX_IO];
		for (int k = 0; k < n->n_out; k++) {
			ir_value *o = &g->values[n->out[k]];
			saved[k] = *o;
			o->dtype = ODET_DTYPE_UNDEFINED;
			o->rank = -1;
			for (int d = 0; d < ODET_MAX_RANK; d++)
				o->dims[d] = -1;
		}
		odet_status rc = fn(g, n);
		if (rc)
			return L->sec_index > 0 ? odet_error_prefix(L->ctx, "%s: section %d (%s): ", L->label, L->sec_index, L->sec_name)
					       : odet_error_prefix(L->ctx, "%s: ", L->label);
		for (int k = 0; k < n->n_out; k++) {
			const ir_value *a = &saved[k], *b = &g->values[n->out[k]];
			bool same = a->dtype == b->dtype && a->rank == b->rank;
			for (int d = 0; same && d < a->rank; d++)
				same = a->dims[d] == b->dims[d];
			if (same && ir_value_shape_known(b))
				continue;
			char s1[128], s2[128];
			if (!ir_value_shape_known(b) || b->dtype == ODET_DTYPE_UNDEFINED)
				return LBAD(L, "node '%s' (%s): stored output '%s' %s %s cannot be inferred from its inputs (got %s %s)",
					    n->name, ir_op_name(n->op), a->name, odet_dtype_name(a->dtype),
					    ir_shape_str(a, s1, sizeof s1), odet_dtype_name(b->dtype),
					    ir_shape_str(b, s2, sizeof s2));
			return LBAD(L, "node '%s' (%s): stored output '%s' %s %s differs from inferred %s %s",
				    n->name, ir_op_name(n->op), a->name, odet_dtype_name(a->dtype),
				    ir_shape_str(a, s1, sizeof s1), odet_dtype_name(b->dtype),
				    ir_shape_str(b, s2, sizeof s2));
		}
	}
	return ODET_OK;
}

static odet_status read_graph(loader *L, const uint8_t *p, size_t size, ir_graph **out)
{
	rd r = {.p = p, .n = size};
	ir_graph *g;
	odet_status rc = ir_graph_create(L->ctx, &g);
	if (rc)
		return rc;
	uint32_t n_values = get_u32(&r), n_nodes = get_u32(&r), n_in = get_u32(&r), n_out = get_u32(&r);
	g->opset = get_i32(&r);
	char *name = get_str(&r, ODET_LIMIT_MAX_NAME, NULL);
	if (r.bad) {
		free(name);
		rc = LBAD(L, "truncated graph header");
		goto out_free;
	}
	g->name = name;
	if (n_values > remaining(&r) / MIN_VALUE_BYTES || n_nodes > remaining(&r) / MIN_NODE_BYTES ||
	    n_nodes > ODET_LIMIT_MAX_NODES || n_in > n_values || n_out > n_values) {
		rc = LBAD(L, "counts (%u values, %u nodes, %u inputs, %u outputs) do not fit the section",
			  n_values, n_nodes, n_in, n_out);
		goto out_free;
	}
	if ((rc = read_values(L, &r, g, n_values, size)))
		goto out_free;
	if ((rc = read_nodes(L, &r, g, n_nodes)))
		goto out_free;
	if ((rc = read_io_lists(L, &r, g, n_in, n_out)))
		goto out_free;
	if ((rc = verify_shapes(L, g)))
		goto out_free;
	*out = g;
	return ODET_OK;
out_free:
	ir_graph_free(g);
	return rc;
}

static odet_status read_head(loader *L, const uint8_t *p, size_t size, char **desc, odet_model_info *mi)
{
	rd r = {.p = p, .n = size};
	*desc = get_str(&r, ODET_LIMIT_MAX_NAME, NULL);
	uint32_t opaque = get_u32(&r);
	if (!r.bad && opaque == PLAN_HEAD_INFO_BYTES && opaque <= remaining(&r)) {
		get(&r, mi->pixel_scale, sizeof mi->pixel_scale);
		get(&r, mi->pixel_bias, sizeof mi->pixel_bias);
		mi->num_classes = (int)get_u32(&r);
		mi->coco_offset = (int)get_u32(&r);
		bool ok = mi->num_classes >= 0 && mi->num_classes <= (1 << 20) && mi->coco_offset >= -1 &&
			  mi->coco_offset <= (1 << 20);
		for (int c = 0; c < 3; c++)
			ok = ok && isfinite(mi->pixel_scale[c]) && isfinite(mi->pixel_bias[c]);
		if (!ok) {
			free(*desc);
			*desc = NULL;
			return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (head): invalid model info",
					  L->label, L->sec_index);
		}
		opaque = 0;
	}
	if (r.bad || opaque > remaining(&r)) {
		free(*desc);
		*desc = NULL;
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (head): truncated", L->label,
				  L->sec_index);
	}
	if (!**desc) {
		free(*desc);
		*desc = NULL;
	}
	return ODET_OK;
}

/* the tuning section into set: every entry valid (odet_tune_valid), no key twice */
static odet_status read_tuning(loader *L, const uint8_t *p, size_t size, odet_tune_set *set)
{
	rd r = {.p = p, .n = size};
	uint32_t n = get_u32(&r);
	if (r.bad || n > PLAN_MAX_TUNING || (size_t)n * 8 > remaining(&r))
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): %s", L->label, L->sec_index,
				  r.bad ? "truncated" : "entry count exceeds the section");
	for (uint32_t i = 0; i < n; i++) {
		char *k = get_str(&r, 1024, NULL), *v = get_str(&r, 1024, NULL);
		bool valid = !r.bad && odet_tune_valid(k) && odet_tune_valid(v);
		int before = set->n;
		bool added = valid && odet_tune_set_add(set, k, v);
		free(k);
		free(v);
		if (valid && !added)
			return odet_error(L->ctx, ODET_ERR_NO_MEMORY, "%s: out of memory reading the tuning section",
					  L->label);
		if (!valid || set->n == before) /* invalid, or a key given twice (add replaced it) */
			return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): entry %u %s", L->label,
					  L->sec_index, i + 1, r.bad ? "truncated" : "invalid or repeated");
	}
	if (remaining(&r))
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): %zu bytes after the last entry",
				  L->label, L->sec_index, remaining(&r));
	return ODET_OK;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

odet_status engine_load_buffer(odet_ctx *ctx, const void *data, size_t size, const char *label,
			       const odet_backend *be, odet_engine **out)
{
	return engine_load_buffer_dev(ctx, data, size, label, be, 0, out);
}

odet_status engine_load_buffer_dev(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   const odet_backend *be, int device, odet_engine **out)
{
	const uint8_t *p = data;
	loader L = {.ctx = ctx, .label = label ? label : "plan"};
	if (!out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	if (size == 0)
		return LBAD(&L, "empty file, not an odet plan");
	if (size < 8 || memcmp(p, PLAN_MAGIC, 8) != 0)
		return LBAD(&L, "not an odet plan (bad magic)");
	if (size < PLAN_HEADER_SIZE)
		return LBAD(&L, "truncated: %zu bytes, the header alone is %u", size, PLAN_HEADER_SIZE);
	uint32_t version = rd32(p + 8);
	if (version < PLAN_FORMAT_OLDEST || version > PLAN_FORMAT_VERSION)
		return plan_bad(&L, ODET_ERR_MISMATCH, "format version %u, this odet reads %u..%u", version,
				PLAN_FORMAT_OLDEST, PLAN_FORMAT_VERSION);
	uint64_t file_size = rd64(p + 72);
	uint32_t n_sec = rd32(p + 56);
	if (file_size != size)
		return LBAD(&L, "%s: the header says %llu bytes, the file has %zu",
			    file_size > size ? "truncated" : "size mismatch", (unsigned long long)file_size, size);
	if (rd32(p + 12) != PLAN_HEADER_SIZE || n_sec == 0 || n_sec > PLAN_MAX_SECTIONS ||
	    rd64(p + 64) != PLAN_HEADER_SIZE || PLAN_HEADER_SIZE + (size_t)n_sec * PLAN_SECTION_ENTRY > size)
		return LBAD(&L, "header checksum mismatch or corrupt header (sections %u)", n_sec);
	uint32_t crc = odet_crc32(0, p, PLAN_HEADER_CRC_AT);
	crc = odet_crc32(crc, p + PLAN_HEADER_SIZE, (size_t)n_sec * PLAN_SECTION_ENTRY);
	if (crc != rd32(p + PLAN_HEADER_CRC_AT))
		return LBAD(&L, "header checksum mismatch");

	/* header fields */
	uint32_t backend_kind = rd32(p + 20), precision = rd32(p + 36), flags = rd32(p + 52);
	int32_t batch = (int32_t)rd32(p + 40), ih = (int32_t)rd32(p + 44), iw = (int32_t)rd32(p + 48);
	if (backend_kind != ODET_BACKEND_CPU && backend_kind != ODET_BACKEND_CUDA)
		return LBAD(&L, "unknown backend kind %u", backend_kind);
	if ((precision > ODET_PRECISION_INT8 && precision != ODET_PRECISION_BF16) || flags > 3 || batch < 1 || ih < 0 || iw < 0)
		return LBAD(&L, "invalid build options in the header");
	odet_status rc;
	if (!be) {
		if (backend_kind == ODET_BACKEND_CUDA && !odet_backend_cuda())
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built for the CUDA backend; this odet has no CUDA backend");
		if ((rc = engine_backend_select(ctx, (odet_backend_kind)backend_kind, &be)))
			return rc;
	}
	/* GPU architecture and CUDA/cuDNN versions (header bytes 24..35): a plan runs only on
	 * the architecture and library versions it was built (and tuned) for */
	uint32_t devinfo[3] = {0, 0, 0};
	if (be->set_device && (rc = be->set_device(ctx, device)))
		return rc;
	if (be->device_info && (rc = be->device_info(ctx, device, devinfo)))
		return rc;
	{
		uint32_t arch = rd32(p + 24), rt = rd32(p + 28), dnn = rd32(p + 32);
		if (arch != devinfo[0])
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built for GPU architecture sm_%u, device %d is sm_%u: rebuild the plan on this machine",
					arch, device, devinfo[0]);
		if (rt / 1000 != devinfo[1] / 1000 || rt % 1000 / 10 != devinfo[1] % 1000 / 10)
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built with CUDA runtime %u.%u, this process runs %u.%u: rebuild the plan",
					rt / 1000, rt % 1000 / 10, devinfo[1] / 1000, devinfo[1] % 1000 / 10);
		if (dnn != devinfo[2])
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built with cuDNN %u.%u.%u, this process loads cuDNN %u.%u.%u: rebuild the plan",
					dnn / 10000, dnn % 10000 / 100, dnn % 100, devinfo[2] / 10000,
					devinfo[2] % 10000 / 100, devinfo[2] % 100);
	}

	/* the sections this reader knows, by type: bytes, size, 1-based index for messages */
	struct {
		const uint8_t *p;
		size_t n;
		int i;
	} found[PLAN_SEC_TUNING + 1] = {{0}};
	for (uint32_t i = 0; i < n_sec; i++) {
		const uint8_t *t = p + PLAN_HEADER_SIZE + (size_t)i * PLAN_SECTION_ENTRY;
		uint32_t type = rd32(t);
		uint64_t off = rd64(t + 8), len = rd64(t + 16);
		uint32_t scrc = rd32(t + 24);
		if (off % PLAN_ALIGN || off < PLAN_HEADER_SIZE + (uint64_t)n_sec * PLAN_SECTION_ENTRY ||
		    off > size || len > size - off)
			return LBAD(&L, "section %u (%s): offset %llu size %llu outside the file", i + 1,
				    section_name(type), (unsigned long long)off, (unsigned long long)len);
		if (odet_crc32(0, p + off, (size_t)len) != scrc)
			return LBAD(&L, "section %u (%s) checksum mismatch", i + 1, section_name(type));
		if (type == PLAN_SEC_GRAPH || type == PLAN_SEC_HEAD || type == PLAN_SEC_TUNING) {
			if (found[type].p)
				return LBAD(&L, "section %u (%s) repeated", i + 1, section_name(type));
			found[type].p = p + off;
			found[type].n = (size_t)len;
			found[type].i = (int)i + 1;
		}
		/* other types (backend blob, future additions) are ignored by the CPU backend */
	}
	if (!found[PLAN_SEC_GRAPH].p)
		return LBAD(&L, "no graph section");
	if ((flags & PLAN_FLAG_HAS_HEAD) && !found[PLAN_SEC_HEAD].p)
		return LBAD(&L, "the header announces a head but there is no head section");

	odet_engine *e = odet_calloc(ctx, 1, sizeof *e);
	if (!e)
		return ODET_ERR_NO_MEMORY;
	e->ctx = ctx;
	e->be = be;
	e->opts = odet_build_opts_default();
	e->opts.backend = be->kind;
	e->opts.precision = (odet_precision)precision;
	e->opts.batch = batch;
	e->opts.input_h = ih;
	e->opts.input_w = iw;
	e->opts.no_head = (flags & PLAN_FLAG_NO_HEAD) != 0;
	e->opts.device = device;
	memcpy(e->devinfo, devinfo, sizeof devinfo);
	e->nodes_before = -1;
	L.sec_index = found[PLAN_SEC_GRAPH].i;
	L.sec_name = "graph";
	if ((rc = read_graph(&L, found[PLAN_SEC_GRAPH].p, found[PLAN_SEC_GRAPH].n, &e->g)))
		goto out_destroy;
	L.sec_index = found[PLAN_SEC_HEAD].i;
	L.sec_name = "head";
	if (found[PLAN_SEC_HEAD].p &&
	    (rc = read_head(&L, found[PLAN_SEC_HEAD].p, found[PLAN_SEC_HEAD].n, &e->head_desc, &e->g->info)))
		goto out_destroy;
	L.sec_index = found[PLAN_SEC_TUNING].i;
	L.sec_name = "tuning";
	if (found[PLAN_SEC_TUNING].p &&
	    (rc = read_tuning(&L, found[PLAN_SEC_TUNING].p, found[PLAN_SEC_TUNING].n, &e->tune)))
		goto out_destroy;
	L.sec_index = 0;
	if (flags & PLAN_FLAG_HAS_HEAD) {
		if (!engine_outputs_are_head(e->g)) {
			rc = LBAD(&L, "the plan has a head but its outputs are not det_count/boxes/scores/classes");
			goto out_destroy;
		}
		e->has_head = true;
	}
	if ((rc = engine_finalize(e))) {
		odet_error_prefix(ctx, "%s: ", L.label);
		goto out_destroy;
	}
	*out = e;
	return ODET_OK;
out_destroy:
	odet_engine_destroy(e);
	return rc;
}

odet_status odet_engine_load(odet_ctx *ctx, const char *path, int device, odet_engine **out)
{
	if (!ctx || !path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_engine_load: NULL argument");
	void *data;
	size_t size;
	odet_status rc = odet_file_read(ctx, path, (size_t)ODET_LIMIT_MAX_TENSOR_BYTES, &data, &size);
	if (rc)
		return rc;
	rc = engine_load_buffer_dev(ctx, data, size, path, NULL, device, out);
	free(data);
	return rc;
}
