/* test_cancel_transposes.c — pass_cancel_transposes on TF.js-shaped graphs (NHWC values
 * around NCHW convs, as tfjs2onnx and the TF.js importer produce them).
 *
 * 1. A block with every diamond CenterNet has: hard-swish (x read twice), a residual Add of
 *    two transposed conv outputs, squeeze-excite (ReduceMean over H, W + broadcast Mul), a
 *    per-channel constant, a Concat along C, a second graph output inside the region. After
 *    fold_transposes 8 Transposes remain; after this pass only the 3 the graph needs (the
 *    NHWC input, the two NHWC outputs). A CPU engine (which runs the pass) and one built
 *    without the transpose folds (ODET_PASS_FOLD_CONSTANTS off) agree within 1e-5 relative.
 * 2. A region whose flip would add more transposed elements than it removes (an NHWC graph
 *    input and an NHWC graph output against one transposed input) is left as it is.
 */
#include "engine/engine.h"
#include "passes/passes.h"
#include "graph_build.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define D(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

static odet_ctx *ctx;
static unsigned seed = 11;

static float rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return (float)((seed >> 9) & 0xffff) / 65536.0f - 0.5f;
}

static int node(ir_graph *g, ir_op op, const char *name, int n, const int *in)
{
	int y = test_graph_value(g, name);
	ir_node_add(g, op, name, n, in, 1, &y);
	return y;
}

static int cnst(ir_graph *g, const char *name, int rank, const int64_t *dims, float fill)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	float *d = malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		d[i] = isnan(fill) ? rnd() : fill;
	return ir_const_add(g, name, ODET_F32, rank, dims, d);
}

/* NCHW conv 1x1 of an NHWC value: Transpose -> Conv -> Transpose back (TF.js's wrapping) */
static int nhwc_conv(ir_graph *g, const char *name, int x, int cin, int cout)
{
	char b[64];
	snprintf(b, sizeof b, "%s_in", name);
	int t = test_graph_transpose(g, b, x, D(0, 3, 1, 2));
	snprintf(b, sizeof b, "%s_w", name);
	int w = cnst(g, b, D(cout, cin, 1, 1), NAN);
	int in[2] = {t, w};
	int c = node(g, IR_OP_CONV, name, 2, in);
	snprintf(b, sizeof b, "%s_out", name);
	return test_graph_transpose(g, b, c, D(0, 2, 3, 1));
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead && g->nodes[i].op == op;
	return c;
}

static ir_graph *block(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int a = test_graph_input(g, "a", ODET_F32, D(2, 6, 5, 8));
	int x = nhwc_conv(g, "c1", a, 8, 8);
	/* hard-swish: x * clip(x / 6 + 0.5, 0, 1) */
	int in[4];
	in[0] = cnst(g, "sixth", 0, NULL, 1.0f / 6), in[1] = x;
	int m = node(g, IR_OP_MUL, "hs_mul", 2, in);
	in[0] = m, in[1] = cnst(g, "half", 0, NULL, 0.5f);
	int ad = node(g, IR_OP_ADD, "hs_add", 2, in);
	in[0] = ad, in[1] = cnst(g, "lo", 0, NULL, 0.0f), in[2] = cnst(g, "hi", 0, NULL, 1.0f);
	int cl = node(g, IR_OP_CLIP, "hs_clip", 3, in);
	in[0] = x, in[1] = cl;
	int h = node(g, IR_OP_MUL, "hs", 2, in);
	/* residual: h + conv(h) */
	in[0] = nhwc_conv(g, "c2", h, 8, 8), in[1] = h;
	int r = node(g, IR_OP_ADD, "res", 2, in);
	/* squeeze-excite: r * conv(mean over H, W of r) */
	int64_t *axes = malloc(2 * sizeof(int64_t));
	axes[0] = 1, axes[1] = 2;
	in[0] = r, in[1] = ir_const_add(g, "axes", ODET_I64, 1, (const int64_t[]){2}, axes);
	int rm = node(g, IR_OP_REDUCEMEAN, "se_mean", 2, in);
	in[0] = r, in[1] = nhwc_conv(g, "se", rm, 8, 8);
	int s = node(g, IR_OP_MUL, "se_mul", 2, in);
	/* per-channel constant (rank 1 against NHWC), then a Concat along C */
	in[0] = s, in[1] = cnst(g, "bias", D(8), NAN);
	int b = node(g, IR_OP_ADD, "bias_add", 2, in);
	in[0] = b, in[1] = x;
	int cat = node(g, IR_OP_CONCAT, "cat", 2, in);
	ir_attr_set_int(g, g->n_nodes - 1, "axis", 3);
	in[0] = cat;
	int rl = node(g, IR_OP_RELU, "relu", 1, in);
	test_graph_output(g, nhwc_conv(g, "c3", rl, 16, 4));
	in[0] = b;
	test_graph_output(g, node(g, IR_OP_SIGMOID, "aux", 1, in)); /* a graph output in the region */
	return g;
}

/* engine outputs of g with the given disabled passes (fresh random input, same seed) */
static float **run(ir_graph *g, unsigned disable, int *n_out, int64_t *numel)
{
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	o.disable_passes = disable;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	odet_status rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK, "build: %s", odet_ctx_last_error(ctx));
	if (rc)
		return NULL;
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	odet_tensor in, out[2];
	odet_engine_input_info(e, 0, NULL, &in);
	int64_t ni = odet_tensor_numel(&in);
	float *data = malloc(sizeof(float) * (size_t)ni);
	seed = 5;
	for (int64_t k = 0; k < ni; k++)
		data[k] = 4 * rnd();
	in.data = data;
	float **res = calloc(2, sizeof(float *));
	*n_out = g->n_outputs;
	for (int i = 0; i < g->n_outputs; i++) {
		odet_engine_output_info(e, i, NULL, &out[i]);
		numel[i] = odet_tensor_numel(&out[i]);
		res[i] = out[i].data = malloc(sizeof(float) * (size_t)numel[i]);
	}
	rc = odet_exec_infer(x, &in, 1, out, g->n_outputs);
	CHECK_MSG(rc == ODET_OK, "run: %s", odet_ctx_last_error(ctx));
	free(data);
	odet_exec_destroy(x);
	odet_engine_destroy(e);
	return res;
}

static void test_block(void)
{
	ir_graph *g = block(), *f = NULL;
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(ir_graph_clone(g, &f) == ODET_OK);
	CHECK(pass_fold_transposes(f) == ODET_OK && pass_infer_shapes(f) == ODET_OK);
	int t_fold = count_op(f, IR_OP_TRANSPOSE);
	CHECK(pass_cancel_transposes(f) == ODET_OK);
	int t_cancel = count_op(f, IR_OP_TRANSPOSE);
	CHECK_MSG(t_fold == 8 && t_cancel == 3, "Transposes: %d after fold_transposes (want 8), %d after cancel_transposes (want 3)",
		  t_fold, t_cancel);
	/* the regions now run in NCHW: the Concat along C is axis 1, the mean over axes 2 and 3 */
	for (int i = 0; i < f->n_nodes; i++) {
		const ir_node *n = &f->nodes[i];
		if (n->op == IR_OP_CONCAT)
			CHECK_MSG(ir_attr_int(n, "axis", -1) == 1, "Concat axis %lld", (long long)ir_attr_int(n, "axis", -1));
		if (n->op == IR_OP_REDUCEMEAN) {
			const ir_value *ax = ir_in(f, n, 1);
			CHECK(ax && ir_value_numel(ax) == 2 && ir_const_i64(ax, 0) == 2 && ir_const_i64(ax, 1) == 3);
		}
	}
	ir_graph_free(f);
	int n1 = 0, n2 = 0;
	int64_t c1[2] = {0}, c2[2] = {0};
	float **opt = run(g, 0, &n1, c1), **ref = run(g, ODET_PASS_FOLD_CONSTANTS, &n2, c2);
	CHECK(opt && ref && n1 == 2 && n2 == 2);
	for (int i = 0; opt && ref && i < 2; i++) {
		CHECK(c1[i] == c2[i]);
		double worst = 0;
		for (int64_t k = 0; k < c1[i]; k++) {
			double d = fabs(opt[i][k] - ref[i][k]) / (fabs(ref[i][k]) + 1e-3);
			worst = d > worst ? d : worst;
		}
		CHECK_MSG(worst <= 1e-5, "output %d: max rel error %.3g", i, worst);
		printf("  block output %d: %lld elements, max rel error vs no folds %.2g\n", i, (long long)c1[i], worst);
	}
	for (int i = 0; i < 2; i++) {
		free(opt ? opt[i] : NULL);
		free(ref ? ref[i] : NULL);
	}
	free(opt);
	free(ref);
	printf("  block: %d Transposes after fold_transposes, %d after cancel_transposes\n", t_fold, t_cancel);
	ir_graph_free(g);
}

/* y = Transpose(x) + b with b an NHWC graph input, y a graph output: flipping would move the
 * one transpose onto b and onto y (twice the elements): left alone */
static void test_no_gain(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = test_graph_input(g, "x", ODET_F32, D(1, 4, 3, 5)), b = test_graph_input(g, "b", ODET_F32, D(1, 3, 5, 4));
	int in[2] = {test_graph_transpose(g, "t", x, D(0, 2, 3, 1)), b};
	test_graph_output(g, node(g, IR_OP_ADD, "y", 2, in));
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_cancel_transposes(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_TRANSPOSE) == 1 && count_op(g, IR_OP_ADD) == 1 && g->nodes[g->n_nodes - 1].in[0] != x);
	ir_graph_free(g);
}

int main(void)
{
	if (odet_ctx_create(NULL, &ctx))
		return 1;
	test_block();
	test_no_gain();
	odet_ctx_destroy(ctx);
	return test_summary("cancel_transposes");
}
