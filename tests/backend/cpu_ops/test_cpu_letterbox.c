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
#include "backend/lbox_cases.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static uint8_t to_u8(float v)
{
	v = fminf(fmaxf(v, 0.0f), 255.0f);
	return (uint8_t)lrintf(v);
}

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

/* One destination size, one layout: every image of ims in one batch of BATCH; dense[i]: the
 * pixels of ims[i] with rows of 3 * w bytes (io_letterbox's input). */
static void check_dst(odet_ctx *ctx, const lbox_image *ims, const io_image *dense, int dh, int dw, odet_layout lay)
{
	be_lbox_image d[N_IMAGES];
	lbox_describe(ims, dh, dw, d);
	const float fill = 114.0f;
	size_t per = (size_t)3 * dh * dw;
	const char *lname = lay == ODET_LAYOUT_NCHW ? "NCHW" : "NHWC";

	/* F32 against io_letterbox, image by image; the pad slots */
	float *f = run_cpu(ctx, d, N_IMAGES, BATCH, dh, dw, ODET_F32, lay, SCALE_NORM, BIAS_NORM, fill);
	float *ref = malloc(per * sizeof(float));
	if (f) {
		for (int i = 0; i < N_IMAGES; i++) {
			io_lbox lb;
			io_letterbox(&dense[i], dw, dh, lay == ODET_LAYOUT_NCHW ? IO_LAYOUT_NCHW : IO_LAYOUT_NHWC,
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

static void check_invalid(odet_ctx *ctx, const lbox_image *im)
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

	lbox_image ims[N_IMAGES];
	io_image dense[N_IMAGES];
	lbox_images_make(ims);
	for (int i = 0; i < N_IMAGES; i++) {
		dense[i].w = ims[i].w;
		dense[i].h = ims[i].h;
		dense[i].rgb = malloc((size_t)ims[i].w * ims[i].h * 3);
		for (int y = 0; y < ims[i].h; y++)
			memcpy(dense[i].rgb + (size_t)y * ims[i].w * 3, ims[i].rows + y * ims[i].pitch, (size_t)ims[i].w * 3);
	}

	for (size_t k = 0; k < sizeof(lbox_dsts) / sizeof(lbox_dsts[0]); k++) {
		check_dst(ctx, ims, dense, lbox_dsts[k][0], lbox_dsts[k][1], ODET_LAYOUT_NCHW);
		check_dst(ctx, ims, dense, lbox_dsts[k][0], lbox_dsts[k][1], ODET_LAYOUT_NHWC);
	}
	check_invalid(ctx, &ims[5]);

	for (int i = 0; i < N_IMAGES; i++)
		io_image_free(&dense[i]);
	lbox_images_free(ims);
	odet_ctx_destroy(ctx);
	return test_summary("cpu_letterbox");
}
