/* test_jpeg_header.c — io_jpeg_header on encoded, truncated, crafted and mutated JPEGs;
 * io_nvjpeg_open where libnvjpeg is missing (or, on a GPU machine, present). */
#include "io/jpeg_header.h"
#include "io/nvjpeg.h"
#include "test.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

typedef struct jpeg_buf {
	unsigned char *p;
	size_t n;
} jpeg_buf;

/* w x h of seeded noise (smooth enough for a short file) encoded by libjpeg-turbo */
static jpeg_buf encode(int w, int h, int grey, int subsamp, int flags)
{
	jpeg_buf j = {NULL, 0};
	int ch = grey ? 1 : 3;
	unsigned char *px = malloc((size_t)w * h * ch);
	for (int i = 0; i < w * h * ch; i++)
		px[i] = (unsigned char)((i * 7 + (rand() & 31)) & 255);
	tjhandle tj = tjInitCompress();
	unsigned long n = 0;
	if (tjCompress2(tj, px, w, 0, h, grey ? TJPF_GRAY : TJPF_RGB, &j.p, &n, grey ? TJSAMP_GRAY : subsamp, 85,
			flags) != 0) {
		fprintf(stderr, "tjCompress2: %s\n", tjGetErrorStr2(tj));
		j.p = NULL;
	}
	j.n = n;
	tjDestroy(tj);
	free(px);
	return j;
}

/* offset of the first marker FF m (searching from byte 2), or 0 */
static size_t find_marker(const jpeg_buf *j, unsigned m)
{
	for (size_t i = 2; i + 1 < j->n; i++)
		if (j->p[i] == 0xff && j->p[i + 1] == m)
			return i;
	return 0;
}

/* io_jpeg_header on an exact-size heap copy (so valgrind sees any read past the end) */
static odet_status header_of(odet_ctx *ctx, const uint8_t *data, size_t n, const char *label, io_jpeg_info *info)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (n)
		memcpy(copy, data, n);
	odet_status rc = io_jpeg_header(ctx, copy, n, label, info);
	free(copy);
	return rc;
}

static void check_encoded(odet_ctx *ctx, const char *name, int grey, int subsamp, int flags, int s0, int s1,
			  int progressive)
{
	int w = 83, h = 45;
	jpeg_buf j = encode(w, h, grey, subsamp, flags);
	io_jpeg_info info;
	CHECK_MSG(j.p != NULL, "%s: encode", name);
	if (!j.p)
		return;
	odet_status rc = header_of(ctx, j.p, j.n, name, &info);
	CHECK_MSG(rc == ODET_OK, "%s: %d (%s)", name, rc, odet_ctx_last_error(ctx));
	CHECK_MSG(info.w == w && info.h == h, "%s: %dx%d", name, info.w, info.h);
	CHECK_MSG(info.components == (grey ? 1 : 3), "%s: %d components", name, info.components);
	CHECK_MSG(info.progressive == progressive && info.baseline == !progressive, "%s: progressive %d baseline %d",
		  name, info.progressive, info.baseline);
	CHECK_MSG(info.sampling[0] == s0, "%s: sampling[0] %#x", name, info.sampling[0]);
	if (!grey)
		CHECK_MSG(info.sampling[1] == s1 && info.sampling[2] == s1, "%s: sampling %#x %#x", name,
			  info.sampling[1], info.sampling[2]);
	tjFree(j.p);
}

/* j with its frame header's height and width replaced */
static odet_status with_size(odet_ctx *ctx, const jpeg_buf *j, unsigned w, unsigned h, const char *label,
			     io_jpeg_info *info)
{
	uint8_t *copy = malloc(j->n);
	memcpy(copy, j->p, j->n);
	size_t sof = find_marker(j, 0xc0);
	copy[sof + 5] = (uint8_t)(h >> 8), copy[sof + 6] = (uint8_t)h;
	copy[sof + 7] = (uint8_t)(w >> 8), copy[sof + 8] = (uint8_t)w;
	odet_status rc = io_jpeg_header(ctx, copy, j->n, label, info);
	free(copy);
	return rc;
}

/* j with the bytes ins inserted at offset at */
static odet_status with_insert(odet_ctx *ctx, const jpeg_buf *j, size_t at, const char *ins, size_t k,
			       io_jpeg_info *info)
{
	uint8_t *copy = malloc(j->n + k);
	memcpy(copy, j->p, at);
	memcpy(copy + at, ins, k);
	memcpy(copy + at + k, j->p + at, j->n - at);
	odet_status rc = io_jpeg_header(ctx, copy, j->n + k, "insert.jpg", info);
	free(copy);
	return rc;
}

static void check_nvjpeg_open(odet_ctx *ctx)
{
	static const char *const names[] = {"libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"};
	bool present = false;
	for (int i = 0; i < 3 && !present; i++) {
		void *dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (dl) {
			present = true;
			dlclose(dl);
		}
	}
	io_nvjpeg *nj = (io_nvjpeg *)1;
	odet_status rc = io_nvjpeg_open(ctx, 1, &nj);
	if (!present) {
		CHECK_MSG(rc == ODET_ERR_UNSUPPORTED, "io_nvjpeg_open without libnvjpeg gave %d", rc);
		CHECK(nj == NULL);
		CHECK_MSG(strstr(odet_ctx_last_error(ctx), "nvJPEG") != NULL, "message: %s", odet_ctx_last_error(ctx));
		printf("io_nvjpeg_open: no libnvjpeg here: %s\n", odet_ctx_last_error(ctx));
		return;
	}
	CHECK_MSG(rc == ODET_OK || rc == ODET_ERR_DEVICE || rc == ODET_ERR_UNSUPPORTED, "io_nvjpeg_open gave %d", rc);
	if (rc == ODET_OK) {
		printf("io_nvjpeg_open: OK, %s backend\n", io_nvjpeg_backend_name(nj));
		io_nvjpeg_batch *b = NULL;
		CHECK(io_nvjpeg_batch_create(nj, 4, &b) == ODET_OK);
		CHECK(io_nvjpeg_decode(b, NULL, NULL, 0, NULL, NULL, NULL, NULL) == ODET_OK);
		CHECK(!io_nvjpeg_supported(b, (const uint8_t *)"not a jpeg", 10));
		io_nvjpeg_batch_destroy(b);
		io_nvjpeg_close(nj);
	} else {
		CHECK(nj == NULL);
		CHECK_MSG(strstr(odet_ctx_last_error(ctx), "nvJPEG") != NULL, "message: %s", odet_ctx_last_error(ctx));
		printf("io_nvjpeg_open: libnvjpeg present, status %d: %s\n", rc, odet_ctx_last_error(ctx));
	}
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts o = odet_ctx_opts_default();
	CHECK(odet_ctx_create(&o, &ctx) == ODET_OK);
	io_jpeg_info info;
	srand(7);

	/* what libjpeg-turbo writes: sizes, components, sampling factors, coding process */
	check_encoded(ctx, "grey.jpg", 1, TJSAMP_GRAY, 0, 0x11, 0, 0);
	check_encoded(ctx, "420.jpg", 0, TJSAMP_420, 0, 0x22, 0x11, 0);
	check_encoded(ctx, "422.jpg", 0, TJSAMP_422, 0, 0x21, 0x11, 0);
	check_encoded(ctx, "444.jpg", 0, TJSAMP_444, 0, 0x11, 0x11, 0);
	check_encoded(ctx, "progressive.jpg", 0, TJSAMP_420, TJFLAG_PROGRESSIVE, 0x22, 0x11, 1);

	jpeg_buf j = encode(40, 24, 0, TJSAMP_420, 0);
	CHECK(j.p != NULL && find_marker(&j, 0xc0) > 0 && find_marker(&j, 0xda) > 0);
	CHECK(header_of(ctx, j.p, j.n, "small.jpg", &info) == ODET_OK);

	/* every prefix is refused as bad input (and read within its bounds: valgrind) */
	size_t refused = 0;
	for (size_t cut = 0; cut < j.n; cut++)
		refused += header_of(ctx, j.p, cut, "cut.jpg", &info) == ODET_ERR_BAD_INPUT;
	CHECK_MSG(refused == j.n, "%zu of %zu prefixes refused", refused, j.n);
	CHECK(strstr(odet_ctx_last_error(ctx), "cut.jpg") != NULL);
	CHECK(header_of(ctx, j.p, j.n - 2, "noeoi.jpg", &info) == ODET_ERR_BAD_INPUT);
	CHECK(strstr(odet_ctx_last_error(ctx), "truncated") != NULL);

	/* EOI followed by padding: accepted within 32 bytes of the end, refused beyond */
	{
		uint8_t *pad = calloc(j.n + 40, 1);
		memcpy(pad, j.p, j.n);
		CHECK(io_jpeg_header(ctx, pad, j.n + 30, "pad30.jpg", &info) == ODET_OK);
		CHECK(io_jpeg_header(ctx, pad, j.n + 40, "pad40.jpg", &info) == ODET_ERR_BAD_INPUT);
		free(pad);
	}

	/* sizes in the frame header: the pixel limit, zero, DNL */
	CHECK(with_size(ctx, &j, 65000, 65000, "huge.jpg", &info) == ODET_ERR_LIMIT);
	CHECK(strstr(odet_ctx_last_error(ctx), "huge.jpg") != NULL);
	CHECK(with_size(ctx, &j, 16384, 16384, "limit.jpg", &info) == ODET_OK && info.w == 16384);
	CHECK(with_size(ctx, &j, 16385, 16384, "over.jpg", &info) == ODET_ERR_LIMIT);
	CHECK(with_size(ctx, &j, 0, 24, "zerow.jpg", &info) == ODET_ERR_BAD_INPUT);
	CHECK(with_size(ctx, &j, 40, 0, "dnl.jpg", &info) == ODET_ERR_BAD_INPUT);
	CHECK(strstr(odet_ctx_last_error(ctx), "not supported") != NULL);
	{
		odet_ctx *small;
		odet_ctx_opts so = odet_ctx_opts_default();
		so.max_image_pixels = 40 * 24 - 1;
		CHECK(odet_ctx_create(&so, &small) == ODET_OK);
		CHECK(header_of(small, j.p, j.n, "small.jpg", &info) == ODET_ERR_LIMIT);
		so.max_image_pixels = 40 * 24;
		odet_ctx_destroy(small);
		CHECK(odet_ctx_create(&so, &small) == ODET_OK);
		CHECK(header_of(small, j.p, j.n, "small.jpg", &info) == ODET_OK);
		odet_ctx_destroy(small);
	}

	/* other frame types: 12-bit sequential, arithmetic coding, lossless */
	{
		size_t sof = find_marker(&j, 0xc0);
		uint8_t *c = malloc(j.n);
		memcpy(c, j.p, j.n);
		c[sof + 4] = 12;
		CHECK(io_jpeg_header(ctx, c, j.n, "p12.jpg", &info) == ODET_OK && !info.baseline && !info.progressive);
		c[sof + 4] = 8;
		c[sof + 1] = 0xc1;
		CHECK(io_jpeg_header(ctx, c, j.n, "sof1.jpg", &info) == ODET_OK && info.baseline);
		c[sof + 1] = 0xc9;
		CHECK(io_jpeg_header(ctx, c, j.n, "sof9.jpg", &info) == ODET_OK && !info.baseline && !info.progressive);
		c[sof + 1] = 0xca;
		CHECK(io_jpeg_header(ctx, c, j.n, "sof10.jpg", &info) == ODET_OK && info.progressive);
		c[sof + 1] = 0xc3;
		CHECK(io_jpeg_header(ctx, c, j.n, "sof3.jpg", &info) == ODET_OK && !info.baseline);
		c[sof + 1] = 0xc0;
		c[sof + 9] = 2; /* two components: not an image odet decodes */
		CHECK(io_jpeg_header(ctx, c, j.n, "nf2.jpg", &info) == ODET_ERR_BAD_INPUT);
		c[sof + 9] = 3;
		c[sof + 11] = 0x52; /* sampling factor 5 */
		CHECK(io_jpeg_header(ctx, c, j.n, "h5.jpg", &info) == ODET_ERR_BAD_INPUT);
		c[sof + 11] = 0x22;
		c[sof + 3] = 0; /* frame header length 0 */
		CHECK(io_jpeg_header(ctx, c, j.n, "len0.jpg", &info) == ODET_ERR_BAD_INPUT);
		c[sof + 3] = 8; /* too short for its 3 components */
		CHECK(io_jpeg_header(ctx, c, j.n, "short.jpg", &info) == ODET_ERR_BAD_INPUT);
		free(c);
	}

	/* fill bytes and standalone markers between segments; stray bytes and a second SOI */
	CHECK(with_insert(ctx, &j, 2, "\xff\xff\xff", 3, &info) == ODET_OK && info.w == 40);
	CHECK(with_insert(ctx, &j, 2, "\xff\x01\xff\xd3", 4, &info) == ODET_OK && info.h == 24);
	CHECK(with_insert(ctx, &j, find_marker(&j, 0xc0), "\xff\xfe\x00\x05odt", 7, &info) == ODET_OK);
	CHECK(with_insert(ctx, &j, 2, "\x00", 1, &info) == ODET_ERR_BAD_INPUT);
	CHECK(with_insert(ctx, &j, 2, "\xff\xd8", 2, &info) == ODET_ERR_BAD_INPUT);
	CHECK(with_insert(ctx, &j, 2, "\xff\xd9", 2, &info) == ODET_ERR_BAD_INPUT);
	CHECK(with_insert(ctx, &j, 2, "\xff\x00", 2, &info) == ODET_ERR_BAD_INPUT);
	{
		size_t sof = find_marker(&j, 0xc0), sof_bytes = 2 + ((size_t)j.p[sof + 2] << 8 | j.p[sof + 3]);
		CHECK(with_insert(ctx, &j, find_marker(&j, 0xda), (const char *)j.p + sof, sof_bytes, &info) ==
		      ODET_ERR_BAD_INPUT);
		CHECK(strstr(odet_ctx_last_error(ctx), "more than one frame") != NULL);
	}

	/* hand-made buffers: not a JPEG, a segment past the end, a scan without a frame */
	CHECK(io_jpeg_header(ctx, (const uint8_t *)"", 0, "empty.jpg", &info) == ODET_ERR_BAD_INPUT);
	CHECK(io_jpeg_header(ctx, (const uint8_t *)"GIF89a..", 8, "gif.jpg", &info) == ODET_ERR_BAD_INPUT);
	CHECK(strstr(odet_ctx_last_error(ctx), "gif.jpg") != NULL);
	static const uint8_t long_app[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x40, 'J', 'F', 'I', 'F', 0xff, 0xd9};
	CHECK(header_of(ctx, long_app, sizeof long_app, "app.jpg", &info) == ODET_ERR_BAD_INPUT);
	static const uint8_t no_frame[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 63, 0, 0xff, 0xd9};
	CHECK(header_of(ctx, no_frame, sizeof no_frame, "noframe.jpg", &info) == ODET_ERR_BAD_INPUT);
	static const uint8_t len1[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xd9};
	CHECK(header_of(ctx, len1, sizeof len1, "len1.jpg", &info) == ODET_ERR_BAD_INPUT);

	/* seeded random mutations, mostly in the headers: any answer but a crash or a wrong size */
	{
		size_t head = find_marker(&j, 0xda) + 14, sof = find_marker(&j, 0xc0);
		int ok = 0, bad = 0, limit = 0, other = 0;
		uint8_t *m = malloc(j.n);
		for (int it = 0; it < 4000; it++) {
			memcpy(m, j.p, j.n);
			int k = 1 + rand() % 8;
			for (int e = 0; e < k; e++) {
				int where = rand() % 10;
				size_t at = where < 3   ? sof + 2 + (size_t)rand() % 17 /* the frame header */
					    : where < 9 ? (size_t)rand() % head
							: (size_t)rand() % j.n;
				m[at] = rand() % 4 == 0 ? 0xff : (uint8_t)rand();
			}
			size_t n = rand() % 8 == 0 ? (size_t)rand() % j.n : j.n;
			odet_status rc = header_of(ctx, m, n, "mutant.jpg", &info);
			if (rc == ODET_OK) {
				ok++;
				if (info.w <= 0 || info.h <= 0 || (int64_t)info.w * info.h > ((int64_t)1 << 28) ||
				    (info.components != 1 && info.components != 3 && info.components != 4))
					other++;
			} else if (rc == ODET_ERR_BAD_INPUT) {
				bad++;
			} else if (rc == ODET_ERR_LIMIT) {
				limit++;
			} else {
				other++;
			}
		}
		free(m);
		CHECK_MSG(other == 0, "%d mutants gave another status or an impossible header", other);
		printf("mutations: %d accepted, %d bad input, %d over the limit\n", ok, bad, limit);
	}
	tjFree(j.p);

	check_nvjpeg_open(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("test_jpeg_header");
}
