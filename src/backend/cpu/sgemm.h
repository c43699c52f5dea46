/*
 * sgemm.h — odet's own single-precision GEMM for the CPU backend (Gemm, MatMul and the
 * im2col path of Conv). Row-major; threads over output tiles with odet_parallel_for.
 *
 *   C[M][N] = alpha * op(A)[M][K] * op(B)[K][N] + beta * C     op(X) = X or X^T
 *
 * beta == 0 never reads C (it may hold garbage/NaN). Blocked and packed (Goto style):
 * MC x KC panels of A and KC x NC panels of B, an 8 x 32 AVX-512 micro-kernel when the
 * CPU has AVX-512F (checked at run time), portable C otherwise.
 */
#ifndef ODET_CPU_SGEMM_H
#define ODET_CPU_SGEMM_H

#include "core/core.h"

typedef struct cpu_sgemm_args {
	bool trans_a, trans_b;
	int64_t m, n, k;
	float alpha, beta;
	const float *a;
	int64_t lda;
	const float *b;
	int64_t ldb;
	float *c;
	int64_t ldc;
} cpu_sgemm_args;

/* Workspace bytes cpu_sgemm needs for a pool of n_threads threads (packing panels). */
size_t cpu_sgemm_workspace(int n_threads);
/* Runs on `pool` (may be NULL = serial); ws holds cpu_sgemm_workspace(size of pool) bytes,
 * 64-byte aligned. When called from inside a pool task it runs serially. */
void cpu_sgemm(odet_threadpool *pool, const cpu_sgemm_args *g, void *ws);
/* The same in the calling thread only; slot holds cpu_sgemm_workspace(1) bytes. For callers
 * that parallelize over many small products themselves (batched MatMul). */
void cpu_sgemm_serial(const cpu_sgemm_args *g, void *slot);

#endif
