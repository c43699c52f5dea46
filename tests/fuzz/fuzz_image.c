/* fuzz_image.c — JPEG / PNG decode from bytes (odet_image_decode_mem), pixels capped at
 * 2^22 by the fuzz context; the JPEG header walk of the pipeline too. */
#include "fuzz.h"
#include "io/jpeg_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	odet_image img = {0};
	odet_status rc = odet_image_decode_mem(ctx, data, size, "fuzz.img", &img);
	fuzz_check_status(rc);
	if (rc == ODET_OK && (img.width < 1 || img.height < 1 || !img.rgb))
		abort();
	volatile uint8_t sink = 0; /* every row readable (ASan) */
	for (int64_t y = 0; rc == ODET_OK && y < img.height; y++)
		sink ^= img.rgb[(y * img.width + img.width - 1) * 3 + 2];
	(void)sink;
	odet_image_free(&img);
	io_jpeg_info info;
	fuzz_check_status(io_jpeg_header(ctx, data, size, "fuzz.jpg", &info));
	return 0;
}
