/*
 * decode.cu — BoxDecode and ClassScores on CUDA (specs in ops.def; same float32 operation
 * order as backend/cpu/decode.c, explicit round-to-nearest intrinsics so no FMA contraction;
 * expf differs from the host's by at most 2 ulp). One thread per (image, anchor).
 */
#include <cuda_fp16.h>

#include "backend/cuda/cuda_util.h"
#include "backend/cuda/nms.h"
#include "backend/cuda/scores.cuh"

namespace {

template <typename T> __device__ __forceinline__ float ldf(const T *p, long long i);
template <> __device__ __forceinline__ float ldf<float>(const float *p, long long i) { return p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, long long i) { return __half2float(p[i]); }

__device__ __forceinline__ float clampf_t(float x, float lo, float hi)
{
	x = x < lo ? lo : x;
	return x > hi ? hi : x;
}

template <typename T>
__global__ void box_decode_kernel(cuda_box_decode_params p, long long B, long long N, const T *d, const T *an,
				  float *out)
{
	long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (r >= B * N)
		return;
	long long b = r / N, i = r % N;
	float dv[4], av[4], o[4];
	for (int k = 0; k < 4; k++) {
		dv[k] = ldf<T>(d, p.layout ? (b * 4 + k) * N + i : r * 4 + k);
		av[k] = ldf<T>(an, i * 4 + k);
	}
	if (p.coder == 0) {
		float x = __fmul_rn(p.scale_xy, dv[0]), y = __fmul_rn(p.scale_xy, dv[1]);
		float w = __fmul_rn(p.scale_wh, dv[2]), h = __fmul_rn(p.scale_wh, dv[3]);
		x = __fadd_rn(__fmul_rn(x, av[2]), av[0]);
		y = __fadd_rn(__fmul_rn(y, av[3]), av[1]);
		w = __fmul_rn(expf(w), av[2]);
		h = __fmul_rn(expf(h), av[3]);
		o[0] = __fsub_rn(x, __fmul_rn(0.5f, w)), o[1] = __fsub_rn(y, __fmul_rn(0.5f, h));
		o[2] = __fadd_rn(x, __fmul_rn(0.5f, w)), o[3] = __fadd_rn(y, __fmul_rn(0.5f, h));
	} else {
		float widths = __fsub_rn(av[2], av[0]), heights = __fsub_rn(av[3], av[1]);
		float cx = __fadd_rn(av[0], __fmul_rn(0.5f, widths)), cy = __fadd_rn(av[1], __fmul_rn(0.5f, heights));
		float dx = __fdiv_rn(dv[0], p.weights[0]), dy = __fdiv_rn(dv[1], p.weights[1]);
		float dw = __fdiv_rn(dv[2], p.weights[2]), dh = __fdiv_rn(dv[3], p.weights[3]);
		dw = dw > p.xform_clip ? p.xform_clip : dw;
		dh = dh > p.xform_clip ? p.xform_clip : dh;
		float pcx = __fadd_rn(__fmul_rn(dx, widths), cx), pcy = __fadd_rn(__fmul_rn(dy, heights), cy);
		float pw = __fmul_rn(expf(dw), widths), ph = __fmul_rn(expf(dh), heights);
		float hw = __fmul_rn(0.5f, pw), hh = __fmul_rn(0.5f, ph);
		o[0] = __fsub_rn(pcx, hw), o[1] = __fsub_rn(pcy, hh), o[2] = __fadd_rn(pcx, hw), o[3] = __fadd_rn(pcy, hh);
	}
	o[0] = __fmul_rn(o[0], p.out_scale_x), o[2] = __fmul_rn(o[2], p.out_scale_x);
	o[1] = __fmul_rn(o[1], p.out_scale_y), o[3] = __fmul_rn(o[3], p.out_scale_y);
	if (p.clip_w > 0) {
		o[0] = clampf_t(o[0], 0, p.clip_w), o[2] = clampf_t(o[2], 0, p.clip_w);
		o[1] = clampf_t(o[1], 0, p.clip_h), o[3] = clampf_t(o[3], 0, p.clip_h);
	}
	float4 v = make_float4(o[0], o[1], o[2], o[3]);
	reinterpret_cast<float4 *>(out)[r] = v;
}

/* One block = TA consecutive anchors of one image (scores.cuh): the logits staged in shared
 * memory (either layout), turned into scores in place by class_scores_rows (R lanes per row;
 * the sum's rounding may differ from the CPU's sequential one), then written out one warp per
 * row, so stores are coalesced (a warp writes 32 consecutive scores). Index arithmetic is
 * 32-bit within an image (N*C < 2^31, checked by the launcher). */
template <typename T>
__global__ void __launch_bounds__(CS_THREADS) class_scores_kernel(int layout, int act, int N, int C, int TA, const T *x,
								  float *out)
{
	extern __shared__ float sm[];
	const int b = blockIdx.y, a0 = blockIdx.x * TA, na = min(TA, N - a0), S = C | 1;
	const T *xb = x + (long long)b * N * C;
	float *ob = out + ((long long)b * N + a0) * C;
	class_scores_stage(layout, C, N, TA, a0, na, xb, sm, [](const T *p, int i) { return ldf<T>(p, i); });
	class_scores_rows(act, C, TA, na, sm, [](int, int, float) {});
	const int lane = threadIdx.x & 31;
	for (int a = threadIdx.x >> 5; a < na; a += CS_THREADS / 32)
		for (int c = lane; c < C; c += 32)
			ob[a * C + c] = sm[a * S + c];
}

} /* namespace */

extern "C" odet_status cuda_box_decode_launch(const cuda_box_decode_params *p, int64_t B, int64_t N, odet_dtype dtype,
					      const void *deltas, const void *anchors, float *out, void *stream)
{
	long long n = (long long)B * N;
	if (n <= 0)
		return ODET_OK;
	unsigned blocks = (unsigned)((n + 255) / 256);
	cudaStream_t st = (cudaStream_t)stream;
	if (dtype == ODET_F32)
		box_decode_kernel<float><<<blocks, 256, 0, st>>>(*p, B, N, (const float *)deltas, (const float *)anchors, out);
	else if (dtype == ODET_F16)
		box_decode_kernel<__half><<<blocks, 256, 0, st>>>(*p, B, N, (const __half *)deltas, (const __half *)anchors,
								  out);
	else
		return ODET_ERR_UNSUPPORTED;
	return ODET_CUDA(cudaGetLastError());
}

extern "C" odet_status cuda_class_scores_launch(int layout, int activation, int64_t B, int64_t N, int64_t C,
						odet_dtype dtype, const void *logits, float *out, void *stream)
{
	if (B <= 0 || N <= 0)
		return ODET_OK;
	if (C < 1 || C > 6144 || N * C >= ((int64_t)1 << 31) || B > 65535)
		return ODET_ERR_UNSUPPORTED; /* one row in shared memory; 32-bit offsets inside an image */
	const int TA = class_scores_tile(C);
	dim3 grid((unsigned)((N + TA - 1) / TA), (unsigned)B);
	size_t smem = (size_t)TA * (size_t)(C | 1) * sizeof(float); /* <= 24 KiB */
	cudaStream_t st = (cudaStream_t)stream;
	if (dtype == ODET_F32)
		class_scores_kernel<float><<<grid, CS_THREADS, smem, st>>>(layout, activation, (int)N, (int)C, TA,
									   (const float *)logits, out);
	else if (dtype == ODET_F16)
		class_scores_kernel<__half><<<grid, CS_THREADS, smem, st>>>(layout, activation, (int)N, (int)C, TA,
									    (const __half *)logits, out);
	else
		return ODET_ERR_UNSUPPORTED;
	return ODET_CUDA(cudaGetLastError());
}
