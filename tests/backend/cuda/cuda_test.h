/* cuda_test.h — what the CUDA backend tests share (test_cuda_core, test_cuda_threads,
 * test_cuda_letterbox): the context on device 0 or the skip, a seeded random stream, random
 * constants and convolutions for hand-built graphs, engine output buffers. */
#ifndef ODET_TEST_CUDA_TEST_H
#define ODET_TEST_CUDA_TEST_H

#include "backend/backend.h"
#include "graph/ir.h"

#include <stdbool.h>

/* A context (co; NULL: 2 threads, errors only) with the CUDA backend on device 0. 0: ready;
 * else the test's exit code: 77 (ctest: skipped; "NAME: skipped (why)" printed) when no CUDA
 * backend or device answers, 1 when no context could be made. */
int cuda_test_open(const char *name, const odet_ctx_opts *co, odet_ctx **ctx);

/* The random stream: cuda_test_seed(s) starts it, cuda_test_frand() is uniform in [-1, 1). */
void cuda_test_seed(unsigned seed);
float cuda_test_frand(void);

/* A float32 constant of shape dims, random in [-scale, scale); returns its value index. */
int cuda_test_const(ir_graph *g, const char *name, int rank, const int64_t *dims, float scale);
/* y = Conv(x) from c to m channels, k x k, stride s, padding k/2, weights "<name>_w" random in
 * [-wscale, wscale), a bias "<name>_b" in [-bscale, bscale) when bscale > 0. */
int cuda_test_conv(ir_graph *g, const char *name, int x, int64_t c, int64_t m, int64_t k, int64_t s, float wscale,
		   float bscale);

/* Buffers for the engine's no outputs (info and data); false when one could not be allocated
 * (the others are still freed by cuda_test_outputs_free). */
bool cuda_test_outputs(const odet_engine *e, int no, odet_tensor *o);
void cuda_test_outputs_free(int no, odet_tensor *o);

#endif
