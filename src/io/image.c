/* image.c — JPEG/PNG decode into RGB8, JPEG encode, letterbox into model tensors. */
#include "io/image.h"
#include "backend/lbox.h"

#include <math.h>
#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define IO_MAX_FILE_BYTES ((size_t)1 << 30)

void io_image_free(io_image *img)
{
	if (!img)
		return;
	free(img->rgb);
	img->rgb = NULL;
	img->w = img->h = 0;
}

odet_status io_check_pixels(odet_ctx *ctx, const char *label, int64_t w, int64_t h)
{
	int64_t limit = ctx && ctx->opts.max_image_pixels > 0 ? ctx->opts.max_image_pixels : ((int64_t)1 << 28);
	if (w <= 0 || h <= 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: image has zero size (%lldx%lld)", label, (long long)w,
				  (long long)h);
	if (w > limit / h)
		return odet_error(ctx, ODET_ERR_LIMIT, "%s: image is %lldx%lld pixels, limit is %lld pixels", label,
				  (long long)w, (long long)h, (long long)limit);
	return ODET_OK;
}

static odet_status decode_jpeg(odet_ctx *ctx, const uint8_t *data, size_t size, const char *label, io_image *out)
{
	tjhandle tj = tjInitDecompress();
	if (!tj)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: cannot create a JPEG decoder", label);
	int w = 0, h = 0, sub = 0, cs = 0;
	odet_status rc = ODET_OK;
	if (size > (size_t)0x7fffffff ||
	    tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &sub, &cs) != 0) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a valid JPEG (%s)", label, tjGetErrorStr2(tj));
		goto out_destroy;
	}
	if ((rc = io_check_pixels(ctx, label, w, h)))
		goto out_destroy;
	out->rgb = odet_malloc(ctx, (size_t)w * (size_t)h * 3);
	if (!out->rgb) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_destroy;
	}
	/* warnings (a truncated file decodes as grey) count as errors: the image is not what it claims */
	if (tjDecompress2(tj, data, (unsigned long)size, out->rgb, w, 0, h, TJPF_RGB,
			  TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING) != 0) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG data (%s)", label, tjGetErrorStr2(tj));
		free(out->rgb);
		out->rgb = NULL;
		goto out_destroy;
	}
	out->w = w;
	out->h = h;
out_destroy:
	tjDestroy(tj);
	return rc;
}

static odet_status decode_png(odet_ctx *ctx, const uint8_t *data, size_t size, const char *label, io_image *out)
{
	spng_ctx *s = spng_ctx_new(0);
	if (!s)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: cannot create a PNG decoder", label);
	odet_status rc = ODET_OK;
	struct spng_ihdr ihdr;
	size_t len;
	int err;
	spng_set_crc_action(s, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
	spng_set_chunk_limits(s, (size_t)64 << 20, (size_t)64 << 20);
	if ((err = spng_set_png_buffer(s, data, size)) || (err = spng_get_ihdr(s, &ihdr))) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a valid PNG (%s)", label, spng_strerror(err));
		goto out_free;
	}
	if ((rc = io_check_pixels(ctx, label, ihdr.width, ihdr.height)))
		goto out_free;
	if ((err = spng_decoded_image_size(s, SPNG_FMT_RGB8, &len))) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: PNG: %s", label, spng_strerror(err));
		goto out_free;
	}
	out->rgb = odet_malloc(ctx, len);
	if (!out->rgb) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	if ((err = spng_decode_image(s, out->rgb, len, SPNG_FMT_RGB8, SPNG_DECODE_TRNS))) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt PNG data (%s)", label, spng_strerror(err));
		free(out->rgb);
		out->rgb = NULL;
		goto out_free;
	}
	out->w = (int)ihdr.width;
	out->h = (int)ihdr.height;
out_free:
	spng_ctx_free(s);
	return rc;
}

odet_status io_image_decode_mem(odet_ctx *ctx, const void *data, size_t size, const char *label, io_image *out)
{
	const uint8_t *p = data;
	memset(out, 0, sizeof *out);
	if (size >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return decode_jpeg(ctx, p, size, label, out);
	if (size >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return decode_png(ctx, p, size, label, out);
	return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a JPEG or PNG image", label);
}

odet_status io_image_decode_file(odet_ctx *ctx, const char *path, io_image *out)
{
	void *data;
	size_t size;
	memset(out, 0, sizeof *out);
	odet_status rc = odet_file_read(ctx, path, IO_MAX_FILE_BYTES, &data, &size);
	if (rc)
		return rc;
	rc = io_image_decode_mem(ctx, data, size, path, out);
	free(data);
	return rc;
}

odet_status io_image_write_jpeg(odet_ctx *ctx, const char *path, const io_image *img, int quality)
{
	tjhandle tj = tjInitCompress();
	if (!tj)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "cannot create a JPEG encoder");
	unsigned char *buf = NULL;
	unsigned long size = 0;
	odet_status rc = ODET_OK;
	if (tjCompress2(tj, img->rgb, img->w, 0, img->h, TJPF_RGB, &buf, &size, TJSAMP_420, quality,
			TJFLAG_ACCURATEDCT) != 0) {
		rc = odet_error(ctx, ODET_ERR_IO, "%s: JPEG encoding failed (%s)", path, tjGetErrorStr2(tj));
		goto out_free;
	}
	rc = odet_file_write_atomic(ctx, path, buf, size);
out_free:
	tjFree(buf);
	tjDestroy(tj);
	return rc;
}

void io_letterbox_geom(int src_w, int src_h, int dst_w, int dst_h, io_lbox_geom *g)
{
	float s = fminf((float)dst_w / (float)src_w, (float)dst_h / (float)src_h);
	int rw = (int)lrintf(src_w * s), rh = (int)lrintf(src_h * s);
	if (rw < 1)
		rw = 1;
	if (rh < 1)
		rh = 1;
	if (rw > dst_w)
		rw = dst_w;
	if (rh > dst_h)
		rh = dst_h;
	g->rw = rw;
	g->rh = rh;
	g->px = (dst_w - rw) / 2;
	g->py = (dst_h - rh) / 2;
	g->lb.scale = s;
	g->lb.pad_x = (float)g->px;
	g->lb.pad_y = (float)g->py;
}

void io_letterbox(const io_image *src, int dst_w, int dst_h, io_layout layout, const float scale[3],
		  const float bias[3], float fill, float *dst, io_lbox *lb)
{
	io_lbox_geom geo;
	io_letterbox_geom(src->w, src->h, dst_w, dst_h, &geo);
	int rw = geo.rw, rh = geo.rh, px = geo.px, py = geo.py;
	float sx = (float)src->w / (float)rw, sy = (float)src->h / (float)rh;
	*lb = geo.lb;
	size_t plane = (size_t)dst_w * (size_t)dst_h;
	for (int y = 0; y < dst_h; y++) {
		for (int x = 0; x < dst_w; x++) {
			float v[3];
			int ix = x - px, iy = y - py;
			if (ix < 0 || iy < 0 || ix >= rw || iy >= rh) {
				v[0] = v[1] = v[2] = fill;
			} else {
				/* half-pixel centres, clamped at the borders */
				int x0, x1, y0, y1;
				float ax, ay;
				be_lbox_tap((ix + 0.5f) * sx - 0.5f, src->w, &x0, &x1, &ax);
				be_lbox_tap((iy + 0.5f) * sy - 0.5f, src->h, &y0, &y1, &ay);
				const uint8_t *p00 = src->rgb + ((size_t)y0 * src->w + x0) * 3;
				const uint8_t *p01 = src->rgb + ((size_t)y0 * src->w + x1) * 3;
				const uint8_t *p10 = src->rgb + ((size_t)y1 * src->w + x0) * 3;
				const uint8_t *p11 = src->rgb + ((size_t)y1 * src->w + x1) * 3;
				for (int c = 0; c < 3; c++) {
					float top = p00[c] + (p01[c] - p00[c]) * ax;
					float bot = p10[c] + (p11[c] - p10[c]) * ax;
					v[c] = top + (bot - top) * ay;
				}
			}
			for (int c = 0; c < 3; c++) {
				float val = v[c] * scale[c] + bias[c];
				if (layout == IO_LAYOUT_NCHW)
					dst[c * plane + (size_t)y * dst_w + x] = val;
				else
					dst[((size_t)y * dst_w + x) * 3 + c] = val;
			}
		}
	}
}
