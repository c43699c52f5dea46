/*
 * onnx.c — ONNX ModelProto (protobuf, parsed by protobuf-c) into odet's graph IR.
 *
 * Order of work, each step refusing bad input with one message prefixed by the file path:
 *   1. wire check (onnx_wire.c) then onnx__model_proto__unpack: "not a valid ONNX protobuf: ..."
 *   2. default-domain opset from opset_import: 7..21 accepted (11..20 is the tested target);
 *      none at all is an error only once a default-domain node appears
 *   3. initializers -> CONST values; graph inputs that are not initializers -> INPUT values
 *      (dim_param names kept in ir_value.sym, dims -1)
 *   4. pass 1 over nodes (file order): op known? outputs declared (unique names); Constant
 *      nodes become CONST values; outputs odet does not compute are remembered as forbidden
 *   5. pass 2: inputs resolved by name ("" -> -1), attributes converted, canonical IR form
 *      (onnx_ops.c)
 *   6. graph outputs (is_output), declared shapes of outputs and value_info copied onto
 *      values whose shape is still unknown; then ir_graph_toposort (cycles, missing producers)
 * A model with its own NonMaxSuppression is cut there before step 4 (onnx_nms.c): only the
 * nodes its inputs need are imported and an OnnxNms marker replaces the graph outputs.
 */
#include "import/import.h"
#include "import/onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

int onnx_name_get(const onnx_imp *imp, const char *name, int *node)
{
	if (!imp->cap_names)
		return -1;
	size_t mask = imp->cap_names - 1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		const onnx_name *e = &imp->names[i];
		if (!e->key)
			return -1;
		if (strcmp(e->key, name) == 0) {
			if (node)
				*node = e->node;
			return e->value;
		}
	}
}

static void name_insert(onnx_name *tab, size_t cap, onnx_name e)
{
	size_t mask = cap - 1;
	size_t i = name_hash(e.key) & mask;
	while (tab[i].key)
		i = (i + 1) & mask;
	tab[i] = e;
}

/* ODET_ERR_BAD_INPUT without a message when the name exists (the caller says where). */
odet_status onnx_name_put(onnx_imp *imp, const char *name, int value, int node)
{
	if (onnx_name_get(imp, name, NULL) != -1)
		return ODET_ERR_BAD_INPUT;
	if ((imp->n_names + 1) * 2 > imp->cap_names) {
		size_t cap = imp->cap_names ? imp->cap_names * 2 : 256;
		onnx_name *tab = odet_calloc(imp->ctx, cap, sizeof *tab);
		if (!tab)
			return ODET_ERR_NO_MEMORY;
		for (size_t i = 0; i < imp->cap_names; i++)
			if (imp->names[i].key)
				name_insert(tab, cap, imp->names[i]);
		free(imp->names);
		imp->names = tab;
		imp->cap_names = cap;
	}
	name_insert(imp->names, imp->cap_names, (onnx_name){name, value, node});
	imp->n_names++;
	return ODET_OK;
}

int onnx_const_new(onnx_imp *imp, const char *base, odet_dtype dtype, int rank, const int64_t *dims,
		   void *data)
{
	char name[ODET_LIMIT_MAX_NAME + 32];
	snprintf(name, sizeof name, "%s", base);
	for (int k = 2; onnx_name_get(imp, name, NULL) != -1; k++)
		snprintf(name, sizeof name, "%s#%d", base, k);
	int v = ir_const_add(imp->g, name, dtype, rank, dims, data);
	if (v < 0)
		return -1;
	if (onnx_name_put(imp, imp->g->values[v].name, v, -1))
		return -1;
	return v;
}

const char *onnx_node_label(const Onnx__NodeProto *np, int idx, char *buf, size_t n)
{
	if (np->name && *np->name)
		return np->name;
	snprintf(buf, n, "%s_%d", np->op_type ? np->op_type : "node", idx);
	return buf;
}

static bool name_ok(const char *s)
{
	return s && *s && strlen(s) <= ODET_LIMIT_MAX_NAME;
}

/* A value named by the file: unique, not empty, not too long. */
static odet_status value_new(onnx_imp *imp, const char *what, const char *name, ir_value_kind kind,
			     int *out)
{
	odet_ctx *ctx = imp->ctx;
	if (!name_ok(name))
		return odet_error(ctx, name && *name ? ODET_ERR_LIMIT : ODET_ERR_BAD_INPUT,
				  "%s has an empty name or one longer than %d bytes", what,
				  ODET_LIMIT_MAX_NAME);
	if (onnx_name_get(imp, name, NULL) != -1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: name '%s' is defined twice", what, name);
	int v = ir_value_add(imp->g, name, ODET_DTYPE_UNDEFINED, -1, NULL);
	if (v < 0)
		return ODET_ERR_NO_MEMORY;
	imp->g->values[v].kind = kind;
	*out = v;
	return onnx_name_put(imp, imp->g->values[v].name, v, -1);
}

/* ---------------------------------------------------------------- opset */

static odet_status read_opset(onnx_imp *imp, const Onnx__ModelProto *m)
{
	int64_t ver = -1;
	for (size_t i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = m->opset_import[i];
		if (o->domain && *o->domain && strcmp(o->domain, "ai.onnx") != 0)
			continue;
		if (!o->has_version)
			return odet_error(imp->ctx, ODET_ERR_BAD_INPUT,
					  "opset_import of the default domain has no version");
		if (o->version > ver)
			ver = o->version;
	}
	if (ver < 0) {
		imp->opset = -1; /* only an error once a default-domain node appears (node_declare) */
		return ODET_OK;
	}
	if (ver < ONNX_OPSET_MIN || ver > ONNX_OPSET_MAX)
		return odet_error(imp->ctx, ODET_ERR_UNSUPPORTED,
				  "default-domain opset %lld is not supported (%d..%d accepted, 11..20 tested)",
				  (long long)ver, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
	if (ver < 11 || ver > 20)
		odet_log(imp->ctx, ODET_LOG_INFO, "opset %lld is outside the tested range 11..20",
			 (long long)ver);
	imp->opset = (int)ver;
	return ODET_OK;
}

static int64_t domain_opset(const Onnx__ModelProto *m, const char *domain)
{
	for (size_t i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = m->opset_import[i];
		if (o->domain && strcmp(o->domain, domain) == 0 && o->has_version)
			return o->version;
	}
	return -1;
}

/* ---------------------------------------------------------------- graph */

static odet_status import_initializers(onnx_imp *imp, const Onnx__GraphProto *gp)
{
	char what[ODET_LIMIT_MAX_NAME + 32];
	if (gp->n_sparse_initializer)
		return odet_error(imp->ctx, ODET_ERR_UNSUPPORTED, "sparse initializers are not supported");
	for (size_t i = 0; i < gp->n_initializer; i++) {
		Onnx__TensorProto *t = gp->initializer[i];
		snprintf(what, sizeof what, "initializer '%s'", t->name ? t->name : "");
		int v;
		odet_status rc = value_new(imp, what, t->name, IR_VALUE_CONST, &v);
		if (rc)
			return rc;
		onnx_host_tensor h;
		rc = onnx_tensor_read(imp, t, what, &h);
		if (rc)
			return rc;
		ir_value *val = &imp->g->values[v];
		val->dtype = h.dtype;
		val->rank = h.rank;
		memcpy(val->dims, h.dims, sizeof val->dims);
		for (int k = h.rank; k < ODET_MAX_RANK; k++)
			val->dims[k] = -1;
		ir_value_set_data(imp->g, v, h.data, h.nbytes);
	}
	return ODET_OK;
}

static odet_status import_inputs(onnx_imp *imp, const Onnx__GraphProto *gp)
{
	char what[ODET_LIMIT_MAX_NAME + 32];
	ir_graph *g = imp->g;
	if (!(g->inputs = odet_calloc(imp->ctx, gp->n_input + 1, sizeof(int))))
		return ODET_ERR_NO_MEMORY;
	for (size_t i = 0; i < gp->n_input; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		snprintf(what, sizeof what, "graph input '%s'", vi->name ? vi->name : "");
		if (vi->name) {
			int old = onnx_name_get(imp, vi->name, NULL);
			/* an initializer listed as input too: it stays a constant (ONNX IR < 4 style) */
			if (old >= 0 && g->values[old].kind == IR_VALUE_CONST)
				continue;
		}
		int v;
		odet_status rc = value_new(imp, what, vi->name, IR_VALUE_INPUT, &v);
		if (rc)
			return rc;
		rc = onnx_type_to_value(imp, vi->type, what, &g->values[v]);
		if (rc)
			return rc;
		g->inputs[g->n_inputs++] = v;
	}
	return ODET_OK;
}

/* Pass 1 for node idx: check the op, declare its outputs. */
static odet_status node_declare(onnx_imp *imp, Onnx__NodeProto *np, int idx)
{
	odet_ctx *ctx = imp->ctx;
	char buf[64];
	const char *label = onnx_node_label(np, idx, buf, sizeof buf);
	const char *op_type = np->op_type ? np->op_type : "";
	if (!*op_type)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s' has no op_type", label);
	if (strlen(label) > ODET_LIMIT_MAX_NAME || strlen(op_type) > ODET_LIMIT_MAX_NAME)
		return odet_error(ctx, ODET_ERR_LIMIT, "node %d: name or op_type longer than %d bytes",
				  idx, ODET_LIMIT_MAX_NAME);
	if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0) {
		int64_t v = domain_opset(imp->model, np->domain);
		if (v < 0)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s': op %s (domain %s, not in opset_import) is not supported",
					  label, op_type, np->domain);
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': op %s (domain %s, opset %lld) is not supported", label, op_type,
				  np->domain, (long long)v);
	}
	if (imp->opset < 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s': op %s is in the default domain, but the model imports no "
				  "opset of the default ONNX domain", label, op_type);
	if (onnx_op_resolve(op_type) == IR_OP_COUNT)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s (opset %d) is not supported",
				  label, op_type, imp->opset);
	if (np->n_input > IR_MAX_IO || np->n_output > IR_MAX_IO)
		return odet_error(ctx, ODET_ERR_LIMIT,
				  "node '%s': op %s (opset %d) has %zu inputs and %zu outputs, limit %d",
				  label, op_type, imp->opset, np->n_input, np->n_output, IR_MAX_IO);
	int kept = onnx_op_outputs_kept(op_type, (int)np->n_output);
	for (size_t k = 0; k < np->n_output; k++) {
		const char *name = np->output[k];
		if (!*name)
			continue; /* omitted optional output */
		char what[ODET_LIMIT_MAX_NAME + 96];
		snprintf(what, sizeof what, "node '%s': output %zu", label, k);
		if (strlen(name) > ODET_LIMIT_MAX_NAME)
			return odet_error(ctx, ODET_ERR_LIMIT, "%s: name longer than %d bytes", what,
					  ODET_LIMIT_MAX_NAME);
		if (onnx_name_get(imp, name, NULL) != -1)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "node '%s': output '%s' is already defined (by an input, "
					  "initializer or another node)", label, name);
		if ((int)k >= kept) {
			odet_status rc = onnx_name_put(imp, name, ONNX_FORBIDDEN, idx);
			if (rc)
				return rc;
			continue;
		}
		if (strcmp(op_type, "Constant") == 0)
			continue; /* created below */
		int v;
		odet_status rc = value_new(imp, what, name, IR_VALUE_INTERMEDIATE, &v);
		if (rc)
			return rc;
	}
	if (strcmp(op_type, "Constant") == 0) {
		int v;
		return onnx_constant_node(imp, np, label, &v);
	}
	return ODET_OK;
}

static odet_status import_outputs(onnx_imp *imp, const Onnx__GraphProto *gp)
{
	odet_ctx *ctx = imp->ctx;
	ir_graph *g = imp->g;
	char what[ODET_LIMIT_MAX_NAME + 32];
	if (!gp->n_output)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "the graph has no outputs");
	if (!(g->outputs = odet_calloc(ctx, gp->n_output, sizeof(int))))
		return ODET_ERR_NO_MEMORY;
	for (size_t i = 0; i < gp->n_output; i++) {
		const Onnx__ValueInfoProto *vi = gp->output[i];
		const char *name = vi->name ? vi->name : "";
		int node = -1;
		int v = onnx_name_get(imp, name, &node);
		if (v == ONNX_FORBIDDEN)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "graph output '%s' is an output of node %d (%s) that odet does not "
					  "compute", name, node, imp->model->graph->node[node]->op_type);
		if (v < 0)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "graph output '%s' is not an input, initializer or node output", name);
		if (g->values[v].is_output)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "graph output '%s' is listed twice", name);
		g->values[v].is_output = true;
		g->outputs[g->n_outputs++] = v;
		snprintf(what, sizeof what, "graph output '%s'", name);
		if (g->values[v].kind == IR_VALUE_INTERMEDIATE && vi->type) {
			odet_status rc = onnx_type_to_value(imp, vi->type, what, &g->values[v]);
			if (rc)
				return rc;
		}
	}
	/* value_info: declared shapes of intermediates (not validated against the producers) */
	for (size_t i = 0; i < gp->n_value_info; i++) {
		const Onnx__ValueInfoProto *vi = gp->value_info[i];
		int v = vi->name ? onnx_name_get(imp, vi->name, NULL) : -1;
		if (v < 0 || g->values[v].kind != IR_VALUE_INTERMEDIATE || g->values[v].rank >= 0 ||
		    !vi->type)
			continue;
		snprintf(what, sizeof what, "value_info '%s'", vi->name);
		odet_status rc = onnx_type_to_value(imp, vi->type, what, &g->values[v]);
		if (rc)
			return rc;
	}
	return ODET_OK;
}

static odet_status import_graph(onnx_imp *imp, const Onnx__GraphProto *gp)
{
	odet_ctx *ctx = imp->ctx;
	ir_graph *g = imp->g;
	odet_status rc;
	g->opset = imp->opset;
	if (!(g->name = odet_strdup(ctx, gp->name ? gp->name : "")))
		return ODET_ERR_NO_MEMORY;
	if (gp->n_node > ODET_LIMIT_MAX_NODES)
		return odet_error(ctx, ODET_ERR_LIMIT, "the graph has %zu nodes, limit %d", gp->n_node,
				  ODET_LIMIT_MAX_NODES);
	if ((rc = import_initializers(imp, gp)))
		return rc;
	if ((rc = import_inputs(imp, gp)))
		return rc;
	onnx_nms_cut cut; /* a NonMaxSuppression: only the nodes it needs (onnx_nms.c) */
	if ((rc = onnx_nms_plan(imp, gp, &cut)))
		return rc;
	for (size_t i = 0; i < gp->n_node; i++)
		if ((!cut.keep || cut.keep[i]) && (rc = node_declare(imp, gp->node[i], (int)i)))
			goto out_cut;
	for (size_t i = 0; i < gp->n_node; i++) {
		const char *op = gp->node[i]->op_type;
		if (strcmp(op, "Constant") == 0 || (cut.keep && !cut.keep[i]))
			continue;
		if ((rc = onnx_node_convert(imp, gp->node[i], (int)i)))
			goto out_cut;
	}
	rc = cut.keep ? onnx_nms_outputs(imp, gp, &cut) : import_outputs(imp, gp);
	/* (graph.c's toposort memcpy's into a NULL node array when there are no nodes) */
	if (!rc && g->n_nodes)
		rc = ir_graph_toposort(g);
out_cut:
	free(cut.keep);
	return rc;
}

/* ---------------------------------------------------------------- entry points */

odet_status odet_import_onnx_buffer(odet_ctx *ctx, const void *data, size_t size,
				    const char *base_dir, const char *label, ir_graph **out)
{
	char detail[320];
	odet_status rc;
	onnx_imp imp = {.ctx = ctx, .base_dir = base_dir};
	Onnx__ModelProto *m = NULL;
	if (!label)
		label = "<memory>";
	if (!out || (!data && size))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "%s: no model data or no output pointer",
				  label);
	*out = NULL;
	if (size > ONNX_MAX_FILE_BYTES) {
		rc = odet_error(ctx, ODET_ERR_LIMIT, "model is %zu bytes, protobuf's limit is %zu", size,
				ONNX_MAX_FILE_BYTES);
		goto out_prefix;
	}
	if (!onnx_wire_check(data, size, &onnx__model_proto__descriptor, detail, sizeof detail)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "not a valid ONNX protobuf: %s", detail);
		goto out_prefix;
	}
	m = onnx__model_proto__unpack(NULL, size, data);
	if (!m) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
				"not a valid ONNX protobuf: rejected by the protobuf decoder");
		goto out_prefix;
	}
	imp.model = m;
	if (!m->graph) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "the model has no graph");
		goto out_unpack;
	}
	if ((rc = read_opset(&imp, m)))
		goto out_unpack;
	if ((rc = ir_graph_create(ctx, &imp.g)))
		goto out_unpack;
	rc = import_graph(&imp, m->graph);
	if (rc) {
		ir_graph_free(imp.g);
		goto out_unpack;
	}
	*out = imp.g;
out_unpack:
	onnx__model_proto__free_unpacked(m, NULL);
	free(imp.names);
out_prefix:
	if (rc && ctx)
		odet_error_prefix(ctx, "%s: ", label);
	return rc;
}

odet_status odet_import_onnx_file(odet_ctx *ctx, const char *path, ir_graph **out)
{
	void *data;
	size_t size;
	if (!path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "onnx import: no path or output pointer");
	*out = NULL;
	odet_status rc = odet_file_read(ctx, path, ONNX_MAX_FILE_BYTES, &data, &size);
	if (rc)
		return rc; /* message already names the path */
	/* the model's folder, for external data */
	char *dir = odet_strdup(ctx, path);
	if (!dir) {
		free(data);
		return ODET_ERR_NO_MEMORY;
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	rc = odet_import_onnx_buffer(ctx, data, size, dir, path, out);
	free(dir);
	free(data);
	return rc;
}

odet_status odet_graph_load_onnx(odet_ctx *ctx, const char *path, odet_graph **out)
{
	return odet_import_onnx_file(ctx, path, out);
}
