/*
 * lbox.h — the letterbox rule, one copy for io_letterbox (src/io/image.c), the CPU hook
 * (backend/cpu/letterbox.c) and the CUDA kernel (backend/cuda/preprocess.cu): the hook's
 * argument checks and the bilinear taps of one source coordinate.
 */
#ifndef ODET_BACKEND_LBOX_H
#define ODET_BACKEND_LBOX_H

#include "backend/backend.h"

#ifdef __CUDACC__
#define LBOX_HD __host__ __device__
#else
#define LBOX_HD
#endif

/* Taps of source coordinate f (half-pixel centre already applied) in a row or column of n
 * pixels: clamped at 0, i0 = (int)f, i1 = min(i0 + 1, n - 1), i0 = min(i0, n - 1), weight
 * of i1 a = f - i0. Callers compute f themselves: the CUDA kernel with unfused intrinsics so
 * that it rounds as the CPU does. */
static inline LBOX_HD void be_lbox_tap(float f, int n, int *i0, int *i1, float *a)
{
	if (f < 0)
		f = 0;
	int k = (int)f;
	*i1 = k + 1 < n ? k + 1 : n - 1;
	if (k > n - 1)
		k = n - 1;
	*i0 = k;
	*a = f - (float)k;
}

/* NULL when the host-visible arguments are valid, else the reason (each backend adds its own
 * limits; the CPU also checks the descriptors). */
static inline const char *be_lbox_invalid(const be_lbox_args *a)
{
	if (!a)
		return "no arguments";
	if (!a->dst)
		return "no destination";
	if (a->batch <= 0 || a->dst_h <= 0 || a->dst_w <= 0)
		return "batch and destination size must be positive";
	if (a->n < 0 || a->n > a->batch)
		return "more images than the batch holds";
	if (a->n > 0 && !a->images)
		return "no image descriptors";
	if (a->dtype != ODET_F32 && a->dtype != ODET_F16 && a->dtype != ODET_U8)
		return "destination dtype must be float32, float16 or uint8";
	if (a->layout != ODET_LAYOUT_NCHW && a->layout != ODET_LAYOUT_NHWC)
		return "destination layout must be NCHW or NHWC";
	return NULL;
}

#endif
