/*
 * test_cuda_nv12.c — the CUDA NV12 letterbox hook (backend/cuda/preprocess_nv12.cu) against
 * the CPU reference: each seeded NV12 frame (odd sizes, video and full range, a pitch wider than
 * the frame) converted to RGB8 on the host by be_nv12_rgb, then the CPU letterbox hook; the
 * kernel must give the same values (F32 within 1e-3, F16 within its rounding, U8 within 1) in
 * every layout and dtype, and the pad value in rows past n. Exit 77 (skipped) without a device.
 */
#include "backend/backend.h"
#include "backend/nv12.h"
#include "core/core.h"
#include "io/image.h"
#include "cuda_test.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define N_FRAMES 4
#define BATCH 5

typedef struct frame {
	int w, h, full;
	int64_t pitch;
	uint8_t *y, *uv;   /* host planes: h and (h + 1) / 2 rows of pitch bytes */
	uint8_t *rgb;      /* its RGB8 by be_nv12_rgb */
	void *dev;         /* device copy: luma rows then chroma rows */
} frame;

static unsigned next(unsigned *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void make(frame *f, int w, int h, int full, unsigned seed)
{
	f->w = w;
	f->h = h;
	f->full = full;
	f->pitch = ((w + 1) & ~1) + 64;
	int ch = (h + 1) / 2;
	f->y = malloc((size_t)(f->pitch * (h + ch)));
	f->uv = f->y + f->pitch * h;
	/* smooth gradients plus noise: interpolation matters, values cover the range */
	for (int r = 0; r < h + ch; r++)
		for (int c = 0; c < f->pitch; c++)
			f->y[r * f->pitch + c] = (uint8_t)((r * 7 + c * 3 + (next(&seed) & 31)) & 255);
	f->rgb = malloc((size_t)w * h * 3);
	for (int r = 0; r < h; r++)
		for (int c = 0; c < w; c++) {
			int px[3];
			be_nv12_rgb(f->y, f->uv, f->pitch, c, r, full, px);
			for (int k = 0; k < 3; k++)
				f->rgb[((size_t)r * w + c) * 3 + k] = (uint8_t)px[k];
		}
}

static void compare(odet_ctx *ctx, const odet_backend *cu, void *stream, frame *fr, int dh, int dw, odet_dtype dt,
		    odet_layout lay)
{
	const odet_backend *cpu = odet_backend_cpu();
	be_lbox_image rgb[N_FRAMES];
	be_nv12_image nv[N_FRAMES];
	for (int i = 0; i < N_FRAMES; i++) {
		io_lbox_geom g;
		io_letterbox_geom(fr[i].w, fr[i].h, dw, dh, &g);
		rgb[i] = (be_lbox_image){.rgb = fr[i].rgb, .pitch = fr[i].w * 3, .w = fr[i].w, .h = fr[i].h,
					 .rw = g.rw, .rh = g.rh, .px = g.px, .py = g.py};
		nv[i] = (be_nv12_image){.y = fr[i].dev, .uv = (uint8_t *)fr[i].dev + fr[i].pitch * fr[i].h,
					.pitch = fr[i].pitch, .w = fr[i].w, .h = fr[i].h, .rw = g.rw, .rh = g.rh,
					.px = g.px, .py = g.py, .full_range = fr[i].full};
	}
	float scale[3] = {1 / 58.4f, 1 / 57.1f, 1 / 57.4f}, bias[3] = {-2.1f, -2.0f, -1.8f};
	if (dt == ODET_U8) {
		for (int c = 0; c < 3; c++) {
			scale[c] = 1;
			bias[c] = 0;
		}
	}
	size_t count = (size_t)BATCH * 3 * dh * dw, bytes = count * odet_dtype_size(dt);
	void *ref = malloc(bytes), *got = malloc(bytes), *ddst = NULL, *ddesc = NULL;
	be_lbox_args a = {.images = rgb, .n = N_FRAMES, .batch = BATCH, .dst = ref, .dtype = dt, .layout = lay,
			  .dst_h = dh, .dst_w = dw, .fill = 114.0f};
	memcpy(a.scale, scale, sizeof scale);
	memcpy(a.bias, bias, sizeof bias);
	CHECK_MSG(cpu->letterbox(ctx, &a, NULL) == ODET_OK, "CPU letterbox: %s", odet_ctx_last_error(ctx));
	odet_status rc = cu->mem_alloc(ctx, bytes, &ddst);
	if (!rc)
		rc = cu->mem_alloc(ctx, sizeof nv, &ddesc);
	if (!rc)
		rc = cu->copy_to(ctx, ddesc, nv, sizeof nv, NULL);
	memset(got, 0xa5, bytes);
	if (!rc)
		rc = cu->copy_to(ctx, ddst, got, bytes, NULL);
	be_nv12_args na = {.images = ddesc, .n = N_FRAMES, .batch = BATCH, .dst = ddst, .dtype = dt, .layout = lay,
			   .dst_h = dh, .dst_w = dw, .fill = 114.0f};
	memcpy(na.scale, scale, sizeof scale);
	memcpy(na.bias, bias, sizeof bias);
	if (!rc)
		rc = cu->letterbox_nv12(ctx, &na, stream);
	if (!rc)
		rc = cu->stream_sync(ctx, stream);
	if (!rc)
		rc = cu->copy_from(ctx, got, ddst, bytes, NULL);
	CHECK_MSG(rc == ODET_OK, "NV12 letterbox: %s", odet_ctx_last_error(ctx));
	size_t bad = 0;
	double maxd = 0;
	for (size_t k = 0; !rc && k < count; k++) {
		double r, g, d;
		if (dt == ODET_F32) {
			r = ((const float *)ref)[k];
			g = ((const float *)got)[k];
			d = fabs(r - g);
			bad += !(d <= 1e-3);
		} else if (dt == ODET_F16) {
			r = odet_f16_to_f32(((const uint16_t *)ref)[k]);
			g = odet_f16_to_f32(((const uint16_t *)got)[k]);
			d = fabs(r - g);
			bad += !(d <= 1e-3 + fabs(r) / 1024);
		} else {
			r = ((const uint8_t *)ref)[k];
			g = ((const uint8_t *)got)[k];
			d = fabs(r - g);
			bad += !(d <= 1);
		}
		if (!(d <= maxd))
			maxd = d;
	}
	CHECK_MSG(bad == 0, "dtype %d layout %d %dx%d: %zu of %zu values off (max %g)", dt, lay, dw, dh, bad, count, maxd);
	printf("  dtype %d layout %d %dx%d: max abs diff %g\n", dt, lay, dw, dh, maxd);
	cu->mem_free(ddesc);
	cu->mem_free(ddst);
	free(ref);
	free(got);
}

int main(void)
{
	const odet_backend *cu = odet_backend_cuda();
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	int skip = cuda_test_open("cuda_nv12", &co, &ctx);
	if (skip)
		return skip;
	CHECK(cu->letterbox_nv12 != NULL);
	frame fr[N_FRAMES];
	static const int sz[N_FRAMES][3] = {{37, 23, 0}, {640, 360, 0}, {101, 211, 1}, {1920, 1080, 0}};
	void *stream = NULL;
	odet_status rc = cu->stream_create(ctx, &stream);
	for (int i = 0; i < N_FRAMES; i++) {
		make(&fr[i], sz[i][0], sz[i][1], sz[i][2], 16u + (unsigned)i);
		size_t bytes = (size_t)(fr[i].pitch * (fr[i].h + (fr[i].h + 1) / 2));
		fr[i].dev = NULL;
		if (!rc)
			rc = cu->mem_alloc(ctx, bytes, &fr[i].dev);
		if (!rc)
			rc = cu->copy_to(ctx, fr[i].dev, fr[i].y, bytes, NULL);
	}
	CHECK_MSG(rc == ODET_OK, "device setup: %s", odet_ctx_last_error(ctx));
	if (!rc && cu->letterbox_nv12) {
		static const odet_dtype dts[] = {ODET_F32, ODET_F16, ODET_U8};
		for (int d = 0; d < 3; d++)
			for (int l = 0; l < 2; l++) {
				compare(ctx, cu, stream, fr, 320, 320, dts[d], (odet_layout)l);
				compare(ctx, cu, stream, fr, 300, 416, dts[d], (odet_layout)l);
			}
	}
	for (int i = 0; i < N_FRAMES; i++) {
		cu->mem_free(fr[i].dev);
		free(fr[i].y);
		free(fr[i].rgb);
	}
	if (stream)
		cu->stream_destroy(stream);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_nv12");
}
