/*
 * fold_transposes.c — remove layout transposes that cancel.
 *
 * Importers of NHWC frameworks (TF.js) wrap every Conv/pool/Resize in
 * Transpose(NHWC→NCHW) … Transpose(NCHW→NHWC). This pass:
 *   1. sinks a Transpose below elementwise ops whose other inputs are constants (or absent):
 *        op(Transpose(x, p), c) = Transpose(op(x, c'), p),  c' = c laid out in x's order
 *      (unary activations, Clip with constant bounds, Add/Sub/Mul/Div/Max/Min with a constant);
 *   2. merges Transpose(Transpose(x, p1), p2) into Transpose(x, p1∘p2), and drops a
 *      Transpose whose permutation is the identity.
 * It only rewrites a Transpose whose output has a single use and is not a graph output,
 * so no value is ever computed twice. Shapes must be known (run after inference).
 */
#include "passes/pass_util.h"

#include <stdlib.h>
#include <string.h>

static bool is_identity(const int64_t *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != i)
			return false;
	return true;
}

/* the single live node reading value v, or -1 (0 or several readers, or a graph output) */
static int sole_reader(const ir_graph *g, int v)
{
	if (g->values[v].is_output)
		return -1;
	int reader = -1;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++) {
			if (n->in[k] != v)
				continue;
			if (reader >= 0 && reader != i)
				return -1;
			reader = i;
		}
	}
	return reader;
}

static bool sinkable_op(ir_op op)
{
	switch (op) {
	case IR_OP_RELU: case IR_OP_LEAKYRELU: case IR_OP_SIGMOID: case IR_OP_HARDSIGMOID:
	case IR_OP_HARDSWISH: case IR_OP_TANH: case IR_OP_EXP: case IR_OP_CLIP: case IR_OP_NEG:
	case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV: case IR_OP_MAX: case IR_OP_MIN:
		return true;
	default:
		return false;
	}
}

/* Try to sink the Transpose node t below its sole reader. */
static odet_status try_sink(ir_graph *g, int ti, bool *changed)
{
	ir_node *t = &g->nodes[ti];
	const int64_t *perm;
	int r = ir_attr_ints(t, "perm", &perm);
	int x = t->in[0], y = t->out[0];
	int ei = sole_reader(g, y);
	if (ei < 0 || r <= 0 || r > ODET_MAX_RANK)
		return ODET_OK;
	ir_node *e = &g->nodes[ei];
	if (!sinkable_op(e->op) || e->n_out != 1)
		return ODET_OK;
	/* every other input must be a constant; the transposed one used once */
	int new_in[IR_MAX_IO];
	if (e->n_in > IR_MAX_IO)
		return ODET_OK;
	for (int k = 0; k < e->n_in; k++) {
		int v = e->in[k];
		if (v == y) {
			new_in[k] = x;
		} else if (v < 0) {
			new_in[k] = -1;
		} else if (g->values[v].kind == IR_VALUE_CONST) {
			if (e->op == IR_OP_CLIP) {
				new_in[k] = v; /* Clip bounds are scalars */
				continue;
			}
			int c = pass_permute_const(g, v, perm, r);
			if (c < 0)
				return ODET_OK;
			e = &g->nodes[ei]; /* values may have moved; nodes did not */
			new_in[k] = c;
		} else {
			return ODET_OK;
		}
	}
	/* the elementwise result must have the transposed output's rank (no broadcasting up) */
	int z = e->out[0];
	if (g->values[z].rank != r || g->values[x].rank != r || g->values[y].rank != r)
		return ODET_OK;
	for (int i = 0; i < r; i++)
		if (g->values[z].dims[i] != g->values[y].dims[i] || g->values[z].dims[i] < 0)
			return ODET_OK;
	/* new value for op's result in x's order; the Transpose now produces z */
	int64_t zd[ODET_MAX_RANK];
	for (int i = 0; i < r; i++)
		zd[i] = g->values[x].dims[i];
	int w = ir_value_add(g, NULL, g->values[z].dtype, r, zd);
	if (w < 0)
		return ODET_ERR_NO_MEMORY;
	e = &g->nodes[ei];
	t = &g->nodes[ti];
	for (int k = 0; k < e->n_in; k++)
		e->in[k] = new_in[k];
	e->out[0] = w;
	g->values[w].producer = ei;
	t->in[0] = w;
	t->out[0] = z;
	g->values[z].producer = ti;
	g->values[y].producer = -1;
	/* keep topological order: the Transpose must now come after e */
	if (ti < ei) {
		ir_node tmp = g->nodes[ti];
		memmove(&g->nodes[ti], &g->nodes[ti + 1], sizeof(ir_node) * (size_t)(ei - ti));
		g->nodes[ei] = tmp;
		for (int i = ti; i <= ei; i++)
			for (int k = 0; k < g->nodes[i].n_out; k++)
				if (g->nodes[i].out[k] >= 0)
					g->values[g->nodes[i].out[k]].producer = i;
	}
	*changed = true;
	return ODET_OK;
}

/* Merge Transpose(Transpose(x)) and remove identity transposes. */
static odet_status try_merge(ir_graph *g, int ti, bool *changed)
{
	ir_node *t = &g->nodes[ti];
	const int64_t *p2;
	int r = ir_attr_ints(t, "perm", &p2);
	if (r <= 0)
		return ODET_OK;
	int x = t->in[0];
	int pi = g->values[x].producer;
	if (pi >= 0 && g->nodes[pi].op == IR_OP_TRANSPOSE && !g->nodes[pi].dead) {
		const int64_t *p1;
		int r1 = ir_attr_ints(&g->nodes[pi], "perm", &p1);
		if (r1 == r) {
			int64_t q[ODET_MAX_RANK];
			for (int i = 0; i < r; i++)
				q[i] = p1[p2[i]];
			int src = g->nodes[pi].in[0];
			odet_status rc = ir_attr_set_ints(g, ti, "perm", q, r);
			if (rc)
				return rc;
			t = &g->nodes[ti];
			t->in[0] = src;
			if (ir_value_use_count(g, x) == 0)
				g->nodes[pi].dead = true;
			*changed = true;
			return ODET_OK;
		}
	}
	const int64_t *p;
	r = ir_attr_ints(t, "perm", &p);
	if (is_identity(p, r) && !g->values[t->out[0]].is_output) {
		ir_value_replace_uses(g, t->out[0], t->in[0]);
		t->dead = true;
		*changed = true;
	}
	return ODET_OK;
}

odet_status pass_fold_transposes(ir_graph *g)
{
	bool changed = true;
	int rounds = 0;
	while (changed && rounds++ < 64) {
		changed = false;
		for (int i = 0; i < g->n_nodes; i++) {
			if (g->nodes[i].dead || g->nodes[i].op != IR_OP_TRANSPOSE)
				continue;
			odet_status rc = try_merge(g, i, &changed);
			if (!rc && !g->nodes[i].dead)
				rc = try_sink(g, i, &changed);
			if (rc)
				return rc;
		}
	}
	return ir_graph_compact(g);
}
