/*
 * cmd_detect.c — `odet detect MODEL SOURCE... [options]`: detect objects in JPEG/PNG images.
 *
 * MODEL is an ONNX file, a TF.js model.json or a plan. SOURCE is files, folders (their
 * .jpg/.jpeg/.png files, sorted) or glob patterns. Each image is letterboxed to the model's
 * input, batched, run through network + head, and its boxes are mapped back to original
 * pixels. Writes annotated JPEGs and a COCO results file; a bad image is reported by name and
 * skipped, and the exit code is 2 when some inputs failed (1 on a runtime failure).
 */
#include "cli.h"
#include "core/core.h"
#include "eval/coco_eval.h"
#include "io/coco_labels.h"
#include "io/image.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct detect_opts {
	const char *model, *out_dir, *json_path, *head, *annotations;
	float score;
	int batch, threads, quiet, draw;
} detect_opts;

typedef struct path_list {
	char **v;
	int n, cap;
} path_list;

static void usage(FILE *f)
{
	fprintf(f, "usage: odet detect MODEL SOURCE... [options]\n"
		   "  MODEL            model.onnx, TF.js model.json, or model.plan\n"
		   "  SOURCE           image files (JPEG/PNG), folders, or glob patterns\n"
		   "  --out DIR        annotated images go here (default: odet-detect)\n"
		   "  --json FILE      COCO results file (default: DIR/detections.json)\n"
		   "  --score T        minimum score to report (default 0.3)\n"
		   "  --batch N        images per batch (default 1; a plan keeps its own)\n"
		   "  --head SPEC      detection head preset or config (default: recognized)\n"
		   "  --annotations F  COCO instances JSON: use its image ids and evaluate the detections\n"
		   "  --threads N      CPU threads (default: all cores)\n"
		   "  --no-draw        do not write annotated images\n"
		   "  --quiet          no per-image lines\n"
		   "exit codes: 0 all images processed, 2 bad input (some images skipped), 1 runtime failure\n");
}

static int has_image_ext(const char *p)
{
	const char *d = strrchr(p, '.');
	return d && (!strcasecmp(d, ".jpg") || !strcasecmp(d, ".jpeg") || !strcasecmp(d, ".png"));
}

static int list_push(path_list *l, const char *p)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, sizeof(char *) * (size_t)cap);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(p)))
		return -1;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* files, folders and globs → sorted list of paths; unreadable sources are reported */
static int expand_sources(char **src, int n, path_list *out, int *n_bad)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(src[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(src[i]);
			if (!d) {
				fprintf(stderr, "odet: %s: cannot open folder: %s\n", src[i], strerror(errno));
				(*n_bad)++;
				continue;
			}
			int first = out->n;
			struct dirent *e;
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.' || !has_image_ext(e->d_name))
					continue;
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", src[i], e->d_name);
				if (list_push(out, p)) {
					closedir(d);
					return -1;
				}
			}
			closedir(d);
			qsort(out->v + first, (size_t)(out->n - first), sizeof(char *), cmp_str);
		} else if (stat(src[i], &st) == 0) {
			if (list_push(out, src[i]))
				return -1;
		} else if (strpbrk(src[i], "*?[")) {
			glob_t g;
			if (glob(src[i], 0, NULL, &g) == 0) {
				for (size_t k = 0; k < g.gl_pathc; k++)
					if (list_push(out, g.gl_pathv[k])) {
						globfree(&g);
						return -1;
					}
			} else {
				fprintf(stderr, "odet: %s: no files match\n", src[i]);
				(*n_bad)++;
			}
			globfree(&g);
		} else {
			fprintf(stderr, "odet: %s: %s\n", src[i], strerror(errno));
			(*n_bad)++;
		}
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "dir/000000397133.jpg" → stem "000000397133"; numeric stems are COCO ids */
static void stem_of(const char *p, char *stem, size_t n)
{
	snprintf(stem, n, "%s", base_name(p));
	char *dot = strrchr(stem, '.');
	if (dot && dot != stem)
		*dot = 0;
}

static void json_image_id(FILE *f, const char *stem)
{
	int numeric = *stem != 0;
	for (const char *c = stem; *c; c++)
		numeric &= (*c >= '0' && *c <= '9');
	if (numeric && strlen(stem) < 18) {
		fprintf(f, "%lld", atoll(stem));
		return;
	}
	fputc('"', f);
	for (const char *c = stem; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		if ((unsigned char)*c >= 0x20)
			fputc(*c, f);
	}
	fputc('"', f);
}

static const char *class_name(const odet_model_info *mi, int cls, char *buf, size_t n)
{
	int k = mi->coco_offset >= 0 ? cls - mi->coco_offset : -1;
	if (mi->coco_offset < 0) {
		for (int i = 0; i < IO_COCO_CLASSES; i++)
			if (io_coco_category_id[i] == cls)
				k = i;
	}
	if (k >= 0 && k < IO_COCO_CLASSES)
		return io_coco_names[k];
	snprintf(buf, n, "class %d", cls);
	return buf;
}

static int category_id(const odet_model_info *mi, int cls)
{
	if (mi->coco_offset < 0)
		return cls;
	int k = cls - mi->coco_offset;
	return (k >= 0 && k < IO_COCO_CLASSES) ? io_coco_category_id[k] : -1;
}

/* model-input pixels → original-image pixels, clipped to the image */
static void map_box(const float *b, const io_lbox *lb, const io_image *img, float bx[4])
{
	for (int c = 0; c < 4; c++) {
		float pad = (c & 1) ? lb->pad_y : lb->pad_x;
		float lim = (c & 1) ? (float)img->h : (float)img->w;
		bx[c] = (b[c] - pad) / lb->scale;
		bx[c] = bx[c] < 0 ? 0 : bx[c] > lim ? lim : bx[c];
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(int done, int total, double t0, int tty)
{
	double el = now_s() - t0, rate = el > 0 ? done / el : 0;
	double eta = rate > 0 ? (total - done) / rate : 0;
	if (tty) {
		int w = 30, f = total ? done * w / total : w;
		fprintf(stderr, "\r[%.*s%*s] %d/%d  %.1f img/s  ETA %d:%02d ", f, "==============================", w - f,
			"", done, total, rate, (int)eta / 60, (int)eta % 60);
		if (done == total)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "odet: %d/%d images, %.1f img/s, ETA %d:%02d\n", done, total, rate, (int)eta / 60,
			(int)eta % 60);
	}
}

static int parse_args(int argc, char **argv, detect_opts *o, path_list *srcs_raw)
{
	o->out_dir = "odet-detect";
	o->score = 0.3f;
	o->batch = 0;
	o->draw = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--out") && v) {
			o->out_dir = v;
			i++;
		} else if (!strcmp(a, "--json") && v) {
			o->json_path = v;
			i++;
		} else if (!strcmp(a, "--score") && v) {
			char *end;
			o->score = strtof(v, &end);
			if (*end || o->score < 0 || o->score > 1) {
				fprintf(stderr, "odet: --score must be in [0, 1]\n");
				return -1;
			}
			i++;
		} else if (!strcmp(a, "--batch") && v) {
			o->batch = atoi(v);
			if (o->batch < 1 || o->batch > 4096) {
				fprintf(stderr, "odet: --batch must be 1..4096\n");
				return -1;
			}
			i++;
		} else if (!strcmp(a, "--threads") && v) {
			o->threads = atoi(v);
			i++;
		} else if (!strcmp(a, "--head") && v) {
			o->head = v;
			i++;
		} else if (!strcmp(a, "--annotations") && v) {
			o->annotations = v;
			i++;
		} else if (!strcmp(a, "--no-draw")) {
			o->draw = 0;
		} else if (!strcmp(a, "--quiet")) {
			o->quiet = 1;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "odet: detect: unknown or incomplete option '%s'\n", a);
			return -1;
		} else if (!o->model) {
			o->model = a;
		} else if (list_push(srcs_raw, a)) {
			return -1;
		}
	}
	if (!o->model || srcs_raw->n == 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static odet_status open_engine(odet_ctx *ctx, const detect_opts *o, odet_engine **e)
{
	size_t n = strlen(o->model);
	if (n >= 5 && !strcmp(o->model + n - 5, ".plan")) {
		odet_status rc = odet_engine_load(ctx, o->model, 0, e);
		if (rc)
			return rc;
		odet_tensor info;
		const char *name;
		if (o->batch && !odet_engine_input_info(*e, 0, &name, &info) && info.dims[0] != o->batch)
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "%s: plan was built for batch %lld, not %d",
					  o->model, (long long)info.dims[0], o->batch);
		return ODET_OK;
	}
	odet_graph *g;
	odet_status rc = odet_graph_load(ctx, o->model, &g);
	if (rc)
		return rc;
	odet_build_opts bo = odet_build_opts_default();
	bo.batch = o->batch ? o->batch : 1;
	bo.head = o->head;
	rc = odet_engine_build(ctx, g, &bo, e);
	odet_graph_destroy(g);
	return rc;
}

int cmd_detect(int argc, char **argv)
{
	detect_opts o = {0};
	path_list raw = {0}, files = {0};
	odet_ctx *ctx = NULL;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	odet_detections dets = {0};
	coco_eval *ev = NULL;
	float *input = NULL;
	io_image *imgs = NULL;
	io_lbox *boxes = NULL;
	int *ok = NULL;
	FILE *jf = NULL;
	char json_path[4096], json_tmp[4200];
	int exit_code = 0, n_bad = 0, n_images = 0, n_dets = 0, first_record = 1, batch = 0;
	odet_status rc;

	int pa = parse_args(argc, argv, &o, &raw);
	if (pa) {
		exit_code = pa > 0 ? 0 : 2;
		goto out_free;
	}
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = o.threads;
	if ((rc = odet_ctx_create(&co, &ctx))) {
		exit_code = cli_fail(NULL, rc, "detect");
		goto out_free;
	}
	if (o.annotations && (rc = coco_eval_load_gt(ctx, o.annotations, &ev))) {
		exit_code = cli_fail(ctx, rc, o.annotations);
		goto out_free;
	}
	if (expand_sources(raw.v, raw.n, &files, &n_bad)) {
		exit_code = cli_fail(ctx, ODET_ERR_NO_MEMORY, "detect");
		goto out_free;
	}
	if (files.n == 0) {
		fprintf(stderr, "odet: detect: no images found\n");
		exit_code = 2;
		goto out_free;
	}
	if ((rc = open_engine(ctx, &o, &e)) || (rc = odet_exec_create(e, &x))) {
		exit_code = cli_fail(ctx, rc, o.model);
		goto out_free;
	}
	odet_model_info mi;
	odet_tensor in_info;
	const char *in_name;
	if ((rc = odet_engine_model_info(e, &mi)) || (rc = odet_engine_input_info(e, 0, &in_name, &in_info))) {
		exit_code = cli_fail(ctx, rc, o.model);
		goto out_free;
	}
	if (mi.num_classes <= 0) {
		fprintf(stderr, "odet: %s: the model has no detection head (name one with --head)\n", o.model);
		exit_code = 2;
		goto out_free;
	}
	odet_tensor det_info;
	const char *det_name;
	if ((rc = odet_engine_output_info(e, 1, &det_name, &det_info)) || det_info.rank != 3) {
		exit_code = cli_fail(ctx, rc ? rc : ODET_ERR_INTERNAL, o.model);
		goto out_free;
	}
	batch = (int)in_info.dims[0];
	size_t per_image = (size_t)3 * mi.input_h * mi.input_w;
	input = calloc((size_t)batch * per_image, sizeof(float));
	imgs = calloc((size_t)batch, sizeof *imgs);
	boxes = calloc((size_t)batch, sizeof *boxes);
	ok = calloc((size_t)batch, sizeof *ok);
	if (!input || !imgs || !boxes || !ok || (rc = odet_detections_alloc(batch, (int)det_info.dims[1], &dets))) {
		exit_code = cli_fail(ctx, ODET_ERR_NO_MEMORY, "detect");
		goto out_free;
	}
	if (o.draw && mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "odet: %s: cannot create folder: %s\n", o.out_dir, strerror(errno));
		exit_code = 1;
		goto out_free;
	}
	if (o.json_path)
		snprintf(json_path, sizeof json_path, "%s", o.json_path);
	else
		snprintf(json_path, sizeof json_path, "%s/detections.json", o.out_dir);
	snprintf(json_tmp, sizeof json_tmp, "%s.tmp.%ld", json_path, (long)getpid());
	if (!(jf = fopen(json_tmp, "w"))) {
		fprintf(stderr, "odet: %s: cannot create: %s\n", json_tmp, strerror(errno));
		exit_code = 1;
		goto out_free;
	}
	fputs("[", jf);
	int tty = isatty(2), show_progress = files.n >= 20 || (tty && files.n > 1);
	double t0 = now_s(), last_progress = 0;
	for (int start = 0; start < files.n; start += batch) {
		int nb = files.n - start < batch ? files.n - start : batch;
		memset(input, 0, sizeof(float) * (size_t)batch * per_image);
		for (int i = 0; i < nb; i++) {
			const char *path = files.v[start + i];
			ok[i] = 0;
			if ((rc = io_image_decode_file(ctx, path, &imgs[i]))) {
				fprintf(stderr, "odet: %s\n", odet_ctx_last_error(ctx));
				n_bad++;
				continue;
			}
			io_letterbox(&imgs[i], mi.input_w, mi.input_h,
				     mi.layout == ODET_LAYOUT_NHWC ? IO_LAYOUT_NHWC : IO_LAYOUT_NCHW, mi.pixel_scale,
				     mi.pixel_bias, 0.0f, input + (size_t)i * per_image, &boxes[i]);
			ok[i] = 1;
		}
		double tb = now_s();
		odet_tensor t = in_info;
		t.data = input;
		t.device = -1;
		if ((rc = odet_exec_run(x, &t, &dets))) {
			exit_code = cli_fail(ctx, rc, "detect");
			goto out_free;
		}
		double ms = (now_s() - tb) * 1e3 / nb;
		for (int i = 0; i < nb; i++) {
			if (!ok[i])
				continue;
			const char *path = files.v[start + i];
			char stem[1024], line[2048], nbuf[32];
			stem_of(path, stem, sizeof stem);
			int64_t coco_id = -1;
			if (ev && coco_eval_find_image(ev, base_name(path), &coco_id) != ODET_OK) {
				fprintf(stderr, "odet: %s: not in %s, not evaluated\n", base_name(path), o.annotations);
				coco_id = -1;
			}
			if (coco_id >= 0)
				snprintf(stem, sizeof stem, "%lld", (long long)coco_id);
			size_t ll = (size_t)snprintf(line, sizeof line, "%s: ", base_name(path));
			int kept = 0;
			for (int k = 0; k < dets.count[i]; k++) {
				float s = dets.scores[(size_t)i * dets.capacity + k];
				if (s < o.score)
					continue;
				int cls = dets.classes[(size_t)i * dets.capacity + k];
				const float *b = dets.boxes + ((size_t)i * dets.capacity + k) * 4;
				float bx[4];
				map_box(b, &boxes[i], &imgs[i], bx);
				const char *cn = class_name(&mi, cls, nbuf, sizeof nbuf);
				int cat = category_id(&mi, cls);
				fprintf(jf, "%s\n{\"image_id\": ", first_record ? "" : ",");
				json_image_id(jf, stem);
				fprintf(jf, ", \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], \"score\": %.5f}", cat,
					bx[0], bx[1], bx[2] - bx[0], bx[3] - bx[1], s);
				first_record = 0;
				if (coco_id >= 0 && cat > 0) {
					double xywh[4] = {bx[0], bx[1], bx[2] - bx[0], bx[3] - bx[1]};
					if ((rc = coco_eval_add_detection(ev, coco_id, cat, xywh, s))) {
						exit_code = cli_fail(ctx, rc, "detect");
						goto out_free;
					}
				}
				if (ll < sizeof line - 64)
					ll += (size_t)snprintf(line + ll, sizeof line - ll, "%s%s %.2f", kept ? ", " : "", cn, s);
				kept++;
			}
			/* draw lowest scores first so the best boxes and labels end on top */
			for (int k = dets.count[i] - 1; o.draw && k >= 0; k--) {
				float sc = dets.scores[(size_t)i * dets.capacity + k];
				if (sc < o.score)
					continue;
				int cls = dets.classes[(size_t)i * dets.capacity + k];
				float bx[4];
				uint8_t col[3];
				char label[96];
				map_box(dets.boxes + ((size_t)i * dets.capacity + k) * 4, &boxes[i], &imgs[i], bx);
				io_class_color(cls, col);
				snprintf(label, sizeof label, "%s %.2f", class_name(&mi, cls, nbuf, sizeof nbuf), sc);
				int th = imgs[i].w >= 1200 ? 4 : imgs[i].w >= 500 ? 3 : 2;
				io_draw_box(&imgs[i], bx[0], bx[1], bx[2], bx[3], col, th, label);
			}
			n_dets += kept;
			n_images++;
			if (!o.quiet)
				printf("%s%s (%.1f ms)\n", line, kept ? "" : "nothing", ms);
			if (o.draw) {
				char op[4200];
				snprintf(op, sizeof op, "%s/%s.jpg", o.out_dir, stem);
				if ((rc = io_image_write_jpeg(ctx, op, &imgs[i], 90))) {
					exit_code = cli_fail(ctx, rc, op);
					goto out_free;
				}
			}
		}
		for (int i = 0; i < nb; i++)
			io_image_free(&imgs[i]);
		if (show_progress && (now_s() - last_progress > 0.5 || start + nb == files.n)) {
			progress(start + nb, files.n, t0, tty);
			last_progress = now_s();
		}
	}
	fputs("\n]\n", jf);
	if (fclose(jf) != 0 || rename(json_tmp, json_path) != 0) {
		jf = NULL;
		fprintf(stderr, "odet: %s: cannot write: %s\n", json_path, strerror(errno));
		unlink(json_tmp);
		exit_code = 1;
		goto out_free;
	}
	jf = NULL;
	double el = now_s() - t0;
	fprintf(stderr, "odet: %d images, %d detections in %.2f s (%.1f img/s); results in %s%s%s\n", n_images, n_dets,
		el, el > 0 ? n_images / el : 0.0, json_path, o.draw ? ", images in " : "", o.draw ? o.out_dir : "");
	if (ev) {
		if ((rc = coco_eval_evaluate(ev))) {
			exit_code = cli_fail(ctx, rc, "evaluate");
			goto out_free;
		}
		printf("COCO bbox evaluation against %s (scores >= %.2f kept):\n", o.annotations, o.score);
		coco_eval_print_summary(ev, stdout);
	}
	if (n_bad) {
		fprintf(stderr, "odet: %d input(s) failed and were skipped\n", n_bad);
		exit_code = 2;
	}
out_free:
	if (jf) {
		fclose(jf);
		unlink(json_tmp);
	}
	for (int i = 0; imgs && i < batch; i++)
		io_image_free(&imgs[i]);
	free(input);
	free(imgs);
	free(boxes);
	free(ok);
	odet_detections_free(&dets);
	coco_eval_destroy(ev);
	odet_exec_destroy(x);
	odet_engine_destroy(e);
	odet_ctx_destroy(ctx);
	for (int i = 0; i < raw.n; i++)
		free(raw.v[i]);
	for (int i = 0; i < files.n; i++)
		free(files.v[i]);
	free(raw.v);
	free(files.v);
	return exit_code;
}
