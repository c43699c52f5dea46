/*
 * cuda_util.h — CUDA helpers for odet's .cu files. ODET_CUDA(expr) evaluates a CUDA runtime
 * call (or cudaGetLastError() after a launch) and yields an odet_status: ODET_OK or
 * ODET_ERR_DEVICE. It never returns from the caller (DESIGN.md rule 7):
 *     rc = ODET_CUDA(cudaMemsetAsync(p, 0, n, stream)); if (rc) goto out;
 * cu_grid: the launch geometry of every grid-stride loop.
 */
#ifndef ODET_CUDA_UTIL_H
#define ODET_CUDA_UTIL_H

#include <cuda_runtime.h>

#include "odet.h"

static inline odet_status odet_cuda_status(cudaError_t e)
{
	return e == cudaSuccess ? ODET_OK : ODET_ERR_DEVICE;
}

#define ODET_CUDA(expr) odet_cuda_status(expr)

/* Round up to the 256-byte alignment used for every workspace slice. */
static inline size_t odet_cuda_align(size_t x)
{
	return (x + 255) & ~(size_t)255;
}

#define CU_MAX_GRID (1 << 20)

/* Blocks of `block` threads for n elements with a grid-stride loop: ceil(n / block), at least
 * 1 (a launch of none is an error), at most CU_MAX_GRID (the loop covers the rest). */
static inline unsigned cu_grid(int64_t n, int block)
{
	int64_t g = (n + block - 1) / block;
	return g < 1 ? 1 : g > CU_MAX_GRID ? CU_MAX_GRID : (unsigned)g;
}

#endif
