/*
 * nms_keys.cuh — the keys and device parameters of BatchedNms on CUDA (nms.cu; included by it
 * and its parts nms_cub.cuh, nms_fast.cuh, nms_plan.cuh, which form one translation unit).
 *
 * Key of a candidate: u64 = (descending-order bits of the score) << 32 | low, low = anchor
 * (topk_mode 0) or anchor*C + class (topk_mode 1 level pass). Sorting keys ascending gives
 * higher score first, ties by lower anchor (then class).
 */
#ifndef ODET_CUDA_NMS_KEYS_CUH
#define ODET_CUDA_NMS_KEYS_CUH

#include <cuda_fp16.h>

#include "backend/cuda/nms.h"

namespace {

typedef unsigned long long u64;

__device__ __forceinline__ unsigned desc_bits(float f)
{
	if (f == 0.0f)
		f = 0.0f; /* -0 == +0, as on the CPU */
	unsigned u = __float_as_uint(f);
	unsigned o = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
	return ~o;
}

__device__ __forceinline__ float from_desc(unsigned d)
{
	unsigned o = ~d;
	unsigned u = (o & 0x80000000u) ? (o & 0x7fffffffu) : ~o;
	return __uint_as_float(u);
}

template <typename T> __device__ __forceinline__ float ldf(const T *p, long long i);
template <> __device__ __forceinline__ float ldf<float>(const float *p, long long i) { return p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, long long i) { return __half2float(p[i]); }

struct dev_params {
	float thr, iou;
	int mode, L, ge, C, N, B;
	long long topk;      /* effective, >= 1 */
	long long K, kc;     /* max detections; kept per class segment */
	long long bg;
	long long T;         /* capacity (rows) of a class segment for NMS */
	long long region;    /* class segment region stride in keys */
	int cbmax;
	float osx, osy;
	int act, layout;     /* fused class scores (input 1 is logits) */
	int level_start[NMS_MAX_LEVELS + 1];
};

} /* namespace */

#endif
