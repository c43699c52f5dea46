/*
 * cmd_report.c — `odet report MODEL IMAGES... [--precisions LIST] [--batches LIST] [--calib FILE]
 * [--annotations COCO.json] [--json FILE] [--md FILE]`: the precision x batch table.
 *
 * Per precision (fp32 first: the accuracy reference): the photos go through the detection
 * pipeline (odet_pipeline_*, the engine at the first batch of the list) and the detections are
 * kept; then per batch an engine is built and timed (bench_core.c: random inputs, network + head,
 * host to host, 2 exec contexts in flight on a GPU) -> images/s, ms per image, ms per batch
 * (median), TFLOP/s of the network (the fp32 graph's cost model x images/s).
 * Accuracy: with --annotations, COCO AP / AP50 of each precision (odet's COCOeval); without, the
 * fp32 engine's own detections scoring >= --ref-score (0.3) are the ground truth and each
 * precision's detections (>= --score, 0.05) are evaluated against them (the table says so; fp32
 * against itself is 1 by construction, which checks the wiring). A cell that fails (a build
 * refused, out of memory) is reported with its message and the table goes on.
 * Comparison columns (report_peer.c): --peer peers.json adds the speed-up over PyTorch fp16 eager
 * at the same batch; --peak-tflops the share of the GPU's peak for the cell's precision, and a
 * cell above its peak is an error (the timing or the cost model is wrong), not a result.
 * Uses odet.h only.
 */
#include "bench_core.h"
#include "cli_engine.h"
#include "cli_sources.h"
#include "report_peer.h"
#include "report_passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX_P 4
#define REPORT_MAX_B 16

typedef struct det {
	int64_t image;
	int32_t cls;
	float box[4]; /* x1 y1 x2 y2 */
	float score;
} det;

typedef struct det_list {
	det *d;
	int64_t n, cap;
	int64_t failed;
} det_list;

typedef struct cell {
	double ips, ms_img, ms_batch, tflops;
	double x_peer, pct_peak; /* 0: no peer figure / no peak given */
	char err[256];
} cell;

typedef struct prec_row {
	odet_precision p;
	det_list dets;
	double ap, ap50;          /* -1: not measured */
	char err[256];            /* the accuracy run's failure */
	cell c[REPORT_MAX_B];
} prec_row;


static const char *pname(odet_precision p)
{
	return p == ODET_PRECISION_FP16 ? "fp16" : p == ODET_PRECISION_INT8 ? "int8" : p == ODET_PRECISION_FP8 ? "fp8"
	       : p == ODET_PRECISION_BF16 ? "bf16" : "fp32";
}

static bool parse_list(const char *s, long *v, int max, int *n, long lo, long hi)
{
	*n = 0;
	char *end;
	while (*s) {
		if (*n == max)
			return false;
		long x = strtol(s, &end, 10);
		if (end == s || x < lo || x > hi)
			return false;
		v[(*n)++] = x;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return false;
	}
	return *n > 0;
}

static bool parse_precisions(const char *s, odet_precision *p, int *n)
{
	*n = 0;
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		odet_precision q;
		if (!strcmp(t, "fp32"))
			q = ODET_PRECISION_FP32;
		else if (!strcmp(t, "fp16"))
			q = ODET_PRECISION_FP16;
		else if (!strcmp(t, "int8"))
			q = ODET_PRECISION_INT8;
		else if (!strcmp(t, "fp8"))
			q = ODET_PRECISION_FP8;
		else if (!strcmp(t, "bf16"))
			q = ODET_PRECISION_BF16;
		else
			return false;
		for (int i = 0; i < *n; i++)
			if (p[i] == q)
				return false;
		if (*n == REPORT_MAX_P)
			return false;
		p[(*n)++] = q;
	}
	return *n > 0;
}

typedef struct acc_run {
	det_list *l;
	float score;
	int64_t *w, *h;   /* per image */
} acc_run;

static odet_status on_image(void *user, const odet_image_result *r)
{
	acc_run *a = user;
	det_list *l = a->l;
	if (r->status) {
		l->failed++;
		return ODET_OK;
	}
	a->w[r->index] = r->width;
	a->h[r->index] = r->height;
	for (int k = 0; k < r->count; k++) {
		if (r->scores[k] < a->score)
			continue;
		if (l->n == l->cap) {
			int64_t cap = l->cap ? 2 * l->cap : 1024;
			det *d = realloc(l->d, sizeof *d * (size_t)cap);
			if (!d)
				return odet_error(NULL, ODET_ERR_NO_MEMORY, "report: out of memory");
			l->d = d;
			l->cap = cap;
		}
		det *d = &l->d[l->n++];
		d->image = r->index;
		d->cls = r->classes[k];
		memcpy(d->box, r->boxes + 4 * k, sizeof d->box);
		d->score = r->scores[k];
	}
	return ODET_OK;
}

/* The accuracy run of one precision: detections of every photo. */
static odet_status accuracy_run(odet_ctx *ctx, const char *model, const odet_build_opts *bo,
				const odet_path_list *paths, acc_run *a, odet_model_info *mi)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = model;
	po.build = *bo;
	if (bo->backend == ODET_BACKEND_CUDA) {
		po.devices = &bo->device;
		po.n_devices = 1;
	}
	odet_pipeline *p = NULL;
	odet_status rc = odet_pipeline_create(ctx, &po, &p);
	if (!rc)
		rc = odet_pipeline_model_info(p, mi);
	if (!rc)
		rc = odet_pipeline_run(p, (const char *const *)paths->paths, paths->n, on_image, a, NULL);
	odet_pipeline_destroy(p);
	return rc;
}

/* Ground truth of the fp32 detections (score >= ref) as COCO JSON in memory; classes as
 * category ids cls + 1. */
static char *gt_json(const odet_path_list *paths, const int64_t *w, const int64_t *h, const det_list *ref,
		     float ref_score, int n_classes, size_t *len)
{
	size_t cap = 4096 + (size_t)paths->n * 96 + (size_t)ref->n * 160 + (size_t)n_classes * 48, off = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
#define PUT(...) (off += (size_t)snprintf(s + off, off < cap ? cap - off : 0, __VA_ARGS__))
	PUT("{\"images\":[");
	for (int64_t i = 0; i < paths->n; i++)
		PUT("%s{\"id\":%lld,\"file_name\":\"img%lld\",\"width\":%lld,\"height\":%lld}", i ? "," : "", (long long)i,
		    (long long)i, (long long)w[i], (long long)h[i]);
	PUT("],\"annotations\":[");
	int64_t k = 0;
	for (int64_t i = 0; i < ref->n; i++) {
		const det *d = &ref->d[i];
		if (d->score < ref_score)
			continue;
		double bw = d->box[2] - d->box[0], bh = d->box[3] - d->box[1];
		PUT("%s{\"id\":%lld,\"image_id\":%lld,\"category_id\":%d,\"bbox\":[%.3f,%.3f,%.3f,%.3f],\"area\":%.3f,"
		    "\"iscrowd\":0}",
		    k ? "," : "", (long long)(k + 1), (long long)d->image, d->cls + 1, d->box[0], d->box[1], bw, bh, bw * bh);
		k++;
	}
	PUT("],\"categories\":[");
	for (int c = 0; c < n_classes; c++)
		PUT("%s{\"id\":%d,\"name\":\"class%d\"}", c ? "," : "", c + 1, c);
	PUT("]}");
#undef PUT
	if (off >= cap) {
		free(s);
		return NULL;
	}
	*len = off;
	return s;
}

/* AP and AP50 of one precision's detections against ev's ground truth. */
static odet_status evaluate(odet_coco_eval *ev, const odet_path_list *paths, const det_list *l,
			    const odet_model_info *mi, bool coco, double *ap, double *ap50)
{
	for (int64_t i = 0; i < l->n; i++) {
		const det *d = &l->d[i];
		int64_t img = d->image, cat = d->cls + 1;
		if (coco) {
			odet_status rc = odet_coco_eval_find_image(ev, paths->paths[d->image], &img);
			if (rc)
				return rc;
			if ((cat = odet_coco_category_id(mi, d->cls)) < 0)
				continue;
		}
		double b[4] = {d->box[0], d->box[1], d->box[2] - d->box[0], d->box[3] - d->box[1]};
		odet_status rc = odet_coco_eval_add_detection(ev, img, cat, b, d->score);
		if (rc)
			return rc;
	}
	odet_status rc = odet_coco_eval_evaluate(ev);
	if (rc)
		return rc;
	*ap = odet_coco_eval_stats(ev)[ODET_COCO_AP];
	*ap50 = odet_coco_eval_stats(ev)[ODET_COCO_AP50];
	return ODET_OK;
}

static void time_cell(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *bo, double duration,
		      double flops_img, cell *c)
{
	odet_engine *e = NULL;
	bench b;
	memset(&b, 0, sizeof b);
	bench_result r;
	odet_status rc = odet_engine_build(ctx, g, bo, &e);
	if (!rc)
		rc = bench_setup(e, 2, &b);
	if (!rc)
		rc = bench_measure(&b, 3, duration, &r);
	if (rc) {
		snprintf(c->err, sizeof c->err, "%s", *odet_ctx_last_error(ctx) ? odet_ctx_last_error(ctx) : odet_status_str(rc));
	} else {
		c->ips = r.images_per_s;
		c->ms_img = 1e3 / r.images_per_s;
		c->ms_batch = r.st[0][1];
		c->tflops = flops_img * r.images_per_s / 1e12;
	}
	bench_free(&b);
	odet_engine_destroy(e);
}

/* The comparison columns of a timed cell; above the precision's peak the cell is an error. */
static void compare_cell(cell *c, odet_precision p, long batch, const report_peer *peer, const double *peak)
{
	if (c->err[0])
		return;
	double pi = report_peer_ips(peer, batch);
	if (pi > 0)
		c->x_peer = c->ips / pi;
	if (peak && (int)p < REPORT_PEAK_N && peak[p] > 0) {
		c->pct_peak = 100 * c->tflops / peak[p];
		if (c->tflops > peak[p])
			snprintf(c->err, sizeof c->err,
				 "%.4g network TFLOP/s is above the %s peak given (%.4g): the timing or the cost model is "
				 "wrong, not a result", c->tflops, pname(p), peak[p]);
	}
}

static void print_md(FILE *f, const char *model, const char *backend, const prec_row *pr, int np, const long *batches,
		     int nb, const char *acc_label, int64_t n_images, const report_peer *peer, const double *peak)
{
	fprintf(f, "odet report: %s, %s backend, %lld photos; accuracy: %s\n", model, backend, (long long)n_images,
		acc_label);
	if (peer)
		fprintf(f, "PyTorch peer: fp16 eager images/s of '%s' from bench/peers.py\n", peer->model);
	fprintf(f, "\n| precision | batch | images/s | ms / image | ms / batch (median) | network TFLOP/s |%s%s AP | AP50 |\n",
		peer ? " × PyTorch fp16 eager |" : "", peak ? " % of peak |" : "");
	fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: |%s%s ---: | ---: |\n", peer ? " ---: |" : "", peak ? " ---: |" : "");
	for (int i = 0; i < np; i++)
		for (int j = 0; j < nb; j++) {
			const cell *c = &pr[i].c[j];
			char ap[32] = "—", ap50[32] = "—";
			if (pr[i].ap >= 0) {
				snprintf(ap, sizeof ap, "%.3f", pr[i].ap);
				snprintf(ap50, sizeof ap50, "%.3f", pr[i].ap50);
			}
			char xp[32] = "", pk[32] = "";
			if (peer)
				snprintf(xp, sizeof xp, c->x_peer > 0 && !c->err[0] ? " %.2f |" : " — |", c->x_peer);
			if (peak)
				snprintf(pk, sizeof pk, c->pct_peak > 0 && !c->err[0] ? " %.3g%% |" : " — |", c->pct_peak);
			if (c->err[0])
				fprintf(f, "| %s | %ld | failed: %s | | | |%s%s %s | %s |\n", pname(pr[i].p), batches[j], c->err, xp,
					pk, ap, ap50);
			else
				fprintf(f, "| %s | %ld | %.1f | %.4f | %.3f | %.2f |%s%s %s | %s |\n", pname(pr[i].p), batches[j],
					c->ips, c->ms_img, c->ms_batch, c->tflops, xp, pk, ap, ap50);
		}
	for (int i = 0; i < np; i++)
		if (pr[i].err[0])
			fprintf(f, "\n%s accuracy run failed: %s\n", pname(pr[i].p), pr[i].err);
}

static odet_status write_json(const char *path, const char *model, const char *backend, const prec_row *pr, int np,
			      const long *batches, int nb, const char *acc_label, int64_t n_images,
			      const report_peer *peer, const double *peak)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return odet_error(NULL, ODET_ERR_IO, "%s: cannot write", tmp);
	fprintf(f, "{\"model\":");
	cli_json_str(f, model);
	fprintf(f, ",\"backend\":\"%s\",\"images\":%lld,\"accuracy\":", backend, (long long)n_images);
	cli_json_str(f, acc_label);
	if (peer) {
		fprintf(f, ",\"peer_model\":");
		cli_json_str(f, peer->model);
	}
	if (peak) {
		fprintf(f, ",\"peak_tflops\":{");
		for (int k = 0, m = 0; k < REPORT_PEAK_N; k++)
			if (peak[k] > 0)
				fprintf(f, "%s\"%s\":%.6g", m++ ? "," : "", pname((odet_precision)k), peak[k]);
		fprintf(f, "}");
	}
	fprintf(f, ",\"rows\":[");
	for (int i = 0, k = 0; i < np; i++)
		for (int j = 0; j < nb; j++, k++) {
			const cell *c = &pr[i].c[j];
			fprintf(f, "%s{\"precision\":\"%s\",\"batch\":%ld", k ? "," : "", pname(pr[i].p), batches[j]);
			if (c->err[0]) {
				fprintf(f, ",\"error\":");
				cli_json_str(f, c->err);
			} else {
				fprintf(f, ",\"images_per_s\":%.6g,\"ms_per_image\":%.6g,\"ms_per_batch_median\":%.4f,\"tflops\":%.4f",
					c->ips, c->ms_img, c->ms_batch, c->tflops);
				if (c->x_peer > 0)
					fprintf(f, ",\"x_peer_eager\":%.6g", c->x_peer);
				if (c->pct_peak > 0)
					fprintf(f, ",\"pct_of_peak\":%.6g", c->pct_peak);
			}
			if (pr[i].ap >= 0)
				fprintf(f, ",\"ap\":%.5f,\"ap50\":%.5f", pr[i].ap, pr[i].ap50);
			fprintf(f, "}");
		}
	fprintf(f, "]}\n");
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		remove(tmp);
		return odet_error(NULL, ODET_ERR_IO, "%s: cannot write", path);
	}
	return ODET_OK;
}

int cmd_report(int argc, char **argv)
{
	const char *model = NULL, *sources[256], *ann = NULL, *json = NULL, *md = NULL, *plist = NULL, *blist = NULL;
	const char *peer_file = NULL, *peer_model = NULL, *peak_list = NULL;
	int n_src = 0, verbose = 0;
	long threads = 0;
	double duration = 2, score = 0.05, ref_score = 0.3;
	int passes = 0;
	long pbatch = 1, warmup = 100, runs = 200;
	odet_build_opts o = odet_build_opts_default();
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	cli_parser p;
	cli_parser_init(&p, "report",
			"usage: odet report MODEL IMAGES... [--precisions LIST] [--batches LIST] [--calib FILE]\n"
			"                   [--annotations COCO.json] [--duration S] [--score T] [--ref-score T]\n"
			"                   [--peer peers.json [--peer-model NAME]] [--peak-tflops P=V,...]\n"
			"                   [--json FILE] [--md FILE] [--head SPEC] [--threads N] [--backend B] [--device K] [-v]\n"
			"The precision x batch table: accuracy and speed of the model's engines.\n"
			"  IMAGES            files, folders, globs or @LIST: the accuracy photos (keep them apart\n"
			"                    from the calibration photos)\n");
	cli_positionals(&p, &model, sources, &n_src, (int)(sizeof sources / sizeof *sources));
	p.need_srcs = 0; /* --passes takes none; checked below */
	cli_add(&p, (cli_opt){"--precisions", CLI_STR, &plist, .arg = "L",
			      .help = "comma list of fp32, fp16 (CUDA), bf16 (CPU), int8, fp8 (CUDA compute 8.9+;\n"
				      "the CPU: its slow exact reference)\n"
				      "(default: fp32,fp16,int8,fp8 on CUDA, fp32,int8 on the CPU; int8 and fp8 only\n"
				      "with --calib, int8 also for a QDQ model)"});
	cli_add(&p, (cli_opt){"--batches", CLI_STR, &blist, .arg = "L",
			      .help = "comma list (default 1,8,32,64,256 on CUDA, 1,8 on the CPU)"});
	cli_add(&p, (cli_opt){"--annotations", CLI_STR, &ann, .arg = "F",
			      .help = "COCO instances JSON of the photos: AP against it; without, AP against the\n"
				      "fp32 engine's detections scoring >= --ref-score (default 0.3)"});
	cli_add(&p, (cli_opt){"--duration", CLI_DOUBLE, &duration, 0, 3600, .arg = "S", .help = "timed seconds per cell (default 2)"});
	cli_add(&p, (cli_opt){"--score", CLI_DOUBLE, &score, 0, 3600, .arg = "T",
			      .help = "detections kept for the accuracy (default 0.05)"});
	cli_add(&p, (cli_opt){"--ref-score", CLI_DOUBLE, &ref_score, 0, 3600, .arg = "T",
			      .help = "without --annotations: the fp32 detections taken as the reference (default 0.3)"});
	cli_add(&p, (cli_opt){"--peer", CLI_STR, &peer_file, .arg = "FILE",
			      .help = "bench/peers.py's peers.json: a column with the speed-up over PyTorch fp16\n"
				      "eager at the same batch"});
	cli_add(&p, (cli_opt){"--peer-model", CLI_STR, &peer_model, .arg = "NAME", .help = "the model in the --peer file"});
	cli_add(&p, (cli_opt){"--peak-tflops", CLI_STR, &peak_list, .arg = "L",
			      .help = "the GPU's measured peak per precision, e.g. fp16=777,int8=1550: a % of\n"
				      "peak column; a cell above its precision's peak is an error (exit 1)"});
	cli_add(&p, (cli_opt){"--json", CLI_STR, &json, .arg = "FILE", .help = "the table as JSON"});
	cli_add(&p, (cli_opt){"--md", CLI_STR, &md, .arg = "FILE", .help = "the table as Markdown (also printed)"});
	cli_add_build(&p, CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &o, &threads, &verbose);
	cli_add_engine(&p, &eo);
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "odet report MODEL --passes [--batch N] [--warmup N] [--runs N] [--calib FILE] [--json F] [--md F]\n"
				      "  the optimization ladder: latency of the imported graph with no optimization, then with\n"
				      "  each one added (constant folding, BatchNorm folding, conv fusion, fp16, NHWC layout, int8,\n"
				      "  CUDA graph, fused head); no images needed"});
	cli_add(&p, (cli_opt){"--passes", CLI_FLAG, &passes, .help = "the optimization ladder instead of the table"});
	cli_add(&p, (cli_opt){"--batch", CLI_LONG, &pbatch, 1, 65536, .arg = "N", .help = "--passes: the batch (default 1)"});
	cli_add(&p, (cli_opt){"--warmup", CLI_LONG, &warmup, 0, 1000000, .arg = "N", .help = "--passes: untimed runs (default 100)"});
	cli_add(&p, (cli_opt){"--runs", CLI_LONG, &runs, 1, 1000000, .arg = "N", .help = "--passes: timed runs (default 200)"});
	int parsed = cli_parse(&p, argc, argv);
	if (parsed)
		return parsed == 1 ? 0 : 2;
	if (passes && !cli_is_plan(model) && eo.precision == ODET_PRECISION_FP32 && !eo.n_keep) {
		odet_ctx *pctx = NULL;
		odet_graph *pg = NULL;
		if (cli_ctx((int)threads, verbose, &pctx))
			return 1;
		cli_engine_apply(&eo, &o);
		odet_status prc = odet_graph_load(pctx, model, &pg);
		rp_args ra = {.model = model, .calib = eo.calib, .json = json, .md = md, .batch = (int)pbatch,
			      .warmup = warmup, .runs = runs};
		int pcode = prc ? cli_error(pctx, prc, model) : report_passes(pctx, pg, &o, &ra);
		odet_graph_destroy(pg);
		odet_ctx_destroy(pctx);
		return pcode;
	}
	if (!n_src) {
		fprintf(stderr, "odet report: no images given\n");
		cli_usage(&p, stderr);
		return 2;
	}
	if (cli_is_plan(model)) {
		fprintf(stderr, "odet report: %s is a plan (one precision and batch); give the ONNX or TF.js model\n", model);
		return 2;
	}
	if (eo.precision != ODET_PRECISION_FP32 || eo.n_keep) {
		fprintf(stderr, "odet report: use --precisions (not --precision / --keep-fp32)\n");
		return 2;
	}
	/* the comparison inputs are checked before anything is built */
	report_peer peer_data, *peer = NULL;
	double peak_data[REPORT_PEAK_N], *peak = NULL;
	char perr[700];
	if (peer_model && !peer_file) {
		fprintf(stderr, "odet report: --peer-model needs --peer FILE\n");
		return 2;
	}
	if (peer_file) {
		if (report_peer_load(peer_file, peer_model, &peer_data, perr, sizeof perr)) {
			fprintf(stderr, "odet report: %s\n", perr);
			return 2;
		}
		peer = &peer_data;
	}
	if (peak_list) {
		if (!report_peak_parse(peak_list, peak_data)) {
			fprintf(stderr, "odet report: --peak-tflops expects P=TFLOPS,... with P in fp32, fp16, int8, fp8, bf16 "
					"and TFLOPS > 0 (got '%s')\n", peak_list);
			return 2;
		}
		peak = peak_data;
	}
	odet_ctx *ctx = NULL;
	if (cli_ctx((int)threads, verbose, &ctx))
		return 1;
	int code = 0;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	odet_path_list paths = {0};
	prec_row pr[REPORT_MAX_P];
	memset(pr, 0, sizeof pr);
	int64_t *w = NULL, *h = NULL;
	char *gt = NULL;
	odet_coco_eval *ev = NULL;
	int np = 0, nb = 0, n_bad = 0;
	long batches[REPORT_MAX_B];
	cli_engine_apply(&eo, &o);
	/* the backend decides the defaults: an fp32 batch-1 engine tells which, and the cost */
	odet_status rc = odet_graph_load(ctx, model, &g);
	if (!rc)
		rc = odet_engine_build(ctx, g, &o, &e);
	if (rc) {
		code = cli_error(ctx, rc, model);
		goto out;
	}
	odet_engine_desc d;
	odet_engine_describe(e, &d);
	const bool cuda = !strcmp(d.backend, "cuda");
	o.backend = cuda ? ODET_BACKEND_CUDA : ODET_BACKEND_CPU;
	int64_t flops = 0, params = 0;
	cli_graph_cost(odet_engine_graph(e), &flops, &params);
	const double flops_img = (double)flops / (d.batch > 0 ? d.batch : 1);
	(void)params;
	odet_engine_destroy(e);
	e = NULL;
	odet_precision ps[REPORT_MAX_P];
	if (!plist)
		plist = cuda ? (eo.calib ? "fp32,fp16,int8,fp8" : "fp32,fp16") : (eo.calib ? "fp32,int8" : "fp32");
	if (!parse_precisions(plist, ps, &np)) {
		fprintf(stderr, "odet report: --precisions expects a comma list of fp32, fp16, bf16, int8, fp8 without repeats\n");
		code = 2;
		goto out;
	}
	if (!parse_list(blist ? blist : cuda ? "1,8,32,64,256" : "1,8", batches, REPORT_MAX_B, &nb, 1, 65536)) {
		fprintf(stderr, "odet report: --batches expects a comma list of 1..65536 (at most %d)\n", REPORT_MAX_B);
		code = 2;
		goto out;
	}
	/* fp32 first: the accuracy reference */
	pr[0].p = ODET_PRECISION_FP32;
	for (int i = 0, k = 1; i < np; i++)
		if (ps[i] != ODET_PRECISION_FP32)
			pr[k++].p = ps[i];
	bool has32 = false;
	for (int i = 0; i < np; i++)
		has32 |= ps[i] == ODET_PRECISION_FP32;
	np += !has32;
	if ((rc = odet_sources_expand(ctx, sources, n_src, &paths, &n_bad))) {
		code = cli_error(ctx, rc, "report");
		goto out;
	}
	if (!paths.n) {
		fprintf(stderr, "odet report: no images found in the sources given\n");
		code = 2;
		goto out;
	}
	w = calloc((size_t)paths.n, sizeof *w);
	h = calloc((size_t)paths.n, sizeof *h);
	if (!w || !h) {
		code = cli_error(NULL, ODET_ERR_NO_MEMORY, "report");
		goto out;
	}
	odet_model_info mi;
	memset(&mi, 0, sizeof mi);
	for (int i = 0; i < np; i++) {
		odet_build_opts bo = o;
		bo.precision = pr[i].p;
		bo.batch = (int)batches[0];
		bo.calib_cache = pr[i].p == ODET_PRECISION_INT8 || pr[i].p == ODET_PRECISION_FP8 ? eo.calib : NULL;
		pr[i].ap = pr[i].ap50 = -1;
		fprintf(stderr, "odet report: %s: accuracy run over %lld photos\n", pname(pr[i].p), (long long)paths.n);
		acc_run a = {.l = &pr[i].dets, .score = (float)score, .w = w, .h = h};
		if ((rc = accuracy_run(ctx, model, &bo, &paths, &a, &mi))) {
			snprintf(pr[i].err, sizeof pr[i].err, "%s", odet_ctx_last_error(ctx));
			if (i == 0) { /* no reference: nothing to compare with */
				code = cli_error(ctx, rc, model);
				goto out;
			}
		}
		for (int j = 0; j < nb && (has32 || i > 0); j++) {
			bo.batch = (int)batches[j];
			fprintf(stderr, "odet report: %s batch %ld: build and time\n", pname(pr[i].p), batches[j]);
			time_cell(ctx, g, &bo, duration, flops_img, &pr[i].c[j]);
			compare_cell(&pr[i].c[j], pr[i].p, batches[j], peer, peak);
		}
	}
	/* accuracy */
	char acc_label[600];
	for (int i = 0; i < np; i++) {
		if (pr[i].err[0])
			continue;
		odet_coco_eval_destroy(ev);
		ev = NULL;
		if (ann) {
			rc = odet_coco_eval_load_gt(ctx, ann, &ev);
		} else {
			size_t len = 0;
			free(gt);
			if (!(gt = gt_json(&paths, w, h, &pr[0].dets, (float)ref_score, mi.num_classes, &len)))
				rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "report: ground truth too large");
			else
				rc = odet_coco_eval_load_gt_mem(ctx, "fp32 detections", gt, len, &ev);
		}
		if (!rc)
			rc = evaluate(ev, &paths, &pr[i].dets, &mi, ann != NULL, &pr[i].ap, &pr[i].ap50);
		if (rc) {
			code = cli_error(ctx, rc, ann ? ann : "report accuracy");
			goto out;
		}
	}
	if (ann)
		snprintf(acc_label, sizeof acc_label, "COCO AP against %s", ann);
	else
		snprintf(acc_label, sizeof acc_label,
			 "AP against the fp32 engine's own detections scoring >= %.2f (no annotations given)", ref_score);
	if (!has32) { /* fp32 ran as the reference only: drop its row */
		free(pr[0].dets.d);
		memmove(&pr[0], &pr[1], sizeof *pr * (size_t)(np - 1));
		np--;
		memset(&pr[np], 0, sizeof pr[np]);
	}
	print_md(stdout, model, d.backend, pr, np, batches, nb, acc_label, paths.n, peer, peak);
	if (md) {
		FILE *f = fopen(md, "w");
		if (!f) {
			fprintf(stderr, "odet report: %s: cannot write\n", md);
			code = 1;
		} else {
			print_md(f, model, d.backend, pr, np, batches, nb, acc_label, paths.n, peer, peak);
			if (fclose(f) != 0)
				code = 1;
		}
	}
	if (json && (rc = write_json(json, model, d.backend, pr, np, batches, nb, acc_label, paths.n, peer, peak)))
		code = cli_error(ctx, rc, json);
	for (int i = 0; i < np && !code; i++)
		for (int j = 0; j < nb && !code; j++)
			if (pr[i].c[j].err[0] || pr[i].err[0])
				code = 1; /* a failed cell: the table is written, the exit status says so */
	if (!code && n_bad)
		code = 2;
out:
	for (int i = 0; i < REPORT_MAX_P; i++)
		free(pr[i].dets.d);
	odet_coco_eval_destroy(ev);
	free(gt);
	free(w);
	free(h);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_path_list_free(&paths);
	odet_ctx_destroy(ctx);
	return code;
}
