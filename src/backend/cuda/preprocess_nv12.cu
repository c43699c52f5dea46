/*
 * preprocess_nv12.cu — the CUDA backend's NV12 letterbox hook (backend.h: be_nv12_args): NVDEC's
 * NV12 frames in device memory → an engine's image input, in one kernel: each bilinear tap is
 * converted to RGB8 by be_nv12_rgb (backend/nv12.h), then resized, padded, scaled and biased
 * exactly as the RGB letterbox kernel (preprocess.cu) does with an RGB8 frame, so an NV12 frame
 * gives what its RGB8 conversion gives through the RGB path.
 *
 * Three layers (DESIGN.md rule 5): nv12_letterbox_kernel; cuda_letterbox_nv12_launch (raw
 * pointers + a stream, returns a status); cu_letterbox_nv12, the backend hook, which names the
 * reason of an invalid argument. Asynchronous on the stream: no allocation, no host sync.
 */
#include <cuda_fp16.h>
#include <stdint.h>

extern "C" {
#include "backend/backend.h"
#include "backend/lbox.h"
#include "backend/nv12.h"
}
#include "backend/cuda/cuda.h"
#include "backend/cuda/cuda_util.h"

#define NV_BX 32
#define NV_BY 8
#define NV_MAX_GRID_YZ 65535

template <typename T> struct nv_out;
template <> struct nv_out<float> {
	static __device__ __forceinline__ float st(float v) { return v; }
};
template <> struct nv_out<__half> {
	static __device__ __forceinline__ __half st(float v) { return __float2half_rn(v); }
};
template <> struct nv_out<uint8_t> {
	static __device__ __forceinline__ uint8_t st(float v)
	{
		return (uint8_t)__float2uint_rn(fminf(fmaxf(v, 0.0f), 255.0f));
	}
};

/*
 * nv12_letterbox_kernel — one thread per destination pixel (x, y) of image b, all 3 channels;
 *   grid and taps as letterbox_kernel (preprocess.cu): x covers W, y and z stride over rows and
 *   images; fx = (ix + 0.5) * (w / rw) - 0.5 → be_lbox_tap → x0, x1, ax (same for y); the four
 *   taps' RGB from be_nv12_rgb; top/bot lerp along x, v = top + (bot - top) * ay;
 *   out = v * scale[c] + bias[c], every operation an explicitly rounded intrinsic (no FMA).
 *   Slots b >= a.n and descriptors without pixels get fill * scale[c] + bias[c].
 */
template <typename T, bool NHWC>
static __global__ void __launch_bounds__(NV_BX *NV_BY) nv12_letterbox_kernel(const be_nv12_args a)
{
	const int W = a.dst_w, H = a.dst_h;
	const int x = blockIdx.x * NV_BX + threadIdx.x;
	if (x >= W)
		return;
	const int64_t plane = (int64_t)H * W;
	T *dst = (T *)a.dst;
	float pad[3];
#pragma unroll
	for (int c = 0; c < 3; c++)
		pad[c] = __fadd_rn(__fmul_rn(a.fill, a.scale[c]), a.bias[c]);

	for (int b = blockIdx.z; b < a.batch; b += gridDim.z) {
		be_nv12_image im = {};
		if (b < a.n)
			im = a.images[b];
		const bool has = im.y && im.uv && im.w > 0 && im.h > 0 && im.rw > 0 && im.rh > 0;
		const int ix = x - im.px;
		const bool col_in = has && ix >= 0 && ix < im.rw;
		int x0 = 0, x1 = 0;
		float ax = 0.0f, sy = 1.0f;
		if (col_in) {
			const float sx = __fdiv_rn((float)im.w, (float)im.rw);
			sy = __fdiv_rn((float)im.h, (float)im.rh);
			be_lbox_tap(__fsub_rn(__fmul_rn(__fadd_rn((float)ix, 0.5f), sx), 0.5f), im.w, &x0, &x1, &ax);
		}
		for (int y = blockIdx.y * NV_BY + threadIdx.y; y < H; y += gridDim.y * NV_BY) {
			const int iy = y - im.py;
			float v[3];
			if (col_in && iy >= 0 && iy < im.rh) {
				int y0, y1;
				float ay;
				be_lbox_tap(__fsub_rn(__fmul_rn(__fadd_rn((float)iy, 0.5f), sy), 0.5f), im.h, &y0, &y1, &ay);
				int q00[3], q01[3], q10[3], q11[3];
				be_nv12_rgb(im.y, im.uv, im.pitch, x0, y0, im.full_range, q00);
				be_nv12_rgb(im.y, im.uv, im.pitch, x1, y0, im.full_range, q01);
				be_nv12_rgb(im.y, im.uv, im.pitch, x0, y1, im.full_range, q10);
				be_nv12_rgb(im.y, im.uv, im.pitch, x1, y1, im.full_range, q11);
#pragma unroll
				for (int c = 0; c < 3; c++) {
					const float top = __fadd_rn((float)q00[c], __fmul_rn((float)(q01[c] - q00[c]), ax));
					const float bot = __fadd_rn((float)q10[c], __fmul_rn((float)(q11[c] - q10[c]), ax));
					const float val = __fadd_rn(top, __fmul_rn(__fsub_rn(bot, top), ay));
					v[c] = __fadd_rn(__fmul_rn(val, a.scale[c]), a.bias[c]);
				}
			} else {
#pragma unroll
				for (int c = 0; c < 3; c++)
					v[c] = pad[c];
			}
			const int64_t pix = (int64_t)y * W + x;
			if (NHWC) {
				T *o = dst + ((int64_t)b * plane + pix) * 3;
#pragma unroll
				for (int c = 0; c < 3; c++)
					o[c] = nv_out<T>::st(v[c]);
			} else {
				T *o = dst + (int64_t)b * 3 * plane + pix;
#pragma unroll
				for (int c = 0; c < 3; c++)
					o[c * plane] = nv_out<T>::st(v[c]);
			}
		}
	}
}

/* NULL when the host-visible arguments are valid, else the reason. */
static const char *nv_invalid(const be_nv12_args *a)
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
	if (a->dst_h > (1 << 30) || a->dst_w > (1 << 30) || (int64_t)a->dst_h * a->dst_w > INT64_MAX / 3 / a->batch)
		return "destination size too large";
	return NULL;
}

template <typename T>
static void nv_launch_layout(const be_nv12_args *a, dim3 grid, dim3 block, cudaStream_t stream)
{
	if (a->layout == ODET_LAYOUT_NHWC)
		nv12_letterbox_kernel<T, true><<<grid, block, 0, stream>>>(*a);
	else
		nv12_letterbox_kernel<T, false><<<grid, block, 0, stream>>>(*a);
}

odet_status cuda_letterbox_nv12_launch(const be_nv12_args *a, cudaStream_t stream)
{
	if (nv_invalid(a))
		return ODET_ERR_INVALID_ARG;
	int gy = (a->dst_h + NV_BY - 1) / NV_BY;
	dim3 block(NV_BX, NV_BY, 1);
	dim3 grid((unsigned)((a->dst_w + NV_BX - 1) / NV_BX), (unsigned)(gy < NV_MAX_GRID_YZ ? gy : NV_MAX_GRID_YZ),
		  (unsigned)(a->batch < NV_MAX_GRID_YZ ? a->batch : NV_MAX_GRID_YZ));
	switch (a->dtype) {
	case ODET_F32: nv_launch_layout<float>(a, grid, block, stream); break;
	case ODET_F16: nv_launch_layout<__half>(a, grid, block, stream); break;
	default: nv_launch_layout<uint8_t>(a, grid, block, stream); break;
	}
	return ODET_CUDA(cudaGetLastError());
}

odet_status cu_letterbox_nv12(odet_ctx *ctx, const be_nv12_args *a, void *stream)
{
	const char *why = nv_invalid(a);
	if (why)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "NV12 letterbox (CUDA): %s", why);
	odet_status rc = cuda_letterbox_nv12_launch(a, (cudaStream_t)stream);
	if (rc)
		return odet_error(ctx, rc, "NV12 letterbox (CUDA): the kernel launch failed");
	return ODET_OK;
}
