/*
 * fold_constants.c — replace nodes computable at build time by constants.
 *
 * One forward pass over the nodes (topological order). For each live node: infer its
 * shape (so a chain folds in one pass), then
 *   Shape of a value whose dims are all known    → int64 constant directly (no eval): this
 *       folds torch's Shape→Gather→Unsqueeze→Concat→Reshape chains once sizes are fixed;
 *   Constant                                     → its attribute value;
 *   every present input constant, outputs known  → evaluated through `eval` (the engine
 *       passes the CPU backend); outputs become CONST values (graph outputs stay outputs).
 * The folded node is marked dead (pass_eliminate_dead/ir_graph_compact drop it). A node
 * whose outputs would exceed FOLD_MAX_BYTES while being larger than its inputs
 * (ConstantOfShape, Expand, Tile, Range) is left to run time, and so is a node the
 * evaluator reports as unsupported.
 */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_BYTES ((size_t)16 << 20)


static odet_status fold_shape(ir_graph *g, ir_node *n, bool *folded)
{
	const ir_value *x = ir_in(g, n, 0);
	ir_value *y = ir_out(g, n, 0);
	if (!x || !y || x->rank < 0 || y->rank != 1 || y->dims[0] < 0)
		return ODET_OK;
	int64_t r = x->rank, start = ir_attr_int(n, "start", 0);
	if (start < 0)
		start += r;
	if (start < 0)
		start = 0;
	for (int64_t i = 0; i < y->dims[0]; i++)
		if (start + i >= r || x->dims[start + i] < 0)
			return ODET_OK;
	size_t bytes = sizeof(int64_t) * (size_t)(y->dims[0] ? y->dims[0] : 1);
	int64_t *d = odet_malloc(g->ctx, bytes);
	if (!d)
		return ODET_ERR_NO_MEMORY;
	for (int64_t i = 0; i < y->dims[0]; i++)
		d[i] = x->dims[start + i];
	ir_value_set_data(g, n->out[0], d, sizeof(int64_t) * (size_t)y->dims[0]);
	*folded = true;
	return ODET_OK;
}

static odet_status fold_constant_node(ir_graph *g, ir_node *n, bool *folded)
{
	ir_value *y = ir_out(g, n, 0);
	int64_t numel = ir_value_numel(y);
	size_t es = odet_dtype_size(y->dtype), bytes;
	if (numel < 0 || !es || !odet_mul_size((size_t)numel, es, &bytes))
		return ODET_OK;
	const ir_attr *a = ir_attr_get(n, "value");
	void *data = odet_malloc(g->ctx, bytes ? bytes : 1);
	if (!data)
		return ODET_ERR_NO_MEMORY;
	if (a && a->type == IR_ATTR_TENSOR) {
		const ir_value *t = &g->values[a->tensor];
		if (!t->data || t->nbytes != bytes) {
			free(data);
			return ODET_OK;
		}
		memcpy(data, t->data, bytes);
	} else if ((a = ir_attr_get(n, "value_float")) && y->dtype == ODET_F32) {
		*(float *)data = a->f;
	} else if ((a = ir_attr_get(n, "value_int")) && y->dtype == ODET_I64) {
		*(int64_t *)data = a->i;
	} else if ((a = ir_attr_get(n, "value_floats")) && y->dtype == ODET_F32 && (int64_t)a->n == numel) {
		memcpy(data, a->floats, bytes);
	} else if ((a = ir_attr_get(n, "value_ints")) && y->dtype == ODET_I64 && (int64_t)a->n == numel) {
		memcpy(data, a->ints, bytes);
	} else {
		free(data);
		return ODET_OK;
	}
	ir_value_set_data(g, n->out[0], data, bytes);
	*folded = true;
	return ODET_OK;
}

static odet_status fold_eval(ir_graph *g, ir_node *n, ir_eval_fn eval, void *user, bool *folded)
{
	odet_tensor in[IR_MAX_IO], out[IR_MAX_IO];
	size_t out_bytes[IR_MAX_IO], in_total = 0, out_total = 0;
	odet_status rc = ODET_ERR_NO_MEMORY;
	if (n->n_in < 1 || n->n_in > IR_MAX_IO || n->n_out < 1 || n->n_out > IR_MAX_IO)
		return ODET_OK;
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *v = ir_in(g, n, i);
		memset(&in[i], 0, sizeof in[i]);
		in[i].device = -1;
		if (!v)
			continue;
		if (v->kind != IR_VALUE_CONST || !v->data)
			return ODET_OK;
		in[i].dtype = v->dtype;
		in[i].rank = v->rank;
		memcpy(in[i].dims, v->dims, sizeof in[i].dims);
		in[i].data = v->data;
		in_total += v->nbytes;
	}
	for (int k = 0; k < n->n_out; k++) {
		const ir_value *v = ir_out(g, n, k);
		int64_t numel;
		size_t es;
		if (!v || (numel = ir_value_numel(v)) < 0 || !(es = odet_dtype_size(v->dtype)) ||
		    !odet_mul_size((size_t)numel, es, &out_bytes[k]) ||
		    !odet_add_size(out_total, out_bytes[k], &out_total))
			return ODET_OK;
	}
	if (out_total > FOLD_MAX_BYTES && out_total > in_total) {
		odet_log(g->ctx, ODET_LOG_DEBUG, "fold: node '%s' (%s) left to run time (%zu output bytes)",
			 n->name, ir_op_name(n->op), out_total);
		return ODET_OK;
	}
	int k;
	for (k = 0; k < n->n_out; k++) {
		const ir_value *v = ir_out(g, n, k);
		memset(&out[k], 0, sizeof out[k]);
		out[k].device = -1;
		out[k].dtype = v->dtype;
		out[k].rank = v->rank;
		memcpy(out[k].dims, v->dims, sizeof out[k].dims);
		out[k].data = odet_calloc(g->ctx, out_bytes[k] ? out_bytes[k] : 1, 1);
		if (!out[k].data)
			goto out_free;
	}
	rc = eval(user, g, n, in, out);
	if (rc == ODET_ERR_UNSUPPORTED) {
		odet_log(g->ctx, ODET_LOG_DEBUG, "fold: node '%s' (%s) not folded: %s", n->name,
			 ir_op_name(n->op), odet_ctx_last_error(g->ctx));
		goto out_free;
	}
	if (rc) {
		odet_error_prefix(g->ctx, "constant folding of node '%s' (%s): ", n->name, ir_op_name(n->op));
		goto out_free;
	}
	for (k = 0; k < n->n_out; k++)
		ir_value_set_data(g, n->out[k], out[k].data, out_bytes[k]);
	*folded = true;
	return ODET_OK;
out_free:
	while (k-- > 0)
		free(out[k].data);
	return rc == ODET_ERR_UNSUPPORTED ? ODET_OK : rc;
}

static bool integer_outputs(const ir_graph *g, const ir_node *n)
{
	for (int k = 0; k < n->n_out; k++) {
		const ir_value *y = ir_out(g, n, k);
		if (y && (y->dtype == ODET_F32 || y->dtype == ODET_F16 || y->dtype == ODET_BF16 ||
			  y->dtype == ODET_DTYPE_UNDEFINED))
			return false;
	}
	return true;
}

static odet_status fold(ir_graph *g, ir_eval_fn eval, void *user, bool shapes_only)
{
	int n_folded = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		bool folded = false;
		if (n->dead)
			continue;
		odet_status rc = pass_infer_shape_node(g, n);
		if (rc)
			return rc;
		if (n->op == IR_OP_SHAPE)
			rc = fold_shape(g, n, &folded);
		else if (n->op == IR_OP_CONSTANT && n->n_out == 1)
			rc = fold_constant_node(g, n, &folded);
		else if (eval && (!shapes_only || integer_outputs(g, n)))
			rc = fold_eval(g, n, eval, user, &folded);
		if (rc)
			return rc;
		if (folded) {
			n->dead = true;
			n_folded++;
		}
	}
	odet_log(g->ctx, ODET_LOG_DEBUG, "fold_constants%s: %d nodes folded", shapes_only ? " (shapes)" : "", n_folded);
	return ODET_OK;
}

odet_status pass_fold_constants(ir_graph *g, ir_eval_fn eval, void *user)
{
	return fold(g, eval, user, false);
}

odet_status pass_fold_shape_constants(ir_graph *g, ir_eval_fn eval, void *user)
{
	return fold(g, eval, user, true);
}
