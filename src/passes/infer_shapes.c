/*
 * infer_shapes.c — run every live node's shape function in topological order. An op
 * without a linked shape function is an error naming it.
 */
#include "passes/passes.h"

odet_status pass_infer_shape_node(ir_graph *g, ir_node *n)
{
	ir_shape_fn fn = ir_shape_fn_of(n->op);
	if (!fn)
		return odet_error(g->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): no shape function for op %s",
				  n->name, ir_op_name(n->op), ir_op_name(n->op));
	return fn(g, n);
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
