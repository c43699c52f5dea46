/*
 * image.h — still images: decode (JPEG via libjpeg-turbo, PNG via libspng) into 8-bit RGB,
 * letterbox into a model's input tensor, draw labelled boxes, encode JPEG.
 * Every decoder checks the header's size against ctx->opts.max_image_pixels before allocating.
 */
#ifndef ODET_IO_IMAGE_H
#define ODET_IO_IMAGE_H

#include "core/core.h"

typedef struct io_image {
	int w, h;
	uint8_t *rgb; /* w*h*3, row-major, owned (free with io_image_free) */
} io_image;

/* w × h against ctx's max_image_pixels (default 2^28): zero size → ODET_ERR_BAD_INPUT, over
 * the limit → ODET_ERR_LIMIT, naming label. Every decoder asks this before allocating. */
odet_status io_check_pixels(odet_ctx *ctx, const char *label, int64_t w, int64_t h);

/* Decode JPEG or PNG (chosen by the file's magic bytes). Bad or unsupported data →
 * ODET_ERR_BAD_INPUT naming the file; too many pixels → ODET_ERR_LIMIT. */
odet_status io_image_decode_file(odet_ctx *ctx, const char *path, io_image *out);
odet_status io_image_decode_mem(odet_ctx *ctx, const void *data, size_t size, const char *label, io_image *out);
void io_image_free(io_image *img);

/* Encode as JPEG (quality 1..100) and write atomically. */
odet_status io_image_write_jpeg(odet_ctx *ctx, const char *path, const io_image *img, int quality);

/* Letterbox geometry: model pixel = original * scale + pad. */
typedef struct io_letterbox {
	float scale;
	float pad_x, pad_y;
} io_lbox;

typedef enum io_layout { IO_LAYOUT_NCHW = 0, IO_LAYOUT_NHWC = 1 } io_layout;

/* Where io_letterbox puts a src_w × src_h image inside dst_w × dst_h: resized to rw × rh
 * (aspect kept, at least 1 pixel, at most the destination) at offset (px, py), centred.
 * Every letterbox (CPU, CUDA) uses this one rule, so boxes map back the same way. */
typedef struct io_lbox_geom {
	int rw, rh, px, py;
	io_lbox lb;
} io_lbox_geom;
void io_letterbox_geom(int src_w, int src_h, int dst_w, int dst_h, io_lbox_geom *g);

/* Resize src keeping its aspect ratio to fit dst_w × dst_h (bilinear, half-pixel centres),
 * centre it, pad with `fill` (in 0..255 units), and write float pixels
 * value = pixel * scale[c] + bias[c] into dst (one image: 3*dst_h*dst_w floats). */
void io_letterbox(const io_image *src, int dst_w, int dst_h, io_layout layout, const float scale[3],
		  const float bias[3], float fill, float *dst, io_lbox *lb);

/* Draw a box outline (thickness px) and a label above it (white text on the box colour). */
void io_draw_box(io_image *img, float x1, float y1, float x2, float y2, const uint8_t color[3], int thickness,
		 const char *label);
/* Text in the 5x7 font at top-left x, y, each font pixel a scale x scale square (scale < 1: 1),
 * clipped to the image; returns the text's width, 6 * scale per character. */
int io_draw_text(io_image *img, int x, int y, const char *s, const uint8_t color[3], int scale);
/* A distinct colour per class index. */
void io_class_color(int cls, uint8_t color[3]);

#endif
