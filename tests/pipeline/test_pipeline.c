/*
 * test_pipeline.c — the image pipeline on the CPU backend (what CI can run): sources
 * (folders, globs, @LIST, missing ones), in-order delivery over more images than the ring
 * holds, bad files inside a batch (reported by name, the others unaffected), a JPEG claiming
 * 65000x65000 pixels refused before allocation, a callback error stopping the run, and every
 * detection equal to the reference path (io_letterbox + odet_exec_run, image alone in its
 * batch) within 1e-4. The GPU path runs the same checks on the device (bench/pipeline.sh).
 *
 * usage: test_pipeline MODEL SAMPLES_DIR [--quick] [--head SPEC]
 *        (quick: batch 1, fewer images, for valgrind with gen_tiny_ssd.py's model)
 */
#include "io/image.h"
#include "pipeline_test.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXN 64

typedef struct expect {
	int64_t next;               /* next index the callback should see */
	int stop_at;                /* return an error at this index (-1: never) */
	int n_ok, n_bad;
	odet_image_result got[MAXN];
	float *boxes[MAXN], *scores[MAXN];
	int32_t *classes[MAXN];
	char *err[MAXN];
} expect;

static odet_status on_result(void *user, const odet_image_result *r)
{
	expect *e = user;
	CHECK_MSG(r->index == e->next, "delivered %lld, expected %lld", (long long)r->index, (long long)e->next);
	e->next = r->index + 1;
	if (r->index == e->stop_at)
		return ODET_ERR_IO;
	if (r->index < 0 || r->index >= MAXN)
		return ODET_OK;
	int i = (int)r->index;
	e->got[i] = *r;
	e->boxes[i] = malloc(sizeof(float) * 4 * (size_t)(r->count + 1));
	e->scores[i] = malloc(sizeof(float) * (size_t)(r->count + 1));
	e->classes[i] = malloc(sizeof(int32_t) * (size_t)(r->count + 1));
	memcpy(e->boxes[i], r->boxes, sizeof(float) * 4 * (size_t)r->count);
	memcpy(e->scores[i], r->scores, sizeof(float) * (size_t)r->count);
	memcpy(e->classes[i], r->classes, sizeof(int32_t) * (size_t)r->count);
	e->err[i] = r->error ? strdup(r->error) : NULL;
	if (r->status)
		e->n_bad++;
	else
		e->n_ok++;
	return ODET_OK;
}

static void expect_free(expect *e)
{
	for (int i = 0; i < MAXN; i++) {
		free(e->boxes[i]);
		free(e->scores[i]);
		free(e->classes[i]);
		free(e->err[i]);
	}
	memset(e, 0, sizeof *e);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

/* a JPEG whose SOF0 says 65000 x 65000: the real dog.jpg with its frame header patched */
static void write_huge_jpeg(const char *src, const char *dst)
{
	FILE *f = fopen(src, "rb");
	if (!f)
		return;
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = 2; i + 9 < n; i++)
		if (buf[i] == 0xff && (buf[i + 1] == 0xc0 || buf[i + 1] == 0xc2)) {
			buf[i + 5] = 0xfd; /* height 65000 = 0xfde8 */
			buf[i + 6] = 0xe8;
			buf[i + 7] = 0xfd;
			buf[i + 8] = 0xe8;
			break;
		}
	write_file(dst, buf, n);
}

/* Detections of one image alone in a batch through the engine's plain API. */
static int reference(odet_ctx *ctx, odet_pipeline *p, const char *path, odet_detections *det, io_lbox *lb,
		     io_image *img)
{
	odet_model_info mi;
	odet_pipeline_model_info(p, &mi);
	odet_engine *e = (odet_engine *)odet_pipeline_engine(p, 0);
	odet_tensor in;
	const char *name;
	odet_engine_input_info(e, 0, &name, &in);
	size_t per = (size_t)3 * mi.input_h * mi.input_w;
	float *x = calloc((size_t)in.dims[0] * per, sizeof(float));
	for (size_t i = 0; i < (size_t)in.dims[0] * per; i++)
		x[i] = mi.pixel_bias[0]; /* other slots: anything; detections are per image */
	odet_exec *ex = NULL;
	int ok = io_image_decode_file(ctx, path, img) == ODET_OK && odet_exec_create(e, &ex) == ODET_OK;
	if (ok) {
		io_letterbox(img, mi.input_w, mi.input_h, mi.layout == ODET_LAYOUT_NHWC ? IO_LAYOUT_NHWC : IO_LAYOUT_NCHW,
			     mi.pixel_scale, mi.pixel_bias, 0.0f, x, lb);
		in.data = x;
		in.device = -1;
		ok = odet_exec_run(ex, &in, det) == ODET_OK;
	}
	odet_exec_destroy(ex);
	free(x);
	return ok;
}

static void compare_with_reference(odet_ctx *ctx, odet_pipeline *p, const expect *e, int i, const char *path,
				   float score)
{
	odet_detections det;
	odet_tensor info;
	const char *name;
	odet_engine_output_info(odet_pipeline_engine(p, 0), 1, &name, &info);
	odet_detections_alloc(odet_pipeline_batch(p), (int)info.dims[1], &det);
	io_lbox lb;
	io_image img = {0};
	int ok = reference(ctx, p, path, &det, &lb, &img);
	CHECK_MSG(ok, "reference run of %s: %s", path, odet_ctx_last_error(ctx));
	if (ok) {
		int n = 0;
		float worst = 0;
		for (int k = 0; k < det.count[0]; k++) {
			if (det.scores[k] < score)
				continue;
			if (n >= e->got[i].count) {
				n++;
				continue;
			}
			for (int c = 0; c < 4; c++) {
				float pad = (c & 1) ? lb.pad_y : lb.pad_x, lim = (c & 1) ? (float)img.h : (float)img.w;
				float v = (det.boxes[k * 4 + c] - pad) / lb.scale;
				v = v < 0 ? 0 : v > lim ? lim : v;
				float d = fabsf(v - e->boxes[i][4 * n + c]);
				worst = d > worst ? d : worst;
			}
			float ds = fabsf(det.scores[k] - e->scores[i][n]);
			worst = ds > worst ? ds : worst;
			CHECK_MSG(det.classes[k] == e->classes[i][n], "%s detection %d: class %d vs %d", path, n,
				  det.classes[k], e->classes[i][n]);
			n++;
		}
		CHECK_MSG(n == e->got[i].count, "%s: %d detections, reference %d", path, e->got[i].count, n);
		CHECK_MSG(worst <= 1e-4f * (img.w > img.h ? img.w : img.h), "%s: max difference %g", path, worst);
		CHECK(e->got[i].width == img.w && e->got[i].height == img.h);
	}
	io_image_free(&img);
	odet_detections_free(&det);
}

static void test_sources(const char *dir)
{
	char p[4096], q[4096];
	snprintf(p, sizeof p, "%s/src", dir);
	mkdir(p, 0777);
	const char *names[] = {"b.jpg", "a.PNG", "c.jpeg", "notes.txt", ".hidden.jpg"};
	for (int i = 0; i < 5; i++) {
		snprintf(q, sizeof q, "%s/%s", p, names[i]);
		write_file(q, "x", 1);
	}
	char list[4096], glob_pat[4096], missing[4096], at_list[4100];
	snprintf(list, sizeof list, "%s/list.txt", dir);
	FILE *f = fopen(list, "w");
	fprintf(f, "# photos\n\n  %s/src/c.jpeg  \r\n%s/src/b.jpg\n", dir, dir);
	fclose(f);
	snprintf(glob_pat, sizeof glob_pat, "%s/src/*.jp*g", dir);
	snprintf(missing, sizeof missing, "%s/nothing-here.jpg", dir);
	snprintf(at_list, sizeof at_list, "@%s", list);
	const char *srcs[] = {p, at_list, glob_pat, missing};
	odet_ctx *ctx = pt_ctx();
	odet_path_list l;
	int bad = -1;
	CHECK(odet_sources_expand(ctx, srcs, 4, &l, &bad) == ODET_OK);
	const char *want[] = {"a.PNG", "b.jpg", "c.jpeg", "c.jpeg", "b.jpg", "b.jpg", "c.jpeg"};
	CHECK_MSG(l.n == 7, "%lld paths", (long long)l.n);
	for (int i = 0; i < 7 && i < l.n; i++) {
		const char *b = strrchr(l.paths[i], '/');
		CHECK_MSG(b && !strcmp(b + 1, want[i]), "path %d: %s, expected %s", i, l.paths[i], want[i]);
	}
	CHECK(bad == 1);
	odet_path_list_free(&l);
	odet_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test_pipeline MODEL SAMPLES_DIR [--quick] [--head SPEC]\n");
		return 2;
	}
	const char *model = argv[1], *samples = argv[2];
	int quick = 0;
	const char *head = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--head") && i + 1 < argc)
			head = argv[++i];
	}
	char dir[] = "/tmp/odet_pipeline_XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	test_sources(dir);

	/* inputs: photos, with bad files among them; more than the ring holds */
	char paths[MAXN][4200];
	const char *pp[MAXN];
	int bad_at[MAXN] = {0}, n = 0;
	char src[4200], bad[4][4200];
	snprintf(bad[0], sizeof bad[0], "%s/notes.jpg", dir);
	write_file(bad[0], "this is not an image\n", 21);
	snprintf(bad[1], sizeof bad[1], "%s/cut.jpg", dir);
	{
		snprintf(src, sizeof src, "%s/eagle.jpg", samples);
		FILE *f = fopen(src, "rb");
		static uint8_t b[4000];
		size_t k = f ? fread(b, 1, sizeof b, f) : 0;
		if (f)
			fclose(f);
		write_file(bad[1], b, k);
	}
	snprintf(bad[2], sizeof bad[2], "%s/empty.jpg", dir);
	write_file(bad[2], "", 0);
	snprintf(bad[3], sizeof bad[3], "%s/huge.jpg", dir);
	snprintf(src, sizeof src, "%s/dog.jpg", samples);
	write_huge_jpeg(src, bad[3]);
	int total = quick ? 5 : 22;
	for (int i = 0; i < total; i++) {
		if (i % 5 == 3) {
			snprintf(paths[n], sizeof paths[n], "%s", bad[(i / 5) % 4]);
			bad_at[n] = 1 + (i / 5) % 4;
		} else {
			snprintf(paths[n], sizeof paths[n], "%s/%s.jpg", samples, pt_photos[i % PT_N_PHOTOS]);
		}
		pp[n] = paths[n];
		n++;
	}
	if (quick) { /* the huge header too */
		snprintf(paths[n], sizeof paths[n], "%s", bad[3]);
		bad_at[n] = 4;
		pp[n] = paths[n];
		n++;
	}

	odet_ctx *ctx = pt_ctx();
	CHECK(ctx != NULL);
	odet_pipeline_opts po = pt_cpu_opts(model, head, quick ? 1 : 4);
	odet_pipeline *p = NULL;
	odet_status rc = odet_pipeline_create(ctx, &po, &p);
	CHECK_MSG(rc == ODET_OK, "create: %s", odet_ctx_last_error(ctx));
	if (rc)
		return test_summary("pipeline");
	CHECK(odet_pipeline_batch(p) == po.build.batch && odet_pipeline_num_devices(p) == 1);
	CHECK(odet_pipeline_device(p, 0) == -1 && !strcmp(odet_pipeline_decoder(p), "none"));

	expect e;
	memset(&e, 0, sizeof e);
	e.stop_at = -1;
	odet_pipeline_stats st;
	rc = odet_pipeline_run(p, pp, n, on_result, &e, &st);
	CHECK_MSG(rc == ODET_OK, "run: %s", odet_ctx_last_error(ctx));
	CHECK(e.next == n);
	int n_bad = 0;
	for (int i = 0; i < n; i++)
		n_bad += bad_at[i] != 0;
	CHECK_MSG(e.n_bad == n_bad && e.n_ok == n - n_bad, "ok %d bad %d", e.n_ok, e.n_bad);
	CHECK(st.images == n - n_bad && st.failed == n_bad && st.cpu_decoded == n - n_bad && st.gpu_decoded == 0);
	CHECK(st.batches == (n + po.build.batch - 1) / po.build.batch);
	for (int i = 0; i < n; i++) {
		if (bad_at[i]) {
			const char *b = strrchr(paths[i], '/') + 1;
			CHECK_MSG(e.got[i].status != ODET_OK && e.err[i] && strstr(e.err[i], b),
				  "bad file %s: status %d, message '%s'", b, e.got[i].status, e.err[i] ? e.err[i] : "");
			if (bad_at[i] == 4)
				CHECK_MSG(e.got[i].status == ODET_ERR_LIMIT, "huge header: %s", e.err[i]);
			continue;
		}
		CHECK_MSG(e.got[i].status == ODET_OK, "%s: %s", paths[i], e.err[i] ? e.err[i] : "");
		if (i < 6 || quick)
			compare_with_reference(ctx, p, &e, i, paths[i], po.score);
		else /* the same photo earlier in the list: the same detections */
			CHECK(e.got[i].count == e.got[i % 6 == 3 ? i - 6 : i % 6].count || bad_at[i % 6]);
	}
	long found = 0;
	for (int i = 0; i < n; i++)
		found += e.got[i].count;
	CHECK_MSG(found > 0, "no detections at all");
	expect_free(&e);

	/* the callback's error stops the run and is returned */
	if (!quick) {
		memset(&e, 0, sizeof e);
		e.stop_at = 5;
		rc = odet_pipeline_run(p, pp, n, on_result, &e, NULL);
		CHECK_MSG(rc == ODET_ERR_IO, "callback error: run returned %d", rc);
		CHECK(e.next == 6);
		expect_free(&e);
	}

	/* three slot threads (three exec contexts of the engine running at once, batches claimed
	 * and finished out of order): the same results, delivered in order */
	if (!quick) {
		odet_pipeline *p3 = NULL;
		odet_pipeline_opts po3 = po;
		po3.slots = 3;
		po3.read_threads = 2;
		rc = odet_pipeline_create(ctx, &po3, &p3);
		CHECK_MSG(rc == ODET_OK, "create with 3 slots: %s", odet_ctx_last_error(ctx));
		expect e3;
		memset(&e3, 0, sizeof e3);
		e3.stop_at = -1;
		memset(&e, 0, sizeof e);
		e.stop_at = -1;
		if (!rc && odet_pipeline_run(p, pp, n, on_result, &e, NULL) == ODET_OK &&
		    odet_pipeline_run(p3, pp, n, on_result, &e3, NULL) == ODET_OK) {
			CHECK(e3.next == n && e3.n_ok == e.n_ok && e3.n_bad == e.n_bad);
			for (int i = 0; i < n; i++) {
				int same = e3.got[i].status == e.got[i].status && e3.got[i].count == e.got[i].count;
				for (int k = 0; same && k < e.got[i].count; k++)
					same = e3.classes[i][k] == e.classes[i][k] &&
					       fabsf(e3.scores[i][k] - e.scores[i][k]) <= 1e-5f &&
					       fabsf(e3.boxes[i][4 * k] - e.boxes[i][4 * k]) <= 1e-3f;
				CHECK_MSG(same, "3 slots, image %d: results differ from 1 slot", i);
			}
		} else {
			CHECK_MSG(0, "runs with 1 and 3 slots: %s", odet_ctx_last_error(ctx));
		}
		expect_free(&e);
		expect_free(&e3);
		odet_pipeline_destroy(p3);
	}

	/* one file on the calling thread: the same detections as in the batch run */
	odet_image_result one;
	rc = odet_pipeline_detect_file(p, pp[0], &one);
	CHECK_MSG(rc == ODET_OK && one.count > 0, "detect_file: %s", odet_ctx_last_error(ctx));
	rc = odet_pipeline_detect_file(p, bad[0], &one);
	CHECK(rc == ODET_OK && one.status == ODET_ERR_BAD_INPUT && strstr(one.error, "notes.jpg"));
	odet_pipeline_destroy(p);

	/* refusals: no such model; GPU decode asked of a CPU engine */
	po.model = "/nonexistent/model.onnx";
	CHECK(odet_pipeline_create(ctx, &po, &p) != ODET_OK && p == NULL);
	po.model = model;
	po.gpu_decode = 1;
	rc = odet_pipeline_create(ctx, &po, &p);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && p == NULL, "gpu decode on a CPU engine: %d %s", rc,
		  odet_ctx_last_error(ctx));
	odet_ctx_destroy(ctx);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_summary(quick ? "pipeline (quick)" : "pipeline");
}
