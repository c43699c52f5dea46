/* pass_util.h — small graph-rewriting helpers shared by the passes in this folder. */
#ifndef ODET_PASS_UTIL_H
#define ODET_PASS_UTIL_H

#include "passes/passes.h"

/* The one live node reading value v, when v has exactly one use and is not a graph
 * output; -1 otherwise. */
int pass_sole_consumer(const ir_graph *g, int v);
/* Mark node i dead and detach it from its values (inputs and outputs -1), so that a
 * topological sort before pass_eliminate_dead neither waits for its inputs nor lets it stand
 * in as the producer of a value another node now writes. */
void pass_node_kill(ir_graph *g, int i);
/* The driver of the fusing passes: fuse(g, i, &done) for every live node of op `op` that is in
 * the graph when called; when any fused (*count of them), the graph is re-sorted, dead nodes
 * removed and shapes re-inferred. */
odet_status pass_fuse_each(ir_graph *g, ir_op op, odet_status (*fuse)(ir_graph *g, int node, bool *done),
			   int *count);
/* Set input `slot` of node `node`, growing its input list with omitted (-1) slots. */
odet_status pass_node_set_input(ir_graph *g, int node, int slot, int v);
/* Add a float32 constant (data copied or zeroed when src is NULL) named after `base`
 * with `suffix`, unique in the graph. Returns the value index or -1. */
int pass_const_f32(ir_graph *g, const char *base, const char *suffix, int rank, const int64_t *dims,
		   const float *src);
/* Constant c (rank <= r) broadcast against a rank-r tensor y = Transpose(x, perm), laid out
 * for x instead: c' = transpose(c broadcast to rank r, perm^-1), so op(y, c) = Transpose(op(x,
 * c'), perm) for an elementwise op. A scalar is returned as it is. Returns the value index
 * (a new constant) or -1. */
int pass_permute_const(ir_graph *g, int c, const int64_t *perm, int r);
/* Pad node n pads with zeros: mode constant and its value omitted or a constant scalar 0
 * (float32 or float16, either sign). */
bool pass_zero_const_pad(const ir_graph *g, const ir_node *n);

#endif
