/*
 * test_cuda_passes.c — the graph passes of CUDA engines, on the host (no GPU needed):
 *   pass_precision_fp16: activations and float constants become float16, graph inputs and
 *     outputs keep float32 and their names behind Casts, --keep-fp32 nodes stay float32 with
 *     Casts around them, one Cast per converted activation, unknown names refused; head ops
 *     stay float32, ClassScores reading float16 logits without a Cast;
 *   pass_layout_nhwc: a Conv -> MaxPool -> Conv chain keeps exactly two Transposes (at the
 *     input and at the output), weights become KRSC with the same values, shapes re-inferred
 *     in NHWC, a value read by two NHWC nodes gets one Transpose; a float16 3-channel input
 *     becomes one 4-channel NhwcPack with zero-padded weights;
 *   pass_merge_sibling_convs: two sibling convs become one conv and two Slices;
 *   a uint8 image's PixelNorm folds into the stem's NhwcPack (uint8 in, scale and bias kept);
 *   an L2Normalize between two convs runs in NHWC over axis 3.
 */
#include "passes/passes.h"
#include "graph_build.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static int add_weight(ir_graph *g, const char *name, int64_t m, int64_t c, int64_t k)
{
	int64_t d[4] = {m, c, k, k};
	float *w = malloc(sizeof(float) * (size_t)(m * c * k * k));
	for (int64_t i = 0; i < m * c * k * k; i++)
		w[i] = (float)(i % 17) * 0.125f - 1.0f;
	return ir_const_add(g, name, ODET_F32, 4, d, w);
}

static int add_conv(ir_graph *g, const char *name, int x, int w, int64_t pad)
{
	int y = ir_value_add(g, NULL, ODET_F32, -1, NULL);
	int n = ir_node_add(g, IR_OP_CONV, name, 2, (int[]){x, w}, 1, &y);
	int64_t p[4] = {pad, pad, pad, pad};
	ir_attr_set_ints(g, n, "pads", p, 4);
	return y;
}

/* x [1,4,9,9] -> conv a (3x3) -> relu r -> maxpool p (2x2 s2) -> conv b (1x1) -> y */
static ir_graph *chain(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[4] = {1, 4, 9, 9};
	int x = test_graph_input(g, "x", ODET_F32, 4, d);
	int a = add_conv(g, "conv_a", x, add_weight(g, "wa", 6, 4, 3), 1);
	int r = ir_value_add(g, "r", ODET_F32, -1, NULL);
	ir_node_add(g, IR_OP_RELU, "relu", 1, &a, 1, &r);
	int p = ir_value_add(g, "p", ODET_F32, -1, NULL);
	int pn = ir_node_add(g, IR_OP_MAXPOOL, "pool", 1, &r, 1, &p);
	int64_t k[2] = {2, 2};
	ir_attr_set_ints(g, pn, "kernel_shape", k, 2);
	ir_attr_set_ints(g, pn, "strides", k, 2);
	int y = add_conv(g, "conv_b", p, add_weight(g, "wb", 5, 6, 1), 0);
	test_graph_output(g, y);
	free(g->values[y].name);
	g->values[y].name = strdup("y");
	CHECK(pass_infer_shapes(g) == ODET_OK);
	return g;
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += g->nodes[i].op == op;
	return c;
}

static const ir_node *find_node(const ir_graph *g, const char *name)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!strcmp(g->nodes[i].name, name))
			return &g->nodes[i];
	return NULL;
}

static void test_precision(odet_ctx *ctx)
{
	ir_graph *g = chain(ctx);
	CHECK(pass_precision_fp16(g, NULL, 0) == ODET_OK);
	const ir_value *in = &g->values[g->inputs[0]], *out = &g->values[g->outputs[0]];
	CHECK(in->dtype == ODET_F32 && !strcmp(in->name, "x"));
	CHECK(out->dtype == ODET_F32 && !strcmp(out->name, "y"));
	CHECK(count_op(g, IR_OP_CAST) == 2);
	const ir_node *a = find_node(g, "conv_a"), *b = find_node(g, "conv_b");
	CHECK(a && b);
	if (a && b) {
		CHECK(ir_in(g, a, 0)->dtype == ODET_F16 && ir_in(g, a, 1)->dtype == ODET_F16 &&
		      ir_in(g, a, 1)->kind == IR_VALUE_CONST && ir_out(g, a, 0)->dtype == ODET_F16);
		/* weight values converted (0.125 steps are exact in fp16) */
		const uint16_t *w = ir_in(g, a, 1)->data;
		CHECK(odet_f16_to_f32(w[3]) == 3 * 0.125f - 1.0f);
		CHECK(ir_out(g, b, 0)->dtype == ODET_F16);
	}
	ir_graph_free(g);

	/* keep relu and pool in fp32: Casts around them, conv outputs still fp16 */
	g = chain(ctx);
	const char *keep[2] = {"relu", "pool"};
	CHECK(pass_precision_fp16(g, keep, 2) == ODET_OK);
	const ir_node *r = find_node(g, "relu"), *p = find_node(g, "pool");
	CHECK(r && p && ir_in(g, r, 0)->dtype == ODET_F32 && ir_out(g, p, 0)->dtype == ODET_F32);
	CHECK(count_op(g, IR_OP_CAST) == 4);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	ir_graph_free(g);

	/* head ops stay float32; ClassScores reads the float16 logits without a Cast, BoxDecode
	 * (deltas and anchors of one dtype) gets one */
	{
		ir_graph_create(ctx, &g);
		int64_t d[3] = {1, 4, 6}, da[2] = {6, 4};
		int x = test_graph_input(g, "x", ODET_F32, 3, d);
		int rl = ir_value_add(g, "rl", ODET_F32, -1, NULL), rc = ir_value_add(g, "rc", ODET_F32, -1, NULL);
		ir_node_add(g, IR_OP_RELU, "relu_l", 1, &x, 1, &rl);
		ir_node_add(g, IR_OP_RELU, "relu_c", 1, &x, 1, &rc);
		float *an = calloc(24, sizeof(float));
		int anc = ir_const_add(g, "anchors", ODET_F32, 2, da, an);
		int bx = ir_value_add(g, "boxes", ODET_F32, -1, NULL), sc = ir_value_add(g, "scores", ODET_F32, -1, NULL);
		int nb = ir_node_add(g, IR_OP_BOX_DECODE, "decode", 2, (int[]){rl, anc}, 1, &bx);
		int ns = ir_node_add(g, IR_OP_CLASS_SCORES, "scores", 1, &rc, 1, &sc);
		ir_attr_set_int(g, nb, "layout", 1);
		ir_attr_set_int(g, ns, "layout", 1);
		ir_attr_set_int(g, ns, "activation", 1);
		test_graph_output(g, bx);
		test_graph_output(g, sc);
		CHECK(pass_infer_shapes(g) == ODET_OK);
		CHECK(pass_precision_fp16(g, NULL, 0) == ODET_OK);
		const ir_node *s = find_node(g, "scores"), *bd = find_node(g, "decode");
		CHECK(s && bd);
		if (s && bd) {
			CHECK(ir_in(g, s, 0)->dtype == ODET_F16 && !strcmp(ir_in(g, s, 0)->name, "rc") &&
			      ir_out(g, s, 0)->dtype == ODET_F32);
			CHECK(ir_in(g, bd, 0)->dtype == ODET_F32 && ir_in(g, bd, 1)->dtype == ODET_F32 &&
			      ir_out(g, bd, 0)->dtype == ODET_F32);
		}
		CHECK(count_op(g, IR_OP_CAST) == 2); /* x -> fp16; rl -> fp32 */
		ir_graph_free(g);
	}

	/* an unknown name is refused, naming it */
	g = chain(ctx);
	const char *bad[1] = {"no_such_node"};
	CHECK(pass_precision_fp16(g, bad, 1) == ODET_ERR_INVALID_ARG &&
	      strstr(odet_ctx_last_error(ctx), "no_such_node"));
	ir_graph_free(g);
}

static void test_layout(odet_ctx *ctx)
{
	ir_graph *g = chain(ctx);
	/* relu would sit between conv_a and the pool: fuse it into the conv as the pipeline does */
	CHECK(pass_fuse_conv(g) == ODET_OK && pass_eliminate_dead(g) == ODET_OK);
	CHECK(pass_layout_nhwc(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_TRANSPOSE) == 2);
	const ir_node *a = find_node(g, "conv_a"), *b = find_node(g, "conv_b"), *p = find_node(g, "pool");
	CHECK(a && b && p);
	if (a && b && p) {
		CHECK(ir_attr_int(a, "odet_nhwc", 0) == 1 && ir_attr_int(p, "odet_nhwc", 0) == 1);
		const ir_value *x = ir_in(g, a, 0), *w = ir_in(g, a, 1), *ya = ir_out(g, a, 0);
		CHECK(x->dims[1] == 9 && x->dims[2] == 9 && x->dims[3] == 4);
		CHECK(w->dims[0] == 6 && w->dims[1] == 3 && w->dims[2] == 3 && w->dims[3] == 4);
		CHECK(ya->dims[1] == 9 && ya->dims[2] == 9 && ya->dims[3] == 6);
		const ir_value *yp = ir_out(g, p, 0);
		CHECK(yp->dims[1] == 4 && yp->dims[2] == 4 && yp->dims[3] == 6);
		/* KRSC weight: element (m=1, y=2, x=0, c=3) = KCRS element (1, 3, 2, 0) */
		const float *wd = w->data;
		int64_t krsc = ((1 * 3 + 2) * 3 + 0) * 4 + 3, kcrs = ((1 * 4 + 3) * 3 + 2) * 3 + 0;
		CHECK(wd[krsc] == (float)(kcrs % 17) * 0.125f - 1.0f);
	}
	const ir_value *out = &g->values[g->outputs[0]];
	CHECK(!strcmp(out->name, "y") && out->dims[1] == 5 && out->dims[2] == 4 && out->dims[3] == 4);
	ir_graph_free(g);

	/* one input read by two convs: one Transpose for both */
	ir_graph_create(ctx, &g);
	int64_t d[4] = {2, 3, 8, 8};
	int x = test_graph_input(g, "x", ODET_F32, 4, d);
	int y1 = add_conv(g, "c1", x, add_weight(g, "w1", 4, 3, 3), 1);
	int y2 = add_conv(g, "c2", x, add_weight(g, "w2", 4, 3, 1), 0);
	test_graph_output(g, y1);
	test_graph_output(g, y2);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_layout_nhwc(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_TRANSPOSE) == 3);
	CHECK(g->values[g->outputs[0]].dims[1] == 4 && g->values[g->outputs[1]].dims[3] == 8);
	ir_graph_free(g);
}

/* conv -> L2Normalize over the channels (scale) -> conv: in NHWC the normalization's axis is
 * 3 and it reads and writes the convs' NHWC values (only the input and output Transposes
 * remain); precision makes its scale float16 */
static void test_layout_l2norm(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[4] = {2, 8, 6, 6}, dc = 4;
	int x = test_graph_input(g, "x", ODET_F32, 4, d);
	int a = add_conv(g, "ca", x, add_weight(g, "wa", 4, 8, 3), 1);
	float *sc = malloc(4 * sizeof(float));
	for (int i = 0; i < 4; i++)
		sc[i] = 20.0f + (float)i;
	int s = ir_const_add(g, "scale", ODET_F32, 1, &dc, sc);
	int l = ir_value_add(g, "l", ODET_F32, -1, NULL);
	int nl = ir_node_add(g, IR_OP_L2_NORMALIZE, "l2n", 2, (int[]){a, s}, 1, &l);
	ir_attr_set_float(g, nl, "eps", 1e-10f);
	test_graph_output(g, add_conv(g, "cb", l, add_weight(g, "wb", 5, 4, 1), 0));
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_precision_fp16(g, NULL, 0) == ODET_OK && pass_layout_nhwc(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_TRANSPOSE) == 1 && count_op(g, IR_OP_NHWC_PACK) == 1);
	const ir_node *n = find_node(g, "l2n"), *ca = find_node(g, "ca"), *cb = find_node(g, "cb");
	CHECK(n && ca && cb);
	if (n && ca && cb) {
		CHECK(ir_attr_int(n, "axis", 1) == 3 && ir_attr_int(n, "odet_nhwc", 0) == 1);
		CHECK(n->in[0] == ca->out[0] && cb->in[0] == n->out[0]);
		CHECK(ir_out(g, n, 0)->dims[3] == 4 && ir_out(g, n, 0)->dtype == ODET_F16);
		CHECK(ir_in(g, n, 1)->dtype == ODET_F16 && ir_in(g, n, 1)->dims[0] == 4 &&
		      odet_f16_to_f32(((const uint16_t *)ir_in(g, n, 1)->data)[3]) == 23.0f);
	}
	ir_graph_free(g);
}

/* fp16: a 3-channel input read by two sibling 3x3 convs (SSD's loc/conf shape): one NhwcPack
 * from the float32 graph input to 4 float16 channels (cast, transpose and zero channel in one
 * node), KRSC weights zero-padded to 4 channels, and merge_convs makes the pair one conv of
 * 4 + 6 outputs whose halves are Slices. */
static void test_stem_pack_and_merge(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[4] = {2, 3, 8, 8};
	int x = test_graph_input(g, "x", ODET_F32, 4, d);
	test_graph_output(g, add_conv(g, "loc", x, add_weight(g, "wl", 4, 3, 3), 1));
	test_graph_output(g, add_conv(g, "conf", x, add_weight(g, "wc", 6, 3, 3), 1));
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_precision_fp16(g, NULL, 0) == ODET_OK && pass_layout_nhwc(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_NHWC_PACK) == 1 && count_op(g, IR_OP_TRANSPOSE) == 2);
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->op != IR_OP_NHWC_PACK)
			continue;
		CHECK(n->in[0] == g->inputs[0] && ir_attr_int(n, "channels", 0) == 4 &&
		      ir_out(g, n, 0)->dtype == ODET_F16 && ir_out(g, n, 0)->dims[3] == 4);
	}
	const ir_node *c = find_node(g, "conf");
	CHECK(c != NULL);
	if (c) {
		/* KRSC [6,3,3,4]: element (m=2, y=1, x=2, c) = KCRS (2, c, 1, 2) for c < 3, zero for c = 3 */
		const ir_value *w = ir_in(g, c, 1);
		CHECK(w->dims[0] == 6 && w->dims[3] == 4 && w->dtype == ODET_F16);
		const uint16_t *wd = w->data;
		for (int ch = 0; ch < 4; ch++) {
			int64_t krsc = ((2 * 3 + 1) * 3 + 2) * 4 + ch, kcrs = ((2 * 3 + ch) * 3 + 1) * 3 + 2;
			float want = ch < 3 ? (float)(kcrs % 17) * 0.125f - 1.0f : 0.0f;
			CHECK(odet_f16_to_f32(wd[krsc]) == want);
		}
	}
	CHECK(pass_merge_sibling_convs(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_CONV) == 1 && count_op(g, IR_OP_SLICE) == 2);
	for (int i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].op == IR_OP_CONV) {
			const ir_value *w = ir_in(g, &g->nodes[i], 1), *b = ir_in(g, &g->nodes[i], 2);
			CHECK(w->dims[0] == 10 && w->dims[3] == 4 && b && b->dims[0] == 10 &&
			      ir_out(g, &g->nodes[i], 0)->dims[3] == 10);
		}
	CHECK(g->values[g->outputs[0]].dims[1] == 4 && g->values[g->outputs[1]].dims[1] == 6 &&
	      g->values[g->outputs[1]].dims[3] == 8);
	ir_graph_free(g);
}

/* uint8 image -> PixelNorm -> stem conv: fp16 + layout fold the normalization into the stem's
 * NhwcPack, which reads the uint8 input with the PixelNorm's scale and bias; no PixelNorm left. */
static void test_pixel_norm_pack(odet_ctx *ctx)
{
	static const float sc[3] = {0.5f, 0.25f, 0.125f}, bi[3] = {-1.0f, -2.0f, -3.0f};
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[4] = {2, 3, 8, 8};
	int x = test_graph_input(g, "x", ODET_U8, 4, d);
	int xn = ir_value_add(g, "x_norm", ODET_F32, -1, NULL);
	int pn = ir_node_add(g, IR_OP_PIXEL_NORM, "x_norm", 1, &x, 1, &xn);
	ir_attr_set_int(g, pn, "to", ODET_F32);
	ir_attr_set_floats(g, pn, "odet_scale", sc, 3);
	ir_attr_set_floats(g, pn, "odet_bias", bi, 3);
	test_graph_output(g, add_conv(g, "stem", xn, add_weight(g, "w", 8, 3, 3), 1));
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_precision_fp16(g, NULL, 0) == ODET_OK && pass_layout_nhwc(g) == ODET_OK);
	CHECK_MSG(count_op(g, IR_OP_PIXEL_NORM) == 0 && count_op(g, IR_OP_NHWC_PACK) == 1, "PixelNorm %d, NhwcPack %d",
		  count_op(g, IR_OP_PIXEL_NORM), count_op(g, IR_OP_NHWC_PACK));
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->op != IR_OP_NHWC_PACK)
			continue;
		const float *s, *b;
		CHECK(n->in[0] == g->inputs[0] && g->values[n->in[0]].dtype == ODET_U8 && ir_attr_int(n, "channels", 0) == 4 &&
		      ir_out(g, n, 0)->dtype == ODET_F16);
		CHECK(ir_attr_floats(n, "odet_scale", &s) == 3 && ir_attr_floats(n, "odet_bias", &b) == 3 &&
		      !memcmp(s, sc, sizeof sc) && !memcmp(b, bi, sizeof bi));
	}
	ir_graph_free(g);
}

int main(void)
{
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 1;
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	test_precision(ctx);
	test_layout(ctx);
	test_stem_pack_and_merge(ctx);
	test_pixel_norm_pack(ctx);
	test_layout_l2norm(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_passes");
}
