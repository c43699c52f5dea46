/* pass_ref.h — helpers of the pass tests (pass_ref.c): graphs on one test context, a float32
 * reference interpreter, the numeric check of a pass, a constant-folding evaluator. */
#ifndef ODET_TEST_PASS_REF_H
#define ODET_TEST_PASS_REF_H

#include "core/core.h"
#include "graph/ir.h"

#include <stdbool.h>
#include <stdint.h>

#define IN(...) (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}
#define D(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

typedef struct interp {
	float **buf; /* per value; constants point at their data */
	int n;
} interp;

typedef struct eval_stats {
	int calls;
} eval_stats;

void pass_ref_init(odet_ctx *ctx); /* the context every helper uses */
float frand(void);                 /* uniform in [-1, 1), one seeded sequence */
ir_graph *new_graph(void);
int const_rand(ir_graph *g, const char *name, int rank, const int64_t *dims, float lo, float hi);
int const_f(ir_graph *g, float v);
int const_i64(ir_graph *g, int rank, const int64_t *vals, int64_t n);
/* node with a fresh output (named) */
int op1(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, const char *out_name, int *out);
int live_nodes(const ir_graph *g);
const ir_node *live_op(const ir_graph *g, ir_op op);
/* every node input is a graph input, a constant, or produced by an earlier node */
bool order_valid(const ir_graph *g);
float *rand_input(int64_t n);
/* worst relative output error of g before vs after pass (+ dead-code elimination); INFINITY on failure */
double check_numeric(ir_graph *g, odet_status (*pass)(ir_graph *), const float *const *inputs);
/* pass_opts.eval for Gather (axis 0, int64), Unsqueeze and 1-D Concat; user: eval_stats */
odet_status test_eval(void *user, const ir_graph *g, const ir_node *n, const odet_tensor *in, odet_tensor *out);

#endif
