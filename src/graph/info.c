/*
 * info.c — the public view of a graph (odet.h): its declared inputs and its nodes with the
 * cost model's figures, for front ends that describe or profile a model.
 */
#include "graph/ir.h"

#include <string.h>

int odet_graph_num_inputs(const odet_graph *g)
{
	return g ? g->n_inputs : 0;
}

odet_status odet_graph_input_info(const odet_graph *g, int i, const char **name, odet_tensor *info)
{
	if (!g || !info)
		return ODET_ERR_INVALID_ARG;
	if (i < 0 || i >= g->n_inputs)
		return odet_error(g->ctx, ODET_ERR_INVALID_ARG, "input index %d out of range (graph has %d)", i,
				  g->n_inputs);
	const ir_value *v = &g->values[g->inputs[i]];
	memset(info, 0, sizeof *info);
	info->dtype = v->dtype;
	info->rank = v->rank;
	for (int k = 0; k < v->rank && k < ODET_MAX_RANK; k++)
		info->dims[k] = v->dims[k];
	info->device = -1;
	if (name)
		*name = v->name;
	return ODET_OK;
}

int odet_graph_num_nodes(const odet_graph *g)
{
	return g ? g->n_nodes : 0;
}

odet_status odet_graph_node(const odet_graph *g, int i, odet_node_info *out)
{
	if (!g || !out)
		return ODET_ERR_INVALID_ARG;
	if (i < 0 || i >= g->n_nodes)
		return odet_error(g->ctx, ODET_ERR_INVALID_ARG, "node index %d out of range (graph has %d)", i,
				  g->n_nodes);
	const ir_node *n = &g->nodes[i];
	ir_cost c = ir_node_cost(g, n);
	out->name = n->name ? n->name : "";
	out->op = ir_op_name(n->op);
	out->flops = c.flops;
	out->params = c.params;
	return ODET_OK;
}
