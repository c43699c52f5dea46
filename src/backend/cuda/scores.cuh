/*
 * scores.cuh — ClassScores' arithmetic on CUDA, shared by decode.cu's class_scores_kernel and
 * nms.cu's fused-scores filter (BatchedNms with activation/layout), so that both stage the same
 * tiles, compute the same float32 operations in the same order and give the same bits.
 *
 * A block of CS_THREADS threads takes TA consecutive anchors of one image (TA a power of two,
 * TA * (C|1) <= CS_TILE_FLOATS: class_scores_tile), staged as float in shared memory with row
 * stride C|1 (class_scores_stage). Each row is then computed in place by R = class_scores_lanes
 * (TA) lanes of one warp (class_scores_rows): 4 lanes per row for SSD's 81 classes, so a lane
 * walks 21 classes instead of 3 classes of 8 rows, and the shuffles go over 2 steps, not 5.
 */
#ifndef ODET_CUDA_SCORES_CUH
#define ODET_CUDA_SCORES_CUH

#include <cuda_fp16.h>
#include <math.h>

#define CS_THREADS 256
#define CS_TILE_FLOATS 6144 /* 24 KiB of logits per block */

/* anchors per block for C classes */
static inline int class_scores_tile(long long C)
{
	int ta = 64;
	while (ta > 1 && (long long)ta * (C | 1) > CS_TILE_FLOATS)
		ta >>= 1;
	return ta;
}

/* lanes per row (a power of two, 1..32) */
__host__ __device__ __forceinline__ int class_scores_lanes(int ta)
{
	int r = CS_THREADS / ta;
	return r > 32 ? 32 : r;
}

/* Two consecutive logits as float (float16 data only: one 4-byte load) */
__device__ __forceinline__ bool cs_ld2(const float *, int, float *, float *) { return false; }
__device__ __forceinline__ bool cs_ld2(const __half *p, int i, float *x, float *y)
{
	const float2 f = __half22float2(*(const __half2 *)(p + i));
	*x = f.x;
	*y = f.y;
	return true;
}

/* Logits of anchors a0 .. a0+na-1 of one image (xb: the image's logits, [C,N] for layout 1 or
 * [N,C]) into tile[a * (C|1) + c] as float. Layout 1: thread t reads anchor t % TA of classes
 * t / TA + k * CS_THREADS / TA (TA consecutive anchors of a class per load; conflict-free
 * stores since C|1 is odd), float16 with even N two anchors per 4-byte load; layout 0: one
 * warp per row, coalesced. Ends with __syncthreads. */
template <typename T, typename Ld>
__device__ __forceinline__ void class_scores_stage(int layout, int C, int N, int TA, int a0, int na, const T *xb,
						   float *tile, Ld ld)
{
	const int S = C | 1;
	if (layout == 1 && sizeof(T) == 2 && TA >= 2 && !(N & 1)) {
		/* float16, even N (so a0 + a is even and 4-byte aligned): a thread takes an anchor pair */
		const int pairs = TA / 2, a = (threadIdx.x & (pairs - 1)) * 2, cs = CS_THREADS / pairs;
		if (a < na)
			for (int c = threadIdx.x / pairs; c < C; c += cs) {
				float u, v;
				if (a + 1 < na && cs_ld2(xb, c * N + a0 + a, &u, &v)) {
					tile[a * S + c] = u;
					tile[(a + 1) * S + c] = v;
				} else {
					tile[a * S + c] = ld(xb, c * N + a0 + a);
				}
			}
	} else if (layout == 1) {
		const int a = threadIdx.x & (TA - 1), cs = CS_THREADS / TA;
		if (a < na)
			for (int c = threadIdx.x / TA; c < C; c += cs)
				tile[a * S + c] = ld(xb, c * N + a0 + a);
	} else {
		const int lane = threadIdx.x & 31;
		for (int a = threadIdx.x >> 5; a < na; a += CS_THREADS / 32)
			for (int c = lane; c < C; c += 32)
				tile[a * S + c] = ld(xb, (a0 + a) * C + c);
	}
	__syncthreads();
}

/* Every staged row turned into scores in place; emit(a, c, v) is called once per (row, class)
 * of the na valid rows with the score v (after it is stored). R lanes per row; lane q of a row
 * takes classes q, q + R, ...; all lanes of a warp iterate alike (a lane past the last row
 * reads the last row, of its own warp, and neither writes nor emits), as the shuffles need.
 *   act 0: v = logit;
 *   act 1: softmax over C: m = max by lanes then xor-shuffles over the R lanes; s = sum of
 *          e = expf(x - m) by lanes (round to nearest, in class order per lane) then
 *          xor-shuffles; v = e * (1 / s), e kept in the row between the two passes;
 *   act 2: sigmoid 1 / (1 + expf(-x)).
 * Explicit round-to-nearest intrinsics: no FMA contraction, whatever the caller's context.
 * Ends with __syncthreads. */
template <typename Emit>
__device__ __forceinline__ void class_scores_rows(int act, int C, int TA, int na, float *tile, Emit emit)
{
	const int S = C | 1, R = class_scores_lanes(TA), q = threadIdx.x & (R - 1), per = CS_THREADS / R;
	for (int r0 = 0; r0 < na; r0 += per) {
		const int a = r0 + (int)threadIdx.x / R;
		const bool ok = a < na;
		if (__all_sync(0xffffffffu, !ok))
			continue; /* the rows of this warp are past the end (uniform per warp) */
		float *row = tile + (ok ? a : na - 1) * S;
		if (act == 1) {
			float m = -INFINITY, s = 0;
			for (int c = q; c < C; c += R) {
				float v = row[c];
				m = v > m ? v : m;
			}
			for (int k = R >> 1; k; k >>= 1) {
				float v = __shfl_xor_sync(0xffffffffu, m, k);
				m = v > m ? v : m;
			}
			for (int c = q; c < C; c += R) {
				const float e = expf(__fsub_rn(row[c], m));
				if (ok)
					row[c] = e; /* kept for the last pass: one expf per score */
				s = __fadd_rn(s, e);
			}
			for (int k = R >> 1; k; k >>= 1)
				s = __fadd_rn(s, __shfl_xor_sync(0xffffffffu, s, k));
			const float inv = __fdiv_rn(1.0f, s);
			__syncwarp();
			if (ok)
				for (int c = q; c < C; c += R) {
					float v = __fmul_rn(row[c], inv);
					row[c] = v;
					emit(a, c, v);
				}
		} else if (ok) {
			for (int c = q; c < C; c += R) {
				float v = act == 2 ? __fdiv_rn(1.0f, __fadd_rn(1.0f, expf(-row[c]))) : row[c];
				row[c] = v;
				emit(a, c, v);
			}
		}
		__syncwarp();
	}
	__syncthreads();
}

#endif
