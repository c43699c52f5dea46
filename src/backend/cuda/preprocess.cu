/*
 * preprocess.cu — the CUDA backend's letterbox hook (backend.h: be_lbox_args): decoded RGB8
 * images in device memory → an engine's image input (device memory), the CPU's rule
 * (backend/cpu/letterbox.c, io_letterbox) on the device.
 *
 * Three layers (DESIGN.md rule 5): letterbox_kernel; cuda_letterbox_launch (raw pointers in
 * be_lbox_args + a stream, returns a status); cu_letterbox, the backend hook, which names the
 * reason of an invalid argument. Asynchronous on the stream: no allocation, no host sync,
 * the image descriptors are read by the kernel only (they are device memory).
 */
#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

/* odet's headers are C: give their declarations C linkage before cuda.h includes them */
extern "C" {
#include "backend/backend.h"
#include "backend/lbox.h"
}
#include "backend/cuda/cuda.h"
#include "backend/cuda/cuda_util.h"

/* Block: 32 destination pixels of a row × 8 rows. */
#define LB_BX 32
#define LB_BY 8
#define LB_MAX_GRID_YZ 65535

/* float → output element: F32 as is, F16 round to nearest even, U8 clamped to 0..255 then
 * rounded to nearest even (NaN → 0), as the CPU's letterbox. */
template <typename T> struct lb_out;
template <> struct lb_out<float> {
	static __device__ __forceinline__ float st(float v) { return v; }
};
template <> struct lb_out<__half> {
	static __device__ __forceinline__ __half st(float v) { return __float2half_rn(v); }
};
template <> struct lb_out<uint8_t> {
	static __device__ __forceinline__ uint8_t st(float v)
	{
		return (uint8_t)__float2uint_rn(fminf(fmaxf(v, 0.0f), 255.0f));
	}
};

/*
 * letterbox_kernel — one thread per destination pixel (x, y) of image b, all 3 channels.
 *   images: a.n descriptors in device memory (be_lbox_image); dst: [batch, 3, H, W] (NHWC
 *   false) or [batch, H, W, 3] of T (float, __half, uint8_t); H = a.dst_h, W = a.dst_w.
 *   Grid: x covers W (blocks of LB_BX), y and z stride over rows and images (grid y, z are
 *   capped at 65535). Per pixel: ix = x - px, iy = y - py; outside [0, rw) × [0, rh) v = fill;
 *   else fx = (ix + 0.5) * sx - 0.5 with sx = w / rw, clamped at 0, x0 = (int)fx,
 *   x1 = min(x0 + 1, w - 1), x0 = min(x0, w - 1), ax = fx - x0 (same for y); top/bot lerp
 *   along x, v = top + (bot - top) * ay; out = v * scale[c] + bias[c]. Every operation is an
 *   explicitly rounded intrinsic (__fadd_rn, __fmul_rn, __fdiv_rn: never contracted into an
 *   FMA), in the CPU's order, so F32 results equal the CPU's bit for bit.
 *   Slots b >= a.n, and a descriptor without pixels (rgb NULL or a size <= 0; the host cannot
 *   check device descriptors), get the pad value fill * scale[c] + bias[c].
 */
template <typename T, bool NHWC>
static __global__ void __launch_bounds__(LB_BX *LB_BY) letterbox_kernel(const be_lbox_args a)
{
	const int W = a.dst_w, H = a.dst_h;
	const int x = blockIdx.x * LB_BX + threadIdx.x;
	if (x >= W)
		return;
	const int64_t plane = (int64_t)H * W;
	T *dst = (T *)a.dst;
	float pad[3];
#pragma unroll
	for (int c = 0; c < 3; c++)
		pad[c] = __fadd_rn(__fmul_rn(a.fill, a.scale[c]), a.bias[c]);

	for (int b = blockIdx.z; b < a.batch; b += gridDim.z) {
		const uint8_t *rgb = NULL;
		int64_t pitch = 0;
		int w = 0, h = 0, rw = 0, rh = 0, px = 0, py = 0;
		if (b < a.n) {
			const be_lbox_image *im = a.images + b;
			rgb = im->rgb;
			pitch = im->pitch;
			w = im->w;
			h = im->h;
			rw = im->rw;
			rh = im->rh;
			px = im->px;
			py = im->py;
		}
		const bool has = rgb && w > 0 && h > 0 && rw > 0 && rh > 0;
		const int ix = x - px;
		const bool col_in = has && ix >= 0 && ix < rw;
		/* the x half of the sampling is the same for every row */
		int x0 = 0, x1 = 0;
		float ax = 0.0f, sy = 1.0f;
		if (col_in) {
			const float sx = __fdiv_rn((float)w, (float)rw);
			sy = __fdiv_rn((float)h, (float)rh);
			be_lbox_tap(__fsub_rn(__fmul_rn(__fadd_rn((float)ix, 0.5f), sx), 0.5f), w, &x0, &x1, &ax);
		}
		for (int y = blockIdx.y * LB_BY + threadIdx.y; y < H; y += gridDim.y * LB_BY) {
			const int iy = y - py;
			float v[3];
			if (col_in && iy >= 0 && iy < rh) {
				int y0, y1;
				float ay;
				be_lbox_tap(__fsub_rn(__fmul_rn(__fadd_rn((float)iy, 0.5f), sy), 0.5f), h, &y0, &y1, &ay);
				const uint8_t *p00 = rgb + y0 * pitch + x0 * 3, *p01 = rgb + y0 * pitch + x1 * 3;
				const uint8_t *p10 = rgb + y1 * pitch + x0 * 3, *p11 = rgb + y1 * pitch + x1 * 3;
#pragma unroll
				for (int c = 0; c < 3; c++) {
					const int q00 = p00[c], q01 = p01[c], q10 = p10[c], q11 = p11[c];
					const float top = __fadd_rn((float)q00, __fmul_rn((float)(q01 - q00), ax));
					const float bot = __fadd_rn((float)q10, __fmul_rn((float)(q11 - q10), ax));
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
					o[c] = lb_out<T>::st(v[c]);
			} else {
				T *o = dst + (int64_t)b * 3 * plane + pix;
#pragma unroll
				for (int c = 0; c < 3; c++)
					o[c * plane] = lb_out<T>::st(v[c]);
			}
		}
	}
}

/* NULL when the host-visible arguments are valid, else the reason. */
static const char *lb_invalid(const be_lbox_args *a)
{
	const char *why = be_lbox_invalid(a);
	if (why)
		return why;
	/* 32-bit pixel coordinates in the kernel, grid-stride steps included */
	if (a->dst_h > (1 << 30) || a->dst_w > (1 << 30) || (int64_t)a->dst_h * a->dst_w > INT64_MAX / 3 / a->batch)
		return "destination size too large";
	return NULL;
}

template <typename T>
static void lb_launch_layout(const be_lbox_args *a, dim3 grid, dim3 block, cudaStream_t stream)
{
	if (a->layout == ODET_LAYOUT_NHWC)
		letterbox_kernel<T, true><<<grid, block, 0, stream>>>(*a);
	else
		letterbox_kernel<T, false><<<grid, block, 0, stream>>>(*a);
}

odet_status cuda_letterbox_launch(const be_lbox_args *a, cudaStream_t stream)
{
	if (lb_invalid(a))
		return ODET_ERR_INVALID_ARG;
	int gy = (a->dst_h + LB_BY - 1) / LB_BY;
	dim3 block(LB_BX, LB_BY, 1);
	dim3 grid((unsigned)((a->dst_w + LB_BX - 1) / LB_BX), (unsigned)(gy < LB_MAX_GRID_YZ ? gy : LB_MAX_GRID_YZ),
		  (unsigned)(a->batch < LB_MAX_GRID_YZ ? a->batch : LB_MAX_GRID_YZ));
	switch (a->dtype) {
	case ODET_F32: lb_launch_layout<float>(a, grid, block, stream); break;
	case ODET_F16: lb_launch_layout<__half>(a, grid, block, stream); break;
	default: lb_launch_layout<uint8_t>(a, grid, block, stream); break;
	}
	return ODET_CUDA(cudaGetLastError());
}

odet_status cu_letterbox(odet_ctx *ctx, const be_lbox_args *a, void *stream)
{
	const char *why = lb_invalid(a);
	if (why)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "letterbox (CUDA): %s", why);
	odet_status rc = cuda_letterbox_launch(a, (cudaStream_t)stream);
	if (rc)
		return odet_error(ctx, rc, "letterbox (CUDA): the kernel launch failed");
	return ODET_OK;
}
