/*
 * cmd_bench.c — `odet bench MODEL(.plan|.onnx) [--batch N] [--duration S] [--warmup N]
 * [--threads N]`: throughput (images/s) and latency (min, median, p90, p99 per batch) of
 * odet_exec_infer on random inputs (never zeros, uniform in ±[0.05, 1.05) for floats, small
 * positive integers otherwise), rotating over BENCH_BUFFERS input sets so that no run
 * sees the cache its predecessor left. Ends with one JSON line for scripts.
 *
 * Structure: one bench_iteration() per batch returning a bench_timing. On CPU only
 * `total` is measured; a CUDA backend will fill the H2D / compute / D2H split with
 * events and add --streams (several exec contexts in flight), without changing the
 * statistics or the report.
 */
#include "cli_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_BUFFERS 3

typedef struct bench_timing {
	double total_ms;
	double h2d_ms, compute_ms, d2h_ms; /* 0 on CPU: not separable */
} bench_timing;

typedef struct bench {
	odet_exec *x;
	int n_in, n_out;
	odet_tensor *in[BENCH_BUFFERS]; /* n_in tensors per buffer set */
	odet_tensor *out;
} bench;

static void usage(FILE *f)
{
	fprintf(f, "usage: odet bench MODEL(.plan|.onnx) [--batch N] [--duration S] [--warmup N]\n"
		   "                  [--threads N] [--head SPEC | --no-head] [-v]\n"
		   "Measure throughput and latency on random inputs (CPU backend for now).\n"
		   "  --batch N       batch for an ONNX model (a plan keeps its own; default 1)\n"
		   "  --duration S    seconds of timed runs (default 5)\n"
		   "  --warmup N      untimed runs first (default 3)\n"
		   "  --threads N     CPU threads (default: all cores)\n"
		   "  --head SPEC, --no-head   head for an ONNX model (default: recognized)\n"
		   "Prints images/s, latency min/median/p90/p99 per batch, then one JSON line.\n");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + 1e-6 * (double)ts.tv_nsec;
}

static void fill(odet_tensor *t, uint64_t *seed)
{
	int64_t n = odet_tensor_numel(t);
	for (int64_t i = 0; i < n; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(*seed >> 33);
		float f = 0.05f + (float)(r & 0xffff) / 65536.0f;
		if (r & 0x10000)
			f = -f;
		int64_t k = 1 + (int64_t)(r % 3);
		switch (t->dtype) {
		case ODET_F32: ((float *)t->data)[i] = f; break;
		case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(f); break;
		case ODET_F64: ((double *)t->data)[i] = f; break;
		case ODET_I64: ((int64_t *)t->data)[i] = k; break;
		case ODET_I32: ((int32_t *)t->data)[i] = (int32_t)k; break;
		case ODET_U8: ((uint8_t *)t->data)[i] = (uint8_t)(1 + r % 255); break;
		case ODET_BOOL: ((uint8_t *)t->data)[i] = 1; break;
		default: memset((char *)t->data + (size_t)i * odet_dtype_size(t->dtype), 1, odet_dtype_size(t->dtype));
		}
	}
}

static odet_status bench_setup(odet_engine *e, bench *b)
{
	odet_ctx *ctx = e->ctx;
	uint64_t seed = 0x0de7;
	memset(b, 0, sizeof *b);
	b->n_in = odet_engine_num_inputs(e);
	b->n_out = odet_engine_num_outputs(e);
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		if (!(b->in[s] = odet_calloc(ctx, (size_t)b->n_in + 1, sizeof(odet_tensor))))
			return ODET_ERR_NO_MEMORY;
		for (int i = 0; i < b->n_in; i++) {
			odet_engine_input_info(e, i, NULL, &b->in[s][i]);
			size_t bytes = (size_t)odet_tensor_numel(&b->in[s][i]) * odet_dtype_size(b->in[s][i].dtype);
			if (!(b->in[s][i].data = odet_aligned_alloc(ctx, bytes)))
				return ODET_ERR_NO_MEMORY;
			fill(&b->in[s][i], &seed);
		}
	}
	if (!(b->out = odet_calloc(ctx, (size_t)b->n_out + 1, sizeof(odet_tensor))))
		return ODET_ERR_NO_MEMORY;
	for (int i = 0; i < b->n_out; i++) {
		odet_engine_output_info(e, i, NULL, &b->out[i]);
		size_t bytes = (size_t)odet_tensor_numel(&b->out[i]) * odet_dtype_size(b->out[i].dtype);
		if (!(b->out[i].data = odet_aligned_alloc(ctx, bytes)))
			return ODET_ERR_NO_MEMORY;
	}
	return odet_exec_create(e, &b->x);
}

static void bench_free(bench *b)
{
	odet_exec_destroy(b->x);
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		for (int i = 0; b->in[s] && i < b->n_in; i++)
			odet_aligned_free(b->in[s][i].data);
		free(b->in[s]);
	}
	for (int i = 0; b->out && i < b->n_out; i++)
		odet_aligned_free(b->out[i].data);
	free(b->out);
}

/* One batch: inputs host → engine, run, outputs engine → host. */
static odet_status bench_iteration(bench *b, int set, bench_timing *t)
{
	double t0 = now_ms();
	odet_status rc = odet_exec_infer(b->x, b->in[set], b->n_in, b->out, b->n_out);
	t->total_ms = now_ms() - t0;
	t->h2d_ms = t->compute_ms = t->d2h_ms = 0;
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[i ? i - 1 : 0];
}

int cmd_bench(int argc, char **argv)
{
	const char *model = NULL;
	odet_build_opts o = odet_build_opts_default();
	long threads = 0, warmup = 3, n;
	double duration = 5.0;
	bool verbose = false, batch_given = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--batch")) {
			if (!(v = cli_arg("bench", argc, argv, &i)) || !cli_int("bench", a, v, 1, 65536, &n))
				return 2;
			o.batch = (int)n;
			batch_given = true;
		} else if (!strcmp(a, "--duration")) {
			if (!(v = cli_arg("bench", argc, argv, &i)) || !cli_double("bench", a, v, 0.001, 86400, &duration))
				return 2;
		} else if (!strcmp(a, "--warmup")) {
			if (!(v = cli_arg("bench", argc, argv, &i)) || !cli_int("bench", a, v, 0, 1000000, &warmup))
				return 2;
		} else if (!strcmp(a, "--threads")) {
			if (!(v = cli_arg("bench", argc, argv, &i)) || !cli_int("bench", a, v, 0, 256, &threads))
				return 2;
		} else if (!strcmp(a, "--head")) {
			if (!(o.head = cli_arg("bench", argc, argv, &i)))
				return 2;
		} else if (!strcmp(a, "--no-head")) {
			o.no_head = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = true;
		} else if (a[0] == '-' || model) {
			fprintf(stderr, "odet bench: unexpected argument '%s'\n", a);
			usage(stderr);
			return 2;
		} else {
			model = a;
		}
	}
	if (!model) {
		usage(stderr);
		return 2;
	}
	odet_ctx *ctx;
	if (cli_ctx((int)threads, verbose, &ctx))
		return 1;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	bench b;
	memset(&b, 0, sizeof b);
	double *lat = NULL;
	int ret = 0;
	odet_status rc;
	if (cli_is_plan(model)) {
		rc = odet_engine_load(ctx, model, 0, &e);
		if (!rc && batch_given && e->opts.batch != o.batch) {
			fprintf(stderr, "odet bench: %s was built for batch %d; rebuild it for batch %d\n", model,
				e->opts.batch, o.batch);
			ret = 2;
			goto out;
		}
	} else {
		rc = cli_load_graph(ctx, model, &g);
		if (!rc)
			rc = odet_engine_build(ctx, g, &o, &e);
	}
	if (rc) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	if ((rc = bench_setup(e, &b))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	bench_timing t;
	for (long i = 0; i < warmup; i++)
		if ((rc = bench_iteration(&b, (int)(i % BENCH_BUFFERS), &t))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
	size_t cap = 1024, count = 0;
	if (!(lat = malloc(cap * sizeof *lat))) {
		ret = cli_error(NULL, ODET_ERR_NO_MEMORY, "bench");
		goto out;
	}
	double start = now_ms(), end = start + duration * 1e3, stop;
	do {
		if ((rc = bench_iteration(&b, (int)(count % BENCH_BUFFERS), &t))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
		if (count == cap) {
			double *nl = realloc(lat, 2 * cap * sizeof *lat);
			if (!nl) {
				ret = cli_error(NULL, ODET_ERR_NO_MEMORY, "bench");
				goto out;
			}
			lat = nl;
			cap *= 2;
		}
		lat[count++] = t.total_ms;
		stop = now_ms();
	} while (stop < end);
	double wall_s = (stop - start) / 1e3;
	double ips = (double)count * e->opts.batch / wall_s;
	qsort(lat, count, sizeof *lat, cmp_double);
	double p50 = percentile(lat, count, 50), p90 = percentile(lat, count, 90),
	       p99 = percentile(lat, count, 99);
	printf("model:      %s (%s backend, batch %d, %d threads)\n", model, e->be->name, e->opts.batch,
	       ctx->opts.n_threads);
	printf("runs:       %zu in %.2f s after %ld warm-up runs, %d input buffers in rotation\n", count, wall_s,
	       warmup, BENCH_BUFFERS);
	printf("throughput: %.2f images/s\n", ips);
	printf("latency:    min %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms (per batch)\n", lat[0], p50,
	       p90, p99);
	printf("{\"model\":\"");
	for (const char *c = model; *c; c++) {
		if (*c == '"' || *c == '\\')
			putchar('\\');
		putchar((unsigned char)*c < 0x20 ? '?' : *c);
	}
	printf("\",\"backend\":\"%s\",\"batch\":%d,\"threads\":%d,\"runs\":%zu,\"seconds\":%.3f,"
	       "\"images_per_s\":%.3f,\"latency_ms\":{\"min\":%.4f,\"median\":%.4f,\"p90\":%.4f,\"p99\":%.4f}}\n",
	       e->be->name, e->opts.batch, ctx->opts.n_threads, count, wall_s, ips, lat[0], p50, p90, p99);
out:
	free(lat);
	bench_free(&b);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
