/*
 * infer_shapes.c — run every live node's shape function in topological order. An op
 * without a linked shape function is an error naming it; an output larger than
 * ODET_LIMIT_MAX_TENSOR_BYTES is refused (ODET_ERR_LIMIT) before anything is allocated.
 */
#include "passes/passes.h"

/* true when every dim is known and the byte size exceeds the limit (or overflows) */
static bool exceeds_limit(const ir_value *v)
{
	int64_t bytes = (int64_t)(odet_dtype_size(v->dtype) ? odet_dtype_size(v->dtype) : 1);
	for (int i = 0; i < v->rank; i++)
		if (v->dims[i] <= 0)
			return false;
	for (int i = 0; i < v->rank; i++)
		if (!odet_mul_i64(bytes, v->dims[i], &bytes))
			return true;
	return bytes > ODET_LIMIT_MAX_TENSOR_BYTES;
}

odet_status pass_infer_shape_node(ir_graph *g, ir_node *n)
{
	ir_shape_fn fn = ir_shape_fn_of(n->op);
	if (!fn)
		return odet_error(g->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): no shape function for op %s",
				  n->name, ir_op_name(n->op), ir_op_name(n->op));
	odet_status rc = fn(g, n);
	if (rc)
		return rc;
	for (int k = 0; k < n->n_out; k++) {
		const ir_value *v = ir_out(g, n, k);
		char buf[256];
		if (v && exceeds_limit(v))
			return odet_error(g->ctx, ODET_ERR_LIMIT,
					  "node '%s' (%s): output '%s' of shape %s exceeds the tensor size limit (%lld bytes)",
					  n->name, ir_op_name(n->op), v->name, ir_shape_str(v, buf, sizeof buf),
					  (long long)ODET_LIMIT_MAX_TENSOR_BYTES);
	}
	return ODET_OK;
}

odet_status pass_infer_shapes(ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		odet_status rc = pass_infer_shape_node(g, n);
		if (rc)
			return rc;
	}
	return ODET_OK;
}
