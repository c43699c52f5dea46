/*
 * cuda_util.h — CUDA helpers for odet's .cu files. ODET_CUDA(expr) evaluates a CUDA runtime
 * call (or cudaGetLastError() after a launch) and yields an odet_status: ODET_OK or
 * ODET_ERR_DEVICE. It never returns from the caller (DESIGN.md rule 7):
 *     rc = ODET_CUDA(cudaMemsetAsync(p, 0, n, stream)); if (rc) goto out;
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

#endif
