/* graph.c — construction, lookup, rewriting and freeing of the IR (ir.h). */
#include "graph/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *domain;
} op_table[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = {onnx, dom},
#include "graph/ops.def"
#undef OP
};

const char *ir_op_name(ir_op op)
{
	return (unsigned)op < IR_OP_COUNT ? op_table[op].name : "?";
}

ir_op ir_op_lookup(const char *domain, const char *op_type)
{
	if (!domain || strcmp(domain, "ai.onnx") == 0)
		domain = "";
	for (int i = 0; i < IR_OP_COUNT; i++)
		if (strcmp(op_table[i].name, op_type) == 0 && strcmp(op_table[i].domain, domain) == 0)
			return (ir_op)i;
	return IR_OP_COUNT;
}

ir_shape_fn ir_shape_fn_of(ir_op op)
{
	static const ir_shape_fn table[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = ir_shape_##id,
#include "graph/ops.def"
#undef OP
	};
	return (unsigned)op < IR_OP_COUNT ? table[op] : NULL;
}

odet_status ir_graph_create(odet_ctx *ctx, ir_graph **out)
{
	ir_graph *g = odet_calloc(ctx, 1, sizeof *g);
	if (!g)
		return ODET_ERR_NO_MEMORY;
	g->ctx = ctx;
	g->opset = 17;
	*out = g;
	return ODET_OK;
}

static void value_free(ir_value *v)
{
	free(v->name);
	free(v->data);
	for (int i = 0; i < ODET_MAX_RANK; i++)
		free(v->sym[i]);
}

static void attr_free(ir_attr *a)
{
	free(a->name);
	free(a->s);
	free(a->ints);
	free(a->floats);
	for (int i = 0; a->strings && i < a->n; i++)
		free(a->strings[i]);
	free(a->strings);
}

static void node_free(ir_node *n)
{
	free(n->name);
	free(n->in);
	free(n->out);
	for (int i = 0; i < n->n_attrs; i++)
		attr_free(&n->attrs[i]);
	free(n->attrs);
}

void ir_graph_free(ir_graph *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n_values; i++)
		value_free(&g->values[i]);
	for (int i = 0; i < g->n_nodes; i++)
		node_free(&g->nodes[i]);
	free(g->values);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	free(g->name);
	free(g->note);
	if (g->head && g->head_free)
		g->head_free(g->head);
	free(g);
}

void odet_graph_destroy(odet_graph *g)
{
	ir_graph_free(g);
}

int ir_value_find(const ir_graph *g, const char *name)
{
	for (int i = g->n_values - 1; i >= 0; i--)
		if (g->values[i].name && strcmp(g->values[i].name, name) == 0)
			return i;
	return -1;
}

int ir_value_add(ir_graph *g, const char *name, odet_dtype dtype, int rank, const int64_t *dims)
{
	if (rank > ODET_MAX_RANK) {
		odet_error(g->ctx, ODET_ERR_LIMIT, "value '%s' has rank %d, limit %d", name ? name : "?",
			   rank, ODET_MAX_RANK);
		return -1;
	}
	if (g->n_values == g->cap_values) {
		int cap = g->cap_values ? g->cap_values * 2 : 64;
		ir_value *nv = odet_realloc_array(g->ctx, g->values, (size_t)cap, sizeof *nv);
		if (!nv)
			return -1;
		g->values = nv;
		g->cap_values = cap;
	}
	ir_value *v = &g->values[g->n_values];
	memset(v, 0, sizeof *v);
	char buf[48];
	if (!name) {
		snprintf(buf, sizeof buf, "odet_v%d", g->n_values);
		name = buf;
	}
	v->name = odet_strdup(g->ctx, name);
	if (!v->name)
		return -1;
	v->dtype = dtype;
	v->rank = rank;
	for (int i = 0; i < ODET_MAX_RANK; i++)
		v->dims[i] = (dims && i < rank) ? dims[i] : -1;
	v->producer = -1;
	return g->n_values++;
}

int ir_const_add(ir_graph *g, const char *name, odet_dtype dtype, int rank, const int64_t *dims,
		 void *data)
{
	int v = ir_value_add(g, name, dtype, rank, dims);
	if (v < 0) {
		free(data);
		return -1;
	}
	int64_t n;
	size_t bytes;
	if (!odet_dims_numel(dims, rank, &n) || !odet_mul_size((size_t)n, odet_dtype_size(dtype), &bytes)) {
		free(data);
		odet_error(g->ctx, ODET_ERR_BAD_INPUT, "constant '%s': invalid dims", g->values[v].name);
		return -1;
	}
	g->values[v].kind = IR_VALUE_CONST;
	g->values[v].data = data;
	g->values[v].nbytes = bytes;
	return v;
}

int ir_node_add(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, int n_out,
		const int *out)
{
	if (g->n_nodes >= ODET_LIMIT_MAX_NODES) {
		odet_error(g->ctx, ODET_ERR_LIMIT, "graph has more than %d nodes", ODET_LIMIT_MAX_NODES);
		return -1;
	}
	if (g->n_nodes == g->cap_nodes) {
		int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
		ir_node *nn = odet_realloc_array(g->ctx, g->nodes, (size_t)cap, sizeof *nn);
		if (!nn)
			return -1;
		g->nodes = nn;
		g->cap_nodes = cap;
	}
	ir_node *n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof *n);
	char buf[48];
	if (!name || !*name) {
		snprintf(buf, sizeof buf, "%s_%d", ir_op_name(op), g->n_nodes);
		name = buf;
	}
	n->name = odet_strdup(g->ctx, name);
	n->in = odet_calloc(g->ctx, (size_t)(n_in > 0 ? n_in : 1), sizeof(int));
	n->out = odet_calloc(g->ctx, (size_t)(n_out > 0 ? n_out : 1), sizeof(int));
	if (!n->name || !n->in || !n->out) {
		node_free(n);
		return -1;
	}
	n->op = op;
	n->n_in = n_in;
	n->n_out = n_out;
	if (n_in)
		memcpy(n->in, in, sizeof(int) * (size_t)n_in);
	if (n_out)
		memcpy(n->out, out, sizeof(int) * (size_t)n_out);
	int idx = g->n_nodes++;
	for (int i = 0; i < n_out; i++)
		if (out[i] >= 0)
			g->values[out[i]].producer = idx;
	return idx;
}

odet_status ir_attr_append(ir_graph *g, int node, ir_attr *a)
{
	ir_node *n = &g->nodes[node];
	/* replace an existing attribute of the same name */
	for (int i = 0; i < n->n_attrs; i++) {
		if (strcmp(n->attrs[i].name, a->name) == 0) {
			attr_free(&n->attrs[i]);
			n->attrs[i] = *a;
			return ODET_OK;
		}
	}
	ir_attr *na = odet_realloc_array(g->ctx, n->attrs, (size_t)n->n_attrs + 1, sizeof *na);
	if (!na) {
		attr_free(a);
		return ODET_ERR_NO_MEMORY;
	}
	n->attrs = na;
	n->attrs[n->n_attrs++] = *a;
	return ODET_OK;
}

static odet_status attr_new(ir_graph *g, const char *name, ir_attr_type t, ir_attr *a)
{
	memset(a, 0, sizeof *a);
	a->type = t;
	a->tensor = -1;
	a->name = odet_strdup(g->ctx, name);
	return a->name ? ODET_OK : ODET_ERR_NO_MEMORY;
}

odet_status ir_attr_set_int(ir_graph *g, int node, const char *name, int64_t v)
{
	ir_attr a;
	odet_status rc = attr_new(g, name, IR_ATTR_INT, &a);
	if (rc)
		return rc;
	a.i = v;
	return ir_attr_append(g, node, &a);
}

odet_status ir_attr_set_float(ir_graph *g, int node, const char *name, float v)
{
	ir_attr a;
	odet_status rc = attr_new(g, name, IR_ATTR_FLOAT, &a);
	if (rc)
		return rc;
	a.f = v;
	return ir_attr_append(g, node, &a);
}

odet_status ir_attr_set_ints(ir_graph *g, int node, const char *name, const int64_t *v, int n)
{
	ir_attr a;
	odet_status rc = attr_new(g, name, IR_ATTR_INTS, &a);
	if (rc)
		return rc;
	a.ints = odet_calloc(g->ctx, (size_t)(n ? n : 1), sizeof(int64_t));
	if (!a.ints) {
		attr_free(&a);
		return ODET_ERR_NO_MEMORY;
	}
	if (n)
		memcpy(a.ints, v, sizeof(int64_t) * (size_t)n);
	a.n = n;
	return ir_attr_append(g, node, &a);
}

odet_status ir_attr_set_floats(ir_graph *g, int node, const char *name, const float *v, int n)
{
	ir_attr a;
	odet_status rc = attr_new(g, name, IR_ATTR_FLOATS, &a);
	if (rc)
		return rc;
	a.floats = odet_calloc(g->ctx, (size_t)(n ? n : 1), sizeof(float));
	if (!a.floats) {
		attr_free(&a);
		return ODET_ERR_NO_MEMORY;
	}
	if (n)
		memcpy(a.floats, v, sizeof(float) * (size_t)n);
	a.n = n;
	return ir_attr_append(g, node, &a);
}

odet_status ir_attr_set_string(ir_graph *g, int node, const char *name, const char *s)
{
	ir_attr a;
	odet_status rc = attr_new(g, name, IR_ATTR_STRING, &a);
	if (rc)
		return rc;
	a.s = odet_strdup(g->ctx, s);
	if (!a.s) {
		attr_free(&a);
		return ODET_ERR_NO_MEMORY;
	}
	a.s_len = strlen(s);
	return ir_attr_append(g, node, &a);
}

const ir_attr *ir_attr_get(const ir_node *n, const char *name)
{
	for (int i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	return NULL;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def)
{
	const ir_attr *a = ir_attr_get(n, name);
	return (a && a->type == IR_ATTR_INT) ? a->i : def;
}

float ir_attr_float(const ir_node *n, const char *name, float def)
{
	const ir_attr *a = ir_attr_get(n, name);
	if (a && a->type == IR_ATTR_FLOAT)
		return a->f;
	if (a && a->type == IR_ATTR_INT)
		return (float)a->i;
	return def;
}

const char *ir_attr_string(const ir_node *n, const char *name, const char *def)
{
	const ir_attr *a = ir_attr_get(n, name);
	return (a && a->type == IR_ATTR_STRING) ? a->s : def;
}

int ir_attr_ints(const ir_node *n, const char *name, const int64_t **v)
{
	const ir_attr *a = ir_attr_get(n, name);
	*v = NULL;
	if (!a || a->type != IR_ATTR_INTS)
		return 0;
	*v = a->ints;
	return a->n;
}

int ir_attr_floats(const ir_node *n, const char *name, const float **v)
{
	const ir_attr *a = ir_attr_get(n, name);
	*v = NULL;
	if (!a || a->type != IR_ATTR_FLOATS)
		return 0;
	*v = a->floats;
	return a->n;
}

void ir_value_replace_uses(ir_graph *g, int from, int to)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] == from)
				n->in[k] = to;
	}
	for (int k = 0; k < g->n_outputs; k++) {
		if (g->outputs[k] == from) {
			g->outputs[k] = to;
			g->values[to].is_output = true;
			g->values[from].is_output = false;
		}
	}
}

int ir_value_use_count(const ir_graph *g, int v)
{
	int c = g->values[v].is_output ? 1 : 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++)
			c += n->in[k] == v;
	}
	return c;
}

odet_status ir_value_set_data(ir_graph *g, int v, void *data, size_t nbytes)
{
	ir_value *val = &g->values[v];
	free(val->data);
	val->data = data;
	val->nbytes = nbytes;
	val->kind = IR_VALUE_CONST;
	val->producer = -1;
	return ODET_OK;
}

int64_t ir_value_numel(const ir_value *v)
{
	int64_t n;
	if (v->rank < 0 || !odet_dims_numel(v->dims, v->rank, &n))
		return -1;
	return n;
}

bool ir_value_shape_known(const ir_value *v)
{
	return ir_value_numel(v) >= 0;
}

/* A float constant read as an integer: saturated (NaN: 0), since converting a value out of
 * int64's range is undefined behaviour (fuzz_tfjs: 1.8e26 as a TF.js op's integer input); the
 * callers range-check what they get. */
static int64_t f64_to_i64(double x)
{
	if (x != x)
		return 0;
	if (x >= 9223372036854775808.0) /* 2^63 */
		return INT64_MAX;
	if (x < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)x;
}

int64_t ir_const_i64(const ir_value *v, int64_t i)
{
	const void *d = v->data;
	switch (v->dtype) {
	case ODET_I64: return ((const int64_t *)d)[i];
	case ODET_I32: return ((const int32_t *)d)[i];
	case ODET_I16: return ((const int16_t *)d)[i];
	case ODET_I8: return ((const int8_t *)d)[i];
	case ODET_U8: return ((const uint8_t *)d)[i];
	case ODET_U16: return ((const uint16_t *)d)[i];
	case ODET_U32: return ((const uint32_t *)d)[i];
	case ODET_U64: return (int64_t)((const uint64_t *)d)[i];
	case ODET_BOOL: return ((const uint8_t *)d)[i] != 0;
	case ODET_F32: return f64_to_i64(((const float *)d)[i]);
	case ODET_F64: return f64_to_i64(((const double *)d)[i]);
	default: return 0;
	}
}

const char *ir_shape_str(const ir_value *v, char *buf, size_t n)
{
	if (v->rank < 0) {
		snprintf(buf, n, "?");
		return buf;
	}
	size_t off = 0;
	off += (size_t)snprintf(buf + off, n - off, "[");
	for (int i = 0; i < v->rank && off < n; i++) {
		if (v->sym[i] && v->dims[i] < 0)
			off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? "," : "", v->sym[i]);
		else if (v->dims[i] < 0)
			off += (size_t)snprintf(buf + off, n - off, "%s?", i ? "," : "");
		else
			off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "", (long long)v->dims[i]);
	}
	if (off < n)
		snprintf(buf + off, n - off, "]");
	return buf;
}

odet_status ir_graph_toposort(ir_graph *g)
{
	odet_ctx *ctx = g->ctx;
	int nn = g->n_nodes;
	int *order = odet_calloc(ctx, (size_t)nn + 1, sizeof(int));
	char *done = odet_calloc(ctx, (size_t)nn + 1, 1);
	char *ready = odet_calloc(ctx, (size_t)g->n_values + 1, 1);
	odet_status rc = ODET_OK;
	if (!order || !done || !ready) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int v = 0; v < g->n_values; v++)
		ready[v] = g->values[v].producer < 0 || g->values[v].kind != IR_VALUE_INTERMEDIATE;
	/* producers by node: value producer indices refer to the current numbering */
	int placed = 0;
	while (placed < nn) {
		int progress = 0;
		for (int i = 0; i < nn; i++) {
			if (done[i])
				continue;
			ir_node *n = &g->nodes[i];
			int ok = 1;
			for (int k = 0; k < n->n_in && ok; k++)
				if (n->in[k] >= 0 && !ready[n->in[k]])
					ok = 0;
			if (!ok)
				continue;
			done[i] = 1;
			order[placed++] = i;
			progress = 1;
			for (int k = 0; k < n->n_out; k++)
				if (n->out[k] >= 0)
					ready[n->out[k]] = 1;
		}
		if (!progress) {
			for (int i = 0; i < nn; i++) {
				if (done[i])
					continue;
				ir_node *n = &g->nodes[i];
				for (int k = 0; k < n->n_in; k++)
					if (n->in[k] >= 0 && !ready[n->in[k]]) {
						rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
								"node '%s' (%s): input '%s' is never produced (or the graph has a cycle)",
								n->name, ir_op_name(n->op), g->values[n->in[k]].name);
						goto out_free;
					}
			}
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "graph has a cycle");
			goto out_free;
		}
	}
	ir_node *sorted = odet_calloc(ctx, (size_t)nn + 1, sizeof *sorted);
	if (!sorted) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int i = 0; i < nn; i++)
		sorted[i] = g->nodes[order[i]];
	if (nn > 0)
		memcpy(g->nodes, sorted, sizeof *sorted * (size_t)nn);
	free(sorted);
	for (int i = 0; i < nn; i++)
		for (int k = 0; k < g->nodes[i].n_out; k++)
			if (g->nodes[i].out[k] >= 0)
				g->values[g->nodes[i].out[k]].producer = i;
out_free:
	free(order);
	free(done);
	free(ready);
	return rc;
}

odet_status ir_graph_compact(ir_graph *g)
{
	odet_ctx *ctx = g->ctx;
	int *vmap = odet_calloc(ctx, (size_t)g->n_values + 1, sizeof(int));
	char *used = odet_calloc(ctx, (size_t)g->n_values + 1, 1);
	if (!vmap || !used) {
		free(vmap);
		free(used);
		return ODET_ERR_NO_MEMORY;
	}
	/* drop dead nodes */
	int w = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		if (g->nodes[i].dead) {
			node_free(&g->nodes[i]);
			continue;
		}
		g->nodes[w++] = g->nodes[i];
	}
	g->n_nodes = w;
	/* values referenced by nodes, inputs, outputs, attribute tensors */
	for (int i = 0; i < g->n_inputs; i++)
		used[g->inputs[i]] = 1;
	for (int i = 0; i < g->n_outputs; i++)
		used[g->outputs[i]] = 1;
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0)
				used[n->in[k]] = 1;
		for (int k = 0; k < n->n_out; k++)
			if (n->out[k] >= 0)
				used[n->out[k]] = 1;
		for (int k = 0; k < n->n_attrs; k++)
			if (n->attrs[k].type == IR_ATTR_TENSOR && n->attrs[k].tensor >= 0)
				used[n->attrs[k].tensor] = 1;
	}
	w = 0;
	for (int v = 0; v < g->n_values; v++) {
		if (!used[v]) {
			value_free(&g->values[v]);
			vmap[v] = -1;
			continue;
		}
		vmap[v] = w;
		g->values[w++] = g->values[v];
	}
	g->n_values = w;
	for (int i = 0; i < g->n_inputs; i++)
		g->inputs[i] = vmap[g->inputs[i]];
	for (int i = 0; i < g->n_outputs; i++)
		g->outputs[i] = vmap[g->outputs[i]];
	for (int v = 0; v < g->n_values; v++)
		g->values[v].producer = -1;
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0)
				n->in[k] = vmap[n->in[k]];
		for (int k = 0; k < n->n_out; k++)
			if (n->out[k] >= 0) {
				n->out[k] = vmap[n->out[k]];
				g->values[n->out[k]].producer = i;
			}
		for (int k = 0; k < n->n_attrs; k++)
			if (n->attrs[k].type == IR_ATTR_TENSOR && n->attrs[k].tensor >= 0)
				n->attrs[k].tensor = vmap[n->attrs[k].tensor];
	}
	free(vmap);
	free(used);
	return ODET_OK;
}

static odet_status attr_copy(odet_ctx *ctx, const ir_attr *a, ir_attr *b)
{
	*b = *a;
	b->name = NULL;
	b->s = NULL;
	b->ints = NULL;
	b->floats = NULL;
	b->strings = NULL;
	if (!(b->name = odet_strdup(ctx, a->name)))
		goto out_nomem;
	if (a->s) {
		if (!(b->s = odet_malloc(ctx, a->s_len + 1)))
			goto out_nomem;
		memcpy(b->s, a->s, a->s_len + 1);
	}
	if (a->ints) {
		if (!(b->ints = odet_calloc(ctx, (size_t)a->n + 1, sizeof(int64_t))))
			goto out_nomem;
		memcpy(b->ints, a->ints, sizeof(int64_t) * (size_t)a->n);
	}
	if (a->floats) {
		if (!(b->floats = odet_calloc(ctx, (size_t)a->n + 1, sizeof(float))))
			goto out_nomem;
		memcpy(b->floats, a->floats, sizeof(float) * (size_t)a->n);
	}
	if (a->strings) {
		if (!(b->strings = odet_calloc(ctx, (size_t)a->n + 1, sizeof(char *))))
			goto out_nomem;
		for (int i = 0; i < a->n; i++)
			if (a->strings[i] && !(b->strings[i] = odet_strdup(ctx, a->strings[i])))
				goto out_nomem;
	}
	return ODET_OK;
out_nomem:
	attr_free(b);
	memset(b, 0, sizeof *b);
	return ODET_ERR_NO_MEMORY;
}

/* append copies of every attribute of src (a node of any graph) to node dst of g */
static odet_status attrs_copy_into(ir_graph *g, int dst, const ir_node *src)
{
	for (int k = 0; k < src->n_attrs; k++) {
		ir_attr a;
		odet_status rc = attr_copy(g->ctx, &src->attrs[k], &a);
		if (rc || (rc = ir_attr_append(g, dst, &a)))
			return rc;
	}
	return ODET_OK;
}

odet_status ir_attrs_copy(ir_graph *g, int dst, int src)
{
	if (dst == src)
		return ODET_OK;
	/* appending to dst reallocates dst's attribute array only: src's stays where it is */
	return attrs_copy_into(g, dst, &g->nodes[src]);
}

odet_status ir_graph_clone(const ir_graph *g, ir_graph **out)
{
	odet_ctx *ctx = g->ctx;
	ir_graph *c;
	odet_status rc = ir_graph_create(ctx, &c);
	if (rc)
		return rc;
	c->opset = g->opset;
	c->info = g->info;
	if (g->name && !(c->name = odet_strdup(ctx, g->name)))
		goto out_nomem;
	if (g->note && !(c->note = odet_strdup(ctx, g->note)))
		goto out_nomem;
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *src = &g->values[v];
		int idx = ir_value_add(c, src->name, src->dtype, src->rank, src->dims);
		if (idx < 0)
			goto out_nomem;
		ir_value *dst = &c->values[idx];
		dst->kind = src->kind;
		dst->is_output = src->is_output;
		dst->producer = src->producer;
		for (int i = 0; i < ODET_MAX_RANK; i++)
			if (src->sym[i] && !(dst->sym[i] = odet_strdup(ctx, src->sym[i])))
				goto out_nomem;
		if (src->data) {
			if (!(dst->data = odet_malloc(ctx, src->nbytes)))
				goto out_nomem;
			memcpy(dst->data, src->data, src->nbytes);
			dst->nbytes = src->nbytes;
		}
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		int idx = ir_node_add(c, n->op, n->name, n->n_in, n->in, n->n_out, n->out);
		if (idx < 0)
			goto out_nomem;
		c->nodes[idx].dead = n->dead;
		if (attrs_copy_into(c, idx, n))
			goto out_nomem;
	}
	c->inputs = odet_calloc(ctx, (size_t)g->n_inputs + 1, sizeof(int));
	c->outputs = odet_calloc(ctx, (size_t)g->n_outputs + 1, sizeof(int));
	if (!c->inputs || !c->outputs)
		goto out_nomem;
	if (g->n_inputs) /* a graph without inputs has no list (memcpy from NULL is undefined) */
		memcpy(c->inputs, g->inputs, sizeof(int) * (size_t)g->n_inputs);
	if (g->n_outputs)
		memcpy(c->outputs, g->outputs, sizeof(int) * (size_t)g->n_outputs);
	c->n_inputs = g->n_inputs;
	c->n_outputs = g->n_outputs;
	*out = c;
	return ODET_OK;
out_nomem:
	ir_graph_free(c);
	return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory copying graph");
}
