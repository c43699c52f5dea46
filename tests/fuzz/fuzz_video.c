/* fuzz_video.c — video demux + decode from bytes (FFmpeg through io_video_open / io_video_read):
 * the container and stream checks, the pixel cap (2^22 in the fuzz context) and up to 8 frames
 * to RGB. FFmpeg itself is not instrumented; odet's code around it is. */
#include "fuzz.h"
#include "io/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	const char *path = fuzz_write("in.video", data, size);
	if (!path)
		return 0;
	io_video *v = NULL;
	io_video_info info;
	odet_status rc = io_video_open(ctx, path, &v, &info);
	fuzz_check_status(rc);
	if (rc != ODET_OK)
		return 0;
	for (int i = 0; i < 8; i++) {
		io_image img = {0};
		double pts;
		bool eof = false;
		rc = io_video_read(v, &img, &pts, &eof);
		fuzz_check_status(rc);
		if (rc == ODET_OK && !eof && (img.w < 1 || img.h < 1 || !img.rgb))
			abort();
		volatile uint8_t sink = 0; /* the whole frame readable (ASan) */
		if (rc == ODET_OK && !eof)
			sink ^= img.rgb[(size_t)img.w * (size_t)img.h * 3 - 1];
		(void)sink;
		io_image_free(&img);
		if (rc != ODET_OK || eof)
			break;
	}
	io_video_close(v);
	return 0;
}
