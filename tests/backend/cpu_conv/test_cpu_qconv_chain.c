/*
 * test_cpu_qconv_chain.c — int8 values kept NHWC between oneDNN QConvs (qconv.c: no reorder on
 * either side). One graph: x int8 [N,32,40,40] (a graph input: NCHW) -> Q1 3x3 32->48 ReLU, int8
 * -> Q2 1x1 48->48 with Q1's output as residual, int8 -> Q3 3x3 48->24, float32 (graph output).
 * Built twice through the engine on the CPU backend: as it is (Q1 and Q2's outputs inner: NHWC)
 * and with those two values also graph outputs (then NCHW, reordered around every QConv).
 * Q3's output must be equal bit for bit (the same primitives and exact int32 sums; only the
 * layouts differ), and so must Q1's and Q2's: read back through the second engine. The chain
 * bits must be set where the predicate says: batch 4 (one task per image) on 1 and 3 threads,
 * batch 1 on 3 threads (Q1 split over output channels: its output stays NCHW). Also through a
 * saved and reloaded plan. Without AVX-512 VNNI (or oneDNN) both run the reference and no bit.
 */
#include "backend/cpu/conv.h"
#include "engine/engine.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static unsigned seed = 11;

static int add_qconv(ir_graph *g, const char *name, int x, int r, int64_t n, int64_t c, int64_t m, int64_t k,
		     int64_t hw, odet_dtype yt, int *node)
{
	int64_t wd[4] = {m, c, k, k}, md[1] = {m}, yd[4] = {n, m, hw, hw}, nw = m * c * k * k;
	int8_t *w = malloc((size_t)nw);
	float *b = malloc(sizeof(float) * (size_t)m), *a = malloc(sizeof(float) * (size_t)m);
	for (int64_t i = 0; i < nw; i++)
		w[i] = (int8_t)(rand_r(&seed) % 255 - 127);
	for (int64_t i = 0; i < m; i++) {
		b[i] = (float)(rand_r(&seed) % 4001 - 2000) * 0.01f;
		a[i] = yt == ODET_I8 ? 2e-3f + 1e-5f * (float)(rand_r(&seed) % 100) : 1e-3f;
	}
	char wn[64], bn[64], an[64];
	snprintf(wn, sizeof wn, "%s_w", name);
	snprintf(bn, sizeof bn, "%s_b", name);
	snprintf(an, sizeof an, "%s_a", name);
	int in[5] = {x, ir_const_add(g, wn, ODET_I8, 4, wd, w), ir_const_add(g, bn, ODET_F32, 1, md, b), r,
		     ir_const_add(g, an, ODET_F32, 1, md, a)};
	int y = ir_value_add(g, name, yt, 4, yd);
	*node = ir_node_add(g, IR_OP_QCONV, name, 5, in, 1, &y);
	int64_t p = k / 2, pads[4] = {p, p, p, p};
	ir_attr_set_ints(g, *node, "pads", pads, 4);
	ir_attr_set_int(g, *node, "odet_out_dtype", (int64_t)yt);
	if (yt == ODET_I8)
		ir_attr_set_int(g, *node, "odet_act", IR_ACT_RELU);
	if (r >= 0)
		ir_attr_set_float(g, *node, "odet_r_scale", 0.5f);
	return y;
}

typedef struct net {
	ir_graph *g;
	int y[3], node[3];
} net;

/* inner: Q1 and Q2's outputs only read by QConvs; else also graph outputs */
static void make(odet_ctx *ctx, net *t, int64_t n, bool inner)
{
	seed = 11;
	ir_graph_create(ctx, &t->g);
	ir_graph *g = t->g;
	int64_t xd[4] = {n, 32, 40, 40};
	int x = ir_value_add(g, "x", ODET_I8, 4, xd);
	g->values[x].kind = IR_VALUE_INPUT;
	t->y[0] = add_qconv(g, "q1", x, -1, n, 32, 48, 3, 40, ODET_I8, &t->node[0]);
	t->y[1] = add_qconv(g, "q2", t->y[0], t->y[0], n, 48, 48, 1, 40, ODET_I8, &t->node[1]);
	t->y[2] = add_qconv(g, "q3", t->y[1], -1, n, 48, 24, 3, 40, ODET_F32, &t->node[2]);
	g->inputs = malloc(sizeof(int));
	g->outputs = malloc(sizeof(int) * 3);
	g->inputs[g->n_inputs++] = x;
	for (int i = inner ? 2 : 0; i < 3; i++) {
		g->outputs[g->n_outputs++] = t->y[i];
		g->values[t->y[i]].is_output = true;
	}
}

static odet_status run(odet_engine *e, const int8_t *x, int64_t n, void *const y[3])
{
	odet_exec *ex;
	odet_status rc = odet_exec_create(e, &ex);
	if (rc)
		return rc;
	odet_tensor in, out[3];
	const char *name;
	int n_out = odet_engine_num_outputs(e);
	odet_engine_input_info(e, 0, &name, &in);
	in.data = (void *)x;
	for (int i = 0; i < n_out; i++) {
		odet_engine_output_info(e, i, &name, &out[i]);
		out[i].data = y[3 - n_out + i]; /* the last n_out of q1, q2, q3 */
	}
	(void)n;
	rc = odet_exec_infer(ex, &in, 1, out, n_out);
	odet_exec_destroy(ex);
	return rc;
}

static void test_case(int threads, int64_t n)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = threads;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx)) {
		CHECK(0);
		return;
	}
	net a, b;
	make(ctx, &a, n, true);
	make(ctx, &b, n, false);
	odet_engine *ea = NULL, *eb = NULL, *el = NULL;
	CHECK(engine_build_with(ctx, a.g, NULL, odet_backend_cpu(), false, &ea) == ODET_OK);
	CHECK(engine_build_with(ctx, b.g, NULL, odet_backend_cpu(), false, &eb) == ODET_OK);
	if (!ea || !eb)
		goto out;
	const bool dnnl = strcmp(cpu_qconv_impl_name(ea->state[a.node[0]]), "reference") != 0;
	const bool q1_split = cpu_qconv_split(ea->state[a.node[0]]) > 1;
	unsigned want[3] = {2, 1 | 2 | 4, 1}, bits[3], bits_b = 0;
	if (!dnnl)
		want[0] = want[1] = want[2] = 0;
	if (q1_split) { /* Q1's output NCHW: Q2 reads X and R from it, writes NHWC for Q3 */
		want[0] = 0;
		want[1] = 2;
	}
	for (int i = 0; i < 3; i++) {
		bits[i] = cpu_qconv_nhwc(ea->state[a.node[i]]);
		bits_b |= cpu_qconv_nhwc(eb->state[b.node[i]]);
	}
	CHECK_MSG(bits[0] == want[0] && bits[1] == want[1] && bits[2] == want[2] && bits_b == 0,
		  "threads %d batch %lld: NHWC bits %u %u %u (want %u %u %u), %u with graph outputs", threads,
		  (long long)n, bits[0], bits[1], bits[2], want[0], want[1], want[2], bits_b);
	int64_t nx = n * 32 * 1600, ny = n * 48 * 1600, n3 = n * 24 * 1600;
	int8_t *x = malloc((size_t)nx), *y1 = malloc((size_t)ny), *y2 = malloc((size_t)ny);
	float *ya = malloc(sizeof(float) * (size_t)n3), *yb = malloc(sizeof(float) * (size_t)n3);
	for (int64_t i = 0; i < nx; i++)
		x[i] = (int8_t)(rand_r(&seed) % 255 - 127);
	void *oa[3] = {NULL, NULL, ya}, *ob[3] = {y1, y2, yb};
	CHECK(run(ea, x, n, oa) == ODET_OK && run(eb, x, n, ob) == ODET_OK);
	CHECK_MSG(!memcmp(ya, yb, sizeof(float) * (size_t)n3), "threads %d batch %lld: NHWC chain != NCHW", threads,
		  (long long)n);
	int64_t nonzero = 0;
	for (int64_t i = 0; i < ny; i++)
		nonzero += y2[i] != 0;
	CHECK_MSG(nonzero > ny / 10, "q2's int8 output mostly zero (%lld of %lld): a weak test", (long long)nonzero,
		  (long long)ny);
	void *buf = NULL;
	size_t size = 0;
	CHECK(engine_save_buffer(ea, &buf, &size) == ODET_OK);
	CHECK_MSG(buf && engine_load_buffer(ctx, buf, size, "qchain.plan", NULL, &el) == ODET_OK, "plan: %s",
		  odet_ctx_last_error(ctx));
	if (el) {
		memset(ya, 0, sizeof(float) * (size_t)n3);
		CHECK(run(el, x, n, oa) == ODET_OK && !memcmp(ya, yb, sizeof(float) * (size_t)n3));
		odet_engine_destroy(el);
	}
	printf("  threads %d batch %lld: NHWC bits %u %u %u, equal to the NCHW engine\n", threads, (long long)n, bits[0],
	       bits[1], bits[2]);
	free(buf);
	free(x);
	free(y1);
	free(y2);
	free(ya);
	free(yb);
out:
	odet_engine_destroy(ea);
	odet_engine_destroy(eb);
	ir_graph_free(a.g);
	ir_graph_free(b.g);
	odet_ctx_destroy(ctx);
}

int main(void)
{
	test_case(1, 4);
	test_case(3, 4);
	test_case(3, 1);
	return test_summary("cpu_qconv_chain");
}
