/*
 * test_sensitivity.c — per-layer sensitivity and layer precision overrides:
 *  - the cache's optional snr lines: round trip (lowest first), a cache without them loads,
 *    malformed ones refused;
 *  - pass_snr_taps on a three-conv chain: each twin's output against an independent double
 *    model of the layer with its input and weights quantized; the conv outputs unchanged;
 *  - keep_sensitive: with one layer's input range spoiled (30x too wide), that layer has the
 *    lowest SNR, and keeping it in float (keep_sensitive 1) brings the int8 network much closer
 *    to fp32 than quantizing everything, and closer than keeping the best layer instead
 *    (layer_precision); a lowest-SNR layer the graph lacks is skipped with one warning;
 *  - refusals: keep_sensitive on a cache without SNR, an unknown layer_precision node, a bad
 *    layer precision, keep_sensitive on an fp32 build.
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

static uint32_t rng = 777;


static void test_cache(odet_ctx *ctx, const char *dir)
{
	char path[512];
	snprintf(path, sizeof path, "%s/s.calib", dir);
	quant_table t = {0}, u;
	t.model_hash = 0xfeedull;
	t.calibrator = ODET_CALIB_MINMAX;
	CHECK(!quant_table_add(ctx, &t, "x", 1.0));
	CHECK(!quant_table_add_snr(ctx, &t, "conv b", 31.5));
	CHECK(!quant_table_add_snr(ctx, &t, "conv a", 12.25));
	CHECK(!quant_table_add_snr(ctx, &t, "conv c", 40));
	CHECK(quant_table_add_snr(ctx, &t, "conv a", 3) != ODET_OK);   /* twice */
	CHECK(quant_table_add_snr(ctx, &t, "d", NAN) != ODET_OK);
	CHECK(quant_table_add_snr(ctx, &t, "d", 1e6) != ODET_OK);
	CHECK(!quant_table_save(ctx, &t, path));
	CHECK(!quant_table_load(ctx, path, &u));
	CHECK_MSG(u.n_snr == 3 && !strcmp(u.snr_node[0], "conv a") && u.snr_db[0] == 12.25 &&
		  !strcmp(u.snr_node[1], "conv b") && !strcmp(u.snr_node[2], "conv c"),
		  "snr lines round trip, lowest first (%d)", u.n_snr);
	quant_table_free(&u);
	quant_table_free(&t);
	qt_write_file(path, "odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\namax 1 x\n");
	CHECK(!quant_table_load(ctx, path, &u) && u.n_snr == 0 && u.n == 1); /* a cache of before */
	quant_table_free(&u);
	static const char *bad[] = {
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\nsnr nan c\n",
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\nsnr 300 c\n",
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\nsnr 3\n",
		"odet-calibration 1\nmodel 00000000000000ff\ncalibrator minmax\nsnr 3 c\nsnr 4 c\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		qt_write_file(path, bad[i]);
		odet_status rc = quant_table_load(ctx, path, &u);
		CHECK_MSG(rc == ODET_ERR_BAD_INPUT, "malformed snr line %zu refused (got %d: %s)", i, (int)rc,
			  odet_ctx_last_error(ctx));
	}
}

enum { B = 2, C = 8, H = 6, W = 5, M = 8, M3 = 4, K = 3, NL = 3 };

static float g_w[NL][M * M * K * K], g_b[NL][M];
static const int g_cin[NL] = {C, M, M}, g_cout[NL] = {M, M, M3}, g_relu[NL] = {1, 1, 0};

static int conv_node(ir_graph *g, const char *name, int x, int l)
{
	return qt_conv_node(g, name, x, g_cout[l], g_cin[l], K, g_w[l], g_b[l], g_relu[l] ? IR_ACT_RELU : IR_ACT_NONE, -1);
}

/* conv layer l in double: x [B][c][H][W] -> y [B][m][H][W]; with s > 0, x quantized to int8 with
 * scale s and the weights per output channel (the twin's arithmetic) */
static void model_layer(int l, const double *x, double s, double *y)
{
	int m = g_cout[l], c = g_cin[l];
	for (int o = 0; o < m; o++) {
		double amax = 0;
		for (int k = 0; k < c * K * K; k++)
			amax = fmax(amax, fabs(g_w[l][o * c * K * K + k]));
		double sw = amax / 127;
		for (int b = 0; b < B; b++)
			for (int i = 0; i < H; i++)
				for (int j = 0; j < W; j++) {
					double acc = g_b[l][o];
					for (int ci = 0; ci < c; ci++)
						for (int ky = 0; ky < K; ky++)
							for (int kx = 0; kx < K; kx++) {
								int yy = i + ky - 1, xx = j + kx - 1;
								if (yy < 0 || yy >= H || xx < 0 || xx >= W)
									continue;
								double xv = x[((b * c + ci) * H + yy) * W + xx];
								double wv = g_w[l][((o * c + ci) * K + ky) * K + kx];
								if (s > 0) {
									double q = nearbyint(xv / s);
									xv = (q > 127 ? 127 : q < -127 ? -127 : q) * s;
									wv = nearbyint(wv / sw) * sw;
								}
								acc += xv * wv;
							}
					if (g_relu[l] && acc < 0)
						acc = 0;
					y[((size_t)(b * m + o) * H + i) * W + j] = acc;
				}
	}
}

static double amax_of(const double *v, size_t n)
{
	double a = 0;
	for (size_t i = 0; i < n; i++)
		a = fmax(a, fabs(v[i]));
	return a;
}

static ir_graph *chain(odet_ctx *ctx)
{
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		return NULL;
	int64_t xd[4] = {B, C, H, W};
	int v = test_graph_input(g, "x", ODET_F32, 4, xd);
	v = conv_node(g, "c1", v, 0);
	v = conv_node(g, "c2", v, 1);
	v = conv_node(g, "c3", v, 2);
	test_graph_output(g, v);
	if (pass_infer_shapes(g)) {
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

/* Run e on x; out = its single output (B * M3 * H * W floats) or its outputs (outs). */
static bool run(odet_engine *e, const float *x, odet_tensor *outs, int n_out)
{
	odet_tensor tin = {.dtype = ODET_F32, .rank = 4, .dims = {B, C, H, W}, .data = (void *)x, .device = -1};
	odet_exec *xe = NULL;
	bool ok = !odet_exec_create(e, &xe) && !odet_exec_infer(xe, &tin, 1, outs, n_out);
	odet_exec_destroy(xe);
	return ok;
}

typedef struct warn_count {
	int n;           /* warnings about keep-sensitive */
	char last[1024];
} warn_count;

static void count_warnings(void *user, odet_log_level level, const char *msg)
{
	warn_count *w = user;
	if (level == ODET_LOG_WARN && strstr(msg, "keep-sensitive")) {
		w->n++;
		snprintf(w->last, sizeof w->last, "%s", msg);
	}
}

/* Max |int8 engine output - fp32 output| of an int8 build of g with options o. */
static double int8_error(odet_ctx *ctx, const ir_graph *g, const odet_build_opts *o, const float *x, const float *yf,
			 int *n_q)
{
	const odet_backend *be;
	odet_engine *e = NULL;
	static float y[B * M3 * H * W];
	odet_tensor out = {.dtype = ODET_F32, .rank = 4, .dims = {B, M3, H, W}, .data = y, .device = -1};
	*n_q = -1;
	if (engine_backend_select(ctx, ODET_BACKEND_CPU, &be) || engine_build_with(ctx, g, o, be, false, &e) ||
	    !run(e, x, &out, 1)) {
		odet_engine_destroy(e);
		return -1;
	}
	*n_q = 0;
	const ir_graph *eg = odet_engine_graph(e);
	for (int i = 0; i < eg->n_nodes; i++)
		*n_q += eg->nodes[i].op == IR_OP_QCONV;
	double err = 0;
	for (int i = 0; i < B * M3 * H * W; i++)
		err = fmax(err, fabs(y[i] - yf[i]));
	odet_engine_destroy(e);
	return err;
}

static void test_layers(odet_ctx *ctx, const char *dir)
{
	for (int l = 0; l < NL; l++) {
		for (int i = 0; i < g_cout[l] * g_cin[l] * K * K; i++)
			g_w[l][i] = qt_frand(&rng) * 0.25f;
		for (int i = 0; i < g_cout[l]; i++)
			g_b[l][i] = qt_frand(&rng) * 0.1f;
	}
	enum { NX = B * C * H * W, NY = B * M * H * W, N3 = B * M3 * H * W };
	static float x[NX];
	static double xd[NX], y1[NY], y2[NY], y3[N3], t[NY];
	for (int i = 0; i < NX; i++)
		xd[i] = x[i] = qt_frand(&rng) * 2.0f;
	model_layer(0, xd, 0, y1);
	model_layer(1, y1, 0, y2);
	model_layer(2, y2, 0, y3);
	const double ax = amax_of(xd, NX), a1 = amax_of(y1, NY), a2 = amax_of(y2, NY);
	quant_table tab = {0};
	/* c2's input (c1's output) spoiled: a range 30x too wide */
	CHECK(!quant_table_add(ctx, &tab, "x", ax) && !quant_table_add(ctx, &tab, "c1", 30 * a1) &&
	      !quant_table_add(ctx, &tab, "c2", a2));
	quant_table_sort(&tab);
	ir_graph *g = chain(ctx), *gs = chain(ctx);
	CHECK(g && gs);
	if (!g || !gs)
		goto out;
	/* the twins against the double model */
	int n_layers = 0;
	CHECK(!pass_snr_taps(gs, &tab, &n_layers));
	CHECK_MSG(n_layers == NL && gs->n_outputs == 2 * NL, "SNR taps: %d layers, %d outputs", n_layers, gs->n_outputs);
	const odet_backend *be;
	odet_engine *es = NULL;
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	o.batch = B;
	CHECK(!engine_backend_select(ctx, ODET_BACKEND_CPU, &be) && !engine_build_with(ctx, gs, &o, be, false, &es));
	static float ob[2 * NL][NY];
	odet_tensor outs[2 * NL];
	for (int i = 0; i < 2 * NL; i++) {
		odet_engine_output_info(es, i, NULL, &outs[i]);
		outs[i].data = ob[i];
	}
	CHECK(es && run(es, x, outs, 2 * NL));
	const double *in[NL] = {xd, y1, y2}, *ref[NL] = {y1, y2, y3};
	const double scale[NL] = {ax / 127, 30 * a1 / 127, a2 / 127};
	const char *names[NL] = {"c1", "c2", "c3"};
	double snr[NL];
	for (int l = 0; l < NL; l++) {
		int k = -1;
		for (int j = 0; j < NL; j++) {
			int p = es ? es->g->values[es->g->outputs[2 * j]].producer : -1;
			if (p >= 0 && !strcmp(es->g->nodes[p].name, names[l]))
				k = j;
		}
		CHECK_MSG(k >= 0, "pair of %s found", names[l]);
		if (k < 0)
			continue;
		size_t n = (size_t)odet_tensor_numel(&outs[2 * k]);
		model_layer(l, in[l], scale[l], t);
		double dy = 0, dt = 0, range = amax_of(ref[l], n), sig = 0, err = 0;
		for (size_t i = 0; i < n; i++) {
			dy = fmax(dy, fabs(ob[2 * k][i] - ref[l][i]));
			dt = fmax(dt, fabs(ob[2 * k + 1][i] - t[i]));
			sig += ref[l][i] * ref[l][i];
			err += (t[i] - ref[l][i]) * (t[i] - ref[l][i]);
		}
		snr[l] = 10 * log10(sig / err);
		CHECK_MSG(dy < 1e-5 * range && dt < 1e-5 * range, "%s: output vs double %g, twin vs double model %g (range %g)",
			  names[l], dy, dt, range);
		CHECK(!quant_table_add_snr(ctx, &tab, names[l], snr[l]));
	}
	printf("layer SNR (double model of the twins): c1 %.1f dB, c2 %.1f dB (range spoiled), c3 %.1f dB\n", snr[0],
	       snr[1], snr[2]);
	CHECK_MSG(snr[1] < snr[0] - 10 && snr[1] < snr[2] - 10, "the spoiled layer is by far the least accurate");
	/* keep_sensitive through a cache of g */
	char path[512];
	snprintf(path, sizeof path, "%s/chain.calib", dir);
	tab.model_hash = quant_graph_hash(g);
	CHECK(!quant_table_save(ctx, &tab, path));
	odet_engine *ef = NULL;
	static float yf[N3];
	odet_tensor of = {.dtype = ODET_F32, .rank = 4, .dims = {B, M3, H, W}, .data = yf, .device = -1};
	CHECK(!engine_build_with(ctx, g, &o, be, false, &ef) && run(ef, x, &of, 1));
	odet_engine_destroy(ef);
	o.precision = ODET_PRECISION_INT8;
	o.calib_cache = path;
	int nq0, nq1, nqb;
	double e0 = int8_error(ctx, g, &o, x, yf, &nq0);
	o.keep_sensitive = 1;
	double e1 = int8_error(ctx, g, &o, x, yf, &nq1);
	o.keep_sensitive = 0;
	int best = snr[0] > snr[2] ? 0 : 2;
	odet_layer_precision lp = {names[best], ODET_PRECISION_FP16};
	o.layer_precision = &lp;
	o.n_layer_precision = 1;
	double eb = int8_error(ctx, g, &o, x, yf, &nqb);
	printf("int8 vs fp32, max |diff|: all quantized %.4g, lowest-SNR layer kept %.4g, highest-SNR layer kept %.4g\n",
	       e0, e1, eb);
	CHECK_MSG(nq0 == 3 && nq1 == 2 && nqb == 2, "QConv count %d / %d / %d", nq0, nq1, nqb);
	CHECK_MSG(e0 > 0 && e1 >= 0 && e1 < 0.5 * e0 && e1 < eb, "keeping the sensitive layer helps most");
	/* a cache whose lowest-SNR layer the graph lacks: skipped with one warning naming it */
	o.n_layer_precision = 0;
	warn_count wc = {0};
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_fn = count_warnings;
	co.log_user = &wc;
	odet_ctx *wctx = NULL;
	CHECK(!odet_ctx_create(&co, &wctx));
	CHECK(!quant_table_add_snr(ctx, &tab, "gone conv", -20));
	quant_table_sort_snr(&tab);
	CHECK(!quant_table_save(ctx, &tab, path));
	o.keep_sensitive = 2;
	int nqg;
	double eg = int8_error(wctx, g, &o, x, yf, &nqg);
	CHECK_MSG(nqg == 2 && eg >= 0 && wc.n == 1 && strstr(wc.last, "'gone conv'") && !strstr(wc.last, "'c2'"),
		  "missing sensitive layer: %d QConvs, %d warnings: %s", nqg, wc.n, wc.last);
	o.keep_sensitive = 0;
	o.n_layer_precision = 1;
	odet_ctx_destroy(wctx);
	/* refusals */
	lp.node = "no_such_conv";
	odet_engine *e = NULL;
	odet_status rc = engine_build_with(ctx, g, &o, be, false, &e);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && strstr(odet_ctx_last_error(ctx), "no_such_conv"), "unknown node: %s",
		  odet_ctx_last_error(ctx));
	odet_engine_destroy(e);
	e = NULL;
	lp.node = "c1";
	lp.precision = ODET_PRECISION_INT8;
	rc = engine_build_with(ctx, g, &o, be, false, &e);
	CHECK(rc == ODET_ERR_INVALID_ARG && !e);
	o.n_layer_precision = 0;
	o.layer_precision = NULL;
	qt_write_file(path, "odet-calibration 1\nmodel 0000000000000000\ncalibrator minmax\n");
	quant_table old = {0};
	old.model_hash = quant_graph_hash(g);
	CHECK(!quant_table_add(ctx, &old, "x", ax) && !quant_table_save(ctx, &old, path));
	quant_table_free(&old);
	o.keep_sensitive = 2;
	rc = engine_build_with(ctx, g, &o, be, false, &e);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && strstr(odet_ctx_last_error(ctx), "calibrate again"),
		  "keep_sensitive without SNR: %s", odet_ctx_last_error(ctx));
	o.precision = ODET_PRECISION_FP32;
	rc = engine_build_with(ctx, g, &o, be, false, &e);
	CHECK(rc == ODET_ERR_INVALID_ARG && !e);
	odet_engine_destroy(es);
out:
	quant_table_free(&tab);
	ir_graph_free(g);
	ir_graph_free(gs);
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	char dir[] = "/tmp/odet_sens_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	test_cache(ctx, dir);
	test_layers(ctx, dir);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
	}
	odet_ctx_destroy(ctx);
	return test_summary("sensitivity");
}
