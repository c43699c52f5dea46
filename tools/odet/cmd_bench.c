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
#include "bench_core.h"
#include "bench_image.h"
#include "cli_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>









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



int cmd_bench(int argc, char **argv)
{
	const char *model = NULL;
	odet_build_opts o = odet_build_opts_default();
	long threads = 0, warmup = 3, streams = 1;
	double duration = 5.0;
	int verbose = 0, batch_given = 0, profile = 0, no_graph = 0, ordered = 0;
	const char *image = NULL;
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	cli_parser p;
	cli_parser_init(&p, "bench", "usage: odet bench MODEL(.plan|.onnx) [--batch N] [--duration S] [--warmup N]\n"
				     "                  [--threads N] [--head SPEC | --no-head] [--streams N] [--ordered] [--profile]\n"
				     "                  [--no-graph] [--image FILE] [--backend B] [--precision P] [--device K] [-v]\n"
				     "Measure throughput and latency on random inputs.\n");
	cli_positionals(&p, &model, NULL, NULL, 0);
	/* not through cli_add_build: bench must know whether a batch was asked for */
	cli_add(&p, (cli_opt){"--batch", CLI_INT, &o.batch, 1, 65536, .given = &batch_given, .arg = "N",
			      .help = "batch for an ONNX model (a plan keeps its own; default 1)"});
	cli_add(&p, (cli_opt){"--duration", CLI_DOUBLE, &duration, 0.001, 86400, .arg = "S",
			      .help = "seconds of timed runs (default 5)"});
	cli_add(&p, (cli_opt){"--warmup", CLI_LONG, &warmup, 0, 1000000, .arg = "N", .help = "untimed runs first (default 3)"});
	cli_add_build(&p, CLI_OPT_HEAD | CLI_OPT_NO_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &o, &threads, &verbose);
	cli_add(&p, (cli_opt){"--streams", CLI_LONG, &streams, 1, BENCH_MAX_STREAMS, .arg = "N",
			      .help = "GPU: N exec contexts in flight (own stream and arena, shared weights)"});
	cli_add(&p, (cli_opt){"--ordered", CLI_FLAG, &ordered,
			      .help = "GPU, with --streams: each context's nodes start after the previous\n"
				      "context's (copies still overlap compute; large batches)"});
	cli_add(&p, (cli_opt){"--profile", CLI_FLAG, &profile,
			      .help = "GPU: per-layer time (CUDA events, node by node), top layers first"});
	cli_add(&p, (cli_opt){"--no-graph", CLI_FLAG, &no_graph,
			      .help = "GPU: launch node by node instead of replaying a captured graph"});
	cli_add(&p, (cli_opt){"--image", CLI_STR, &image, .arg = "FILE",
			      .help = "end-to-end latency of one image file instead: read, decode (nvJPEG on\n"
				      "CUDA), letterbox, network + head, detections in memory, per call"});
	cli_add_engine(&p, &eo);
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "Prints images/s, latency min/median/p90/p99 per batch (GPU: split into H2D, compute,\n"
				      "D2H from CUDA events), then one JSON line."});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;
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
	bench_result br;
	if ((rc = bench_measure(&b, warmup, duration, &br))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	size_t count = br.runs;
	long nwarm = br.warmup;
	double wall_s = br.wall_s, ips = br.images_per_s;
	double (*st)[4] = br.st;
	const char *prec = b.d.precision == ODET_PRECISION_FP16 ? "fp16"
			   : b.d.precision == ODET_PRECISION_INT8 ? "int8"
			   : b.d.precision == ODET_PRECISION_FP8 ? "fp8"
			   : b.d.precision == ODET_PRECISION_BF16 ? "bf16" : "fp32";
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
	bench_free(&b);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
