/*
 * eliminate_dead.c — remove Identity nodes (rewiring their readers), nodes none of whose
 * outputs is used (one backward sweep over the topological order, so whole dead chains
 * go), then compact the graph (drops dead nodes and unreferenced values).
 * An Identity whose output is a graph output keeps the output's name: its producer is
 * made to write the output directly; if its input is a graph input, a constant or another
 * graph output the Identity stays (it is a real copy then).
 */
#include "passes/pass_util.h"

#include <stdlib.h>

static void drop_identity(ir_graph *g, int i)
{
	ir_node *n = &g->nodes[i];
	if (n->n_in < 1 || n->n_out != 1 || n->in[0] < 0 || n->out[0] < 0)
		return;
	int x = n->in[0], y = n->out[0];
	if (!g->values[y].is_output) {
		n->dead = true;
		ir_value_replace_uses(g, y, x);
		g->values[y].producer = -1;
		return;
	}
	ir_value *xv = &g->values[x];
	if (xv->is_output || xv->kind != IR_VALUE_INTERMEDIATE || xv->producer < 0)
		return;
	/* the producer of x writes y instead; other readers of x read y */
	ir_node *p = &g->nodes[xv->producer];
	int pi = xv->producer;
	n->dead = true;
	ir_value_replace_uses(g, x, y);
	for (int k = 0; k < p->n_out; k++)
		if (p->out[k] == x)
			p->out[k] = y;
	g->values[y].producer = pi;
	g->values[x].producer = -1;
}

odet_status pass_eliminate_dead(ir_graph *g)
{
	int removed = 0;
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == IR_OP_IDENTITY) {
			drop_identity(g, i);
			removed += g->nodes[i].dead;
		}
	int *uses = odet_calloc(g->ctx, (size_t)g->n_values + 1, sizeof(int));
	if (!uses)
		return ODET_ERR_NO_MEMORY;
	for (int v = 0; v < g->n_values; v++)
		uses[v] = g->values[v].is_output;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0)
				uses[n->in[k]]++;
	}
	for (int i = g->n_nodes - 1; i >= 0; i--) {
		ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		bool used = false;
		for (int k = 0; k < n->n_out && !used; k++)
			used = n->out[k] >= 0 && uses[n->out[k]] > 0;
		if (used)
			continue;
		n->dead = true;
		removed++;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0)
				uses[n->in[k]]--;
	}
	free(uses);
	odet_log(g->ctx, ODET_LOG_DEBUG, "eliminate_dead: %d nodes removed", removed);
	return ir_graph_compact(g);
}
