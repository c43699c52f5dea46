/*
 * prof_nodes.c — per-node CPU profile of a model (benchmark tool, not a test).
 *
 *   prof_nodes MODEL.onnx [--batch B] [--threads T] [--runs R] [--top K] [--size S] [--bf16 1]
 *                [--calib FILE (int8)] [--head 1]
 *
 * Builds the raw network (no head) through engine_build_with() with a copy of the CPU
 * backend whose run() is wrapped by a clock_gettime timer (src/engine and the CPU kernels
 * are untouched). After 2 warm-up runs it runs R times (random input) and prints per node
 * the median time over the runs, sorted descending, the top K, then totals per op type and
 * the median and minimum end-to-end latency (of odet_exec_infer, also timed) and the process's
 * CPU time per run (user + system; with OMP_WAIT_POLICY=passive a load-robust work measure).
 */
#include "backend/cpu/conv.h"
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_RUNS 64

/* per-node samples of the current process (a benchmark tool: one model per process) */
static double *g_samples; /* [n_nodes][MAX_RUNS] */
static int g_run;
static const odet_backend *g_cpu;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static odet_status timed_run(const be_run_args *a)
{
	double t0 = now_s();
	odet_status rc = g_cpu->run(a);
	double t = now_s() - t0;
	int i = (int)(a->node - a->g->nodes);
	if (g_samples && g_run >= 0 && g_run < MAX_RUNS)
		g_samples[(size_t)i * MAX_RUNS + g_run] = t;
	return rc;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp_d);
	return n ? v[n / 2] : 0;
}

typedef struct row {
	int node;
	double ms;
} row;

static int cmp_row(const void *a, const void *b)
{
	double x = ((const row *)a)->ms, y = ((const row *)b)->ms;
	return x > y ? -1 : x < y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: prof_nodes MODEL [--batch B] [--threads T] [--runs R] [--top K] [--size S] "
			"[--bf16 1] [--calib FILE] [--head 1]\n");
		return 2;
	}
	int batch = 1, threads = 2, runs = 7, top = 15, size = 0, bf16 = 0;
	const char *calib = NULL;
	int head = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		int v = atoi(argv[i + 1]);
		if (!strcmp(argv[i], "--batch"))
			batch = v;
		else if (!strcmp(argv[i], "--threads"))
			threads = v;
		else if (!strcmp(argv[i], "--runs"))
			runs = v;
		else if (!strcmp(argv[i], "--top"))
			top = v;
		else if (!strcmp(argv[i], "--size"))
			size = v;
		else if (!strcmp(argv[i], "--bf16"))
			bf16 = v;
		else if (!strcmp(argv[i], "--calib"))
			calib = argv[i + 1];
		else if (!strcmp(argv[i], "--head"))
			head = v;
	}
	if (runs < 1 || runs > MAX_RUNS)
		runs = 7;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = threads;
	co.log_level = ODET_LOG_WARN;
	odet_ctx *ctx;
	odet_graph *g;
	odet_engine *e;
	odet_exec *x;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	if (odet_graph_load(ctx, argv[1], &g)) {
		fprintf(stderr, "%s\n", odet_ctx_last_error(ctx));
		return 1;
	}
	g_cpu = odet_backend_cpu();
	odet_backend be = *g_cpu;
	be.run = timed_run;
	odet_build_opts bo = odet_build_opts_default();
	bo.backend = ODET_BACKEND_CPU;
	bo.batch = batch;
	bo.no_head = !head;
	bo.input_h = bo.input_w = size;
	if (bf16)
		bo.precision = ODET_PRECISION_BF16;
	if (calib) {
		bo.precision = ODET_PRECISION_INT8;
		bo.calib_cache = calib;
	}
	if (engine_build_with(ctx, g, &bo, &be, true, &e) || odet_exec_create(e, &x)) {
		fprintf(stderr, "%s\n", odet_ctx_last_error(ctx));
		return 1;
	}
	const ir_graph *eg = e->g;
	odet_tensor in[8], out[16];
	int n_in = eg->n_inputs, n_out = eg->n_outputs;
	if (n_in > 8 || n_out > 16)
		return 1;
	for (int i = 0; i < n_in; i++) {
		odet_engine_input_info(e, i, NULL, &in[i]);
		int64_t n = odet_tensor_numel(&in[i]);
		float *d = malloc((size_t)n * sizeof *d);
		for (int64_t k = 0; k < n; k++)
			d[k] = (float)rand() / RAND_MAX;
		in[i].data = d;
	}
	for (int i = 0; i < n_out; i++) {
		odet_engine_output_info(e, i, NULL, &out[i]);
		out[i].data = malloc((size_t)odet_tensor_numel(&out[i]) * 8);
	}
	g_samples = calloc((size_t)eg->n_nodes * MAX_RUNS, sizeof *g_samples);
	double total[MAX_RUNS];
	g_run = -1;
	double cpu0 = 0;
	for (int r = -2; r < runs; r++) {
		g_run = r;
		if (r == 0)
			cpu0 = cpu_s();
		double t0 = now_s();
		if (odet_exec_infer(x, in, n_in, out, n_out)) {
			fprintf(stderr, "%s\n", odet_ctx_last_error(ctx));
			return 1;
		}
		if (r >= 0)
			total[r] = now_s() - t0;
	}
	row *rows = calloc(eg->n_nodes, sizeof *rows);
	double sum = 0;
	for (int i = 0; i < eg->n_nodes; i++) {
		rows[i].node = i;
		rows[i].ms = median(g_samples + (size_t)i * MAX_RUNS, runs) * 1e3;
		sum += rows[i].ms;
	}
	qsort(rows, eg->n_nodes, sizeof *rows, cmp_row);
	double cpu_ms = (cpu_s() - cpu0) * 1e3 / runs;
	double e2e = median(total, runs) * 1e3, e2e_min = total[0] * 1e3; /* sorted by median() */
	printf("%s batch %d threads %d: end-to-end median %.1f ms (min %.1f, process CPU %.1f ms/run), sum of node medians %.1f ms, %d nodes\n",
	       argv[1], batch, threads, e2e, e2e_min, cpu_ms, sum, eg->n_nodes);
	for (int k = 0; k < top && k < eg->n_nodes; k++) {
		const ir_node *n = &eg->nodes[rows[k].node];
		const ir_value *x0 = n->n_in ? ir_in(eg, n, 0) : NULL, *y0 = ir_out(eg, n, 0);
		char bx[96] = "", by[96] = "";
		if (x0)
			ir_shape_str(x0, bx, sizeof bx);
		if (y0)
			ir_shape_str(y0, by, sizeof by);
		printf("%8.2f ms %5.1f%%  %-12s %-28s %s -> %s%s%s\n", rows[k].ms, 100 * rows[k].ms / sum,
		       ir_op_name(n->op), n->name, bx, by, n->op == IR_OP_CONV ? "  " : "",
		       n->op == IR_OP_CONV    ? cpu_conv_impl_name(e->state[rows[k].node])
		       : n->op == IR_OP_QCONV ? cpu_qconv_impl_name(e->state[rows[k].node])
					      : "");
	}
	/* per op type */
	double per_op[IR_OP_COUNT] = {0};
	int cnt[IR_OP_COUNT] = {0};
	for (int i = 0; i < eg->n_nodes; i++) {
		per_op[eg->nodes[rows[i].node].op] += rows[i].ms;
		cnt[eg->nodes[rows[i].node].op]++;
	}
	printf("per op:");
	for (int o = 0; o < IR_OP_COUNT; o++)
		if (cnt[o])
			printf("  %s %.1f ms (%d)", ir_op_name(o), per_op[o], cnt[o]);
	printf("\n");
	return 0;
}
