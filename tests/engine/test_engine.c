/*
 * test_engine.c — the engine layer on hand-built IR graphs run by the test backend
 * (test_backend.h): build, exhaustive memory-plan checks (no two items with intersecting
 * lifetimes share bytes; lifetimes cover every use; planned <= naive), execution against
 * a reference interpreter with one buffer per value, plan save/load round trips giving
 * identical outputs and identical bytes, input validation, odet_exec_run with a head's
 * outputs, refusals (unknown shapes, unsupported ops), tensor files, CRC-32.
 * When the real CPU kernels are linked, the same graph also goes through the public API.
 */
#include "engine/engine.h"
#include "core/core.h"
#include "test.h"
#include "test_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t crc = ~0u;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void test_crc(void)
{
	uint8_t buf[512];
	unsigned seed = 7;
	for (size_t i = 0; i < sizeof buf; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	int bad = 0;
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= 300; n++)
			bad += odet_crc32(0, buf + off, n) != crc_bitwise(buf + off, n);
	CHECK_MSG(bad == 0, "%d CRC mismatches against the bitwise definition", bad);
	/* incremental use: crc(a||b) == crc(crc(a), b) */
	CHECK(odet_crc32(odet_crc32(0, buf, 100), buf + 100, 257) == odet_crc32(0, buf, 357));
}

/* ---- memory plan checks */

static int intersects(int a0, int a1, int b0, int b1)
{
	return a0 <= b1 && b0 <= a1;
}

static void check_memplan_items(const memplan_item *it, int n, size_t arena, size_t naive)
{
	int overlaps = 0, unaligned = 0, outside = 0;
	size_t sum = 0;
	for (int i = 0; i < n; i++) {
		sum += it[i].size;
		unaligned += it[i].offset % ENGINE_ALIGN != 0;
		outside += it[i].size && it[i].offset + it[i].size > arena;
		for (int j = i + 1; j < n; j++) {
			if (!it[i].size || !it[j].size ||
			    !intersects(it[i].first, it[i].last, it[j].first, it[j].last))
				continue;
			overlaps += it[i].offset < it[j].offset + it[j].size &&
				    it[j].offset < it[i].offset + it[i].size;
		}
	}
	CHECK_MSG(overlaps == 0, "%d overlapping live pairs", overlaps);
	CHECK(unaligned == 0);
	CHECK(outside == 0);
	CHECK(sum == naive);
	CHECK(arena <= naive);
}

static void test_memplan_random(void)
{
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		int n = 1 + (int)(seed % 120);
		memplan_item it[128];
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			it[i].first = (int)((seed >> 8) % 50);
			seed = seed * 1103515245u + 12345u;
			it[i].last = it[i].first + (int)((seed >> 8) % 10);
			seed = seed * 1103515245u + 12345u;
			it[i].size = ((seed >> 8) % 40) * ENGINE_ALIGN * (1 + (seed >> 28) % 3);
			it[i].offset = 12345;
		}
		size_t arena, naive;
		CHECK(memplan_solve(NULL, it, n, &arena, &naive) == ODET_OK);
		check_memplan_items(it, n, arena, naive);
		/* a lower bound: at any step the live items' sizes sum to at most the arena */
		size_t worst = 0;
		for (int t = 0; t < 60; t++) {
			size_t live = 0;
			for (int i = 0; i < n; i++)
				if (it[i].first <= t && t <= it[i].last)
					live += it[i].size;
			worst = live > worst ? live : worst;
		}
		CHECK(arena >= worst);
	}
	/* a chain a -> b -> c -> d of equal sizes needs only two slots */
	memplan_item chain[4];
	for (int i = 0; i < 4; i++)
		chain[i] = (memplan_item){.size = 256, .first = i, .last = i + 1};
	size_t arena, naive;
	CHECK(memplan_solve(NULL, chain, 4, &arena, &naive) == ODET_OK);
	CHECK(arena == 512 && naive == 1024);
}

/* Exhaustive check of an engine's plan, with lifetimes re-derived from the graph. */
static void check_engine_plan(const odet_engine *e)
{
	const ir_graph *g = e->g;
	const engine_plan *p = &e->plan;
	int nn = g->n_nodes, bad_life = 0;
	memplan_item *it = calloc((size_t)(g->n_values + nn) + 1, sizeof *it);
	int n = 0;
	for (int v = 0; v < g->n_values; v++) {
		if (p->value_offset[v] == SIZE_MAX) {
			/* not in the arena: only constants, or values nobody defines */
			bad_life += g->values[v].kind != IR_VALUE_CONST && g->values[v].producer >= 0;
			continue;
		}
		it[n].first = p->value_first[v];
		it[n].last = p->value_last[v];
		it[n].offset = p->value_offset[v];
		it[n].size = (p->value_size[v] + ENGINE_ALIGN - 1) / ENGINE_ALIGN * ENGINE_ALIGN;
		n++;
	}
	for (int i = 0; i < nn; i++) {
		it[n].first = it[n].last = i + 1;
		it[n].offset = p->ws_offset[i];
		it[n].size = (p->ws_size[i] + ENGINE_ALIGN - 1) / ENGINE_ALIGN * ENGINE_ALIGN;
		n++;
	}
	check_memplan_items(it, n, p->arena_bytes, p->naive_bytes);
	/* lifetimes cover definitions and uses */
	for (int i = 0; i < g->n_inputs; i++)
		bad_life += p->value_first[g->inputs[i]] != 0;
	for (int i = 0; i < nn; i++) {
		const ir_node *nd = &g->nodes[i];
		for (int k = 0; k < nd->n_out; k++)
			bad_life += p->value_first[nd->out[k]] != i + 1;
		for (int k = 0; k < nd->n_in; k++) {
			int v = nd->in[k];
			if (v < 0 || g->values[v].kind == IR_VALUE_CONST)
				continue;
			bad_life += !(p->value_first[v] <= i + 1 && i + 1 <= p->value_last[v]);
		}
	}
	for (int i = 0; i < g->n_outputs; i++)
		if (g->values[g->outputs[i]].kind != IR_VALUE_CONST)
			bad_life += p->value_last[g->outputs[i]] != nn + 1;
	CHECK_MSG(bad_life == 0, "%d lifetime errors", bad_life);
	free(it);
}

/* Run engine e on random inputs; compare every output with the reference interpreter.
 * Returns the outputs (malloc'ed) for further comparison. */
static float **run_and_compare(odet_engine *e, const ir_graph *ref_g, unsigned seed, int *mismatches)
{
	const ir_graph *g = e->g;
	odet_tensor in[8], out[8];
	float *inb[8];
	float **outb = calloc(8, sizeof *outb);
	*mismatches = 0;
	for (int i = 0; i < g->n_inputs; i++) {
		CHECK(odet_engine_input_info(e, i, NULL, &in[i]) == ODET_OK);
		int64_t n = odet_tensor_numel(&in[i]);
		inb[i] = malloc((size_t)n * 4 + 4);
		fill_random(inb[i], n, &seed);
		in[i].data = inb[i];
	}
	for (int i = 0; i < g->n_outputs; i++) {
		CHECK(odet_engine_output_info(e, i, NULL, &out[i]) == ODET_OK);
		outb[i] = malloc((size_t)odet_tensor_numel(&out[i]) * 4 + 4);
		out[i].data = outb[i];
	}
	odet_exec *x = NULL;
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	odet_status rc = odet_exec_infer(x, in, g->n_inputs, out, g->n_outputs);
	CHECK_MSG(rc == ODET_OK, "%s", odet_ctx_last_error(e->ctx));
	/* twice on the same exec: no state leaks from one run into the next */
	float *first = malloc((size_t)odet_tensor_numel(&out[0]) * 4 + 4);
	memcpy(first, outb[0], (size_t)odet_tensor_numel(&out[0]) * 4);
	CHECK(odet_exec_infer(x, in, g->n_inputs, out, g->n_outputs) == ODET_OK);
	CHECK(memcmp(first, outb[0], (size_t)odet_tensor_numel(&out[0]) * 4) == 0);
	free(first);
	odet_exec_destroy(x);
	/* the reference runs the graph as given (before any pass) */
	float **ref = ref_eval(ref_g, inb);
	for (int i = 0; i < g->n_outputs; i++) {
		int rv = ir_value_find(ref_g, g->values[g->outputs[i]].name);
		int64_t n = odet_tensor_numel(&out[i]);
		if (rv < 0 || ir_value_numel(&ref_g->values[rv]) != n) {
			(*mismatches)++;
			continue;
		}
		for (int64_t k = 0; k < n; k++)
			if (fabsf(ref[rv][k] - outb[i][k]) > 1e-6f * (1 + fabsf(ref[rv][k]))) {
				(*mismatches)++;
				break;
			}
	}
	ref_free(ref_g, ref);
	for (int i = 0; i < g->n_inputs; i++)
		free(inb[i]);
	return outb;
}

static void free_outs(float **o)
{
	for (int i = 0; i < 8; i++)
		free(o[i]);
	free(o);
}

/* save e, load it back; the loaded engine (NULL on failure, message in ctx) */
static odet_engine *plan_round_trip(odet_ctx *ctx, const odet_engine *e, odet_status *rc)
{
	void *buf = NULL;
	size_t size = 0;
	odet_engine *l = NULL;
	*rc = engine_save_buffer(e, &buf, &size);
	if (!*rc)
		*rc = engine_load_buffer(ctx, buf, size, "tuned.plan", test_backend(), &l);
	free(buf);
	return l;
}

static int count_relus(const ir_graph *g)
{
	int k = 0;
	for (int i = 0; i < g->n_nodes; i++)
		k += g->nodes[i].op == IR_OP_RELU;
	return k;
}

/* tuned choices travel in the plan (tuning section): the build records one per Relu (the test
 * backend "tunes" Relus), a load's prepare finds the plan's choice instead of timing again, a
 * plan without the section gets fresh ones, and a bad section is refused by name */
static void test_plan_tuning(odet_ctx *ctx, odet_engine *e)
{
	int relus = count_relus(e->g);
	CHECK(relus > 0 && e->tune.n == relus);
	for (int i = 0; i < e->tune.n; i++)
		CHECK(!strncmp(e->tune.key[i], "test-relu ", 10) && !strcmp(e->tune.val[i], "timed"));
	/* a choice made elsewhere (another build on this GPU) is what the plan carries */
	CHECK(odet_tune_set_add(&e->tune, e->tune.key[0], "from the plan"));
	odet_status rc;
	odet_engine *l = plan_round_trip(ctx, e, &rc);
	CHECK_MSG(l && rc == ODET_OK, "load: %s", odet_ctx_last_error(ctx));
	if (l) {
		CHECK(l->tune.n == relus && !strcmp(odet_tune_set_find(&l->tune, e->tune.key[0]), "from the plan"));
		odet_engine_destroy(l);
	}
	/* without the section (older plans): prepare times again */
	odet_tune_set keep = e->tune;
	e->tune = (odet_tune_set){0};
	l = plan_round_trip(ctx, e, &rc);
	CHECK_MSG(l && rc == ODET_OK, "load without tuning: %s", odet_ctx_last_error(ctx));
	if (l) {
		CHECK(l->tune.n == relus && !strcmp(odet_tune_set_find(&l->tune, keep.key[0]), "timed"));
		odet_engine_destroy(l);
	}
	e->tune = keep;
	/* bad sections (valid checksums): an invalid string, a repeated key */
	char *old = e->tune.val[0];
	e->tune.val[0] = "bad\tvalue";
	l = plan_round_trip(ctx, e, &rc);
	CHECK(!l && rc == ODET_ERR_BAD_INPUT && strstr(odet_ctx_last_error(ctx), "tuned.plan: section") &&
	      strstr(odet_ctx_last_error(ctx), "(tuning): entry 1 invalid or repeated"));
	e->tune.val[0] = old;
	if (relus > 1) {
		char *k1 = e->tune.key[1];
		e->tune.key[1] = e->tune.key[0];
		l = plan_round_trip(ctx, e, &rc);
		CHECK(!l && rc == ODET_ERR_BAD_INPUT && strstr(odet_ctx_last_error(ctx), "entry 2 invalid or repeated"));
		e->tune.key[1] = k1;
	}
	/* a plan truncated inside the tuning section: the section table no longer fits the file */
	void *buf = NULL;
	size_t size = 0;
	CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
	if (buf) {
		l = NULL;
		CHECK(engine_load_buffer(ctx, buf, size - 8, "cut.plan", test_backend(), &l) == ODET_ERR_BAD_INPUT && !l);
		free(buf);
	}
}

static void test_small_graph(odet_ctx *ctx)
{
	ir_graph *g = make_small_graph(ctx);
	CHECK(g != NULL);
	odet_build_opts o = odet_build_opts_default();
	o.batch = 2;
	odet_engine *e = NULL;
	odet_status rc = engine_build_with(ctx, g, &o, test_backend(), false, &e);
	CHECK_MSG(rc == ODET_OK, "build: %s", odet_ctx_last_error(ctx));
	if (rc) {
		ir_graph_free(g);
		return;
	}
	check_engine_plan(e);
	CHECK(e->plan.arena_bytes < e->plan.naive_bytes); /* the chain lets values share */
	CHECK(odet_engine_num_inputs(e) == 2 && odet_engine_num_outputs(e) == 2);
	const char *name;
	odet_tensor info;
	CHECK(odet_engine_output_info(e, 0, &name, &info) == ODET_OK && !strcmp(name, "sq") &&
	      info.rank == 4 && info.dims[1] == 6 && info.dtype == ODET_F32);
	CHECK(odet_engine_input_info(e, 2, &name, &info) == ODET_ERR_INVALID_ARG);

	int mism;
	float **o1 = run_and_compare(e, g, 99, &mism);
	CHECK_MSG(mism == 0, "%d outputs differ from the reference", mism);

	/* plan round trip: identical outputs, identical bytes when saved again */
	void *buf = NULL, *buf2 = NULL;
	size_t size = 0, size2 = 0;
	CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
	odet_engine *l = NULL;
	rc = engine_load_buffer(ctx, buf, size, "small.plan", test_backend(), &l);
	CHECK_MSG(rc == ODET_OK, "load: %s", odet_ctx_last_error(ctx));
	if (!rc) {
		check_engine_plan(l);
		CHECK(l->plan.arena_bytes == e->plan.arena_bytes);
		float **o2 = run_and_compare(l, g, 99, &mism);
		CHECK(mism == 0);
		CHECK(memcmp(o1[0], o2[0], 2 * 6 * 4 * 5 * 4) == 0);
		CHECK(memcmp(o1[1], o2[1], 2 * 3 * 4 * 5 * 4) == 0);
		free_outs(o2);
		CHECK(engine_save_buffer(l, &buf2, &size2) == ODET_OK);
		CHECK(size2 == size && memcmp(buf, buf2, size) == 0);
		free(buf2);
		/* attributes of every type survived */
		const ir_node *cat = &l->g->nodes[5];
		const int64_t *iv;
		const float *fv;
		CHECK(!strcmp(ir_attr_string(cat, "note", ""), "attrs of every type survive a plan"));
		CHECK(ir_attr_ints(cat, "in", &iv) == 3 && iv[1] == -8);
		CHECK(ir_attr_floats(cat, "fl", &fv) == 2 && fv[0] == 1.5f);
		CHECK(ir_attr_float(cat, "f1", 0) == 0.25f && ir_attr_int(cat, "axis", 0) == 1);
		odet_engine_destroy(l);
	}
	/* through a file: odet_engine_save writes exactly the buffer */
	char path[64];
	snprintf(path, sizeof path, "test_engine_%ld.plan", (long)getpid());
	CHECK(odet_engine_save(e, path) == ODET_OK);
	void *fdata;
	size_t fsize;
	CHECK(odet_file_read(ctx, path, 1 << 24, &fdata, &fsize) == ODET_OK);
	CHECK(fsize == size && memcmp(fdata, buf, size) == 0);
	free(fdata);
	/* the public loader uses the real CPU backend: works once its kernels are linked,
	 * otherwise refuses the first op, by name */
	rc = odet_engine_load(ctx, path, 0, &l);
	CHECK_MSG(rc == ODET_OK || (rc == ODET_ERR_UNSUPPORTED && strstr(odet_ctx_last_error(ctx), "Add")),
		  "public load: %d %s", rc, odet_ctx_last_error(ctx));
	if (!rc) {
		float **o3 = run_and_compare(l, g, 99, &mism);
		CHECK(mism == 0);
		free_outs(o3);
		odet_engine_destroy(l);
	}
	unlink(path);
	free(buf);
	test_plan_tuning(ctx, e);

	/* input validation */
	odet_exec *x;
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	float in0[120], in1[120], out0[240], out1[120];
	odet_tensor ti[2], to[2];
	odet_engine_input_info(e, 0, NULL, &ti[0]);
	odet_engine_input_info(e, 1, NULL, &ti[1]);
	odet_engine_output_info(e, 0, NULL, &to[0]);
	odet_engine_output_info(e, 1, NULL, &to[1]);
	ti[0].data = in0, ti[1].data = in1, to[0].data = out0, to[1].data = out1;
	memset(in0, 0, sizeof in0);
	memset(in1, 0, sizeof in1);
	CHECK(odet_exec_infer(x, ti, 1, to, 2) == ODET_ERR_INVALID_ARG);
	ti[1].dtype = ODET_F16;
	CHECK(odet_exec_infer(x, ti, 2, to, 2) == ODET_ERR_INVALID_ARG);
	CHECK(strstr(odet_ctx_last_error(ctx), "dtype") != NULL);
	ti[1].dtype = ODET_F32;
	ti[1].dims[3] = 6;
	CHECK(odet_exec_infer(x, ti, 2, to, 2) == ODET_ERR_INVALID_ARG);
	CHECK(strstr(odet_ctx_last_error(ctx), "shape") != NULL);
	ti[1].dims[3] = 5;
	ti[0].data = NULL;
	CHECK(odet_exec_infer(x, ti, 2, to, 2) == ODET_ERR_INVALID_ARG);
	ti[0].data = in0;
	CHECK(odet_exec_infer(x, ti, 2, to, 2) == ODET_OK);
	/* no head: odet_exec_run refuses */
	odet_detections det;
	CHECK(odet_detections_alloc(2, 10, &det) == ODET_OK);
	CHECK(odet_exec_run(x, &ti[0], &det) == ODET_ERR_UNSUPPORTED);
	odet_detections_free(&det);
	CHECK(odet_detections_alloc(0, 10, &det) == ODET_ERR_INVALID_ARG);
	odet_exec_destroy(x);
	odet_engine_destroy(e);

	/* the public build: real passes and CPU kernels when linked */
	rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK || rc == ODET_ERR_UNSUPPORTED, "public build: %s", odet_ctx_last_error(ctx));
	if (!rc) {
		float **o4 = run_and_compare(e, g, 99, &mism);
		CHECK(mism == 0);
		free_outs(o4);
		odet_engine_destroy(e);
	}
	free_outs(o1);
	ir_graph_free(g);
}

/* Random DAGs of rank-1 tensors: Relu, Add, Mul, Concat (axis 0); consts sometimes. */
static ir_graph *make_random_graph(odet_ctx *ctx, unsigned *seed)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
#define RND(n) ((*seed = *seed * 1103515245u + 12345u), (int)((*seed >> 8) % (unsigned)(n)))
	int nodes = 5 + RND(50);
	int vals[256], nv = 0;
	g->inputs = malloc(2 * sizeof(int));
	g->outputs = malloc(3 * sizeof(int));
	for (int i = 0; i < 2; i++) {
		int64_t d = 1 + RND(300);
		char name[16];
		snprintf(name, sizeof name, "in%d", i);
		int v = ir_value_add(g, name, ODET_F32, 1, &d);
		g->values[v].kind = IR_VALUE_INPUT;
		g->inputs[g->n_inputs++] = v;
		vals[nv++] = v;
	}
	for (int i = 0; i < nodes; i++) {
		int a = vals[RND(nv)];
		int64_t da = g->values[a].dims[0];
		int op = RND(4), b = -1;
		if (op == 1 || op == 2) {
			int cands[256], nc = 0;
			for (int k = 0; k < nv; k++)
				if (g->values[vals[k]].dims[0] == da)
					cands[nc++] = vals[k];
			b = cands[RND(nc)];
			if (RND(5) == 0) {
				float *cd = malloc((size_t)da * 4);
				fill_random(cd, da, seed);
				b = ir_const_add(g, NULL, ODET_F32, 1, &da, cd);
			}
		}
		if (op == 3) {
			b = vals[RND(nv)];
			if (da + g->values[b].dims[0] > 2000)
				op = 0;
		}
		int64_t dy = op == 3 ? da + g->values[b].dims[0] : da;
		int y = ir_value_add(g, NULL, ODET_F32, 1, &dy);
		int n;
		if (op == 0)
			n = ir_node_add(g, IR_OP_RELU, NULL, 1, &a, 1, &y);
		else
			n = ir_node_add(g, op == 1 ? IR_OP_ADD : op == 2 ? IR_OP_MUL : IR_OP_CONCAT, NULL, 2,
					(int[]){a, b}, 1, &y);
		if (op == 3)
			ir_attr_set_int(g, n, "axis", 0);
		vals[nv++] = y;
	}
	int last = vals[nv - 1], other = vals[2 + RND(nv - 2)];
	g->outputs[g->n_outputs++] = last;
	if (other != last)
		g->outputs[g->n_outputs++] = other;
	for (int i = 0; i < g->n_outputs; i++)
		g->values[g->outputs[i]].is_output = true;
#undef RND
	return g;
}

static void test_random_graphs(odet_ctx *ctx)
{
	unsigned seed = 4242;
	int fails = 0;
	for (int round = 0; round < 60; round++) {
		ir_graph *g = make_random_graph(ctx, &seed);
		odet_engine *e = NULL;
		odet_status rc = engine_build_with(ctx, g, NULL, test_backend(), false, &e);
		CHECK_MSG(rc == ODET_OK, "random graph %d: %s", round, odet_ctx_last_error(ctx));
		if (!rc) {
			check_engine_plan(e);
			int mism;
			free_outs(run_and_compare(e, g, (unsigned)round, &mism));
			fails += mism != 0;
			/* and through a plan */
			void *buf;
			size_t size;
			odet_engine *l = NULL;
			CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
			CHECK(engine_load_buffer(ctx, buf, size, "random.plan", test_backend(), &l) == ODET_OK);
			if (l) {
				free_outs(run_and_compare(l, g, (unsigned)round, &mism));
				fails += mism != 0;
				odet_engine_destroy(l);
			}
			free(buf);
			odet_engine_destroy(e);
		}
		ir_graph_free(g);
	}
	CHECK_MSG(fails == 0, "%d random graphs differ from the reference", fails);
}

/* A graph whose outputs follow heads/head.h (count and classes constant, boxes Relu(x),
 * scores ReduceMax(x)); marked as having a head the way odet_head_attach would. */
static void test_detections(odet_ctx *ctx)
{
	ir_graph *g = make_head_graph(ctx);
	CHECK(engine_outputs_are_head(g));
	odet_build_opts o = odet_build_opts_default();
	o.batch = 2;
	odet_engine *e = NULL;
	CHECK(engine_build_with(ctx, g, &o, test_backend(), false, &e) == ODET_OK);
	if (!e) {
		ir_graph_free(g);
		return;
	}
	e->has_head = true;
	e->head_desc = strdup("test head: constant counts");
	void *buf;
	size_t size;
	odet_engine *l = NULL;
	CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
	odet_status rc = engine_load_buffer(ctx, buf, size, "head.plan", test_backend(), &l);
	CHECK_MSG(rc == ODET_OK, "head plan: %s", odet_ctx_last_error(ctx));
	free(buf);
	odet_engine_destroy(e);
	if (!l) {
		ir_graph_free(g);
		return;
	}
	CHECK(l->has_head && l->head_desc && !strcmp(l->head_desc, "test head: constant counts"));
	float img[24];
	for (int i = 0; i < 24; i++)
		img[i] = (float)((i * 7) % 11) - 5.0f;
	odet_tensor t = {.dtype = ODET_F32, .rank = 3, .dims = {2, 3, 4}, .data = img, .device = -1};
	odet_exec *xc;
	CHECK(odet_exec_create(l, &xc) == ODET_OK);
	for (int cap = 2; cap <= 5; cap += 3) {
		odet_detections d;
		CHECK(odet_detections_alloc(2, cap, &d) == ODET_OK);
		CHECK_MSG(odet_exec_run(xc, &t, &d) == ODET_OK, "%s", odet_ctx_last_error(ctx));
		CHECK(d.count[0] == (cap < 3 ? cap : 3) && d.count[1] == 1);
		int bad = 0, rows = cap < 3 ? cap : 3;
		for (int bi = 0; bi < 2; bi++)
			for (int r = 0; r < rows; r++) {
				float m = -1e9f;
				for (int j = 0; j < 4; j++) {
					float v = img[(bi * 3 + r) * 4 + j];
					bad += d.boxes[(bi * cap + r) * 4 + j] != (v > 0 ? v : 0);
					m = v > m ? v : m;
				}
				bad += d.scores[bi * cap + r] != m;
				bad += d.classes[bi * cap + r] != 10 + bi * 3 + r;
			}
		CHECK_MSG(bad == 0, "capacity %d: %d wrong detection fields", cap, bad);
		odet_detections_free(&d);
	}
	odet_detections d;
	CHECK(odet_detections_alloc(1, 5, &d) == ODET_OK);
	CHECK(odet_exec_run(xc, &t, &d) == ODET_ERR_INVALID_ARG); /* batch 1 for a batch-2 engine */
	odet_detections_free(&d);
	odet_exec_destroy(xc);
	odet_engine_destroy(l);
	ir_graph_free(g);
}

static void test_refusals(odet_ctx *ctx)
{
	/* unknown dim in an intermediate: refused naming the value */
	ir_graph *g = make_small_graph(ctx);
	int v = ir_value_find(g, "c");
	g->values[v].dims[2] = -1;
	odet_engine *e = NULL;
	odet_status rc = engine_build_with(ctx, g, NULL, test_backend(), false, &e);
	CHECK(rc == ODET_ERR_UNSUPPORTED && e == NULL);
	CHECK_MSG(strstr(odet_ctx_last_error(ctx), "'c'") != NULL, "%s", odet_ctx_last_error(ctx));
	ir_graph_free(g);
	/* unknown input dims */
	g = make_small_graph(ctx);
	g->values[g->inputs[1]].dims[0] = -1;
	CHECK(engine_build_with(ctx, g, NULL, test_backend(), false, &e) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "graph input 'y'") != NULL);
	ir_graph_free(g);
	/* an op the backend cannot run: refused at build, naming node and op */
	g = make_small_graph(ctx);
	g->nodes[3].op = IR_OP_SUB;
	CHECK(engine_build_with(ctx, g, NULL, test_backend(), false, &e) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "add_d") && strstr(odet_ctx_last_error(ctx), "Sub"));
	ir_graph_free(g);
	/* a value marked as an input but missing from the input list */
	g = make_small_graph(ctx);
	g->n_inputs = 1;
	CHECK(engine_build_with(ctx, g, NULL, test_backend(), false, &e) == ODET_ERR_BAD_INPUT);
	CHECK(strstr(odet_ctx_last_error(ctx), "'y'") != NULL);
	ir_graph_free(g);
	/* options */
	g = make_small_graph(ctx);
	odet_build_opts o = odet_build_opts_default();
	o.batch = 0;
	CHECK(odet_engine_build(ctx, g, &o, &e) == ODET_ERR_INVALID_ARG);
	o = odet_build_opts_default();
	o.precision = ODET_PRECISION_FP16;
	o.backend = ODET_BACKEND_CPU;
	CHECK(odet_engine_build(ctx, g, &o, &e) == ODET_ERR_UNSUPPORTED);
	if (!odet_backend_cuda()) {
		o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CUDA;
		CHECK(odet_engine_build(ctx, g, &o, &e) == ODET_ERR_UNSUPPORTED);
	}
	ir_graph_free(g);
}

static void test_tensor_file(odet_ctx *ctx)
{
	float a[6] = {1, 2, 3, 4, 5, 6};
	int64_t b[2] = {-7, 1LL << 40};
	odet_named_tensor t[2] = {
		{.name = "images", .t = {.dtype = ODET_F32, .rank = 2, .dims = {2, 3}, .data = a, .device = -1}},
		{.name = "ids", .t = {.dtype = ODET_I64, .rank = 1, .dims = {2}, .data = b, .device = -1}},
	};
	void *buf;
	size_t size;
	CHECK(odet_tensor_file_serialize(ctx, t, 2, &buf, &size) == ODET_OK);
	/* 12 header + (4+6+4+4+16+24) + (4+3+4+4+8+16) */
	CHECK(size == 12 + 58 + 39);
	odet_named_tensor *r;
	int n;
	CHECK(odet_tensor_file_parse(ctx, buf, size, "t.bin", &r, &n) == ODET_OK);
	if (n == 2) {
		CHECK(!strcmp(r[0].name, "images") && r[0].t.dtype == ODET_F32 && r[0].t.rank == 2 &&
		      r[0].t.dims[1] == 3 && !memcmp(r[0].t.data, a, sizeof a));
		CHECK(!strcmp(r[1].name, "ids") && !memcmp(r[1].t.data, b, sizeof b));
		odet_tensor_file_free(r, n);
	}
	int refused = 0;
	for (size_t cut = 0; cut < size; cut++) {
		odet_status rc = odet_tensor_file_parse(ctx, buf, cut, "t.bin", &r, &n);
		refused += rc == ODET_ERR_BAD_INPUT && r == NULL;
	}
	CHECK_MSG(refused == (int)size, "%d of %zu truncations refused", refused, size);
	/* huge dims must not allocate */
	uint8_t *m = malloc(size);
	memcpy(m, buf, size);
	int64_t huge = (int64_t)1 << 40;
	memcpy(m + 12 + 4 + 6 + 8, &huge, 8);
	CHECK(odet_tensor_file_parse(ctx, m, size, "t.bin", &r, &n) == ODET_ERR_BAD_INPUT);
	uint32_t rank = 9;
	memcpy(m, buf, size);
	memcpy(m + 12 + 4 + 6 + 4, &rank, 4);
	CHECK(odet_tensor_file_parse(ctx, m, size, "t.bin", &r, &n) == ODET_ERR_LIMIT);
	free(m);
	free(buf);
}

int main(void)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 2;
	co.log_level = ODET_LOG_ERROR;
	odet_ctx *ctx;
	if (odet_ctx_create(&co, &ctx) != ODET_OK)
		return 1;
	test_crc();
	test_memplan_random();
	test_small_graph(ctx);
	test_random_graphs(ctx);
	test_detections(ctx);
	test_refusals(ctx);
	test_tensor_file(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("engine");
}
