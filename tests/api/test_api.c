/*
 * test_api.c — odet.h's engine and exec functions as a front end uses them, on a seeded
 * convolution-free SSD stand-in (tests/pipeline/gen_tiny_ssd.py) with the ssd300-nvidia head:
 *   - one engine shared by 4 threads, each with its own exec context, 6 batches each (--quick,
 *     for valgrind: 2 threads, 3 batches)
 *     (odet_exec_infer and odet_exec_run): every output equals the single-thread run's, bytes;
 *   - odet_exec_submit / odet_exec_wait on the CPU (synchronous: host time as total_ms, the
 *     same outputs), misuse refused (wait without submit, submit twice), profile refused
 *     without events; odet_engine_describe, odet_graph_node, odet_engine_tuned bounds;
 *   - the environment's build overrides (ODET_CONV_PATH, _CANDIDATES, ODET_NMS_SORT,
 *     ODET_STEM_PAD) are read once by odet_ctx_create and land in every engine's options
 *     (engine internals: the only part that looks inside).
 * usage: test_api TINY_SSD.onnx [--quick]
 */
#include "engine/engine.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 4
#define MAX_BATCHES 6
#define BATCH 2

/* --quick (the valgrind run): 2 threads, 3 batches */
static int n_threads = MAX_THREADS, n_batches = MAX_BATCHES;

#define MAX_OUT 8

typedef struct run_out {
	int n;
	odet_tensor t[MAX_OUT];   /* the engine's outputs (the head's four) */
	odet_detections d;
} run_out;

typedef struct shared {
	odet_engine *e;
	odet_tensor in[MAX_BATCHES];
	run_out ref[MAX_BATCHES];
} shared;

typedef struct worker {
	shared *s;
	int id;
	int mismatches, errors;
} worker;

static void fill(odet_tensor *t, uint32_t seed)
{
	float *p = t->data;
	for (int64_t i = 0; i < odet_tensor_numel(t); i++) {
		seed = seed * 1664525u + 1013904223u;
		p[i] = (float)(seed >> 8) / (float)(1u << 24);
	}
}

static odet_status out_alloc(odet_engine *e, run_out *o)
{
	odet_status rc;
	o->n = odet_engine_num_outputs(e);
	if (o->n > MAX_OUT)
		return ODET_ERR_LIMIT;
	for (int i = 0; i < o->n; i++) {
		odet_engine_output_info(e, i, NULL, &o->t[i]);
		size_t n = (size_t)odet_tensor_numel(&o->t[i]) * odet_dtype_size(o->t[i].dtype);
		if ((rc = odet_host_alloc(e, n, &o->t[i].data)))
			return rc;
	}
	return odet_detections_alloc(BATCH, 200, &o->d);
}

static void out_free(odet_engine *e, run_out *o)
{
	for (int i = 0; i < o->n; i++)
		odet_host_free(e, o->t[i].data);
	odet_detections_free(&o->d);
}

static bool same(const run_out *a, const run_out *b)
{
	for (int i = 0; i < a->n; i++) {
		size_t n = (size_t)odet_tensor_numel(&a->t[i]) * odet_dtype_size(a->t[i].dtype);
		if (memcmp(a->t[i].data, b->t[i].data, n))
			return false;
	}
	size_t rows = (size_t)BATCH * (size_t)a->d.capacity;
	for (int k = 0; k < BATCH; k++)
		if (a->d.count[k] != b->d.count[k])
			return false;
	/* rows past count are not defined: compare the valid ones */
	for (int k = 0; k < BATCH; k++)
		for (int r = 0; r < a->d.count[k]; r++) {
			size_t j = (size_t)k * (size_t)a->d.capacity + (size_t)r;
			if (j >= rows || memcmp(a->d.boxes + 4 * j, b->d.boxes + 4 * j, 4 * sizeof(float)) ||
			    a->d.scores[j] != b->d.scores[j] || a->d.classes[j] != b->d.classes[j])
				return false;
		}
	return true;
}

static odet_status run_batch(odet_exec *x, const odet_tensor *in, run_out *o)
{
	odet_status rc = odet_exec_infer(x, in, 1, o->t, o->n);
	return rc ? rc : odet_exec_run(x, in, &o->d);
}

static void *work(void *arg)
{
	worker *w = arg;
	odet_exec *x = NULL;
	run_out o;
	memset(&o, 0, sizeof o);
	if (odet_exec_create(w->s->e, &x) || out_alloc(w->s->e, &o)) {
		w->errors++;
		goto out;
	}
	for (int r = 0; r < n_batches; r++) {
		int b = (r + w->id) % n_batches; /* threads on different batches at once */
		if (run_batch(x, &w->s->in[b], &o))
			w->errors++;
		else if (!same(&o, &w->s->ref[b]))
			w->mismatches++;
	}
out:
	out_free(w->s->e, &o);
	odet_exec_destroy(x);
	return NULL;
}

static void test_threads(odet_ctx *ctx, odet_engine *e)
{
	shared s;
	memset(&s, 0, sizeof s);
	s.e = e;
	odet_exec *x = NULL;
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	for (int b = 0; b < n_batches; b++) {
		odet_engine_input_info(e, 0, NULL, &s.in[b]);
		size_t n = (size_t)odet_tensor_numel(&s.in[b]) * odet_dtype_size(s.in[b].dtype);
		CHECK(odet_host_alloc(e, n, &s.in[b].data) == ODET_OK);
		fill(&s.in[b], 17u + (uint32_t)b);
		CHECK(out_alloc(e, &s.ref[b]) == ODET_OK);
		CHECK_MSG(run_batch(x, &s.in[b], &s.ref[b]) == ODET_OK, "%s", odet_ctx_last_error(ctx));
	}
	/* the batches differ, so a thread reading another's results would show */
	CHECK(!same(&s.ref[0], &s.ref[1]));
	worker w[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	for (int i = 0; i < n_threads; i++) {
		w[i] = (worker){.s = &s, .id = i};
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < n_threads; i++) {
		pthread_join(th[i], NULL);
		CHECK_MSG(w[i].errors == 0 && w[i].mismatches == 0, "thread %d: %d errors, %d batches differ", i,
			  w[i].errors, w[i].mismatches);
	}

	/* submit / wait: synchronous on the CPU, same outputs, host time reported */
	run_out o;
	memset(&o, 0, sizeof o);
	odet_exec_timing t = {-1, -1, -1, -1};
	CHECK(out_alloc(e, &o) == ODET_OK);
	CHECK(odet_exec_wait(x, &t) == ODET_ERR_INVALID_ARG);
	CHECK(odet_exec_submit(x, &s.in[2], 1, o.t, o.n, NULL) == ODET_OK);
	CHECK(odet_exec_submit(x, &s.in[2], 1, o.t, o.n, NULL) == ODET_ERR_INVALID_ARG);
	CHECK(odet_exec_wait(x, &t) == ODET_OK);
	CHECK(t.total_ms > 0 && t.h2d_ms == 0 && t.compute_ms == 0 && t.d2h_ms == 0);
	odet_detections mine = o.d;
	o.d = s.ref[2].d; /* detections are not part of submit: compare the outputs only */
	CHECK(same(&o, &s.ref[2]));
	o.d = mine;
	float ms[64];
	CHECK(odet_exec_profile(x, &s.in[0], 1, o.t, o.n, ms) == ODET_ERR_UNSUPPORTED);
	CHECK(odet_exec_submit(x, &s.in[0], 0, o.t, o.n, NULL) == ODET_ERR_INVALID_ARG); /* wrong count */
	out_free(e, &o);
	odet_exec_destroy(x);
	for (int b = 0; b < n_batches; b++) {
		odet_host_free(e, s.in[b].data);
		out_free(e, &s.ref[b]);
	}
}

static void test_describe(odet_engine *e, const odet_graph *imported)
{
	odet_engine_desc d;
	CHECK(odet_engine_describe(e, &d) == ODET_OK);
	CHECK(!strcmp(d.backend, "cpu") && d.batch == BATCH && d.has_head && d.head && !d.events);
	CHECK(d.arena_bytes > 0 && d.arena_bytes <= d.naive_bytes && d.constant_bytes == 0);
	const odet_graph *g = odet_engine_graph(e);
	CHECK(d.nodes == odet_graph_num_nodes(g) && d.nodes_imported == odet_graph_num_nodes(imported));
	odet_node_info ni;
	int64_t flops = 0;
	for (int i = 0; i < d.nodes; i++) {
		CHECK(odet_graph_node(g, i, &ni) == ODET_OK && ni.name && ni.op && ni.flops >= 0);
		flops += ni.flops;
	}
	CHECK(flops > 0); /* the MatMuls */
	CHECK(odet_graph_node(g, d.nodes, &ni) == ODET_ERR_INVALID_ARG);
	CHECK(odet_engine_tuned(e, d.n_tuned, NULL, NULL) == ODET_ERR_INVALID_ARG);
	const char *name;
	odet_tensor info;
	CHECK(odet_graph_num_inputs(imported) == 1);
	CHECK(odet_graph_input_info(imported, 0, &name, &info) == ODET_OK && !strcmp(name, "image") &&
	      info.rank == 4 && info.dims[0] < 0 && info.dims[1] == 3);
}

static void test_env(const char *model)
{
	odet_ctx *before = NULL, *ctx = NULL;
	odet_graph *g = NULL;
	odet_engine *e = NULL, *e2 = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	CHECK(odet_ctx_create(&co, &before) == ODET_OK);
	setenv("ODET_CONV_PATH", "graph", 1);
	setenv("ODET_CONV_CANDIDATES", "12", 1);
	setenv("ODET_NMS_SORT", "cub", 1);
	setenv("ODET_STEM_PAD", "0", 1);
	CHECK(odet_ctx_create(&co, &ctx) == ODET_OK);
	unsetenv("ODET_CONV_PATH");
	unsetenv("ODET_CONV_CANDIDATES");
	unsetenv("ODET_NMS_SORT");
	unsetenv("ODET_STEM_PAD");
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.head = "ssd300-nvidia";
	CHECK(odet_graph_load(ctx, model, &g) == ODET_OK);
	/* set on the context read with the variables: they override the options */
	CHECK(g && odet_engine_build(ctx, g, &o, &e) == ODET_OK);
	CHECK(e && e->opts.conv_path == ODET_CONV_GRAPH && e->opts.conv_candidates == 12 &&
	      e->opts.nms_sort == ODET_NMS_SORT_CUB && e->opts.stem_pad == -1);
	/* a context made before them never sees them; the options stand */
	o.nms_sort = ODET_NMS_SORT_CUB;
	o.stem_pad = 8;
	CHECK(g && odet_engine_build(before, g, &o, &e2) == ODET_OK);
	CHECK(e2 && e2->opts.conv_path == ODET_CONV_AUTO && e2->opts.conv_candidates == 0 &&
	      e2->opts.nms_sort == ODET_NMS_SORT_CUB && e2->opts.stem_pad == 8);
	odet_engine_destroy(e2);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	odet_ctx_destroy(before);
}

/* odet_build_opts.progress: once per node, done counting up to total, every call with a name */
typedef struct progress_seen {
	int64_t calls, last, total;
	int ordered, named;
} progress_seen;

static void on_progress(void *user, int64_t done, int64_t total, const char *node)
{
	progress_seen *p = user;
	p->ordered &= done == p->last + 1 && (p->total == 0 || total == p->total);
	p->named &= node != NULL;
	p->calls++;
	p->last = done;
	p->total = total;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_api TINY_SSD.onnx [--quick]\n");
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "--quick")) {
		n_threads = 2;
		n_batches = 3;
	}
	odet_ctx *ctx = NULL;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 2;
	co.log_level = ODET_LOG_ERROR;
	CHECK(odet_ctx_create(&co, &ctx) == ODET_OK);
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.batch = BATCH;
	o.head = "ssd300-nvidia";
	progress_seen ps = {.ordered = 1, .named = 1};
	o.progress = on_progress;
	o.progress_user = &ps;
	odet_status rc = odet_graph_load(ctx, argv[1], &g);
	if (!rc)
		rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK, "%s: %s", argv[1], odet_ctx_last_error(ctx));
	CHECK_MSG(ps.calls > 0 && ps.ordered && ps.named && ps.last == ps.total && ps.calls == ps.total,
		  "build progress: %lld calls, last %lld of %lld, ordered %d, named %d", (long long)ps.calls,
		  (long long)ps.last, (long long)ps.total, ps.ordered, ps.named);
	if (!rc) {
		test_describe(e, g);
		test_threads(ctx, e);
	}
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	test_env(argv[1]);
	return test_summary("api");
}
