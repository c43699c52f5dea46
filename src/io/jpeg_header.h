/*
 * jpeg_header.h — a JPEG's size and coding process from its markers, without decoding and
 * without allocating: the pixel limit is checked before any decoder (CPU or GPU) sees the
 * file, and the pipeline picks the decoder from what it finds.
 */
#ifndef ODET_IO_JPEG_HEADER_H
#define ODET_IO_JPEG_HEADER_H

#include "core/core.h"

typedef struct io_jpeg_info {
	int w, h;
	int components;   /* 1 (grey), 3 (YCbCr / RGB) or 4 (CMYK / YCCK) */
	int progressive;  /* SOF2 / SOF6 / SOF10 / SOF14 */
	int baseline;     /* SOF0 or SOF1 (8-bit Huffman): what GPU decoders take */
	int sampling[4];  /* per component h << 4 | v factors */
} io_jpeg_info;

/* Walk the markers from SOI up to the first SOS. Not a JPEG, a marker segment running past
 * the end, no frame header, or no EOI marker in the last bytes (a truncated file) →
 * ODET_ERR_BAD_INPUT naming label; more pixels than ctx's max_image_pixels (default 2^28) →
 * ODET_ERR_LIMIT. */
odet_status io_jpeg_header(odet_ctx *ctx, const uint8_t *data, size_t size, const char *label,
			   io_jpeg_info *out);

#endif
