/*
 * test_cuda_letterbox.c — the CUDA backend's letterbox hook (backend/cuda/preprocess.cu)
 * against the CPU's (backend/cpu/letterbox.c, itself checked bit for bit against io_letterbox
 * by tests/backend/cpu_ops/test_cpu_letterbox.c): seeded random images of 1x1, 7x3, 640x480,
 * 480x640, 300x300 and 101x57 with a pitch above 3 * w, uploaded to device memory with their
 * descriptors, letterboxed together into one batch of 8 (2 pad slots) of 300x300, 512x512 and
 * 320x416, NCHW and NHWC, on a stream.
 *   F32: max abs difference <= 1e-3 (printed; the kernel rounds like the CPU, expected 0);
 *   F16: within fp16 rounding of the CPU's F16 (1e-3 + |v| / 1024); U8: within 1.
 * Also: invalid arguments → ODET_ERR_INVALID_ARG with a message; n = 0 (all pad).
 * Exit code 77 (ctest: skipped) when no CUDA backend or no device is present.
 */
#include "backend/backend.h"
#include "io/image.h"
#include "backend/lbox_cases.h"
#include "cuda_test.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

typedef struct worst {
	double f32, f16, u8;
	size_t compared;
} worst;

/* The CPU's and the CUDA hook's outputs for one destination, dtype and layout; dev[i]: the
 * device copy of ims[i]'s rows. */
static void compare_one(odet_ctx *ctx, const odet_backend *cu, void *stream, const lbox_image *ims,
			void *const *dev, int dh, int dw, odet_dtype dt, odet_layout lay, worst *wst)
{
	const odet_backend *cpu = odet_backend_cpu();
	be_lbox_image hd[N_IMAGES], dd[N_IMAGES];
	lbox_describe(ims, dh, dw, hd);
	for (int i = 0; i < N_IMAGES; i++) {
		dd[i] = hd[i];
		dd[i].rgb = dev[i];
	}
	const float *scale = dt == ODET_U8 ? SCALE_U8 : SCALE_NORM, *bias = dt == ODET_U8 ? BIAS_U8 : BIAS_NORM;
	size_t count = (size_t)BATCH * 3 * dh * dw, bytes = count * dtype_size(dt);
	void *ref = malloc(bytes), *got = malloc(bytes), *ddst = NULL, *ddesc = NULL;
	be_lbox_args a = {.images = hd, .n = N_IMAGES, .batch = BATCH, .dst = ref, .dtype = dt, .layout = lay,
			  .dst_h = dh, .dst_w = dw, .fill = 114.0f};
	memcpy(a.scale, scale, sizeof(a.scale));
	memcpy(a.bias, bias, sizeof(a.bias));
	CHECK_MSG(cpu->letterbox(ctx, &a, NULL) == ODET_OK, "CPU letterbox: %s", odet_ctx_last_error(ctx));

	odet_status rc = cu->mem_alloc(ctx, bytes, &ddst);
	if (!rc)
		rc = cu->mem_alloc(ctx, sizeof(dd), &ddesc);
	if (!rc)
		rc = cu->copy_to(ctx, ddesc, dd, sizeof(dd), NULL);
	/* a poisoned destination: every element must be written */
	memset(got, 0xa5, bytes);
	if (!rc)
		rc = cu->copy_to(ctx, ddst, got, bytes, NULL);
	CHECK_MSG(rc == ODET_OK, "device memory: %s", odet_ctx_last_error(ctx));
	if (rc)
		goto out_free;
	a.images = ddesc;
	a.dst = ddst;
	rc = cu->letterbox(ctx, &a, stream);
	CHECK_MSG(rc == ODET_OK, "CUDA letterbox: %s", odet_ctx_last_error(ctx));
	if (!rc)
		rc = cu->stream_sync(ctx, stream);
	if (!rc)
		rc = cu->copy_from(ctx, got, ddst, bytes, NULL);
	CHECK_MSG(rc == ODET_OK, "CUDA letterbox run: %s", odet_ctx_last_error(ctx));
	if (rc)
		goto out_free;

	double maxd = 0;
	size_t bad = 0;
	for (size_t k = 0; k < count; k++) {
		double r, g, d;
		switch (dt) {
		case ODET_F32:
			r = ((const float *)ref)[k];
			g = ((const float *)got)[k];
			d = fabs(r - g);
			bad += !(d <= 1e-3);
			break;
		case ODET_F16:
			r = odet_f16_to_f32(((const uint16_t *)ref)[k]);
			g = odet_f16_to_f32(((const uint16_t *)got)[k]);
			d = fabs(r - g);
			bad += !(d <= 1e-3 + fabs(r) / 1024);
			break;
		default:
			r = ((const uint8_t *)ref)[k];
			g = ((const uint8_t *)got)[k];
			d = fabs(r - g);
			bad += !(d <= 1);
			break;
		}
		if (!(d <= maxd))
			maxd = d;
	}
	const char *dname = dt == ODET_F32 ? "F32" : dt == ODET_F16 ? "F16" : "U8";
	const char *lname = lay == ODET_LAYOUT_NCHW ? "NCHW" : "NHWC";
	CHECK_MSG(bad == 0, "%s %s %dx%d: %zu of %zu values out of tolerance (max abs diff %g)", dname, lname, dw, dh,
		  bad, count, maxd);
	printf("  %-3s %-4s %3dx%-3d batch %d: max abs diff %g\n", dname, lname, dw, dh, BATCH, maxd);
	double *slot = dt == ODET_F32 ? &wst->f32 : dt == ODET_F16 ? &wst->f16 : &wst->u8;
	if (maxd > *slot)
		*slot = maxd;
	wst->compared += count;
out_free:
	cu->mem_free(ddesc);
	cu->mem_free(ddst);
	free(ref);
	free(got);
}

static void check_invalid(odet_ctx *ctx, const odet_backend *cu, void *stream, const lbox_image *im, void *dev)
{
	void *ddst = NULL, *ddesc = NULL;
	float host[3 * 4 * 4];
	be_lbox_image d = {.rgb = dev, .pitch = im->pitch, .w = im->w, .h = im->h, .rw = 4, .rh = 4};
	odet_status rc = cu->mem_alloc(ctx, sizeof(host), &ddst);
	if (!rc)
		rc = cu->mem_alloc(ctx, sizeof(d), &ddesc);
	if (!rc)
		rc = cu->copy_to(ctx, ddesc, &d, sizeof(d), NULL);
	CHECK(rc == ODET_OK);
	if (rc)
		goto out_free;
	be_lbox_args ok = {.images = ddesc, .n = 1, .batch = 1, .dst = ddst, .dtype = ODET_F32,
			   .layout = ODET_LAYOUT_NCHW, .dst_h = 4, .dst_w = 4, .scale = {1, 1, 1}};
	CHECK(cu->letterbox(ctx, &ok, stream) == ODET_OK);
	be_lbox_args a = ok;
	a.n = 2;
	CHECK(cu->letterbox(ctx, &a, stream) == ODET_ERR_INVALID_ARG);
	CHECK_MSG(strstr(odet_ctx_last_error(ctx), "letterbox") != NULL, "message: %s", odet_ctx_last_error(ctx));
	a = ok;
	a.dst_w = 0;
	CHECK(cu->letterbox(ctx, &a, stream) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.batch = -1;
	a.n = 0;
	CHECK(cu->letterbox(ctx, &a, stream) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.dtype = ODET_I32;
	CHECK(cu->letterbox(ctx, &a, stream) == ODET_ERR_INVALID_ARG);
	a = ok;
	a.layout = (odet_layout)7;
	CHECK(cu->letterbox(ctx, &a, stream) == ODET_ERR_INVALID_ARG);

	/* no images at all: every slot is pad */
	a = ok;
	a.n = 0;
	a.images = NULL;
	a.fill = 3.0f;
	a.bias[1] = 1.0f;
	rc = cu->letterbox(ctx, &a, stream);
	if (!rc)
		rc = cu->stream_sync(ctx, stream);
	if (!rc)
		rc = cu->copy_from(ctx, host, ddst, sizeof(host), NULL);
	CHECK_MSG(rc == ODET_OK, "pad only: %s", odet_ctx_last_error(ctx));
	CHECK(rc == ODET_OK && host[0] == 3.0f && host[16] == 4.0f && host[47] == 3.0f);
out_free:
	cu->mem_free(ddesc);
	cu->mem_free(ddst);
}

int main(void)
{
	const odet_backend *cu = odet_backend_cuda();
	odet_ctx *ctx = NULL;
	int skip = cuda_test_open("cuda_letterbox", NULL, &ctx);
	if (skip)
		return skip;
	CHECK(cu->letterbox != NULL && odet_backend_cpu()->letterbox != NULL);
	if (!cu->letterbox) {
		odet_ctx_destroy(ctx);
		return test_summary("cuda_letterbox");
	}

	lbox_image ims[N_IMAGES];
	void *dev[N_IMAGES] = {0};
	lbox_images_make(ims);
	void *stream = NULL;
	odet_status rc = cu->stream_create(ctx, &stream);
	CHECK_MSG(rc == ODET_OK, "stream: %s", odet_ctx_last_error(ctx));
	for (int i = 0; i < N_IMAGES && !rc; i++) {
		size_t bytes = (size_t)(ims[i].h * ims[i].pitch);
		rc = cu->mem_alloc(ctx, bytes, &dev[i]);
		if (!rc)
			rc = cu->copy_to(ctx, dev[i], ims[i].rows, bytes, NULL);
		CHECK_MSG(rc == ODET_OK, "upload: %s", odet_ctx_last_error(ctx));
	}
	if (!rc) {
		static const odet_dtype dts[] = {ODET_F32, ODET_F16, ODET_U8};
		worst wst = {0};
		for (size_t k = 0; k < sizeof(lbox_dsts) / sizeof(lbox_dsts[0]); k++)
			for (int l = 0; l < 2; l++)
				for (int t = 0; t < 3; t++)
					compare_one(ctx, cu, stream, ims, dev, lbox_dsts[k][0], lbox_dsts[k][1], dts[t],
						    l ? ODET_LAYOUT_NHWC : ODET_LAYOUT_NCHW, &wst);
		printf("cuda_letterbox: max abs diff vs CPU: F32 %g, F16 %g, U8 %g (%zu values)\n", wst.f32,
		       wst.f16, wst.u8, wst.compared);
		check_invalid(ctx, cu, stream, &ims[5], dev[5]);
	}
	for (int i = 0; i < N_IMAGES; i++)
		cu->mem_free(dev[i]);
	lbox_images_free(ims);
	if (stream)
		cu->stream_destroy(stream);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_letterbox");
}
