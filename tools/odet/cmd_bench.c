/*
 * cmd_bench.c — `odet bench MODEL(.plan|.onnx) [--batch N] [--duration S] [--warmup N]
 * [--threads N]`: throughput (images/s) and latency (min, median, p90, p99 per batch) of
 * odet_exec_infer on random inputs (never zeros, uniform in ±[0.05, 1.05) for floats, small
 * positive integers otherwise), rotating over BENCH_BUFFERS input sets so that no run
 * sees the cache its predecessor left. Ends with one JSON line for scripts.
 *
 * Structure: one bench_iteration() per batch. On CPU only `total` is measured (host clock).
 * On a GPU backend (events): --streams N exec contexts are kept in flight round-robin with
 * odet_exec_submit (with --ordered each one's nodes wait for the previous context's, so only
 * copies overlap), the host buffers are page-locked (odet_host_alloc), and odet_exec_wait
 * reads each batch's total / H2D / compute / D2H when the slot comes round again;
 * --profile times every node (odet_exec_profile). Uses odet.h only.
 */
#include "bench_image.h"
#include "cli_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_BUFFERS 3

#define BENCH_MAX_STREAMS 16

typedef struct bench_timing {
	double total_ms;
	double h2d_ms, compute_ms, d2h_ms; /* 0 on CPU: not separable */
} bench_timing;

/* One exec context with its own output buffers. */
typedef struct bench_slot {
	odet_exec *x;
	odet_tensor *out;
	bool inflight;
} bench_slot;

typedef struct bench {
	odet_engine *e;
	odet_engine_desc d;
	int n_in, n_out, n_slots;
	odet_tensor *in[BENCH_BUFFERS]; /* n_in tensors per buffer set */
	bench_slot slot[BENCH_MAX_STREAMS];
	bool gpu;                       /* events, pinned host buffers, asynchronous slots */
	bool ordered;                   /* --ordered: a slot's nodes wait for the previous slot's */
} bench;

static void usage(FILE *f)
{
	fprintf(f, "usage: odet bench MODEL(.plan|.onnx) [--batch N] [--duration S] [--warmup N]\n"
		   "                  [--threads N] [--head SPEC | --no-head] [--streams N] [--ordered] [--profile]\n"
		   "                  [--no-graph] [--image FILE] [--backend B] [--precision P] [--device K] [-v]\n"
		   "Measure throughput and latency on random inputs.\n"
		   "  --batch N       batch for an ONNX model (a plan keeps its own; default 1)\n"
		   "  --duration S    seconds of timed runs (default 5)\n"
		   "  --warmup N      untimed runs first (default 3)\n"
		   "  --threads N     CPU threads (default: all cores)\n"
		   "  --head SPEC, --no-head   head for an ONNX model (default: recognized)\n"
		   "  --streams N     GPU: N exec contexts in flight (own stream and arena, shared weights)\n"
		   "  --ordered       GPU, with --streams: each context's nodes start after the previous\n"
		   "                  context's (copies still overlap compute; large batches)\n"
		   "  --profile       GPU: per-layer time (CUDA events, node by node), top layers first\n"
		   "  --no-graph      GPU: launch node by node instead of replaying a captured graph\n"
		   "  --image FILE    end-to-end latency of one image file instead: read, decode (nvJPEG on\n"
		   "                  CUDA), letterbox, network + head, detections in memory, per call\n"
		   CLI_ENGINE_USAGE
		   "Prints images/s, latency min/median/p90/p99 per batch (GPU: split into H2D, compute,\n"
		   "D2H from CUDA events), then one JSON line.\n");
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

static odet_status bench_setup(odet_engine *e, int n_slots, bench *b)
{
	uint64_t seed = 0x0de7;
	odet_status rc;
	memset(b, 0, sizeof *b);
	b->e = e;
	if ((rc = odet_engine_describe(e, &b->d)))
		return rc;
	b->gpu = b->d.events;
	b->n_in = odet_engine_num_inputs(e);
	b->n_out = odet_engine_num_outputs(e);
	b->n_slots = b->gpu ? n_slots : 1;
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		if (!(b->in[s] = calloc((size_t)b->n_in + 1, sizeof(odet_tensor))))
			return ODET_ERR_NO_MEMORY;
		for (int i = 0; i < b->n_in; i++) {
			odet_engine_input_info(e, i, NULL, &b->in[s][i]);
			size_t bytes = (size_t)odet_tensor_numel(&b->in[s][i]) * odet_dtype_size(b->in[s][i].dtype);
			if ((rc = odet_host_alloc(e, bytes, &b->in[s][i].data)))
				return rc;
			fill(&b->in[s][i], &seed);
		}
	}
	for (int k = 0; k < b->n_slots; k++) {
		bench_slot *sl = &b->slot[k];
		if (!(sl->out = calloc((size_t)b->n_out + 1, sizeof(odet_tensor))))
			return ODET_ERR_NO_MEMORY;
		for (int i = 0; i < b->n_out; i++) {
			odet_engine_output_info(e, i, NULL, &sl->out[i]);
			size_t bytes = (size_t)odet_tensor_numel(&sl->out[i]) * odet_dtype_size(sl->out[i].dtype);
			if ((rc = odet_host_alloc(e, bytes, &sl->out[i].data)))
				return rc;
		}
		if ((rc = odet_exec_create(e, &sl->x)))
			return rc;
	}
	return ODET_OK;
}

static void bench_free(bench *b)
{
	for (int k = 0; k < b->n_slots; k++) {
		bench_slot *sl = &b->slot[k];
		odet_exec_destroy(sl->x); /* waits for a batch in flight */
		for (int i = 0; sl->out && i < b->n_out; i++)
			odet_host_free(b->e, sl->out[i].data);
		free(sl->out);
	}
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		for (int i = 0; b->in[s] && i < b->n_in; i++)
			odet_host_free(b->e, b->in[s][i].data);
		free(b->in[s]);
	}
}

/* Wait for slot k's batch in flight (if any) and read its event times. */
static odet_status slot_finish(bench *b, int k, bench_timing *t, bool *got)
{
	bench_slot *sl = &b->slot[k];
	*got = false;
	if (!sl->inflight)
		return ODET_OK;
	sl->inflight = false;
	odet_exec_timing tm;
	odet_status rc = odet_exec_wait(sl->x, &tm);
	if (rc)
		return rc;
	t->h2d_ms = tm.h2d_ms;
	t->compute_ms = tm.compute_ms;
	t->d2h_ms = tm.d2h_ms;
	t->total_ms = tm.total_ms;
	*got = true;
	return ODET_OK;
}

/* One batch. CPU: inputs host → engine, run, outputs engine → host, timed on the host.
 * GPU: the next slot's previous batch is waited for (its times reported), then this batch
 * is enqueued on that slot without waiting. */
static odet_status bench_iteration(bench *b, long iter, bench_timing *t, bool *got)
{
	int set = (int)(iter % BENCH_BUFFERS);
	if (!b->gpu) {
		double t0 = now_ms();
		odet_status rc = odet_exec_infer(b->slot[0].x, b->in[set], b->n_in, b->slot[0].out, b->n_out);
		t->total_ms = now_ms() - t0;
		t->h2d_ms = t->compute_ms = t->d2h_ms = 0;
		*got = true;
		return rc;
	}
	int k = (int)(iter % b->n_slots);
	odet_status rc = slot_finish(b, k, t, got);
	if (rc)
		return rc;
	bench_slot *sl = &b->slot[k];
	const odet_exec *after = b->ordered && b->n_slots > 1 ? b->slot[(k + b->n_slots - 1) % b->n_slots].x : NULL;
	if ((rc = odet_exec_submit(sl->x, b->in[set], b->n_in, sl->out, b->n_out, after)))
		return rc;
	sl->inflight = true;
	return ODET_OK;
}

typedef struct prof_row {
	int node;
	double ms;
} prof_row;

static int cmp_prof(const void *a, const void *b)
{
	double x = ((const prof_row *)a)->ms, y = ((const prof_row *)b)->ms;
	return (x < y) - (x > y);
}

/* --profile: node-by-node runs with an event after each node; median of `reps` runs per
 * node; top layers first with their share and their fraction of the fp16 tensor-core
 * ceiling (777 TFLOP/s on H100) for layers with a FLOP count. */
static odet_status bench_profile(bench *b, int reps)
{
	const odet_graph *g = odet_engine_graph(b->e);
	int nn = odet_graph_num_nodes(g);
	odet_exec *x = b->slot[0].x;
	float *ms = calloc((size_t)nn * (size_t)reps + 1, sizeof *ms);
	prof_row *rows = calloc((size_t)nn + 1, sizeof *rows);
	float *col = calloc((size_t)reps + 1, sizeof *col);
	odet_node_info *node = calloc((size_t)nn + 1, sizeof *node);
	odet_status rc = ODET_OK;
	if (!ms || !rows || !col || !node) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int i = 0; i < nn; i++)
		if ((rc = odet_graph_node(g, i, &node[i])))
			goto out_free;
	for (int r = 0; r < reps; r++)
		if ((rc = odet_exec_profile(x, b->in[r % BENCH_BUFFERS], b->n_in, b->slot[0].out, b->n_out,
					    ms + (size_t)r * nn)))
			goto out_free;
	double total = 0;
	for (int i = 0; i < nn; i++) {
		for (int r = 0; r < reps; r++)
			col[r] = ms[(size_t)r * nn + i];
		/* median by insertion sort (reps is small) */
		for (int p = 1; p < reps; p++)
			for (int q = p; q > 0 && col[q - 1] > col[q]; q--) {
				float tmp = col[q];
				col[q] = col[q - 1];
				col[q - 1] = tmp;
			}
		rows[i].node = i;
		rows[i].ms = col[reps / 2];
		total += rows[i].ms;
	}
	qsort(rows, (size_t)nn, sizeof *rows, cmp_prof);
	printf("profile:    %d nodes, %.3f ms per batch node by node (median of %d runs per node)\n", nn, total,
	       reps);
	printf("  %-4s %-40s %-16s %9s %6s %7s %9s\n", "rank", "node", "op", "ms", "%", "cum%", "TFLOP/s");
	double cum = 0;
	for (int i = 0; i < nn; i++) {
		const odet_node_info *n = &node[rows[i].node];
		cum += rows[i].ms;
		double tf = rows[i].ms > 0 ? (double)n->flops / (rows[i].ms * 1e-3) / 1e12 : 0;
		if (i < 30 || rows[i].ms > 0.05 * total)
			printf("  %-4d %-40.40s %-16.16s %9.4f %6.2f %7.2f %9.1f\n", i + 1, n->name, n->op,
			       rows[i].ms, 100 * rows[i].ms / total, 100 * cum / total, tf);
	}
	/* per-op summary, ops in order of first appearance */
	printf("  by op:\n");
	for (int first = 0; first < nn; first++) {
		bool seen = false;
		for (int j = 0; j < first && !seen; j++)
			seen = !strcmp(node[j].op, node[first].op);
		if (seen)
			continue;
		double t = 0, fl = 0;
		int cnt = 0;
		for (int i = 0; i < nn; i++)
			if (!strcmp(node[i].op, node[first].op)) {
				for (int r = 0; r < nn; r++)
					if (rows[r].node == i)
						t += rows[r].ms;
				fl += (double)node[i].flops;
				cnt++;
			}
		printf("    %-16s %4d nodes %9.4f ms %6.2f%%  %7.1f TFLOP/s (%.1f%% of 777)\n", node[first].op, cnt, t,
		       100 * t / total, t > 0 ? fl / (t * 1e-3) / 1e12 : 0, t > 0 ? 100 * fl / (t * 1e-3) / 777e12 : 0);
	}
out_free:
	free(ms);
	free(rows);
	free(col);
	free(node);
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
	long threads = 0, warmup = 3, n, streams = 1;
	double duration = 5.0;
	int verbose = 0;
	bool batch_given = false, profile = false, no_graph = false, ordered = false;
	const char *image = NULL;
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int eok = cli_engine_opt("bench", argc, argv, &i, &eo);
		if (eok == 0)
			eok = cli_build_opt("bench", argc, argv, &i, CLI_OPT_HEAD | CLI_OPT_NO_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE,
					    &o, &threads, &verbose);
		if (eok < 0)
			return 2;
		if (eok > 0) {
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--batch")) {
			/* not through cli_build_opt: bench must know whether a batch was asked for */
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
		} else if (!strcmp(a, "--streams")) {
			if (!(v = cli_arg("bench", argc, argv, &i)) ||
			    !cli_int("bench", a, v, 1, BENCH_MAX_STREAMS, &streams))
				return 2;
		} else if (!strcmp(a, "--image")) {
			if (!(image = cli_arg("bench", argc, argv, &i)))
				return 2;
		} else if (!strcmp(a, "--profile")) {
			profile = true;
		} else if (!strcmp(a, "--ordered")) {
			ordered = true;
		} else if (!strcmp(a, "--no-graph")) {
			no_graph = true;
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
	if (image) {
		cli_engine_apply(&eo, &o);
		o.batch = batch_given ? o.batch : 0;
		int r = bench_image(ctx, model, image, &o, eo.device, duration, warmup, -1);
		odet_ctx_destroy(ctx);
		return r;
	}
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	bench b;
	memset(&b, 0, sizeof b);
	double *lat = NULL;
	int ret = 0;
	odet_status rc;
	if (cli_is_plan(model)) {
		odet_engine_desc d;
		rc = odet_engine_load(ctx, model, eo.device, &e);
		if (!rc && batch_given && !odet_engine_describe(e, &d) && d.batch != o.batch) {
			fprintf(stderr, "odet bench: %s was built for batch %d; rebuild it for batch %d\n", model,
				d.batch, o.batch);
			ret = 2;
			goto out;
		}
	} else {
		rc = cli_load_graph(ctx, model, &g);
		cli_engine_apply(&eo, &o);
		if (!rc)
			rc = odet_engine_build(ctx, g, &o, &e);
	}
	if (rc) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	if ((rc = bench_setup(e, (int)streams, &b))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	for (int k = 0; k < b.n_slots; k++)
		odet_exec_set_graph_replay(b.slot[k].x, !no_graph);
	b.ordered = ordered && b.gpu;
	bench_timing t;
	bool got;
	/* warm-up: every slot runs at least twice (the second run captures its graph) */
	long nwarm = warmup > 2L * b.n_slots ? warmup : 2L * b.n_slots;
	for (long i = 0; i < nwarm; i++)
		if ((rc = bench_iteration(&b, i, &t, &got))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
	for (int k = 0; k < b.n_slots; k++)
		if ((rc = slot_finish(&b, k, &t, &got))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
	size_t cap = 1024, count = 0, launched = 0;
	if (!(lat = malloc(4 * cap * sizeof *lat))) {
		ret = cli_error(NULL, ODET_ERR_NO_MEMORY, "bench");
		goto out;
	}
	double start = now_ms(), end = start + duration * 1e3, stop;
	bool draining = false;
	for (long i = 0;; i++) {
		stop = now_ms();
		if (!draining && stop >= end)
			draining = true;
		if (draining) {
			/* collect the batches still in flight */
			int k = (int)(i % b.n_slots);
			if (!b.gpu || launched == count)
				break;
			rc = slot_finish(&b, k, &t, &got);
		} else {
			rc = bench_iteration(&b, i, &t, &got);
			launched++;
		}
		if (rc) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
		if (!got)
			continue;
		if (count == cap) {
			/* four series of cap values each: move the upper three to their new offsets */
			double *nl = realloc(lat, 2 * 4 * cap * sizeof *lat);
			if (!nl) {
				ret = cli_error(NULL, ODET_ERR_NO_MEMORY, "bench");
				goto out;
			}
			lat = nl;
			for (int k = 3; k >= 1; k--)
				memmove(lat + 2 * k * cap, lat + k * cap, (size_t)count * sizeof *lat);
			cap *= 2;
		}
		lat[count] = t.total_ms;
		lat[cap + count] = t.h2d_ms;
		lat[2 * cap + count] = t.compute_ms;
		lat[3 * cap + count] = t.d2h_ms;
		count++;
	}
	stop = now_ms();
	if (!count) {
		ret = cli_error(ctx, ODET_ERR_INTERNAL, "bench: no batch completed");
		goto out;
	}
	double wall_s = (stop - start) / 1e3;
	double ips = (double)count * b.d.batch / wall_s;
	double st[4][4]; /* [total,h2d,compute,d2h][min,p50,p90,p99] */
	for (int c = 0; c < 4; c++) {
		double *col = lat + (size_t)c * cap;
		qsort(col, count, sizeof *col, cmp_double);
		st[c][0] = col[0];
		st[c][1] = percentile(col, count, 50);
		st[c][2] = percentile(col, count, 90);
		st[c][3] = percentile(col, count, 99);
	}
	const char *prec = b.d.precision == ODET_PRECISION_FP16 ? "fp16"
			   : b.d.precision == ODET_PRECISION_INT8 ? "int8"
			   : b.d.precision == ODET_PRECISION_FP8 ? "fp8" : "fp32";
	bool graphs = b.gpu && odet_exec_graph_replay(b.slot[0].x);
	int n_threads = odet_ctx_num_threads(ctx);
	if (b.gpu)
		printf("model:      %s (%s backend, %s, batch %d, device %d, %d stream%s%s, %s)\n", model, b.d.backend,
		       prec, b.d.batch, b.d.device, b.n_slots, b.n_slots > 1 ? "s" : "",
		       b.ordered && b.n_slots > 1 ? " with ordered compute" : "", graphs ? "graph replay" : "node by node");
	else
		printf("model:      %s (%s backend, batch %d, %d threads)\n", model, b.d.backend, b.d.batch,
		       n_threads);
	printf("runs:       %zu in %.2f s after %ld warm-up runs, %d input buffers in rotation\n", count, wall_s,
	       nwarm, BENCH_BUFFERS);
	printf("throughput: %.2f images/s\n", ips);
	printf("latency:    min %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms (per batch%s)\n", st[0][0],
	       st[0][1], st[0][2], st[0][3], b.gpu ? ", CUDA events H2D start to D2H end" : "");
	if (b.gpu) {
		static const char *const nm[4] = {"", "H2D", "compute", "D2H"};
		for (int c = 1; c < 4; c++)
			printf("  %-8s  min %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms\n", nm[c], st[c][0],
			       st[c][1], st[c][2], st[c][3]);
	}
	printf("{\"model\":\"");
	for (const char *c = model; *c; c++) {
		if (*c == '"' || *c == '\\')
			putchar('\\');
		putchar((unsigned char)*c < 0x20 ? '?' : *c);
	}
	printf("\",\"backend\":\"%s\",\"precision\":\"%s\",\"batch\":%d,\"threads\":%d,\"streams\":%d,"
	       "\"ordered\":%s,\"graph\":%s,\"runs\":%zu,\"seconds\":%.3f,"
	       "\"images_per_s\":%.3f,\"latency_ms\":{\"min\":%.4f,\"median\":%.4f,\"p90\":%.4f,\"p99\":%.4f}",
	       b.d.backend, prec, b.d.batch, n_threads, b.n_slots, b.ordered ? "true" : "false",
	       graphs ? "true" : "false", count,
	       wall_s, ips, st[0][0], st[0][1], st[0][2], st[0][3]);
	if (b.gpu) {
		static const char *const key[4] = {"", "h2d_ms", "compute_ms", "d2h_ms"};
		for (int c = 1; c < 4; c++)
			printf(",\"%s\":{\"min\":%.4f,\"median\":%.4f,\"p90\":%.4f,\"p99\":%.4f}", key[c], st[c][0],
			       st[c][1], st[c][2], st[c][3]);
	}
	printf("}\n");
	if (profile) {
		if (!b.gpu) {
			fprintf(stderr, "odet bench: --profile needs a GPU backend (CUDA events)\n");
		} else if ((rc = bench_profile(&b, 5))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
	}
out:
	free(lat);
	bench_free(&b);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
