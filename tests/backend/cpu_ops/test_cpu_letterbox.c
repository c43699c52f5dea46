/*
 * test_cpu_letterbox.c — the CPU backend's letterbox hook (backend/cpu/letterbox.c) against
 * io_letterbox (src/io/image.c), the rule it must follow:
 *   - F32, NCHW and NHWC: bit for bit equal to io_letterbox for seeded random images of
 *     1x1, 7x3, 640x480, 480x640, 300x300 and 101x57 with a pitch above 3 * w (padding bytes
 *     random too), letterboxed together into one batch of 300x300, 512x512 and 320x416;
 *   - F16 and U8: equal to the F32 output converted (odet_f32_to_f16; clamp to 0..255 and
 *     round to nearest even);
 *   - slots n..batch-1 hold the pad value fill * scale[c] + bias[c];
 *   - invalid arguments (n > batch, sizes <= 0, another dtype or layout, a short pitch) give
 *     ODET_ERR_INVALID_ARG with a message.
 */
#include "backend/backend.h"
#include "io/image.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define N_IMAGES 6
#define BATCH 8

static unsigned rng = 20240611u;

static unsigned rand_u32(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

typedef struct timage {
	int w, h;
	int64_t pitch;
	uint8_t *rows;  /* h * pitch bytes */
	io_image dense; /* the same pixels, w * 3 bytes a row (io_letterbox's input) */
} timage;

static void timage_make(timage *t, int w, int h, int64_t pitch)
{
	t->w = w;
	t->h = h;
	t->pitch = pitch;
	t->rows = malloc((size_t)(h * pitch));
	for (int64_t i = 0; i < h * pitch; i++)
		t->rows[i] = (uint8_t)rand_u32();
	t->dense.w = w;
	t->dense.h = h;
	t->dense.rgb = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		memcpy(t->dense.rgb + (size_t)y * w * 3, t->rows + y * pitch, (size_t)w * 3);
}

static void timage_free(timage *t)
{
	free(t->rows);
	io_image_free(&t->dense);
}

static size_t dtype_size(odet_dtype t)
{
	return t == ODET_F32 ? 4 : t == ODET_F16 ? 2 : 1;
}

static uint8_t to_u8(float v)
{
	v = fminf(fmaxf(v, 0.0f), 255.0f);
	return (uint8_t)lrintf(v);
}

static const float SCALE_NORM[3] = {0.0171247539f, 0.0175070028f, 0.0174291939f};
static const float BIAS_NORM[3] = {-2.1179039f, -2.0357143f, -1.8044444f};
static const float SCALE_U8[3] = {1.0f, 0.7f, 1.3f};
static const float BIAS_U8[3] = {0.0f, 20.25f, -30.5f};

/* Run cpu_letterbox over the images into a fresh buffer (NULL on failure). */
static void *run_cpu(odet_ctx *ctx, const be_lbox_image *d, int n, int batch, int dh, int dw, odet_dtype dt,
		     odet_layout lay, const float *scale, const float *bias, float fill)
{
	const odet_backend *be = odet_backend_cpu();
	size_t bytes = (size_t)batch * 3 * dh * dw * dtype_size(dt);
	void *dst = malloc(bytes);
	memset(dst, 0xa5, bytes);
	be_lbox_args a = {.images = d, .n = n, .batch = batch, .dst = dst, .dtype = dt, .layout = lay,
			  .dst_h = dh, .dst_w = dw, .fill = fill};
	memcpy(a.scale, scale, sizeof(a.scale));
	memcpy(a.bias, bias, sizeof(a.bias));
	odet_status rc = be->letterbox(ctx, &a, NULL);
	CHECK_MSG(rc == ODET_OK, "letterbox %dx%d dtype %d: %s", dw, dh, (int)dt, odet_ctx_last_error(ctx));
	if (rc) {
		free(dst);
		return NULL;
	}
	return dst;
}

/* One destination size, one layout: every image of ims in one batch of BATCH. */
static void check_dst(odet_ctx *ctx, timage *ims, int dh, int dw, odet_layout lay)
{
	be_lbox_image d[N_IMAGES];
	for (int i = 0; i < N_IMAGES; i++) {
		io_lbox_geom g;
		io_letterbox_geom(ims[i].w, ims[i].h, dw, dh, &g);
		d[i] = (be_lbox_image){.rgb = ims[i].rows, .pitch = ims[i].pitch, .w = ims[i].w, .h = ims[i].h,
				       .rw = g.rw, .rh = g.rh, .px = g.px, .py = g.py};
	}
	const float fill = 114.0f;
	size_t per = (size_t)3 * dh * dw;
	const char *lname = lay == ODET_LAYOUT_NCHW ? "NCHW" : "NHWC";

	/* F32 against io_letterbox, image by image; the pad slots */
	float *f = run_cpu(ctx, d, N_IMAGES, BATCH, dh, dw, ODET_F32, lay, SCALE_NORM, BIAS_NORM, fill);
	float *ref = malloc(per * sizeof(float));
	if (f) {
		for (int i = 0; i < N_IMAGES; i++) {
			io_lbox lb;
			io_letterbox(&ims[i].dense, dw, dh, lay == ODET_LAYOUT_NCHW ? IO_LAYOUT_NCHW : IO_LAYOUT_NHWC,
				     SCALE_NORM, BIAS_NORM, fill, ref, &lb);
			size_t bad = 0;
			for (size_t k = 0; k < per; k++)
				bad += memcmp(&ref[k], &f[i * per + k], sizeof(float)) != 0;
			CHECK_MSG(bad == 0, "F32 %s %dx%d -> %dx%d: %zu of %zu values differ from io_letterbox", lname,
				  ims[i].w, ims[i].h, dw, dh, bad, per);
		}
		size_t bad = 0;
		for (int i = N_IMAGES; i < BATCH; i++)
			for (size_t k = 0; k < per; k++) {
				int c = lay == ODET_LAYOUT_NCHW ? (int)(k / ((size_t)dh * dw)) : (int)(k % 3);
				float pad = fill * SCALE_NORM[c] + BIAS_NORM[c];
				bad += memcmp(&pad, &f[i * per + k], sizeof(float)) != 0;
			}
		CHECK_MSG(bad == 0, "F32 %s %dx%d: %zu pad values wrong", lname, dw, dh, bad);
	}

	/* F16: the F32 values converted */
	uint16_t *h = run_cpu(ctx, d, N_IMAGES, BATCH, dh, dw, ODET_F16, lay, SCALE_NORM, BIAS_NORM, fill);
	if (f && h) {
		size_t bad = 0;
		for (size_t k = 0; k < per * BATCH; k++)
			bad += h[k] != odet_f32_to_f16(f[k]);
		CHECK_MSG(bad == 0, "F16 %s %dx%d: %zu values differ from the F32 output converted", lname, dw, dh, bad);
	}

	/* U8: another scale (values inside and outside 0..255) against its own F32 output */
	float *f2 = run_cpu(ctx, d, N_IMAGES, BATCH, dh, dw, ODET_F32, lay, SCALE_U8, BIAS_U8, fill);
	uint8_t *u = run_cpu(ctx, d, N_IMAGES, BATCH, dh, dw, ODET_U8, lay, SCALE_U8, BIAS_U8, fill);
	if (f2 && u) {
		size_t bad = 0, clamped = 0;
		for (size_t k = 0; k < per * BATCH; k++) {
			bad += u[k] != to_u8(f2[k]);
			clamped += f2[k] < 0 || f2[k] > 255;
		}
		CHECK_MSG(bad == 0, "U8 %s %dx%d: %zu values differ from the F32 output converted", lname, dw, dh, bad);
		CHECK_MSG(clamped > 0, "U8 %s %dx%d: no value was clamped", lname, dw, dh);
	}
	printf("  %-4s %3dx%-3d batch %d (%d images): F32 vs io_letterbox, F16, U8, pad compared\n", lname, dw, dh, BATCH,
	       N_IMAGES);
	free(ref);
	free(f);
	free(h);
	free(f2);
	free(u);
}

static void check_invalid(odet_ctx *ctx, timage *im)
{
	const odet_backend *be = odet_backend_cpu();
	float dst[3 * 4 * 4];
	be_lbox_image d = {.rgb = im->rows, .pitch = im->pitch, .w = im->w, .h = im->h, .rw = 4, .rh = 4};
	be_lbox_args ok = {.images = &d, .n = 1, .batch = 1, .dst = dst, .dtype = ODET_F32,
			   .layout = ODET_LAYOUT_NCHW, .dst_h = 4, .dst_w = 4, .scale = {1, 1, 1}};
	CHECK(be->letterbox(ctx, &ok, NULL) == ODET_OK);

	be_lbox_args a = ok;
	a.n = 2;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	CHECK_MSG(strstr(odet_ctx_last_error(ctx), "letterbox") != NULL, "message: %s", odet_ctx_last_error(ctx));
	a = ok;
	a.n = -1;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.batch = 0;
	a.n = 0;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.dst_w = 0;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.dst_h = -3;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.dtype = ODET_I32;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.layout = (odet_layout)7;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.dst = NULL;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);

	be_lbox_image bad = d;
	a = ok;
	a.images = &bad;
	bad.pitch = 3 * im->w - 1;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	bad = d;
	bad.rw = 0;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);
	bad = d;
	bad.rgb = NULL;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_ERR_INVALID_ARG);

	/* no images at all: every slot is pad */
	a = ok;
	a.n = 0;
	a.images = NULL;
	a.fill = 3.0f;
	a.bias[1] = 1.0f;
	CHECK(be->letterbox(ctx, &a, NULL) == ODET_OK);
	CHECK(dst[0] == 3.0f && dst[16] == 4.0f && dst[47] == 3.0f);
}

int main(void)
{
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 3;
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	CHECK(odet_backend_cpu()->letterbox != NULL);

	static const int sizes[N_IMAGES][3] = {
		{1, 1, 3}, {7, 3, 21}, {640, 480, 1920}, {480, 640, 1440}, {300, 300, 900}, {101, 57, 3 * 101 + 29},
	};
	timage ims[N_IMAGES];
	for (int i = 0; i < N_IMAGES; i++)
		timage_make(&ims[i], sizes[i][0], sizes[i][1], sizes[i][2]);

	static const int dsts[][2] = {{300, 300}, {512, 512}, {416, 320}}; /* h, w */
	for (size_t k = 0; k < sizeof(dsts) / sizeof(dsts[0]); k++) {
		check_dst(ctx, ims, dsts[k][0], dsts[k][1], ODET_LAYOUT_NCHW);
		check_dst(ctx, ims, dsts[k][0], dsts[k][1], ODET_LAYOUT_NHWC);
	}
	check_invalid(ctx, &ims[5]);

	for (int i = 0; i < N_IMAGES; i++)
		timage_free(&ims[i]);
	odet_ctx_destroy(ctx);
	return test_summary("cpu_letterbox");
}
