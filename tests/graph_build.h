/* graph_build.h — graph inputs and outputs for the tests that build IR graphs by hand (passes,
 * CUDA passes, CUDA core): the bookkeeping the importer does for real models, written once. */
#ifndef ODET_TEST_GRAPH_BUILD_H
#define ODET_TEST_GRAPH_BUILD_H

#include "graph/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A graph input named `name` of dtype dt and shape dims (copied); returns its value index. */
static inline int test_graph_input(ir_graph *g, const char *name, odet_dtype dt, int rank, const int64_t *dims)
{
	int v = ir_value_add(g, name, dt, rank, dims);
	g->values[v].kind = IR_VALUE_INPUT;
	g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->n_inputs + 1));
	g->inputs[g->n_inputs++] = v;
	return v;
}

/* Value v becomes the graph's next output. */
static inline void test_graph_output(ir_graph *g, int v)
{
	g->values[v].is_output = true;
	g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
	g->outputs[g->n_outputs++] = v;
}

/* A fresh intermediate value (dtype and shape left to shape inference). */
static inline int test_graph_value(ir_graph *g, const char *name)
{
	return ir_value_add(g, name, ODET_DTYPE_UNDEFINED, -1, NULL);
}

/* y = Transpose(x, perm[n]), node and value named `name`. */
static inline int test_graph_transpose(ir_graph *g, const char *name, int x, int n, const int64_t *perm)
{
	int y = test_graph_value(g, name);
	int node = ir_node_add(g, IR_OP_TRANSPOSE, name, 1, &x, 1, &y);
	ir_attr_set_ints(g, node, "perm", perm, n);
	return y;
}

/* y = Reshape(x, shape[n]) with the shape a constant "<name>_shape". */
static inline int test_graph_reshape(ir_graph *g, const char *name, int x, int n, const int64_t *shape)
{
	char cn[256];
	snprintf(cn, sizeof cn, "%s_shape", name);
	int64_t *d = (int64_t *)malloc(sizeof(int64_t) * (size_t)n), sd[1] = {n};
	memcpy(d, shape, sizeof(int64_t) * (size_t)n);
	int s = ir_const_add(g, cn, ODET_I64, 1, sd, d);
	int y = test_graph_value(g, name), in[2] = {x, s};
	ir_node_add(g, IR_OP_RESHAPE, name, 2, in, 1, &y);
	return y;
}

#endif
