/*
 * nv12.h — the one NV12 → RGB8 rule of odet (the CUDA NV12 letterbox kernel and its tests):
 * BT.601, integer arithmetic (so host and device agree bit for bit), chroma of pixel (x, y) at
 * (x / 2, y / 2) (nearest, as swscale's unscaled 4:2:0 → RGB converters do):
 *   video range: C = Y - 16, R = (298 C + 409 E + 128) >> 8, G = (298 C - 100 D - 208 E + 128) >> 8,
 *                B = (298 C + 516 D + 128) >> 8, with D = U - 128, E = V - 128;
 *   full range:  R = (256 Y + 359 E + 128) >> 8, G = (256 Y - 88 D - 183 E + 128) >> 8,
 *                B = (256 Y + 454 D + 128) >> 8;
 * each clamped to 0..255.
 */
#ifndef ODET_BACKEND_NV12_H
#define ODET_BACKEND_NV12_H

#include <stdint.h>

#ifdef __CUDACC__
#define NV12_HD __host__ __device__
#else
#define NV12_HD
#endif

static inline NV12_HD int be_nv12_clamp(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* RGB of pixel (x, y) of an NV12 frame (planes y and uv, pitch bytes a row). */
static inline NV12_HD void be_nv12_rgb(const uint8_t *y, const uint8_t *uv, int64_t pitch, int x, int yy,
				       int full_range, int rgb[3])
{
	const int Y = y[(int64_t)yy * pitch + x];
	const uint8_t *c = uv + (int64_t)(yy >> 1) * pitch + (int64_t)(x >> 1) * 2;
	const int D = (int)c[0] - 128, E = (int)c[1] - 128;
	if (full_range) {
		const int L = 256 * Y + 128;
		rgb[0] = be_nv12_clamp((L + 359 * E) >> 8);
		rgb[1] = be_nv12_clamp((L - 88 * D - 183 * E) >> 8);
		rgb[2] = be_nv12_clamp((L + 454 * D) >> 8);
	} else {
		const int L = 298 * (Y - 16) + 128;
		rgb[0] = be_nv12_clamp((L + 409 * E) >> 8);
		rgb[1] = be_nv12_clamp((L - 100 * D - 208 * E) >> 8);
		rgb[2] = be_nv12_clamp((L + 516 * D) >> 8);
	}
}

#endif
