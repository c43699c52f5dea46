/*
 * test_cpu_nchw16c.c — tensors kept in oneDNN's nChw16c layout between CPU Convs and
 * MaxPools (cpu_value_nchw16c). One small graph: Conv+ReLU → MaxPool → depthwise 3x3 Conv → 3x3 Conv
 * with the MaxPool output as residual → two output Convs (one with 20 channels, one a graph
 * output with 16); batch 2. Built twice through the engine on the CPU backend: with
 * automatic algorithms (the inner values blocked when oneDNN is there) and with every Conv
 * forced to im2col+GEMM (odet_conv_algo 1: nothing blocked); outputs must agree within
 * 1e-4 (relative to max |y|), also through a saved and reloaded plan. Checks which values
 * the predicate blocks: inner ones only, never graph inputs/outputs. test_split: convs
 * large enough to be split over odet's threads (by image or by output-channel parts).
 * Threads 1, 2, 3.
 */
#include "backend/cpu/conv.h"
#include "backend/cpu/cpu_util.h"
#include "engine/engine.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 777;

static float *rand_array(int64_t n)
{
	float *p = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		p[i] = (float)rand_r(&seed) / (float)RAND_MAX * 2.0f - 1.0f;
	return p;
}

typedef struct net {
	ir_graph *g;
	int x, c1, p, c2, c3, y, y2;
	int conv[5];
} net;

static int add_conv(ir_graph *g, const char *name, int x, int64_t m, int64_t c, int64_t k, int64_t s, int64_t pad,
		    int res, int act, int algo, int64_t h_out, int64_t n, int *node)
{
	int64_t wd[4] = {m, c, k, k}, bd[1] = {m}, yd[4] = {n, m, h_out, h_out};
	int w = ir_const_add(g, NULL, ODET_F32, 4, wd, rand_array(m * c * k * k));
	int b = ir_const_add(g, NULL, ODET_F32, 1, bd, rand_array(m));
	int y = ir_value_add(g, NULL, ODET_F32, 4, yd);
	int in[4] = {x, w, b, res};
	*node = ir_node_add(g, IR_OP_CONV, name, res >= 0 ? 4 : 3, in, 1, &y);
	int64_t ks[2] = {k, k}, st[2] = {s, s}, pd[4] = {pad, pad, pad, pad};
	ir_attr_set_ints(g, *node, "kernel_shape", ks, 2);
	ir_attr_set_ints(g, *node, "strides", st, 2);
	ir_attr_set_ints(g, *node, "pads", pd, 4);
	if (act)
		ir_attr_set_int(g, *node, "odet_act", IR_ACT_RELU);
	if (algo)
		ir_attr_set_int(g, *node, "odet_conv_algo", algo);
	return y;
}

/* same weights for both builds: the seed is reset per build */
static void make_net(odet_ctx *ctx, int algo, net *t)
{
	seed = 777;
	ir_graph_create(ctx, &t->g);
	ir_graph *g = t->g;
	int64_t xd[4] = {2, 16, 9, 9}, pd[4] = {2, 32, 5, 5};
	t->x = ir_value_add(g, "x", ODET_F32, 4, xd);
	g->values[t->x].kind = IR_VALUE_INPUT;
	g->inputs = malloc(sizeof(int));
	g->outputs = malloc(2 * sizeof(int));
	g->inputs[g->n_inputs++] = t->x;
	t->c1 = add_conv(g, "conv1", t->x, 32, 16, 3, 1, 1, -1, 1, algo, 9, 2, &t->conv[0]);
	t->p = ir_value_add(g, "p", ODET_F32, 4, pd);
	int mp = ir_node_add(g, IR_OP_MAXPOOL, "pool", 1, &t->c1, 1, &t->p);
	int64_t ks[2] = {3, 3}, st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
	ir_attr_set_ints(g, mp, "kernel_shape", ks, 2);
	ir_attr_set_ints(g, mp, "strides", st, 2);
	ir_attr_set_ints(g, mp, "pads", pads, 4);
	t->c2 = add_conv(g, "conv2", t->p, 32, 1, 3, 1, 1, -1, 0, algo, 5, 2, &t->conv[1]); /* depthwise */
	ir_attr_set_int(g, t->conv[1], "group", 32);
	t->c3 = add_conv(g, "conv3", t->c2, 32, 32, 3, 1, 1, t->p, 1, algo, 5, 2, &t->conv[2]);
	t->y = add_conv(g, "conv4", t->c3, 20, 32, 1, 1, 0, -1, 0, algo, 5, 2, &t->conv[3]);
	t->y2 = add_conv(g, "conv5", t->p, 16, 32, 3, 2, 1, -1, 0, algo, 3, 2, &t->conv[4]);
	g->outputs[g->n_outputs++] = t->y;
	g->outputs[g->n_outputs++] = t->y2;
	g->values[t->y].is_output = true;
	g->values[t->y2].is_output = true;
}

/* run e on x; outputs into y (2*20*25) and y2 (2*16*9) */
static odet_status run(odet_engine *e, float *x, float *y, float *y2)
{
	odet_exec *ex;
	odet_status rc = odet_exec_create(e, &ex);
	if (rc)
		return rc;
	odet_tensor in = {.dtype = ODET_F32, .rank = 4, .dims = {2, 16, 9, 9}, .data = x, .device = -1};
	odet_tensor out[2] = {
		{.dtype = ODET_F32, .rank = 4, .dims = {2, 20, 5, 5}, .data = y, .device = -1},
		{.dtype = ODET_F32, .rank = 4, .dims = {2, 16, 3, 3}, .data = y2, .device = -1},
	};
	for (int i = 0; i < 2 * 20 * 25; i++)
		y[i] = NAN;
	for (int i = 0; i < 2 * 16 * 9; i++)
		y2[i] = NAN;
	rc = odet_exec_infer(ex, &in, 1, out, 2);
	odet_exec_destroy(ex);
	return rc;
}

static double rel_err(const float *y, const float *ref, int n)
{
	double md = 0, mr = 0;
	for (int i = 0; i < n; i++) {
		if (isnan(y[i]) || isnan(ref[i]))
			return INFINITY;
		double d = fabs((double)y[i] - ref[i]);
		md = d > md ? d : md;
		mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
	}
	return mr > 0 ? md / mr : md;
}

static void test_net(odet_ctx *ctx)
{
	net a, r;
	make_net(ctx, 0, &a);
	make_net(ctx, 1, &r);
	odet_engine *ea = NULL, *er = NULL, *el = NULL;
	CHECK(engine_build_with(ctx, a.g, NULL, odet_backend_cpu(), false, &ea) == ODET_OK);
	CHECK(engine_build_with(ctx, r.g, NULL, odet_backend_cpu(), false, &er) == ODET_OK);
	if (!ea || !er)
		goto out;
	/* oneDNN present: conv1 of the automatic build runs a oneDNN implementation */
	const char *impl = cpu_conv_impl_name(ea->state[a.conv[0]]);
	bool dnnl = strcmp(impl, "im2col+sgemm") != 0 && strcmp(impl, "direct") != 0;
	printf("conv1: %s\n", impl);
	CHECK(cpu_value_nchw16c(ea->g, a.c1) == dnnl);
	CHECK(cpu_value_nchw16c(ea->g, a.p) == dnnl);
	CHECK(cpu_value_nchw16c(ea->g, a.c2) == dnnl);
	CHECK(cpu_value_nchw16c(ea->g, a.c3) == dnnl);
	CHECK(!cpu_value_nchw16c(ea->g, a.x));
	CHECK(!cpu_value_nchw16c(ea->g, a.y));
	CHECK(!cpu_value_nchw16c(ea->g, a.y2));
	CHECK(!cpu_value_nchw16c(er->g, r.c1) && !cpu_value_nchw16c(er->g, r.p) && !cpu_value_nchw16c(er->g, r.c3));

	float *x = rand_array(2 * 16 * 81);
	float ya[2 * 20 * 25], y2a[2 * 16 * 9], yr[2 * 20 * 25], y2r[2 * 16 * 9];
	CHECK(run(ea, x, ya, y2a) == ODET_OK);
	CHECK(run(er, x, yr, y2r) == ODET_OK);
	double e1 = rel_err(ya, yr, 2 * 20 * 25), e2 = rel_err(y2a, y2r, 2 * 16 * 9);
	CHECK_MSG(e1 <= 1e-4 && e2 <= 1e-4, "nChw16c chain vs GEMM: rel err %g, %g", e1, e2);
	/* through a plan: prepare runs again on the loaded graph */
	void *buf = NULL;
	size_t size = 0;
	CHECK(engine_save_buffer(ea, &buf, &size) == ODET_OK);
	CHECK(buf && engine_load_buffer(ctx, buf, size, "nchw16c.plan", NULL, &el) == ODET_OK);
	if (el) {
		CHECK(run(el, x, ya, y2a) == ODET_OK);
		e1 = rel_err(ya, yr, 2 * 20 * 25);
		e2 = rel_err(y2a, y2r, 2 * 16 * 9);
		CHECK_MSG(e1 <= 1e-4 && e2 <= 1e-4, "loaded plan vs GEMM: rel err %g, %g", e1, e2);
		odet_engine_destroy(el);
	}
	free(buf);
	free(x);
out:
	odet_engine_destroy(ea);
	odet_engine_destroy(er);
	ir_graph_free(a.g);
	ir_graph_free(r.g);
}

/* Convs large enough to be split over threads (conv.c: by images, or by output-channel parts
 * at batch 1): x [N,64,24,24] → A 3x3 48ch (blocked) and C 1x1 80ch (blocked, residual) →
 * B 3x3 80ch + C → y (graph output). Auto vs all-GEMM. */
static void test_split(odet_ctx *ctx, int64_t batch)
{
	ir_graph *gs[2];
	int ys[2];
	odet_engine *es[2] = {NULL, NULL};
	for (int v = 0; v < 2; v++) {
		seed = 99;
		ir_graph_create(ctx, &gs[v]);
		ir_graph *g = gs[v];
		int64_t xd[4] = {batch, 64, 24, 24};
		int x = ir_value_add(g, "x", ODET_F32, 4, xd), na, nb, nc;
		g->values[x].kind = IR_VALUE_INPUT;
		g->inputs = malloc(sizeof(int));
		g->outputs = malloc(sizeof(int));
		g->inputs[g->n_inputs++] = x;
		int algo = v ? 1 : 0;
		int a = add_conv(g, "A", x, 48, 64, 3, 1, 1, -1, 1, algo, 24, batch, &na);
		int c = add_conv(g, "C", x, 80, 64, 1, 1, 0, -1, 0, algo, 24, batch, &nc);
		ys[v] = add_conv(g, "B", a, 80, 48, 3, 1, 1, c, 1, algo, 24, batch, &nb);
		g->outputs[g->n_outputs++] = ys[v];
		g->values[ys[v]].is_output = true;
		CHECK(engine_build_with(ctx, g, NULL, odet_backend_cpu(), false, &es[v]) == ODET_OK);
	}
	int64_t nx = batch * 64 * 576, ny = batch * 80 * 576;
	float *x = rand_array(nx), *y0 = malloc(sizeof(float) * (size_t)ny), *y1 = malloc(sizeof(float) * (size_t)ny);
	for (int v = 0; v < 2 && es[0] && es[1]; v++) {
		float *y = v ? y1 : y0;
		for (int64_t i = 0; i < ny; i++)
			y[i] = NAN;
		odet_exec *ex;
		CHECK(odet_exec_create(es[v], &ex) == ODET_OK);
		odet_tensor in = {.dtype = ODET_F32, .rank = 4, .dims = {batch, 64, 24, 24}, .data = x, .device = -1};
		odet_tensor out = {.dtype = ODET_F32, .rank = 4, .dims = {batch, 80, 24, 24}, .data = y, .device = -1};
		CHECK(odet_exec_infer(ex, &in, 1, &out, 1) == ODET_OK);
		odet_exec_destroy(ex);
	}
	double e = rel_err(y0, y1, (int)ny);
	CHECK_MSG(e <= 1e-4, "split convs, batch %lld: rel err %g", (long long)batch, e);
	free(x);
	free(y0);
	free(y1);
	for (int v = 0; v < 2; v++) {
		odet_engine_destroy(es[v]);
		ir_graph_free(gs[v]);
	}
}

int main(void)
{
	odet_ctx *ctx;
	for (int threads = 1; threads <= 3; threads++) {
		odet_ctx_opts o = odet_ctx_opts_default();
		o.n_threads = threads;
		if (odet_ctx_create(&o, &ctx))
			return 1;
		test_net(ctx);
		test_split(ctx, 1);
		test_split(ctx, 2);
		odet_ctx_destroy(ctx);
	}
	return test_summary("cpu_nchw16c");
}
