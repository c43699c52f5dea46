/*
 * test_cuda_core.c — the CUDA backend's own ops (Conv with its fused forms, MaxPool,
 * AveragePool, GlobalAveragePool, BatchNormalization, Gemm, MatMul) against the CPU backend
 * on awkward shapes (odd sizes, groups, depthwise, dilation, strides, ceil_mode, padding
 * modes, broadcast batches), through whole engines built with the default passes: device
 * constants, per-exec handles, graph capture and replay (several runs per exec, new inputs
 * each time), two exec contexts on one engine, a plan round trip (with its tuned choices),
 * the profile's node-by-node run, refusals naming the node.
 * fp32 must agree within 1e-4 of the output's largest magnitude; fp16 engines (NHWC convs
 * and pools, Casts and Transposes: when those kernels are linked) within 2e-2.
 * Exit code 77 (ctest: skipped) when no CUDA backend or no device is present.
 */
#include "cuda_test.h"
#include "engine/engine.h"
#include "graph_build.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

typedef struct tcase {
	ir_graph *g;
	int y;          /* output value */
	int node;       /* main node */
} tcase;

/* Build CPU and CUDA engines of g, run both on the same random inputs `runs` times (the
 * CUDA exec captures its graph on run 2 and replays it), compare every output. */
static void compare(odet_ctx *ctx, const char *what, ir_graph *g, odet_precision prec, float tol)
{
	odet_build_opts o = odet_build_opts_default();
	o.no_head = 1;
	odet_engine *ec = NULL, *eg = NULL;
	o.backend = ODET_BACKEND_CPU;
	odet_status rc = odet_engine_build(ctx, g, &o, &ec);
	CHECK_MSG(rc == ODET_OK, "%s: CPU build: %s", what, odet_ctx_last_error(ctx));
	o.backend = ODET_BACKEND_CUDA;
	o.precision = prec;
	rc = odet_engine_build(ctx, g, &o, &eg);
	if (rc == ODET_ERR_UNSUPPORTED && prec == ODET_PRECISION_FP16 &&
	    strstr(odet_ctx_last_error(ctx), "has no CUDA kernel")) {
		printf("  %-34s fp16 skipped: %s\n", what, odet_ctx_last_error(ctx));
		odet_engine_destroy(ec);
		return;
	}
	CHECK_MSG(rc == ODET_OK, "%s: CUDA build: %s", what, odet_ctx_last_error(ctx));
	if (!ec || !eg) {
		odet_engine_destroy(ec);
		odet_engine_destroy(eg);
		return;
	}
	int ni = odet_engine_num_inputs(ec), no = odet_engine_num_outputs(ec);
	odet_tensor in[4], oc[4], og[4], og2[4];
	odet_exec *xc = NULL, *xg = NULL, *xg2 = NULL;
	CHECK(odet_exec_create(ec, &xc) == ODET_OK);
	CHECK(odet_exec_create(eg, &xg) == ODET_OK);
	CHECK(odet_exec_create(eg, &xg2) == ODET_OK);
	for (int i = 0; i < ni; i++) {
		odet_engine_input_info(ec, i, NULL, &in[i]);
		in[i].data = malloc(odet_dtype_size(in[i].dtype) * (size_t)odet_tensor_numel(&in[i]));
	}
	cuda_test_outputs(ec, no, oc);
	cuda_test_outputs(ec, no, og);
	cuda_test_outputs(ec, no, og2);
	double worst = 0;
	for (int run = 0; run < 3 && xc && xg && xg2; run++) {
		for (int i = 0; i < ni; i++) /* float inputs in -1..1, uint8 ones (pixels) in 0..255 */
			for (int64_t k = 0; k < odet_tensor_numel(&in[i]); k++)
				if (in[i].dtype == ODET_U8)
					((uint8_t *)in[i].data)[k] = (uint8_t)(128.0f + 127.5f * cuda_test_frand());
				else
					((float *)in[i].data)[k] = cuda_test_frand();
		CHECK(odet_exec_infer(xc, in, ni, oc, no) == ODET_OK);
		rc = odet_exec_infer(xg, in, ni, og, no);
		CHECK_MSG(rc == ODET_OK, "%s: CUDA run %d: %s", what, run, odet_ctx_last_error(ctx));
		CHECK(odet_exec_infer(xg2, in, ni, og2, no) == ODET_OK);
		for (int i = 0; i < no; i++) {
			const float *a = oc[i].data, *b = og[i].data, *b2 = og2[i].data;
			int64_t n = odet_tensor_numel(&oc[i]);
			double mx = 1e-6, err = 0;
			for (int64_t k = 0; k < n; k++)
				mx = fmax(mx, fabs(a[k]));
			for (int64_t k = 0; k < n; k++) {
				err = fmax(err, fabs((double)a[k] - b[k]) / mx);
				err = fmax(err, fabs((double)a[k] - b2[k]) / mx);
				if (b[k] != b[k])
					err = INFINITY;
			}
			worst = fmax(worst, err);
		}
	}
	CHECK_MSG(worst <= tol, "%s: max relative error %.3g > %.3g", what, worst, tol);
	printf("  %-34s %s max rel err %.2e (graph %s)\n", what, prec == ODET_PRECISION_FP16 ? "fp16" : "fp32",
	       worst, xg && xg->graph ? "replayed" : "not captured");
	for (int i = 0; i < ni; i++)
		free(in[i].data);
	cuda_test_outputs_free(no, oc);
	cuda_test_outputs_free(no, og);
	cuda_test_outputs_free(no, og2);
	odet_exec_destroy(xc);
	odet_exec_destroy(xg);
	odet_exec_destroy(xg2);
	odet_engine_destroy(ec);
	odet_engine_destroy(eg);
}

typedef struct conv_spec {
	const char *name;
	int64_t n, c, h, w, m, k, s, d, group, pad;
	bool bias;
	int post;       /* 0 none, 1 Relu, 2 LeakyRelu, 3 residual Add + Relu, 4 Clip 0..6, 5 Sigmoid */
	const int64_t *pads; /* explicit 4 pads (asymmetric) */
} conv_spec;

static ir_graph *conv_graph(odet_ctx *ctx, const conv_spec *s)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {s->n, s->c, s->h, s->w};
	int x = test_graph_input(g, "x", ODET_F32, 4, xd);
	int64_t wd[4] = {s->m, s->c / s->group, s->k, s->k};
	int w = cuda_test_const(g, "w", 4, wd, 1.0f / sqrtf((float)(s->c / s->group * s->k * s->k)));
	int64_t bd[1] = {s->m};
	int b = s->bias ? cuda_test_const(g, "b", 1, bd, 0.5f) : -1;
	int y = ir_value_add(g, "conv_out", ODET_F32, -1, NULL);
	int in[3] = {x, w, b};
	int node = ir_node_add(g, IR_OP_CONV, "the_conv", s->bias ? 3 : 2, in, 1, &y);
	int64_t st[2] = {s->s, s->s}, dl[2] = {s->d, s->d}, pd[4] = {s->pad, s->pad, s->pad, s->pad},
		ks[2] = {s->k, s->k};
	ir_attr_set_ints(g, node, "strides", st, 2);
	ir_attr_set_ints(g, node, "dilations", dl, 2);
	ir_attr_set_ints(g, node, "pads", s->pads ? s->pads : pd, 4);
	ir_attr_set_ints(g, node, "kernel_shape", ks, 2);
	ir_attr_set_int(g, node, "group", s->group);
	int out = y;
	if (s->post == 3) {
		/* residual: a second input of the conv output's shape */
		int64_t oh = (s->h + 2 * s->pad - s->d * (s->k - 1) - 1) / s->s + 1;
		int64_t ow = (s->w + 2 * s->pad - s->d * (s->k - 1) - 1) / s->s + 1;
		int64_t rd[4] = {s->n, s->m, oh, ow};
		int r = test_graph_input(g, "r", ODET_F32, 4, rd);
		int sum = ir_value_add(g, "sum", ODET_F32, -1, NULL);
		ir_node_add(g, IR_OP_ADD, "add", 2, (int[]){y, r}, 1, &sum);
		out = sum;
	}
	if (s->post) {
		int z = ir_value_add(g, "act", ODET_F32, -1, NULL);
		if (s->post == 1 || s->post == 3) {
			ir_node_add(g, IR_OP_RELU, "relu", 1, &out, 1, &z);
		} else if (s->post == 2) {
			int k2 = ir_node_add(g, IR_OP_LEAKYRELU, "leaky", 1, &out, 1, &z);
			ir_attr_set_float(g, k2, "alpha", 0.1f);
		} else if (s->post == 4) {
			int64_t one = 1;
			int lo = ir_const_add(g, "lo", ODET_F32, 0, &one, calloc(1, sizeof(float)));
			float *six = malloc(sizeof(float));
			*six = 0.3f;
			int hi = ir_const_add(g, "hi", ODET_F32, 0, &one, six);
			ir_node_add(g, IR_OP_CLIP, "clip", 3, (int[]){out, lo, hi}, 1, &z);
		} else {
			ir_node_add(g, IR_OP_SIGMOID, "sig", 1, &out, 1, &z);
		}
		out = z;
	}
	test_graph_output(g, out);
	return g;
}

/* A uint8 image (input_u8.c's rewrite): PixelNorm -> 3x3 stem conv. fp32: the PixelNorm kernel;
 * fp16: folded into the stem's 4-channel NhwcPack (uint8 in, normalized on the way). */
static void test_pixel_norm(odet_ctx *ctx)
{
	static const float sc[3] = {1.0f / (255 * 0.229f), 1.0f / (255 * 0.224f), 1.0f / (255 * 0.225f)},
			   bi[3] = {-0.485f / 0.229f, -0.456f / 0.224f, -0.406f / 0.225f};
	for (int fp16 = 0; fp16 < 2; fp16++) {
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t xd[4] = {2, 3, 13, 11}, wd[4] = {16, 3, 3, 3};
		int x = test_graph_input(g, "image", ODET_U8, 4, xd);
		int xn = ir_value_add(g, "image_norm", ODET_F32, -1, NULL);
		int pn = ir_node_add(g, IR_OP_PIXEL_NORM, "norm", 1, &x, 1, &xn);
		ir_attr_set_int(g, pn, "to", ODET_F32);
		ir_attr_set_floats(g, pn, "odet_scale", sc, 3);
		ir_attr_set_floats(g, pn, "odet_bias", bi, 3);
		int w = cuda_test_const(g, "w", 4, wd, 0.2f);
		int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
		int c = ir_node_add(g, IR_OP_CONV, "stem", 2, (int[]){xn, w}, 1, &y);
		int64_t pd[4] = {1, 1, 1, 1};
		ir_attr_set_ints(g, c, "pads", pd, 4);
		test_graph_output(g, y);
		compare(ctx, "uint8 image -> PixelNorm -> conv", g, fp16 ? ODET_PRECISION_FP16 : ODET_PRECISION_FP32,
			fp16 ? 5e-3f : 1e-5f);
		ir_graph_free(g);
	}
}

static void test_convs(odet_ctx *ctx)
{
	static const int64_t asym[4] = {0, 0, 1, 1};
	static const conv_spec specs[] = {
		{"conv 3x3 relu", 2, 5, 13, 11, 7, 3, 1, 1, 1, 1, true, 1, NULL},
		{"conv 1x1 s2 no bias", 3, 8, 9, 10, 6, 1, 2, 1, 1, 0, false, 0, NULL},
		{"conv grouped g3 dil2", 1, 6, 15, 12, 9, 3, 1, 2, 3, 2, true, 0, NULL},
		{"conv depthwise s2 leaky", 2, 8, 17, 9, 8, 3, 2, 1, 8, 1, true, 2, NULL},
		{"conv 7x7 s2 residual relu", 2, 3, 23, 19, 16, 7, 2, 1, 1, 3, true, 3, NULL},
		{"conv 3x3 clip", 1, 4, 8, 8, 5, 3, 1, 1, 1, 1, true, 4, NULL},
		{"conv 5x5 sigmoid wide", 1, 32, 6, 7, 64, 5, 1, 1, 1, 2, true, 5, NULL},
		/* channels multiple of 8: fp16 NHWC runs these through cuDNN's fused operation
		 * graphs when they time faster (ODET_CONV_PATH=graph forces it) */
		{"conv 1x1 residual relu c64", 2, 64, 10, 9, 32, 1, 1, 1, 1, 0, true, 3, NULL},
		{"conv 3x3 bias c16", 2, 16, 12, 12, 24, 3, 1, 1, 1, 1, true, 0, NULL},
		{"conv 3x3 s2 leaky c32", 1, 32, 11, 13, 16, 3, 2, 1, 1, 1, true, 2, NULL},
		{"conv 3x3 clip no bias c8", 2, 8, 9, 9, 8, 3, 1, 1, 1, 1, false, 4, NULL},
		{"conv 1x1 s2 residual c32", 2, 32, 14, 14, 64, 1, 2, 1, 1, 0, false, 3, NULL},
		/* fp16: a 3-channel image padded to 4 channels, 3x3 to 64 (VGG's stem): odet's own
		 * kernel competes (ODET_CONV_PATH=direct forces it); 286 and 63 output pixels, not
		 * multiples of its 16-pixel tiles */
		{"conv 3x3 c3 m64 relu (stem)", 2, 3, 13, 11, 64, 3, 1, 1, 1, 1, true, 1, NULL},
		{"conv 3x3 c3 m64 clip no bias (stem)", 1, 3, 9, 7, 64, 3, 1, 1, 1, 1, false, 4, NULL},
		{"conv 3x3 c3 m64 leaky (stem)", 1, 3, 16, 16, 64, 3, 1, 1, 1, 1, true, 2, NULL},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		ir_graph *g = conv_graph(ctx, &specs[i]);
		compare(ctx, specs[i].name, g, ODET_PRECISION_FP32, 1e-4f);
		compare(ctx, specs[i].name, g, ODET_PRECISION_FP16, 2e-2f); /* NHWC */
		ir_graph_free(g);
	}
	/* asymmetric pads (TF SAME, stride 2): cuDNN takes symmetric pads only, so the
	 * symmetric_pads pass puts the extra row/column into an explicit Pad before the conv */
	conv_spec a = {"conv 2x2 s2 asymmetric pads", 1, 3, 8, 8, 4, 2, 2, 1, 1, 0, true, 0, asym};
	ir_graph *g = conv_graph(ctx, &a);
	compare(ctx, a.name, g, ODET_PRECISION_FP32, 1e-4f);
	compare(ctx, a.name, g, ODET_PRECISION_FP16, 2e-2f);
	ir_graph_free(g);
}

static ir_graph *unary_graph(odet_ctx *ctx, ir_op op, int rank, const int64_t *dims, tcase *tc)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = test_graph_input(g, "x", ODET_F32, rank, dims);
	int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
	tc->node = ir_node_add(g, op, "the_node", 1, &x, 1, &y);
	tc->y = y;
	test_graph_output(g, y);
	tc->g = g;
	return g;
}

static void test_pools(odet_ctx *ctx)
{
	static const struct {
		const char *name;
		ir_op op;
		int64_t k, s, pad, ceil, incl;
		int64_t h, w;
	} ps[] = {
		{"maxpool 3x3 s2 p1", IR_OP_MAXPOOL, 3, 2, 1, 0, 0, 15, 12},
		{"maxpool 2x2 s2 ceil", IR_OP_MAXPOOL, 2, 2, 0, 1, 0, 9, 7},
		{"avgpool 3x3 s2 p1 excl", IR_OP_AVGPOOL, 3, 2, 1, 0, 0, 11, 10},
		{"avgpool 3x3 s2 p1 incl ceil", IR_OP_AVGPOOL, 3, 2, 1, 1, 1, 10, 13},
	};
	/* C = 3: the generic kernel; C = 16 in fp16: NHWC with 8-channel vectors (pool8_kernel) */
	for (size_t j = 0; j < 2 * sizeof ps / sizeof ps[0]; j++) {
		size_t i = j % (sizeof ps / sizeof ps[0]);
		int64_t c = j < sizeof ps / sizeof ps[0] ? 3 : 16;
		tcase tc;
		int64_t d[4] = {2, c, ps[i].h, ps[i].w};
		ir_graph *g = unary_graph(ctx, ps[i].op, 4, d, &tc);
		int64_t k[2] = {ps[i].k, ps[i].k}, s[2] = {ps[i].s, ps[i].s},
			p[4] = {ps[i].pad, ps[i].pad, ps[i].pad, ps[i].pad};
		ir_attr_set_ints(g, tc.node, "kernel_shape", k, 2);
		ir_attr_set_ints(g, tc.node, "strides", s, 2);
		ir_attr_set_ints(g, tc.node, "pads", p, 4);
		ir_attr_set_int(g, tc.node, "ceil_mode", ps[i].ceil);
		if (ps[i].op == IR_OP_AVGPOOL)
			ir_attr_set_int(g, tc.node, "count_include_pad", ps[i].incl);
		char what[64];
		snprintf(what, sizeof what, "%s c%d", ps[i].name, (int)c);
		if (c == 3)
			compare(ctx, what, g, ODET_PRECISION_FP32, 1e-5f);
		if (c == 16 || i == 0 || i == 3) /* fp16: NHWC pools between Transposes */
			compare(ctx, what, g, ODET_PRECISION_FP16, 2e-2f);
		ir_graph_free(g);
	}
	tcase tc;
	int64_t d[4] = {2, 7, 5, 3};
	ir_graph *g = unary_graph(ctx, IR_OP_GLOBALAVGPOOL, 4, d, &tc);
	compare(ctx, "globalavgpool 5x3", g, ODET_PRECISION_FP32, 1e-5f);
	ir_graph_free(g);
	int64_t d2[4] = {3, 5, 19, 21};
	g = unary_graph(ctx, IR_OP_GLOBALAVGPOOL, 4, d2, &tc);
	compare(ctx, "globalavgpool 19x21", g, ODET_PRECISION_FP32, 1e-5f);
	ir_graph_free(g);
}

/* ---- head views: Concat of Transpose/Reshape chains (passes/fuse_concat_views.c) */
static int hv_value(ir_graph *g, const char *name)
{
	return ir_value_add(g, name, ODET_F32, -1, NULL);
}

static int hv_concat(ir_graph *g, const char *name, int n, const int *xs, int64_t axis)
{
	int y = hv_value(g, name);
	int node = ir_node_add(g, IR_OP_CONCAT, name, n, xs, 1, &y);
	ir_attr_set_int(g, node, "axis", axis);
	return y;
}

static void test_head_views(odet_ctx *ctx)
{
	/* SSD-like: per level conv -> Reshape [N,A,-1] -> Concat axis 2 (fp16: NHWC convs, so each
	 * input is a batched 2-D transpose with the float32 output Cast absorbed); RetinaNet-like:
	 * conv -> view [N,A,K,H,W] -> permute(0,3,4,1,2) -> [N,HWA,K] -> Concat axis 1 (fp16: a
	 * plain copy of the NHWC conv output); sizes not multiples of the 32x32 tiles. */
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {2, 8, 37, 35};
	int x = test_graph_input(g, "x", ODET_F32, 4, xd);
	int c0 = cuda_test_conv(g, "c0", x, 8, 12, 3, 1, 0.3f, 0);  /* [2,12,37,35] */
	int c1 = cuda_test_conv(g, "c1", x, 8, 6, 1, 2, 0.3f, 0);   /* [2,6,19,18] */
	int c2 = cuda_test_conv(g, "c2", x, 8, 40, 3, 4, 0.3f, 0);  /* [2,40,10,9] */
	int r0 = test_graph_reshape(g, "r0", c0, 3, (int64_t[]){2, 3, 4 * 37 * 35});
	int r1 = test_graph_reshape(g, "r1", c1, 3, (int64_t[]){2, 3, 2 * 19 * 18});
	/* a view read three times is not absorbed: its Concat's input stays a Concat output */
	int r2b = test_graph_reshape(g, "r2b", c2, 3, (int64_t[]){2, 1, 40 * 10 * 9});
	int r2c = hv_concat(g, "r2c", 3, (int[]){r2b, r2b, r2b}, 1); /* [2,3,3600] */
	test_graph_output(g, hv_concat(g, "ssd_cat", 3, (int[]){r0, r1, r2c}, 2));
	int lv[2];
	for (int l = 0; l < 2; l++) {
		char nm[32];
		snprintf(nm, sizeof nm, "rc%d", l);
		int c = cuda_test_conv(g, nm, x, 8, 6, 3, l ? 2 : 1, 0.3f, 0);
		int64_t h = l ? 19 : 37, w = l ? 18 : 35;
		snprintf(nm, sizeof nm, "rv%d", l);
		int v = test_graph_reshape(g, nm, c, 5, (int64_t[]){2, 2, 3, h, w});
		snprintf(nm, sizeof nm, "rp%d", l);
		int p = test_graph_transpose(g, nm, v, 5, (int64_t[]){0, 3, 4, 1, 2});
		snprintf(nm, sizeof nm, "rr%d", l);
		lv[l] = test_graph_reshape(g, nm, p, 3, (int64_t[]){2, h * w * 2, 3});
	}
	test_graph_output(g, hv_concat(g, "retina_cat", 2, lv, 1));
	/* a permutation that is neither a copy nor a batched transpose, on a graph input */
	int64_t zd[4] = {3, 4, 5, 2}, ud[5] = {1, 5, 3, 4, 2};
	int z = test_graph_input(g, "z", ODET_F32, 4, zd), u = test_graph_input(g, "u", ODET_F32, 5, ud);
	int zt = test_graph_transpose(g, "zt", z, 4, (int64_t[]){2, 0, 3, 1});
	int zr = test_graph_reshape(g, "zr", zt, 5, (int64_t[]){1, 5, 3, 4, 2});
	test_graph_output(g, hv_concat(g, "gen_cat", 2, (int[]){zr, u}, 0));
	compare(ctx, "head views (PermuteConcat)", g, ODET_PRECISION_FP32, 1e-4f);
	compare(ctx, "head views (PermuteConcat)", g, ODET_PRECISION_FP16, 2e-2f);
	ir_graph_free(g);
}

static void test_batchnorm(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[4] = {2, 6, 7, 5}, c = 6;
	int x = test_graph_input(g, "x", ODET_F32, 4, d);
	int sc = cuda_test_const(g, "scale", 1, &c, 1.0f), b = cuda_test_const(g, "bias", 1, &c, 1.0f);
	int mean = cuda_test_const(g, "mean", 1, &c, 0.5f);
	float *var = malloc(sizeof(float) * 6);
	for (int i = 0; i < 6; i++)
		var[i] = 0.5f + 0.4f * cuda_test_frand();
	int vv = ir_const_add(g, "var", ODET_F32, 1, &c, var);
	int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
	int n = ir_node_add(g, IR_OP_BATCHNORM, "bn", 5, (int[]){x, sc, b, mean, vv}, 1, &y);
	ir_attr_set_float(g, n, "epsilon", 1e-3f);
	test_graph_output(g, y);
	compare(ctx, "batchnorm", g, ODET_PRECISION_FP32, 1e-5f);
	ir_graph_free(g);
}

static void test_gemms(odet_ctx *ctx)
{
	/* Gemm transB with bias [N] */
	{
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t ad[2] = {5, 37}, bd[2] = {19, 37}, cd[1] = {19};
		int a = test_graph_input(g, "a", ODET_F32, 2, ad);
		int b = cuda_test_const(g, "b", 2, bd, 0.2f), c = cuda_test_const(g, "c", 1, cd, 1.0f);
		int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
		int n = ir_node_add(g, IR_OP_GEMM, "gemm", 3, (int[]){a, b, c}, 1, &y);
		ir_attr_set_int(g, n, "transB", 1);
		test_graph_output(g, y);
		compare(ctx, "gemm transB bias[N]", g, ODET_PRECISION_FP32, 1e-4f);
		compare(ctx, "gemm transB bias[N]", g, ODET_PRECISION_FP16, 2e-2f);
		ir_graph_free(g);
	}
	/* Gemm transA, alpha, C [M,N] with beta */
	{
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t ad[2] = {13, 6}, bd[2] = {13, 9}, cd[2] = {6, 9};
		int a = test_graph_input(g, "a", ODET_F32, 2, ad);
		int b = cuda_test_const(g, "b", 2, bd, 0.5f), c = cuda_test_const(g, "c", 2, cd, 1.0f);
		int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
		int n = ir_node_add(g, IR_OP_GEMM, "gemm2", 3, (int[]){a, b, c}, 1, &y);
		ir_attr_set_int(g, n, "transA", 1);
		ir_attr_set_float(g, n, "alpha", 0.5f);
		ir_attr_set_float(g, n, "beta", 0.7f);
		test_graph_output(g, y);
		compare(ctx, "gemm transA alpha C[M,N] beta", g, ODET_PRECISION_FP32, 1e-4f);
		ir_graph_free(g);
	}
	/* MatMul batched, equal batch dims; and broadcast of a 2-D B */
	{
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t ad[4] = {2, 3, 5, 4}, bd[4] = {2, 3, 4, 6};
		int a = test_graph_input(g, "a", ODET_F32, 4, ad), b = test_graph_input(g, "b", ODET_F32, 4, bd);
		int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
		ir_node_add(g, IR_OP_MATMUL, "mm", 2, (int[]){a, b}, 1, &y);
		test_graph_output(g, y);
		compare(ctx, "matmul batched", g, ODET_PRECISION_FP32, 1e-4f);
		ir_graph_free(g);
	}
	{
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t ad[3] = {4, 5, 7}, bd[2] = {7, 3};
		int a = test_graph_input(g, "a", ODET_F32, 3, ad), b = cuda_test_const(g, "b", 2, bd, 1.0f);
		int y = ir_value_add(g, "y", ODET_F32, -1, NULL);
		ir_node_add(g, IR_OP_MATMUL, "mm2", 2, (int[]){a, b}, 1, &y);
		test_graph_output(g, y);
		compare(ctx, "matmul broadcast B", g, ODET_PRECISION_FP32, 1e-4f);
		ir_graph_free(g);
	}
}

/* A CUDA plan survives a round trip, records the device it was built on and carries its tuned
 * convolution choices, which the load runs. */
static void test_plan(odet_ctx *ctx)
{
	conv_spec s = {"plan", 1, 4, 9, 9, 8, 3, 1, 1, 1, 1, true, 1, NULL};
	ir_graph *g = conv_graph(ctx, &s);
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CUDA;
	o.no_head = 1;
	odet_engine *e = NULL, *l = NULL;
	CHECK(odet_engine_build(ctx, g, &o, &e) == ODET_OK);
	void *buf = NULL;
	size_t size = 0;
	if (e && engine_save_buffer(e, &buf, &size) == ODET_OK) {
		uint32_t arch;
		memcpy(&arch, (char *)buf + 24, 4);
		CHECK(arch >= 50 && arch == e->devinfo[0]);
		odet_status rc = engine_load_buffer_dev(ctx, buf, size, "t.plan", NULL, 0, &l);
		CHECK_MSG(rc == ODET_OK, "plan load: %s", odet_ctx_last_error(ctx));
		CHECK(l && l->be == e->be && l->g->n_nodes == e->g->n_nodes);
		/* the conv's tuned choice travels in the plan (this ctx has no cache file) and the load
		 * runs it: same choices, bit-identical outputs */
		if (!getenv("ODET_CONV_PATH"))
			CHECK_MSG(e->tune.n >= 1, "tuned choices recorded: %d", e->tune.n);
		if (l) {
			CHECK(l->tune.n == e->tune.n);
			for (int i = 0; i < e->tune.n && i < l->tune.n; i++) {
				const char *v = odet_tune_set_find(&l->tune, e->tune.key[i]);
				CHECK_MSG(v && !strcmp(v, e->tune.val[i]), "%s: built %s, loaded %s", e->tune.key[i],
					  e->tune.val[i], v ? v : "(none)");
			}
			odet_tensor in, oe, ol;
			odet_exec *xe = NULL, *xl = NULL;
			odet_engine_input_info(e, 0, NULL, &in);
			odet_engine_output_info(e, 0, NULL, &oe);
			ol = oe;
			size_t nb = sizeof(float) * (size_t)odet_tensor_numel(&oe);
			in.data = malloc(sizeof(float) * (size_t)odet_tensor_numel(&in));
			oe.data = malloc(nb);
			ol.data = malloc(nb);
			for (int64_t k = 0; k < odet_tensor_numel(&in); k++)
				((float *)in.data)[k] = cuda_test_frand();
			CHECK(odet_exec_create(e, &xe) == ODET_OK && odet_exec_create(l, &xl) == ODET_OK);
			CHECK(xe && xl && odet_exec_infer(xe, &in, 1, &oe, 1) == ODET_OK &&
			      odet_exec_infer(xl, &in, 1, &ol, 1) == ODET_OK && memcmp(oe.data, ol.data, nb) == 0);
			odet_exec_destroy(xe);
			odet_exec_destroy(xl);
			free(in.data);
			free(oe.data);
			free(ol.data);
		}
		/* a device index this machine does not have: refused with a reason */
		odet_engine *l2 = NULL;
		CHECK(engine_load_buffer_dev(ctx, buf, size, "t.plan", NULL, 1000, &l2) != ODET_OK);
		odet_engine_destroy(l2);
	} else {
		CHECK(!"save");
	}
	free(buf);
	odet_engine_destroy(l);
	odet_engine_destroy(e);
	ir_graph_free(g);
}

/* ---- `odet bench --profile`'s node-by-node run (exec_profile_nodes) computes what a normal run
 * computes, although the memory plan gives the input's slot to a later value: it uploads the
 * inputs again (it used to run on whatever the last run left in that slot) */
static void test_profile(odet_ctx *ctx)
{
	static const ir_op ops[] = {IR_OP_NEG, IR_OP_ABS, IR_OP_NEG, IR_OP_EXP};
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t d[2] = {4, 1000};
	int v = test_graph_input(g, "x", ODET_F32, 2, d);
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "v%d", i);
		int y = test_graph_value(g, name);
		ir_node_add(g, ops[i], name, 1, &v, 1, &y);
		v = y;
	}
	test_graph_output(g, v);
	odet_build_opts o = odet_build_opts_default();
	o.no_head = 1;
	o.backend = ODET_BACKEND_CUDA;
	odet_engine *e = NULL;
	odet_exec *ex = NULL;
	odet_status rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK, "profile: build: %s", odet_ctx_last_error(ctx));
	if (!e || odet_exec_create(e, &ex) != ODET_OK) {
		odet_engine_destroy(e);
		ir_graph_free(g);
		return;
	}
	const ir_graph *eg = e->g;
	int xi = eg->inputs[0], yi = eg->outputs[0];
	size_t xo = e->plan.value_offset[xi], xs = e->plan.value_size[xi];
	bool reused = false;
	for (int k = 0; k < eg->n_values; k++)
		if (k != xi && eg->values[k].kind != IR_VALUE_CONST && e->plan.value_size[k] &&
		    e->plan.value_offset[k] < xo + xs && xo < e->plan.value_offset[k] + e->plan.value_size[k])
			reused = true;
	CHECK_MSG(reused, "profile: the plan gives the input's slot to no other value; this test covers nothing");
	odet_tensor in, out;
	odet_engine_input_info(e, 0, NULL, &in);
	odet_engine_output_info(e, 0, NULL, &out);
	int64_t n = odet_tensor_numel(&in);
	float *xin = malloc(sizeof(float) * (size_t)n), *y0 = malloc(sizeof(float) * (size_t)n),
	      *y1 = malloc(sizeof(float) * (size_t)n), ms[8];
	for (int64_t k = 0; k < n; k++)
		xin[k] = cuda_test_frand();
	in.data = xin;
	out.data = y0;
	CHECK(odet_exec_infer(ex, &in, 1, &out, 1) == ODET_OK);
	rc = exec_profile_nodes(ex, &in, 1, ms);
	CHECK_MSG(rc == ODET_OK, "profile: %s", odet_ctx_last_error(ctx));
	CHECK(e->be->copy_from(ctx, y1, exec_value_ptr(ex, yi), sizeof(float) * (size_t)n, ex->stream) == ODET_OK);
	CHECK(e->be->stream_sync(ctx, ex->stream) == ODET_OK);
	CHECK_MSG(!memcmp(y0, y1, sizeof(float) * (size_t)n), "profile: the node-by-node run computed other outputs");
	CHECK(exec_profile_nodes(ex, &in, 0, ms) == ODET_ERR_INVALID_ARG);
	printf("  %-34s input slot reused: %s; node-by-node outputs %s\n", "profile", reused ? "yes" : "no",
	       memcmp(y0, y1, sizeof(float) * (size_t)n) ? "differ" : "identical");
	free(xin);
	free(y0);
	free(y1);
	odet_exec_destroy(ex);
	odet_engine_destroy(e);
	ir_graph_free(g);
}

int main(void)
{
	odet_ctx *ctx = NULL;
	int skip = cuda_test_open("cuda_core", NULL, &ctx);
	if (skip)
		return skip;
	cuda_test_seed(12345);
	test_convs(ctx);
	test_pixel_norm(ctx);
	test_pools(ctx);
	test_head_views(ctx);
	test_batchnorm(ctx);
	test_gemms(ctx);
	test_plan(ctx);
	test_profile(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_core");
}
