/*
 * conv_direct.cu — the 3x3 convolution of a 4-channel float16 NHWC image to 64 channels (the
 * padded stem of SSD300-VGG16: cuDNN runs it at ~25 TFLOP/s, 0.3-0.5 ms at batch 32 on an
 * H100, while its 368 MB output alone needs ~0.13 ms at memory speed).
 *
 * Implicit GEMM on tensor cores (mma.sync m16n8k16, float16 in, float32 accumulate): rows are
 * output pixels (16 consecutive flattened (n, y, x) per warp step, whose outputs are 2 KB of
 * contiguous memory), K = 9 taps x 4 channels = 36 padded to 48, N = 64 channels (8 tiles).
 * A k pair (2 channels of one tap) is one 4-byte load of the input (zero outside the image);
 * the weights' B fragments (KRSC, k = tap * 4 + c) live in registers for the whole kernel.
 * Epilogue: + bias, activation, one rounding to float16, staged per warp in shared memory
 * (row stride 72 halves: conflict-free) and stored as 16-byte vectors, fully coalesced.
 */
#include "backend/cuda/conv_direct.h"
#include "backend/cuda/cuda_util.h"

#include <cuda_fp16.h>
#include <stdint.h>

namespace {

#define DC_WARPS 8
#define DC_ROW 72 /* staged row stride in halves (64 + 8) */

__device__ __forceinline__ float dc_act(int kind, float a, float b, float v)
{
	switch (kind) {
	case IR_ACT_RELU: return v > 0.0f ? v : 0.0f;
	case IR_ACT_LEAKYRELU: return v >= 0.0f ? v : __fmul_rn(v, a);
	case IR_ACT_CLIP: return fminf(fmaxf(v, a), b);
	default: return v;
	}
}

__device__ __forceinline__ void mma16816(float *d, const uint32_t *a, uint32_t b0, uint32_t b1)
{
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
		     "{%0,%1,%2,%3};"
		     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
		     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__global__ void __launch_bounds__(DC_WARPS * 32, 2) stem3x3_c4_m64(const __half *__restrict__ x,
								  const __half *__restrict__ w,
								  const __half *__restrict__ bias, __half *__restrict__ y,
								  int H, int W, unsigned P, conv_direct k)
{
	__shared__ __align__(16) __half stage[DC_WARPS][16 * DC_ROW];
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, q = lane & 3;
	/* B fragments: b0 = W[m][k0], W[m][k0 + 1]; b1 = the pair at k0 + 8; m = j * 8 + g */
	uint32_t bf[8][3][2];
	float bs[8][2];
#pragma unroll
	for (int j = 0; j < 8; j++) {
		const int m = j * 8 + g, col = j * 8 + q * 2;
#pragma unroll
		for (int s = 0; s < 3; s++) {
			const int k0 = s * 16 + q * 2;
			bf[j][s][0] = k0 < 36 ? *(const uint32_t *)(w + m * 36 + k0) : 0u;
			bf[j][s][1] = k0 + 8 < 36 ? *(const uint32_t *)(w + m * 36 + k0 + 8) : 0u;
		}
		bs[j][0] = bias ? __half2float(bias[col]) : 0.0f;
		bs[j][1] = bias ? __half2float(bias[col + 1]) : 0.0f;
	}
	const unsigned tiles = (P + 15) / 16;
	__half *st = stage[warp];
	for (unsigned t = blockIdx.x * DC_WARPS + warp; t < tiles; t += gridDim.x * DC_WARPS) {
		const unsigned p0 = t * 16;
		/* A fragments: a[0] (row g, k), a[1] (row g + 8, k), a[2] (g, k + 8), a[3] (g + 8, k + 8) */
		uint32_t af[3][4];
#pragma unroll
		for (int rr = 0; rr < 2; rr++) {
			const unsigned p = p0 + g + rr * 8;
			const bool valid = p < P;
			const int ox = (int)(p % (unsigned)W), oy = (int)((p / (unsigned)W) % (unsigned)H);
			const unsigned img = p / (unsigned)W / (unsigned)H;
#pragma unroll
			for (int s = 0; s < 3; s++)
#pragma unroll
				for (int hh = 0; hh < 2; hh++) {
					const int kk = s * 16 + q * 2 + hh * 8, tap = kk >> 2, c = kk & 3;
					const int iy = oy + tap / 3 - 1, ix = ox + tap % 3 - 1;
					uint32_t v = 0;
					if (valid && kk < 36 && iy >= 0 && iy < H && ix >= 0 && ix < W)
						v = *(const uint32_t *)(x + (((size_t)img * H + iy) * W + ix) * 4 + c);
					af[s][rr + hh * 2] = v;
				}
		}
		float acc[8][4];
#pragma unroll
		for (int j = 0; j < 8; j++) {
			acc[j][0] = acc[j][2] = bs[j][0];
			acc[j][1] = acc[j][3] = bs[j][1];
		}
#pragma unroll
		for (int s = 0; s < 3; s++)
#pragma unroll
			for (int j = 0; j < 8; j++)
				mma16816(acc[j], af[s], bf[j][s][0], bf[j][s][1]);
#pragma unroll
		for (int j = 0; j < 8; j++) {
			const int col = j * 8 + q * 2;
			*(__half2 *)(st + g * DC_ROW + col) = __floats2half2_rn(dc_act(k.act.kind, k.act.alpha, k.act.beta, acc[j][0]),
										 dc_act(k.act.kind, k.act.alpha, k.act.beta, acc[j][1]));
			*(__half2 *)(st + (g + 8) * DC_ROW + col) =
				__floats2half2_rn(dc_act(k.act.kind, k.act.alpha, k.act.beta, acc[j][2]),
						  dc_act(k.act.kind, k.act.alpha, k.act.beta, acc[j][3]));
		}
		__syncwarp();
		/* 16 rows x 128 bytes: lane takes 16-byte chunks lane, lane + 32, ... (row = chunk / 8) */
#pragma unroll
		for (int i = 0; i < 4; i++) {
			const int chunk = lane + i * 32, row = chunk >> 3;
			if (p0 + row < P)
				*(uint4 *)(y + (size_t)(p0 + row) * 64 + (chunk & 7) * 8) =
					*(const uint4 *)(st + row * DC_ROW + (chunk & 7) * 8);
		}
		__syncwarp();
	}
}

} /* namespace */

bool conv_direct_supports(const conv_graph_desc *d, odet_dtype dt, int group)
{
	const cuda_window *c = d->cw;
	int a = d->act.kind;
	return dt == ODET_F16 && d->nhwc && group == 1 && !d->has_res && c->c == 4 && c->oc == 64 && c->kh == 3 &&
	       c->kw == 3 && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1 && c->pt == 1 && c->pl == 1 &&
	       c->pb == 1 && c->pr == 1 && c->oh == c->h && c->ow == c->w && c->n * c->h * c->w < ((int64_t)1 << 31) &&
	       (a == IR_ACT_NONE || a == IR_ACT_RELU || a == IR_ACT_LEAKYRELU || a == IR_ACT_CLIP);
}

void conv_direct_init(const conv_graph_desc *d, conv_direct *k)
{
	k->n = (int)d->cw->n;
	k->h = (int)d->cw->h;
	k->w = (int)d->cw->w;
	k->act = d->act;
}

odet_status conv_direct_launch(const conv_direct *k, const void *x, const void *w, const void *b, void *y,
			       void *stream)
{
	const unsigned P = (unsigned)k->n * (unsigned)k->h * (unsigned)k->w, tiles = (P + 15) / 16;
	if (!P)
		return ODET_OK;
	if (((uintptr_t)x & 3) || ((uintptr_t)w & 3) || ((uintptr_t)y & 15))
		return ODET_ERR_INTERNAL; /* arena and weights are 256-byte aligned */
	unsigned blocks = (tiles + DC_WARPS - 1) / DC_WARPS;
	blocks = blocks > 132 * 16 ? 132 * 16 : blocks;
	stem3x3_c4_m64<<<blocks, DC_WARPS * 32, 0, (cudaStream_t)stream>>>((const __half *)x, (const __half *)w,
									   (const __half *)b, (__half *)y, k->h, k->w,
									   P, *k);
	return ODET_CUDA(cudaGetLastError());
}
