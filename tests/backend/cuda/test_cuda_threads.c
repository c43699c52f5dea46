/*
 * test_cuda_threads.c — one CUDA engine run by several threads at once, each with its own
 * exec context (odet.h's thread rules), and who owns the library handles (cuda_core.h):
 *   - a seeded network with the library-backed ops (two 3x3 Convs with bias, a residual Add
 *     and ReLUs, GlobalAveragePool, Flatten, a Gemm with a constant bias and one whose bias is
 *     computed, in each exec context's own memory), built fp32 and fp16 (NHWC convs: cuDNN's
 *     backend-API graphs are among the candidates); its outputs near the CPU engine's;
 *   - 4 threads create their exec contexts at the same time and run 6 different batches each
 *     in rotated order (graph capture and replay included): every output equals, byte for
 *     byte, what one exec context computed for that batch alone;
 *   - the handles, counted through the context's debug log: building makes one cuDNN and one
 *     cuBLASLt handle for the engine (not one per node), each exec context one of each; and the
 *     build's one tuning line (cuda_dev_state_prepared) counts its two convolutions.
 * Exit code 77 (ctest: skipped) when no CUDA backend or no device is present.
 * usage: test_cuda_threads [-v]   (-v: print the handle messages)
 */
#include "cuda_test.h"
#include "graph_build.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define BATCHES 6
#define MAX_IO 3

static int verbose;

/* handle messages of cuda_handles.cu, counted from any thread */
static int n_engine_dnn, n_engine_lt, n_exec, n_exec_lt, n_tuning_lines, n_tuned_convs;

static void on_log(void *user, odet_log_level level, const char *msg)
{
	(void)user;
	(void)level;
	if (strncmp(msg, "cuda: ", 6))
		return;
	if (verbose)
		printf("    log: %s\n", msg);
	int convs = 0;
	if (sscanf(msg, "cuda: %d convolutions prepared", &convs) == 1) {
		__atomic_fetch_add(&n_tuning_lines, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&n_tuned_convs, convs, __ATOMIC_SEQ_CST);
	} else if (strstr(msg, "engine's cuDNN handle"))
		__atomic_fetch_add(&n_engine_dnn, 1, __ATOMIC_SEQ_CST);
	else if (strstr(msg, "engine's cuBLASLt handle"))
		__atomic_fetch_add(&n_engine_lt, 1, __ATOMIC_SEQ_CST);
	else if (strstr(msg, "exec context's cuDNN handle")) {
		__atomic_fetch_add(&n_exec, 1, __ATOMIC_SEQ_CST);
		if (strstr(msg, "cuBLASLt"))
			__atomic_fetch_add(&n_exec_lt, 1, __ATOMIC_SEQ_CST);
	}
}

static int unary(ir_graph *g, ir_op op, const char *name, int x)
{
	int y = test_graph_value(g, name);
	ir_node_add(g, op, name, 1, &x, 1, &y);
	return y;
}

/* x [4,16,24,24] -> conv1 -> relu -> conv2 (+ relu1) -> relu = out 0 -> GAP -> Flatten f -> Gemm = out 1;
 * out 2 = Gemm(f, w2, C = f[0:1, 0:10]) */
static ir_graph *net(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {4, 16, 24, 24};
	int x = test_graph_input(g, "x", ODET_F32, 4, xd);
	int r1 = unary(g, IR_OP_RELU, "relu1", cuda_test_conv(g, "conv1", x, 16, 32, 3, 1, 1.0f / sqrtf(16 * 9), 0.2f));
	int c2 = cuda_test_conv(g, "conv2", r1, 32, 32, 3, 1, 1.0f / sqrtf(32 * 9), 0.2f);
	int sum = test_graph_value(g, "sum");
	ir_node_add(g, IR_OP_ADD, "add", 2, (int[]){c2, r1}, 1, &sum);
	int r2 = unary(g, IR_OP_RELU, "relu2", sum);
	int flat = unary(g, IR_OP_FLATTEN, "flat", unary(g, IR_OP_GLOBALAVGPOOL, "gap", r2));
	int64_t wd[2] = {10, 32}, bd[1] = {10};
	int w = cuda_test_const(g, "fc_w", 2, wd, 0.3f), b = cuda_test_const(g, "fc_b", 1, bd, 0.5f);
	int y = test_graph_value(g, "fc");
	int node = ir_node_add(g, IR_OP_GEMM, "fc", 3, (int[]){flat, w, b}, 1, &y);
	ir_attr_set_int(g, node, "transB", 1);
	int64_t two[1] = {2}, *st = calloc(2, sizeof(int64_t)), *en = malloc(2 * sizeof(int64_t));
	en[0] = 1;
	en[1] = 10;
	int bias = test_graph_value(g, "fc2_bias"), w2 = cuda_test_const(g, "fc2_w", 2, wd, 0.3f);
	ir_node_add(g, IR_OP_SLICE, "fc2_bias", 3,
		    (int[]){flat, ir_const_add(g, "fc2_st", ODET_I64, 1, two, st), ir_const_add(g, "fc2_en", ODET_I64, 1, two, en)},
		    1, &bias);
	int y2 = test_graph_value(g, "fc2");
	node = ir_node_add(g, IR_OP_GEMM, "fc2", 3, (int[]){flat, w2, bias}, 1, &y2);
	ir_attr_set_int(g, node, "transB", 1);
	test_graph_output(g, r2);
	test_graph_output(g, y);
	test_graph_output(g, y2);
	return g;
}

typedef struct shared {
	odet_engine *e;
	int no;
	odet_tensor in[BATCHES];
	odet_tensor ref[BATCHES][MAX_IO];
} shared;

typedef struct worker {
	shared *s;
	int id, errors, mismatches;
} worker;

/* max |a - b| / max |a| over the float outputs */
static double rel_err(int no, const odet_tensor *a, const odet_tensor *b)
{
	double worst = 0;
	for (int i = 0; i < no; i++) {
		const float *p = a[i].data, *q = b[i].data;
		int64_t n = odet_tensor_numel(&a[i]);
		double mx = 1e-6, err = 0;
		for (int64_t k = 0; k < n; k++)
			mx = fmax(mx, fabs(p[k]));
		for (int64_t k = 0; k < n; k++)
			err = q[k] == q[k] ? fmax(err, fabs((double)p[k] - q[k])) : INFINITY;
		worst = fmax(worst, err / mx);
	}
	return worst;
}

static bool same(int no, const odet_tensor *a, const odet_tensor *b)
{
	for (int i = 0; i < no; i++)
		if (memcmp(a[i].data, b[i].data, odet_dtype_size(a[i].dtype) * (size_t)odet_tensor_numel(&a[i])))
			return false;
	return true;
}

static void *work(void *arg)
{
	worker *w = arg;
	odet_tensor o[MAX_IO];
	odet_exec *x = NULL;
	memset(o, 0, sizeof o);
	if (odet_exec_create(w->s->e, &x) || !cuda_test_outputs(w->s->e, w->s->no, o)) {
		w->errors++;
		goto out;
	}
	for (int r = 0; r < BATCHES; r++) {
		int b = (r + w->id) % BATCHES; /* threads on different batches at once */
		if (odet_exec_infer(x, &w->s->in[b], 1, o, w->s->no))
			w->errors++;
		else if (!same(w->s->no, o, w->s->ref[b]))
			w->mismatches++;
	}
out:
	cuda_test_outputs_free(w->s->no, o);
	odet_exec_destroy(x);
	return NULL;
}

static void test_engine(odet_ctx *ctx, const ir_graph *g, odet_precision prec, odet_exec *cpu)
{
	const char *what = prec == ODET_PRECISION_FP16 ? "fp16" : "fp32";
	odet_build_opts o = odet_build_opts_default();
	o.no_head = 1;
	o.backend = ODET_BACKEND_CUDA;
	o.precision = prec;
	odet_engine *e = NULL;
	n_engine_dnn = n_engine_lt = n_exec = n_exec_lt = n_tuning_lines = n_tuned_convs = 0;
	odet_status rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK, "%s: build: %s", what, odet_ctx_last_error(ctx));
	if (rc)
		return;
	/* one cuDNN handle for the engine's two convolutions, one cuBLASLt for its Gemm */
	CHECK_MSG(n_engine_dnn == 1 && n_engine_lt == 1, "%s: build made %d cuDNN and %d cuBLASLt engine handles",
		  what, n_engine_dnn, n_engine_lt);
	CHECK_MSG(n_tuning_lines == 1 && n_tuned_convs == 2, "%s: %d tuning lines, %d convolutions counted", what,
		  n_tuning_lines, n_tuned_convs);
	shared s;
	memset(&s, 0, sizeof s);
	s.e = e;
	s.no = odet_engine_num_outputs(e);
	CHECK(s.no == MAX_IO);
	odet_exec *x = NULL;
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	for (int b = 0; b < BATCHES && x; b++) {
		odet_engine_input_info(e, 0, NULL, &s.in[b]);
		CHECK(s.in[b].dtype == ODET_F32);
		int64_t n = odet_tensor_numel(&s.in[b]);
		s.in[b].data = malloc(sizeof(float) * (size_t)n);
		for (int64_t k = 0; k < n; k++)
			((float *)s.in[b].data)[k] = cuda_test_frand();
		CHECK(cuda_test_outputs(e, s.no, s.ref[b]));
		rc = odet_exec_infer(x, &s.in[b], 1, s.ref[b], s.no);
		CHECK_MSG(rc == ODET_OK, "%s: batch %d: %s", what, b, odet_ctx_last_error(ctx));
	}
	CHECK(!same(s.no, s.ref[0], s.ref[1])); /* a thread reading another's results would show */
	double err = INFINITY, tol = prec == ODET_PRECISION_FP16 ? 3e-2 : 1e-4; /* fp16: four layers */
	odet_tensor oc[MAX_IO];
	memset(oc, 0, sizeof oc);
	if (cpu && cuda_test_outputs(e, s.no, oc) && odet_exec_infer(cpu, &s.in[0], 1, oc, s.no) == ODET_OK)
		err = rel_err(s.no, oc, s.ref[0]);
	cuda_test_outputs_free(s.no, oc);
	CHECK_MSG(err <= tol, "%s: outputs differ from the CPU engine's: max relative error %.3g > %.3g", what, err, tol);
	worker w[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){.s = &s, .id = i};
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	int bad = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_MSG(w[i].errors == 0 && w[i].mismatches == 0, "%s: thread %d: %d errors, %d batches differ", what, i,
			  w[i].errors, w[i].mismatches);
		bad += w[i].errors + w[i].mismatches;
	}
	/* each exec context: its own cuDNN handle and, the engine having a Gemm, its own cuBLASLt */
	CHECK_MSG(n_exec == THREADS + 1 && n_exec_lt == THREADS + 1,
		  "%s: %d exec contexts made %d cuDNN and %d cuBLASLt handle sets", what, THREADS + 1, n_exec, n_exec_lt);
	printf("  %s: %d threads x %d batches, %d differ from one exec alone; vs CPU max rel err %.2e; handles: engine "
	       "%d cuDNN + %d cuBLASLt, execs %d + %d\n",
	       what, THREADS, BATCHES, bad, err, n_engine_dnn, n_engine_lt, n_exec, n_exec_lt);
	odet_exec_destroy(x);
	for (int b = 0; b < BATCHES; b++) {
		free(s.in[b].data);
		cuda_test_outputs_free(s.no, s.ref[b]);
	}
	odet_engine_destroy(e);
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && !strcmp(argv[1], "-v");
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 2;
	co.log_level = ODET_LOG_DEBUG;
	co.log_fn = on_log;
	int skip = cuda_test_open("cuda_threads", &co, &ctx);
	if (skip)
		return skip;
	cuda_test_seed(4242);
	ir_graph *g = net(ctx);
	odet_build_opts o = odet_build_opts_default();
	o.no_head = 1;
	o.backend = ODET_BACKEND_CPU;
	odet_engine *ec = NULL;
	odet_exec *xc = NULL;
	CHECK_MSG(odet_engine_build(ctx, g, &o, &ec) == ODET_OK, "CPU build: %s", odet_ctx_last_error(ctx));
	CHECK(ec && odet_exec_create(ec, &xc) == ODET_OK);
	test_engine(ctx, g, ODET_PRECISION_FP32, xc);
	test_engine(ctx, g, ODET_PRECISION_FP16, xc);
	odet_exec_destroy(xc);
	odet_engine_destroy(ec);
	ir_graph_free(g);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_threads");
}
