/* graph_build.h — graph inputs and outputs for the tests that build IR graphs by hand (passes,
 * CUDA passes, CUDA core): the bookkeeping the importer does for real models, written once. */
#ifndef ODET_TEST_GRAPH_BUILD_H
#define ODET_TEST_GRAPH_BUILD_H

#include "graph/ir.h"

#include <stdlib.h>

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

#endif
