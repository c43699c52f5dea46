/*
 * test_nvdec.c CLIP — NVDEC (io_nvdec) against libavcodec on the CPU (io_video) on an H.264 or
 * HEVC clip: the same number of frames with the same pts, and each NVDEC NV12 frame, converted
 * to RGB by be_nv12_rgb on the host, close to the CPU decoder's RGB (the decoders are bit-exact
 * for H.264; the two YUV → RGB conversions differ by a level or two): mean |diff| <= 1.5 (1.042
 * measured on the H100 on the 1080p vtest clip) and at
 * most 0.1% of values off by more than 3. Exit 77 (skipped) where NVDEC or a CUDA backend is
 * absent, after checking the refusal names what is missing.
 */
#include "backend/backend.h"
#include "backend/nv12.h"
#include "io/nvdec.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_nvdec CLIP\n");
		return 2;
	}
	odet_ctx *ctx;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	const odet_backend *cu = odet_backend_cuda();
	io_nvdec *d = NULL;
	io_video_info vi;
	odet_status rc = io_nvdec_open(ctx, argv[1], 0, 4, &d, &vi);
	if (rc == ODET_ERR_UNSUPPORTED || !cu || (cu->set_device && cu->set_device(ctx, 0))) {
		char msg[sizeof ctx->last_error];
		snprintf(msg, sizeof msg, "%s", odet_ctx_last_error(ctx));
		printf("nvdec: skipped (%s)\n", rc ? msg : "no CUDA backend");
		CHECK(!rc || strstr(msg, "NVDEC"));
		if (rc && strstr(msg, "not loadable")) {
			/* a failed load keeps nothing; the next open tries again and says the same */
			CHECK(ctx->lib[ODET_CTX_LIB_NVDEC] == NULL);
			io_nvdec *d2 = NULL;
			CHECK(io_nvdec_open(ctx, argv[1], 0, 4, &d2, &vi) == rc && d2 == NULL);
			CHECK_MSG(!strcmp(odet_ctx_last_error(ctx), msg), "second open: %s", odet_ctx_last_error(ctx));
			CHECK(ctx->lib[ODET_CTX_LIB_NVDEC] == NULL);
		}
		io_nvdec_close(d);
		odet_ctx_destroy(ctx);
		return test_failed ? 1 : 77;
	}
	CHECK_MSG(rc == ODET_OK, "open: %s", odet_ctx_last_error(ctx));
	void *libs = ctx->lib[ODET_CTX_LIB_NVDEC];
	CHECK(libs != NULL);
	io_video *v = NULL;
	io_video_info ci;
	CHECK(io_video_open(ctx, argv[1], &v, &ci) == ODET_OK);
	int64_t frames = 0, values = 0, off = 0;
	double sum = 0, max_pts = 0;
	uint8_t *host = NULL;
	size_t host_cap = 0;
	for (; !rc && v;) {
		io_nv12_frame f;
		double tg = 0, tc = 0;
		bool eg = false, ec = false;
		io_image img = {0};
		rc = io_nvdec_read(d, &f, &tg, &eg);
		CHECK_MSG(rc == ODET_OK, "NVDEC frame %lld: %s", (long long)frames, odet_ctx_last_error(ctx));
		CHECK(io_video_read(v, &img, &tc, &ec) == ODET_OK);
		CHECK_MSG(eg == ec, "frame %lld: NVDEC %s, CPU %s", (long long)frames, eg ? "ended" : "goes on",
			  ec ? "ended" : "goes on");
		if (rc || eg || ec) {
			io_image_free(&img);
			break;
		}
		CHECK(f.w == img.w && f.h == img.h);
		if (fabs(tg - tc) > max_pts)
			max_pts = fabs(tg - tc);
		size_t bytes = (size_t)f.pitch * (size_t)(f.h + (f.h + 1) / 2);
		if (bytes > host_cap) {
			free(host);
			host = malloc(bytes);
			host_cap = bytes;
		}
		rc = cu->copy_from(ctx, host, f.y, bytes, NULL);
		CHECK_MSG(rc == ODET_OK, "download: %s", odet_ctx_last_error(ctx));
		io_nvdec_release(d, f.buf);
		for (int y = 0; !rc && f.w == img.w && f.h == img.h && y < f.h; y++)
			for (int x = 0; x < f.w; x++) {
				int rgb[3];
				be_nv12_rgb(host, host + f.pitch * f.h, f.pitch, x, y, f.full_range, rgb);
				for (int c = 0; c < 3; c++) {
					int dlt = abs(rgb[c] - img.rgb[((size_t)y * img.w + x) * 3 + c]);
					sum += dlt;
					off += dlt > 3;
					values++;
				}
			}
		io_image_free(&img);
		frames++;
	}
	double mean = values ? sum / (double)values : 0;
	printf("nvdec: %lld frames %dx%d (%s), mean |RGB diff| %.3f, %lld of %lld values off by > 3, max pts diff %.6f s\n",
	       (long long)frames, vi.w, vi.h, vi.codec, mean, (long long)off, (long long)values, max_pts);
	CHECK(frames > 0);
	CHECK_MSG(mean <= 1.5, "mean |diff| %.3f", mean);
	CHECK_MSG(off * 1000 <= values, "%lld values off by more than 3", (long long)off);
	CHECK(max_pts < 1e-3);
	CHECK(io_nvdec_corrupt(d) == 0);
	free(host);
	io_video_close(v);
	io_nvdec_close(d);
	/* a second decoder on the context: the libraries loaded once, still there, frames decode */
	CHECK(ctx->lib[ODET_CTX_LIB_NVDEC] == libs);
	d = NULL;
	rc = io_nvdec_open(ctx, argv[1], 0, 4, &d, &vi);
	CHECK_MSG(rc == ODET_OK, "second open: %s", odet_ctx_last_error(ctx));
	CHECK(ctx->lib[ODET_CTX_LIB_NVDEC] == libs);
	int64_t frames2 = 0;
	for (bool eof = false; !rc && !eof;) {
		io_nv12_frame f;
		double t = 0;
		rc = io_nvdec_read(d, &f, &t, &eof);
		if (!rc && !eof) {
			io_nvdec_release(d, f.buf);
			frames2++;
		}
	}
	CHECK_MSG(rc == ODET_OK && frames2 == frames, "second decoder: %lld of %lld frames: %s", (long long)frames2,
		  (long long)frames, rc ? odet_ctx_last_error(ctx) : "");
	io_nvdec_close(d);
	odet_ctx_destroy(ctx);
	return test_summary("nvdec");
}
