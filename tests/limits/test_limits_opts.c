/*
 * test_limits_opts.c — the two limits that odet_ctx_opts sets (docs/limits.md): max_image_pixels
 * (JPEG header checked before the pixels are allocated) and max_json_depth (COCO JSON and TF.js
 * model.json), each at the value (accepted) and one past it (ODET_ERR_LIMIT with its message),
 * and the defaults (2^28 pixels, depth 64); the image file size (1 GiB).
 */
#include "odet.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static odet_ctx *ctx_with(int64_t pixels, int depth)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 1;
	o.log_level = ODET_LOG_ERROR;
	o.max_image_pixels = pixels;
	o.max_json_depth = depth;
	odet_ctx *c = NULL;
	if (odet_ctx_create(&o, &c))
		return NULL;
	return c;
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = f ? malloc(1 << 20) : NULL;
	*n = b ? fread(b, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return b;
}

/* Decode `data` with a context of the given pixel limit; the status, message in msg. */
static odet_status decode(int64_t limit, const void *data, size_t n, char *msg, size_t msg_n)
{
	odet_ctx *c = ctx_with(limit, 0);
	odet_image img = {0};
	odet_status rc = odet_image_decode_mem(c, data, n, "img", &img);
	snprintf(msg, msg_n, "%s", odet_ctx_last_error(c));
	odet_image_free(&img);
	odet_ctx_destroy(c);
	return rc;
}

static void image_pixels(const char *dir)
{
	char path[512], msg[512];
	snprintf(path, sizeof path, "%s/a.jpg", dir);
	odet_ctx *c = ctx_with(0, 0);
	odet_image img = {.width = 120, .height = 100, .rgb = calloc(120 * 100, 3)};
	CHECK(odet_image_write_jpeg(c, path, &img, 90) == ODET_OK);
	free(img.rgb);
	odet_ctx_destroy(c);
	size_t n;
	uint8_t *jpg = (uint8_t *)read_all(path, &n);
	CHECK(jpg && n > 100);
	CHECK(decode(12000, jpg, n, msg, sizeof msg) == ODET_OK);
	CHECK(decode(11999, jpg, n, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "image is 120x100 pixels, limit is 11999 pixels"), "message: %s", msg);
	/* the default (2^28): the SOF header says 16385 x 16385 (268,468,225 pixels) */
	size_t sof = 0;
	for (size_t i = 2; i + 9 < n && !sof; i++)
		if (jpg[i] == 0xff && jpg[i + 1] == 0xc0)
			sof = i;
	CHECK(sof > 0);
	jpg[sof + 5] = jpg[sof + 7] = 0x40;
	jpg[sof + 6] = jpg[sof + 8] = 0x01;
	CHECK(decode(0, jpg, n, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "16385x16385 pixels, limit is 268435456 pixels"), "message: %s", msg);
	free(jpg);
	/* the file: 1 GiB at most, checked from its size (a sparse file) */
	snprintf(path, sizeof path, "%s/big.jpg", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && ftruncate(fileno(f), ((off_t)1 << 30) + 1) == 0);
	if (f)
		fclose(f);
	c = ctx_with(0, 0);
	img = (odet_image){0};
	CHECK(odet_image_decode_file(c, path, &img) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(odet_ctx_last_error(c), "file is 1073741825 bytes, limit is 1073741824"), "message: %s",
		  odet_ctx_last_error(c));
	odet_image_free(&img);
	odet_ctx_destroy(c);
	unlink(path);
}

/* A COCO ground truth whose "info" nests `extra` arrays: depth extra + 1 in all. */
static odet_status coco_depth(int max_depth, int extra, char *msg, size_t msg_n)
{
	size_t cap = 256 + 2 * (size_t)extra;
	char *t = malloc(cap);
	int k = snprintf(t, cap, "{\"images\": [], \"categories\": [], \"annotations\": [], \"info\": ");
	for (int i = 0; i < extra; i++)
		t[k++] = '[';
	for (int i = 0; i < extra; i++)
		t[k++] = ']';
	t[k++] = '}';
	odet_ctx *c = ctx_with(0, max_depth);
	odet_coco_eval *e = NULL;
	odet_status rc = odet_coco_eval_load_gt_mem(c, "gt.json", t, (size_t)k, &e);
	snprintf(msg, msg_n, "%s", odet_ctx_last_error(c));
	odet_coco_eval_destroy(e);
	odet_ctx_destroy(c);
	free(t);
	return rc;
}

static odet_status tfjs_depth(const char *dir, int max_depth, int extra, char *msg, size_t msg_n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/model.json", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"format\": \"graph-model\", \"modelTopology\": {\"node\": []}, \"weightsManifest\": [], \"x\": ");
	for (int i = 0; i < extra; i++)
		fputc('[', f);
	for (int i = 0; i < extra; i++)
		fputc(']', f);
	fputc('}', f);
	fclose(f);
	odet_ctx *c = ctx_with(0, max_depth);
	odet_graph *g = NULL;
	odet_status rc = odet_graph_load_tfjs(c, path, &g);
	snprintf(msg, msg_n, "%s", odet_ctx_last_error(c));
	odet_graph_destroy(g);
	odet_ctx_destroy(c);
	return rc;
}

static void json_depth(const char *dir)
{
	char msg[512];
	CHECK(coco_depth(8, 7, msg, sizeof msg) == ODET_OK);
	CHECK(coco_depth(8, 8, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "JSON nesting deeper than 8"), "message: %s", msg);
	CHECK(coco_depth(0, 63, msg, sizeof msg) == ODET_OK);
	CHECK(coco_depth(0, 64, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "JSON nesting deeper than 64"), "message: %s", msg);
	/* model.json: within the depth it is refused for its empty node list, not for the depth */
	CHECK(tfjs_depth(dir, 8, 7, msg, sizeof msg) == ODET_ERR_BAD_INPUT);
	CHECK_MSG(!strstr(msg, "nesting"), "message: %s", msg);
	CHECK(tfjs_depth(dir, 8, 8, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "JSON nesting deeper than 8"), "message: %s", msg);
	CHECK(tfjs_depth(dir, 0, 64, msg, sizeof msg) == ODET_ERR_LIMIT);
	CHECK_MSG(strstr(msg, "JSON nesting deeper than 64"), "message: %s", msg);
}

int main(void)
{
	char dir[] = "/tmp/odet_limits_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	image_pixels(dir);
	json_depth(dir);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return test_summary("limits_opts");
}
