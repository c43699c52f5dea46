/*
 * test_quant.c — INT8 quantization, layer by layer:
 *  - histograms and the three calibrators on data whose answer is known;
 *  - the calibration cache: round trip, and malformed files refused;
 *  - pass_quantize + the CPU reference kernels (QuantizeLinear, QConv) on a two-conv graph
 *    (conv -> ReLU -> conv with a residual) against an independent double-precision model of
 *    the same arithmetic, and against the fp32 convolution (the quantization error is small).
 */
#include "engine/engine.h"
#include "passes/passes.h"
#include "quant/quant.h"
#include "quant_test.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t rng = 12345;

static void test_hist(void)
{
	quant_hist h;
	quant_hist_init(&h);
	enum { N = 100000 };
	float *x = malloc(sizeof(float) * N);
	for (int i = 0; i < N; i++)
		x[i] = qt_frand(&rng) * 0.5f; /* |x| < 0.5 */
	quant_hist_add(&h, x, N);
	float big[1] = {3.0f}; /* grows the range twice over */
	quant_hist_add(&h, big, 1);
	int64_t sum = 0;
	for (int i = 0; i < QUANT_BINS; i++)
		sum += h.bins[i];
	CHECK(sum == N + 1 && h.count == N + 1);
	CHECK(fabs(quant_hist_amax(&h, ODET_CALIB_MINMAX, 0) - 3.0) < 1e-6);
	double p50 = quant_hist_amax(&h, ODET_CALIB_PERCENTILE, 50);
	CHECK_MSG(fabs(p50 - 0.25) < 0.01, "median of |U(-0.5,0.5)| 0.25, got %g", p50);
	double p9999 = quant_hist_amax(&h, ODET_CALIB_PERCENTILE, 99.99);
	CHECK_MSG(p9999 > 0.49 && p9999 < 0.51, "99.99th percentile ignores the one outlier: %g", p9999);
	double ent = quant_hist_amax(&h, ODET_CALIB_ENTROPY, 0);
	CHECK_MSG(ent > 0.4 && ent < 1.0, "entropy clips the lone outlier, keeps the bulk: %g", ent);
	float nan[2] = {NAN, INFINITY};
	quant_hist_add(&h, nan, 2);
	CHECK(h.nonfinite == 2 && fabs(h.amax - 3.0) < 1e-6);
	quant_hist h0;
	quant_hist_init(&h0);
	float z[4] = {0, 0, 0, 0};
	quant_hist_add(&h0, z, 4);
	CHECK(quant_hist_amax(&h0, ODET_CALIB_ENTROPY, 0) == 0);
	free(x);
}


static void test_cache(odet_ctx *ctx, const char *dir)
{
	char path[512];
	snprintf(path, sizeof path, "%s/a.calib", dir);
	quant_table t = {0}, u;
	t.model_hash = 0x0123456789abcdefull;
	t.calibrator = ODET_CALIB_PERCENTILE;
	t.percentile = 99.9;
	t.images = 42;
	CHECK(!quant_table_add(ctx, &t, "b tensor with spaces", 1.5));
	CHECK(!quant_table_add(ctx, &t, "a", 0.25));
	quant_table_sort(&t);
	CHECK(!quant_table_save(ctx, &t, path));
	CHECK(!quant_table_load(ctx, path, &u));
	CHECK(u.n == 2 && u.model_hash == t.model_hash && u.calibrator == ODET_CALIB_PERCENTILE && u.images == 42);
	CHECK(quant_table_get(&u, "a") == 0.25 && quant_table_get(&u, "b tensor with spaces") == 1.5 &&
	      quant_table_get(&u, "c") < 0);
	quant_table_free(&u);
	quant_table_free(&t);
	static const char *bad[] = {
		"",                                                                     /* empty */
		"not a cache\n",                                                        /* magic */
		"odet-calibration 1\ncalibrator minmax\namax 1 x\n",                    /* no model */
		"odet-calibration 1\nmodel 00000000000000ff\namax 1 x\n",               /* no calibrator */
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\namax nan x\n",
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\namax -1 x\n",
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\namax 1 x\namax 2 x\n", /* twice */
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\nscale 1 x\n",          /* unknown */
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator fancy\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		qt_write_file(path, bad[i]);
		odet_status rc = quant_table_load(ctx, path, &u);
		CHECK_MSG(rc == ODET_ERR_BAD_INPUT, "malformed cache %zu refused (got %d: %s)", i, (int)rc,
			  odet_ctx_last_error(ctx));
	}
}

/* ---- pass + kernels against an independent model of the arithmetic */

enum { B = 2, C = 8, H = 7, W = 6, M1 = 8, M2 = 4, K = 3 };

static int conv_node(ir_graph *g, const char *name, int x, int m, int c, const float *w, const float *b, int act,
		     int res)
{
	return qt_conv_node(g, name, x, m, c, K, w, b, act, res);
}

static double q8(double v) /* round half even, saturate */
{
	double r = nearbyint(v);
	return r > 127 ? 127 : (r < -128 ? -128 : r);
}

/* y[b][m][i][j] of conv(x) with per-channel int8 weights and int8 x (as pass_quantize does) */
static void model_conv(const double *xq, int c, int m, const float *w, const float *bias, double sx, double sy,
		       const double *res, double rs, int relu, bool out_i8, double *y)
{
	for (int o = 0; o < m; o++) {
		double amax = 0;
		for (int k = 0; k < c * K * K; k++)
			amax = fmax(amax, fabs(w[o * c * K * K + k]));
		double sw = amax / 127;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < H; i++)
				for (int j = 0; j < W; j++) {
					double acc = 0;
					for (int ci = 0; ci < c; ci++)
						for (int ky = 0; ky < K; ky++)
							for (int kx = 0; kx < K; kx++) {
								int yy = i + ky - 1, xx = j + kx - 1;
								if (yy < 0 || yy >= H || xx < 0 || xx >= W)
									continue;
								double wq = nearbyint(w[((o * c + ci) * K + ky) * K + kx] / sw);
								acc += xq[((b * c + ci) * H + yy) * W + xx] * wq;
							}
					size_t yi = ((size_t)(b * m + o) * H + i) * W + j;
					double v = (float)(sx * sw / sy) * acc + (float)(bias[o] / sy);
					if (res)
						v += (float)rs * res[yi];
					if (relu && v < 0)
						v = 0;
					y[yi] = out_i8 ? q8(v) : v;
				}
	}
}

/* max |conv(x) + b| (after ReLU when relu) in float64: the amax a calibration would find */
static double conv_amax(const float *x, int c, int m, const float *w, const float *bias, int relu)
{
	double amax = 0;
	for (int o = 0; o < m; o++)
		for (int b = 0; b < B; b++)
			for (int i = 0; i < H; i++)
				for (int j = 0; j < W; j++) {
					double acc = bias[o];
					for (int ci = 0; ci < c; ci++)
						for (int ky = 0; ky < K; ky++)
							for (int kx = 0; kx < K; kx++) {
								int yy = i + ky - 1, xx = j + kx - 1;
								if (yy >= 0 && yy < H && xx >= 0 && xx < W)
									acc += (double)x[((b * c + ci) * H + yy) * W + xx] *
									       w[((o * c + ci) * K + ky) * K + kx];
							}
					if (relu && acc < 0)
						acc = 0;
					amax = fmax(amax, fabs(acc));
				}
	return amax;
}

static int value_named(const ir_graph *g, const char *name)
{
	for (int v = 0; v < g->n_values; v++)
		if (!strcmp(g->values[v].name, name))
			return v;
	return -1;
}

static void test_pass(odet_ctx *ctx)
{
	static float w1[M1 * C * K * K], b1[M1], w2[M2 * M1 * K * K], b2[M2], x[B * C * H * W];
	for (size_t i = 0; i < sizeof w1 / 4; i++)
		w1[i] = qt_frand(&rng) * 0.3f;
	for (size_t i = 0; i < sizeof w2 / 4; i++)
		w2[i] = qt_frand(&rng) * 0.3f;
	for (int i = 0; i < M1; i++)
		b1[i] = qt_frand(&rng) * 0.1f;
	for (int i = 0; i < M2; i++)
		b2[i] = qt_frand(&rng) * 0.1f;
	for (size_t i = 0; i < sizeof x / 4; i++)
		x[i] = qt_frand(&rng) * 2.0f;
	ir_graph *g;
	CHECK(!ir_graph_create(ctx, &g));
	int64_t xd[4] = {B, C, H, W};
	int xin = test_graph_input(g, "x", ODET_F32, 4, xd);
	int y1 = conv_node(g, "c1", xin, M1, C, w1, b1, IR_ACT_RELU, -1);
	/* c2 reads y1 and adds x's first four channels? no: a residual of its own shape, y1[:, :4]
	 * is not a value; use a second conv path: c2 = conv(y1) + r, r = c3(x) */
	int r = conv_node(g, "c3", xin, M2, C, w1, b1, IR_ACT_NONE, -1);
	int y2 = conv_node(g, "c2", y1, M2, M1, w2, b2, IR_ACT_NONE, r);
	test_graph_output(g, y2);
	CHECK(!pass_infer_shapes(g));
	/* the fp32 reference before quantizing */
	const odet_backend *be;
	CHECK(!engine_backend_select(ctx, ODET_BACKEND_CPU, &be));
	odet_engine *ef = NULL, *eq = NULL;
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	o.batch = B;
	CHECK(!engine_build_with(ctx, g, &o, be, false, &ef));
	static float yf[B * M2 * H * W], yq[B * M2 * H * W];
	odet_tensor tin = {.dtype = ODET_F32, .rank = 4, .dims = {B, C, H, W}, .data = x, .device = -1};
	odet_tensor tout = {.dtype = ODET_F32, .rank = 4, .dims = {B, M2, H, W}, .data = yf, .device = -1};
	odet_exec *xe = NULL;
	CHECK(!odet_exec_create(ef, &xe) && !odet_exec_infer(xe, &tin, 1, &tout, 1));
	{ /* calibration taps: x (a graph input), y1 and r, the convolutions' inputs */
		odet_engine *et = NULL;
		int n_taps = 0;
		odet_status trc = engine_build_taps(ctx, g, &o, be, &n_taps, &et);
		CHECK_MSG(!trc && n_taps == 3, "taps: %d (%s)", n_taps, odet_ctx_last_error(ctx));
		if (!trc) {
			int no = odet_engine_num_outputs(et);
			odet_tensor outs[8];
			odet_exec *xt = NULL;
			CHECK(no == 1 + n_taps && no <= 8);
			for (int i = 0; i < no && i < 8; i++) {
				odet_engine_output_info(et, i, NULL, &outs[i]);
				outs[i].data = calloc((size_t)odet_tensor_numel(&outs[i]), odet_dtype_size(outs[i].dtype));
			}
			CHECK(!odet_exec_create(et, &xt) && !odet_exec_infer(xt, &tin, 1, outs, no));
			const char *nm = NULL;
			bool x_seen = false;
			for (int i = 1; i < no && i < 8; i++) {
				odet_tensor info;
				odet_engine_output_info(et, i, &nm, &info);
				if (!strcmp(nm, "x"))
					x_seen = !memcmp(outs[i].data, x, sizeof x);
			}
			CHECK_MSG(x_seen, "the graph input x is a tap and reads back equal");
			for (int i = 0; i < no && i < 8; i++)
				free(outs[i].data);
			odet_exec_destroy(xt);
		}
		odet_engine_destroy(et);
	}
	/* amax of x, y1 and r as a minmax calibration finds them */
	double ax = 0;
	for (size_t i = 0; i < sizeof x / 4; i++)
		ax = fmax(ax, fabs(x[i]));
	const double ay1 = conv_amax(x, C, M1, w1, b1, 1), ar = conv_amax(x, C, M2, w1, b1, 0);
	quant_table t = {0};
	CHECK(!quant_table_add(ctx, &t, "x", ax) && !quant_table_add(ctx, &t, "c1", ay1) && !quant_table_add(ctx, &t, "c3", ar));
	quant_table_sort(&t);
	int nq = 0;
	{ /* --keep-fp32 c3: that conv stays float, its output too */
		ir_graph *k;
		const char *keep[1] = {"c3"};
		int nk = 0;
		CHECK(!ir_graph_clone(g, &k));
		CHECK(!pass_quantize(k, &t, keep, 1, &nk) && nk == 2);
		int v3 = value_named(k, "c3");
		CHECK(v3 >= 0 && k->values[v3].dtype == ODET_F32);
		ir_graph_free(k);
	}
	CHECK(!pass_quantize(g, &t, NULL, 0, &nq));
	CHECK_MSG(nq == 3, "3 convs quantized, got %d", nq);
	int n_qconv = 0, n_quant = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		n_qconv += g->nodes[i].op == IR_OP_QCONV;
		n_quant += g->nodes[i].op == IR_OP_QUANTIZE_LINEAR;
	}
	CHECK_MSG(n_qconv == 3 && n_quant == 1, "QConv %d (3), QuantizeLinear %d (1: x, shared)", n_qconv, n_quant);
	y1 = value_named(g, "c1");
	r = value_named(g, "c3");
	y2 = value_named(g, "c2");
	CHECK(y1 >= 0 && r >= 0 && y2 >= 0 && g->values[y1].dtype == ODET_I8 && g->values[r].dtype == ODET_I8 &&
	      g->values[y2].dtype == ODET_F32);
	CHECK(!engine_build_with(ctx, g, &o, be, false, &eq));
	odet_exec *xq = NULL;
	tout.data = yq;
	CHECK(!odet_exec_create(eq, &xq) && !odet_exec_infer(xq, &tin, 1, &tout, 1));
	/* the independent model */
	size_t nx = sizeof x / 4, n1 = (size_t)B * M1 * H * W, n2 = (size_t)B * M2 * H * W;
	double *xqd = malloc(sizeof(double) * nx), *y1d = malloc(sizeof(double) * n1), *rd = malloc(sizeof(double) * n2),
	       *y2d = malloc(sizeof(double) * n2);
	double sx = (float)ax / 127.0;
	for (size_t i = 0; i < nx; i++)
		xqd[i] = q8(x[i] / (float)sx);
	model_conv(xqd, C, M1, w1, b1, sx, ay1 / 127, NULL, 0, 1, true, y1d);
	model_conv(xqd, C, M2, w1, b1, sx, ar / 127, NULL, 0, 0, true, rd);
	model_conv(y1d, M1, M2, w2, b2, ay1 / 127, 1.0, rd, ar / 127, 0, false, y2d);
	double max_model = 0, max_fp32 = 0, ref = 0;
	for (size_t i = 0; i < n2; i++) {
		max_model = fmax(max_model, fabs(yq[i] - y2d[i]));
		max_fp32 = fmax(max_fp32, fabs(yq[i] - yf[i]));
		ref = fmax(ref, fabs(yf[i]));
	}
	CHECK_MSG(max_model < 1e-3, "QConv vs the double model: max diff %g", max_model);
	CHECK_MSG(max_fp32 < 0.03 * ref, "INT8 vs fp32: max diff %g of range %g", max_fp32, ref);
	printf("int8 two-conv graph: vs double model %.2g, vs fp32 %.3g (range %.3g)\n", max_model, max_fp32, ref);
	free(xqd);
	free(y1d);
	free(rd);
	free(y2d);
	quant_table_free(&t);
	odet_exec_destroy(xe);
	odet_exec_destroy(xq);
	odet_engine_destroy(ef);
	odet_engine_destroy(eq);
	ir_graph_free(g);
}

/* engine_keep_thin: exactly the convolutions reading fewer than min_c channels (NCHW dims[1],
 * NHWC dims[3]) join the keep list, after what was there */
static void test_keep_thin(odet_ctx *ctx)
{
	static float w1[M1 * C * K * K], b1[M1], w2[M2 * M1 * K * K], b2[M2];
	ir_graph *g;
	CHECK(!ir_graph_create(ctx, &g));
	int64_t xd[4] = {B, C, H, W};
	int xin = test_graph_input(g, "x", ODET_F32, 4, xd);
	int y1 = conv_node(g, "c1", xin, M1, C, w1, b1, IR_ACT_RELU, -1);
	int y2 = conv_node(g, "c2", y1, M2, M1, w2, b2, IR_ACT_NONE, -1);
	test_graph_output(g, y2);
	CHECK(!pass_infer_shapes(g));
	engine_keep k = {0};
	const char *given[1] = {"given"};
	odet_build_opts o = odet_build_opts_default();
	o.keep_fp32 = given;
	o.n_keep_fp32 = 1;
	CHECK(!engine_keep_list(ctx, &o, true, NULL, &k) && k.n == 1);
	CHECK(!engine_keep_thin(ctx, g, C, &k));
	CHECK_MSG(k.n == 1, "min_c %d: nothing thinner (kept %d)", C, k.n);
	CHECK(!engine_keep_thin(ctx, g, C + 1, &k));
	CHECK_MSG(k.n == 3 && !strcmp(k.names[0], "given") && !strcmp(k.names[1], "c1") && !strcmp(k.names[2], "c2"),
		  "min_c %d: both convs after the given name (kept %d)", C + 1, k.n);
	engine_keep_free(&k);
	ir_graph_free(g);
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	char dir[] = "/tmp/odet_quant_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	test_hist();
	test_cache(ctx, dir);
	test_pass(ctx);
	test_keep_thin(ctx);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
	}
	odet_ctx_destroy(ctx);
	return test_summary("quant");
}
