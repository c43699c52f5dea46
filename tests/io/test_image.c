/* test_image.c — image decode limits and bad files, letterbox geometry, drawing at the edges. */
#include "io/image.h"
#include "test.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

static uint32_t be32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* a PNG signature + IHDR chunk of the given size (no image data) */
static size_t png_header(uint8_t *p, uint32_t w, uint32_t h)
{
	memcpy(p, "\x89PNG\r\n\x1a\n", 8);
	uint32_t len = be32(13);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, "IHDR", 4);
	uint32_t bw = be32(w), bh = be32(h);
	memcpy(p + 16, &bw, 4);
	memcpy(p + 20, &bh, 4);
	p[24] = 8, p[25] = 2, p[26] = 0, p[27] = 0, p[28] = 0;
	uint32_t crc = be32((uint32_t)crc32(0, p + 12, 17));
	memcpy(p + 29, &crc, 4);
	return 33;
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts o = odet_ctx_opts_default();
	o.max_image_pixels = 1 << 24;
	CHECK(odet_ctx_create(&o, &ctx) == ODET_OK);
	io_image img;

	/* a valid JPEG of random pixels, then truncations of it */
	int w = 97, h = 61;
	uint8_t *rgb = malloc((size_t)w * h * 3);
	srand(1);
	for (int i = 0; i < w * h * 3; i++)
		rgb[i] = (uint8_t)(rand() & 255);
	tjhandle tj = tjInitCompress();
	unsigned char *jpg = NULL;
	unsigned long jn = 0;
	CHECK(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpg, &jn, TJSAMP_444, 95, 0) == 0);
	CHECK(io_image_decode_mem(ctx, jpg, jn, "ok.jpg", &img) == ODET_OK && img.w == w && img.h == h);
	double err = 0;
	for (int i = 0; img.rgb && i < w * h * 3; i++)
		err += abs((int)img.rgb[i] - (int)rgb[i]);
	CHECK_MSG(err / (w * h * 3) < 8, "mean abs error %.2f", err / (w * h * 3));
	io_image_free(&img);
	int refused = 0;
	for (unsigned long cut = 0; cut < jn; cut += 37) {
		odet_status rc = io_image_decode_mem(ctx, jpg, cut, "cut.jpg", &img);
		refused += rc == ODET_ERR_BAD_INPUT;
		io_image_free(&img);
	}
	CHECK_MSG(refused == (int)((jn + 36) / 37), "%d of %lu truncations refused", refused, (jn + 36) / 37);
	CHECK(strstr(odet_ctx_last_error(ctx), "cut.jpg") != NULL);

	/* not an image at all */
	CHECK(io_image_decode_mem(ctx, "hello world", 11, "note.txt", &img) == ODET_ERR_BAD_INPUT);
	CHECK(strstr(odet_ctx_last_error(ctx), "not a JPEG or PNG") != NULL);
	CHECK(io_image_decode_mem(ctx, "", 0, "empty.png", &img) == ODET_ERR_BAD_INPUT);

	/* PNG headers: zero size, huge size */
	uint8_t png[64];
	size_t pn = png_header(png, 0, 10);
	CHECK(io_image_decode_mem(ctx, png, pn, "zero.png", &img) == ODET_ERR_BAD_INPUT);
	pn = png_header(png, 100000, 100000);
	odet_status rc = io_image_decode_mem(ctx, png, pn, "huge.png", &img);
	CHECK_MSG(rc == ODET_ERR_LIMIT || rc == ODET_ERR_BAD_INPUT, "huge.png gave %d", rc);
	pn = png_header(png, 4096, 4096); /* within the limit, but no pixel data */
	CHECK(io_image_decode_mem(ctx, png, pn, "nodata.png", &img) == ODET_ERR_BAD_INPUT);

	/* a JPEG whose frame header claims 65000 x 65000 pixels */
	uint8_t *big = malloc(jn);
	memcpy(big, jpg, jn);
	int patched = 0;
	for (unsigned long i = 0; i + 8 < jn; i++)
		if (big[i] == 0xff && (big[i + 1] == 0xc0 || big[i + 1] == 0xc1 || big[i + 1] == 0xc2)) {
			big[i + 5] = 0xfd, big[i + 6] = 0xe8, big[i + 7] = 0xfd, big[i + 8] = 0xe8;
			patched = 1;
			break;
		}
	CHECK(patched);
	CHECK(io_image_decode_mem(ctx, big, jn, "claims.jpg", &img) == ODET_ERR_LIMIT);
	CHECK(strstr(odet_ctx_last_error(ctx), "65000x65000") != NULL);

	/* letterbox: a 97x61 image into 64x64 keeps its aspect ratio and centres it */
	CHECK(io_image_decode_mem(ctx, jpg, jn, "ok.jpg", &img) == ODET_OK);
	float *t = malloc(sizeof(float) * 3 * 64 * 64);
	const float scale[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
	io_lbox lb;
	io_letterbox(&img, 64, 64, IO_LAYOUT_NCHW, scale, bias, 7.0f, t, &lb);
	CHECK(fabsf(lb.scale - 64.0f / 97) < 1e-6f);
	CHECK(lb.pad_x == 0 && lb.pad_y == (64 - 40) / 2);
	CHECK(t[0] == 7.0f && t[64 * 64 - 1] == 7.0f); /* padding rows */
	int inside = 1;
	for (int y = 12; y < 52; y++)
		for (int x = 0; x < 64; x++)
			inside &= t[y * 64 + x] >= 0 && t[y * 64 + x] <= 255;
	CHECK(inside);
	/* drawing past every edge must stay inside the buffer (valgrind checks) */
	const uint8_t col[3] = {255, 0, 0};
	io_draw_box(&img, -50, -50, 500, 500, col, 3, "person 0.99");
	io_draw_box(&img, 90, 55, 96, 60, col, 2, "a very long label that does not fit");
	io_draw_box(&img, 10, 30, 40, 50, col, 2, NULL);
	const uint8_t *px = img.rgb + ((size_t)30 * img.w + 10) * 3;
	CHECK(px[0] == 255 && px[1] == 0 && px[2] == 0);
	io_image_free(&img);

	/* odet_image_draw_text: the font's bits at scale 2 ('1' then '/'), clipping, case, fallback */
	enum { TW = 40, TH = 20 };
	uint8_t tb[TW * TH * 3], tb2[TW * TH * 3];
	odet_image tim = {TW, TH, tb}, tim2 = {TW, TH, tb2};
	const uint8_t green[3] = {0, 255, 0};
	memset(tb, 0, sizeof tb);
	CHECK(odet_image_draw_text(&tim, 1, 2, "1/", green, 2) == 24);
#define TPX(x, y) tb[((size_t)(y) * TW + (x)) * 3 + 1]
	CHECK(TPX(5, 2) == 255 && TPX(6, 3) == 255);         /* '1' row 0 (0x04): column 2 at x 1 + 2*2 */
	CHECK(TPX(1, 2) == 0 && TPX(4, 2) == 0 && TPX(7, 2) == 0);
	CHECK(TPX(21, 2) == 255 && TPX(13, 14) == 255);       /* '/' row 0 column 4, row 6 column 0 */
	int lit = 0;
	for (int i = 0; i < TW * TH; i++)
		lit += tb[i * 3 + 1] == 255 && tb[i * 3] == 0;
	CHECK(lit == (10 + 7) * 4); /* 10 font pixels in '1', 7 in '/', each 2x2 */
#undef TPX
	memset(tb2, 0, sizeof tb2);
	memset(tb, 0, sizeof tb);
	odet_image_draw_text(&tim, 3, 3, "ab", green, 1);
	odet_image_draw_text(&tim2, 3, 3, "AB", green, 1);
	CHECK(memcmp(tb, tb2, sizeof tb) == 0);
	memset(tb, 0, sizeof tb);
	memset(tb2, 0, sizeof tb2);
	odet_image_draw_text(&tim, 3, 3, "@", green, 1);
	odet_image_draw_text(&tim2, 3, 3, "?", green, 1);
	CHECK(memcmp(tb, tb2, sizeof tb) == 0 && tb2[((size_t)3 * TW + 4) * 3 + 1] == 255);
	/* past every edge: clipped (ASan / valgrind check the buffer), the width still counted */
	CHECK(odet_image_draw_text(&tim, -7, -9, "88", green, 3) == 36);
	CHECK(odet_image_draw_text(&tim, TW - 5, TH - 5, "WIDE TEXT", green, 4) == 9 * 24);
	CHECK(odet_image_draw_text(&tim, INT_MAX - 3, INT_MAX - 3, "XY", green, INT_MAX) == INT_MAX);
	CHECK(odet_image_draw_text(&tim, INT_MIN, 0, "XY", green, 1 << 30) == INT_MAX);
	CHECK(odet_image_draw_text(&tim, 0, 0, NULL, green, 1) == 0 && odet_image_draw_text(NULL, 0, 0, "x", green, 1) == 0);

	free(t);
	free(big);
	tjFree(jpg);
	tjDestroy(tj);
	free(rgb);
	odet_ctx_destroy(ctx);
	return test_summary("io_image");
}
