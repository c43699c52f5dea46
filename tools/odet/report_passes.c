/*
 * report_passes.c — `odet report MODEL --passes`: the optimization ladder. The imported graph
 * with no optimization (fp32; only shape computations folded, which static shapes need), then
 * each optimization added to the ones before, in issue 15's order: constant folding, BatchNorm
 * folding, conv fusion, NHWC layout, fp16, int8, CUDA graph replay, fused head. Per step an engine is built
 * (odet_build_opts.disable_passes, precision; odet_exec_set_graph_replay) and its latency
 * measured host to host with odet_exec_infer on one exec context: --warmup runs (100), then
 * --runs timed runs (200) on random inputs (bench_core.c's, 3 buffers in rotation); median,
 * p10 and p90, the speed-up of the step (over the last step that ran) and over the baseline.
 * A step the backend cannot do (fp16, layout and CUDA graph on the CPU; int8 without --calib) is
 * "n/a" with the reason; a step that fails to build or run is "failed" with its message (exit 1,
 * the table still written) and taken back: the next steps build on what ran. odet's NHWC layout
 * serves the tensor-core (fp16 / int8) kernels only, so on CUDA the layout step, at fp32, is n/a
 * (switched on, the same engine as the step before) and takes effect with fp16, the next step.
 * Uses odet.h only.
 */
#include "report_passes.h"

#include "bench_core.h"
#include "cli_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STEPS = 9 };

typedef struct step {
	const char *name;
	char status[16];     /* "ok", "n/a", "failed" */
	char why[256];       /* n/a reason or failure message */
	int nodes;
	double median, p10, p90, mean; /* ms per batch */
	double build_s;
	double speedup_step, speedup_total;
} step;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Build with o, time warmup + runs batches; fills s (status ok or failed). */
static void measure(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *o, bool replay, const rp_args *a, step *s)
{
	odet_engine *e = NULL;
	bench b;
	memset(&b, 0, sizeof b);
	double *ms = malloc(sizeof(double) * (size_t)a->runs);
	odet_status rc = ms ? ODET_OK : ODET_ERR_NO_MEMORY;
	double t0 = bench_now_ms();
	if (!rc)
		rc = odet_engine_build(ctx, g, o, &e);
	s->build_s = (bench_now_ms() - t0) / 1e3;
	if (!rc)
		rc = bench_setup(e, 1, &b);
	if (!rc) {
		odet_engine_desc d;
		odet_engine_describe(e, &d);
		s->nodes = d.nodes;
		odet_exec_set_graph_replay(b.slot[0].x, replay);
	}
	for (long i = 0; !rc && i < a->warmup + a->runs; i++) {
		double t = bench_now_ms();
		rc = odet_exec_infer(b.slot[0].x, b.in[i % BENCH_BUFFERS], b.n_in, b.slot[0].out, b.n_out);
		if (i >= a->warmup)
			ms[i - a->warmup] = bench_now_ms() - t;
	}
	if (rc) {
		snprintf(s->status, sizeof s->status, "failed");
		snprintf(s->why, sizeof s->why, "%s", *odet_ctx_last_error(ctx) ? odet_ctx_last_error(ctx) : odet_status_str(rc));
	} else {
		snprintf(s->status, sizeof s->status, "ok");
		qsort(ms, (size_t)a->runs, sizeof *ms, cmp_double);
		double sum = 0;
		for (long i = 0; i < a->runs; i++)
			sum += ms[i];
		s->mean = sum / (double)a->runs;
		s->median = a->runs % 2 ? ms[a->runs / 2] : 0.5 * (ms[a->runs / 2 - 1] + ms[a->runs / 2]);
		s->p10 = ms[(a->runs - 1) / 10];
		s->p90 = ms[(a->runs - 1) * 9 / 10];
	}
	free(ms);
	bench_free(&b);
	odet_engine_destroy(e);
}

static void na(step *s, const char *why)
{
	snprintf(s->status, sizeof s->status, "n/a");
	snprintf(s->why, sizeof s->why, "%s", why);
}

static void print_md(FILE *f, const rp_args *a, const char *backend, const step *s)
{
	fprintf(f, "odet report --passes: %s, %s backend, batch %d; latency host to host (odet_exec_infer), "
		   "%ld warm-up + %ld timed runs\n\n", a->model, backend, a->batch, a->warmup, a->runs);
	fprintf(f, "| step | nodes | median ms | p10 ms | p90 ms | speed-up of the step | total speed-up |\n");
	fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int i = 0; i < STEPS; i++) {
		char total[32] = "—";
		if (s[i].speedup_total > 0)
			snprintf(total, sizeof total, "%.2fx", s[i].speedup_total);
		if (!strcmp(s[i].status, "ok"))
			fprintf(f, "| %s | %d | %.3f | %.3f | %.3f | %.2fx | %s |\n", s[i].name, s[i].nodes, s[i].median,
				s[i].p10, s[i].p90, s[i].speedup_step, total);
		else
			fprintf(f, "| %s | %s%s%s | | | | | |\n", s[i].name, s[i].status, strcmp(s[i].status, "n/a") ? ": " : " ",
				s[i].why);
	}
}

static int write_json(const char *path, const rp_args *a, const char *backend, const step *s)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "odet report: %s: cannot write\n", tmp);
		return 1;
	}
	fprintf(f, "{\"model\":");
	cli_json_str(f, a->model);
	fprintf(f, ",\"backend\":\"%s\",\"batch\":%d,\"warmup\":%ld,\"runs\":%ld,\"timing\":\"host to host\",\"steps\":[",
		backend, a->batch, a->warmup, a->runs);
	for (int i = 0; i < STEPS; i++) {
		fprintf(f, "%s{\"step\":", i ? "," : "");
		cli_json_str(f, s[i].name);
		fprintf(f, ",\"status\":\"%s\"", s[i].status);
		if (!strcmp(s[i].status, "ok")) {
			fprintf(f, ",\"nodes\":%d,\"median_ms\":%.5f,\"p10_ms\":%.5f,\"p90_ms\":%.5f,\"mean_ms\":%.5f,"
				   "\"build_s\":%.3f,\"speedup_step\":%.4f,\"speedup_total\":",
				s[i].nodes, s[i].median, s[i].p10, s[i].p90, s[i].mean, s[i].build_s, s[i].speedup_step);
			if (s[i].speedup_total > 0) /* null: the baseline failed */
				fprintf(f, "%.4f}", s[i].speedup_total);
			else
				fprintf(f, "null}");
		} else {
			fprintf(f, ",\"reason\":");
			cli_json_str(f, s[i].why);
			fprintf(f, "}");
		}
	}
	fprintf(f, "]}\n");
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		remove(tmp);
		fprintf(stderr, "odet report: %s: cannot write\n", path);
		return 1;
	}
	return 0;
}

int report_passes(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *base, const rp_args *a)
{
	const unsigned all = ODET_PASS_FOLD_CONSTANTS | ODET_PASS_FOLD_BATCHNORM | ODET_PASS_FUSE_CONV | ODET_PASS_LAYOUT |
			     ODET_PASS_FUSE_HEAD;
	step s[STEPS];
	memset(s, 0, sizeof s);
	static const char *const names[STEPS] = {
		"imported graph, no optimization (fp32)", "+ constant folding", "+ BatchNorm folding", "+ conv fusion",
		"+ NHWC layout", "+ fp16", "+ int8", "+ CUDA graph", "+ fused head",
	};
	/* which backend: ask an engine of the default build */
	odet_engine *e = NULL;
	odet_build_opts o = *base;
	o.batch = a->batch;
	odet_status rc = odet_engine_build(ctx, g, &o, &e);
	if (rc)
		return cli_error(ctx, rc, a->model);
	odet_engine_desc d;
	odet_engine_describe(e, &d);
	char backend[16];
	snprintf(backend, sizeof backend, "%s", d.backend);
	odet_engine_destroy(e);
	const bool cuda = !strcmp(backend, "cuda");
	o.backend = cuda ? ODET_BACKEND_CUDA : ODET_BACKEND_CPU;
	o.precision = ODET_PRECISION_FP32;
	o.calib_cache = NULL;
	o.disable_passes = all;
	bool replay = false;
	int last = -1, code = 0;
	for (int i = 0; i < STEPS; i++) {
		s[i].name = names[i];
		const odet_build_opts before = o; /* a failed step is taken back: the next builds on what ran */
		const bool replay_before = replay;
		switch (i) {
		case 1: o.disable_passes &= ~(unsigned)ODET_PASS_FOLD_CONSTANTS; break;
		case 2: o.disable_passes &= ~(unsigned)ODET_PASS_FOLD_BATCHNORM; break;
		case 3: o.disable_passes &= ~(unsigned)ODET_PASS_FUSE_CONV; break;
		case 4:
			if (!cuda) {
				na(&s[i], "on this backend (the NHWC layout is for CUDA fp16/int8)");
				continue;
			}
			o.disable_passes &= ~(unsigned)ODET_PASS_LAYOUT;
			na(&s[i], "at fp32 (the NHWC layout is for the fp16/int8 kernels): switched on, it takes effect "
				  "with fp16");
			continue;
		case 5:
			if (!cuda) {
				na(&s[i], "on this backend (no fp16 kernels on the CPU)");
				continue;
			}
			o.precision = ODET_PRECISION_FP16;
			break;
		case 6:
			if (!a->calib) {
				na(&s[i], "without a calibration cache (--calib FILE)");
				continue;
			}
			o.precision = ODET_PRECISION_INT8;
			o.calib_cache = a->calib;
			break;
		case 7:
			if (!cuda) {
				na(&s[i], "on this backend (CUDA graphs are a GPU feature)");
				continue;
			}
			replay = true;
			break;
		case 8: o.disable_passes &= ~(unsigned)ODET_PASS_FUSE_HEAD; break;
		}
		fprintf(stderr, "odet report: --passes: %s\n", names[i]);
		measure(ctx, g, &o, replay, a, &s[i]);
		if (strcmp(s[i].status, "ok")) {
			code = 1;
			o = before;
			replay = replay_before;
			continue;
		}
		s[i].speedup_step = last >= 0 ? s[last].median / s[i].median : 1.0;
		s[i].speedup_total = !strcmp(s[0].status, "ok") ? s[0].median / s[i].median : -1;
		last = i;
	}
	print_md(stdout, a, backend, s);
	if (a->md) {
		FILE *f = fopen(a->md, "w");
		if (!f) {
			fprintf(stderr, "odet report: %s: cannot write\n", a->md);
			code = 1;
		} else {
			print_md(f, a, backend, s);
			if (fclose(f) != 0)
				code = 1;
		}
	}
	if (a->json && write_json(a->json, a, backend, s))
		code = 1;
	return code;
}
