/*
 * scores.cuh — the per-row arithmetic of ClassScores on CUDA, shared by decode.cu's
 * class_scores_kernel and nms.cu's fused-scores filter (BatchedNms with activation/layout), so
 * that both compute the same float32 operations in the same order and give the same bits.
 */
#ifndef ODET_CUDA_SCORES_CUH
#define ODET_CUDA_SCORES_CUH

#include <math.h>

/* One row (an anchor's C classes) by one warp; all 32 lanes call it (warp shuffles). Lane l
 * handles classes l, l + 32, ...; in(c) returns logit c as float (it is called up to three times
 * per class and must return the same value), out(c, v) receives score c (it may overwrite what
 * in(c) reads: a lane only reads and writes its own classes, each written after its last read).
 *   act 0: v = in(c);
 *   act 1: softmax over C: m = max by lanes then xor-shuffles; s = sum of expf(in(c) - m) by
 *          lanes (round to nearest, in class order per lane) then xor-shuffles; v = e * (1 / s);
 *   act 2: sigmoid 1 / (1 + expf(-in(c))).
 * Explicit round-to-nearest intrinsics: no FMA contraction, whatever the caller's context. */
template <typename In, typename Out>
__device__ __forceinline__ void class_scores_row(int act, int C, int lane, In in, Out out)
{
	if (act == 1) {
		float m = -INFINITY, s = 0;
		for (int c = lane; c < C; c += 32) {
			float v = in(c);
			m = v > m ? v : m;
		}
		for (int k = 16; k; k >>= 1) {
			float v = __shfl_xor_sync(0xffffffffu, m, k);
			m = v > m ? v : m;
		}
		for (int c = lane; c < C; c += 32)
			s = __fadd_rn(s, expf(__fsub_rn(in(c), m)));
		for (int k = 16; k; k >>= 1)
			s = __fadd_rn(s, __shfl_xor_sync(0xffffffffu, s, k));
		float inv = __fdiv_rn(1.0f, s);
		for (int c = lane; c < C; c += 32)
			out(c, __fmul_rn(expf(__fsub_rn(in(c), m)), inv));
	} else if (act == 2) {
		for (int c = lane; c < C; c += 32)
			out(c, __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-in(c)))));
	} else {
		for (int c = lane; c < C; c += 32)
			out(c, in(c));
	}
}

#endif
