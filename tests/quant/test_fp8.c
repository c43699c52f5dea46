/*
 * test_fp8.c — FP8 E4M3 (quant/fp8.h) and pass_quantize_fp8, on the host:
 *  - every one of the 256 codes decodes to the value the OCP spec gives it (computed here from
 *    the bit fields independently) and encodes back to itself (NaN codes to 0x7f);
 *  - rounding: each midpoint between neighbouring codes goes to the even code, a float above /
 *    below it to the upper / lower one; 400,000 random floats over 2^-12..2^10 against a
 *    brute-force nearest search;
 *  - saturation (448, 464 = the tie above 448, 465, 1e30, +-inf -> +-448), NaN -> 0x7f,
 *    underflow (2^-10 -> 0, just above -> smallest subnormal), -0;
 *  - pass_quantize_fp8 on conv graphs: which convs become QConv (C, M % 16), the E4M3 weights
 *    (one scale per tensor: max |W| -> 448), the scale vectors A, output dtypes (E4M3 only when
 *    read as a conv input X, a residual stays float), one shared QuantizeLinear; the CPU
 *    backend refuses the result naming the dtype.
 */
#include "engine/engine.h"
#include "graph_build.h"
#include "passes/passes.h"
#include "quant/fp8.h"
#include "quant/quant.h"
#include "quant_test.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* the value of code c from the spec's fields: (-1)^s * 2^(e-7) * 1.m, subnormal 2^-6 * 0.m */
static double spec_value(int c)
{
	int s = c >> 7, e = (c >> 3) & 15, m = c & 7;
	if (e == 15 && m == 7)
		return NAN;
	double v = e ? ldexp(1.0 + m / 8.0, e - 7) : ldexp(m / 8.0, -6);
	return s ? -v : v;
}

static void test_codes(void)
{
	int bad_dec = 0, bad_rt = 0;
	for (int c = 0; c < 256; c++) {
		double want = spec_value(c);
		float got = quant_fp8_to_float((uint8_t)c);
		if (isnan(want) ? !isnan(got) : (double)got != want || !!signbit(got) != (c >> 7))
			bad_dec++;
		uint8_t back = quant_fp8_from_float(got);
		if (back != (isnan(want) ? QUANT_FP8_NAN : c))
			bad_rt++;
	}
	CHECK_MSG(bad_dec == 0, "%d codes decode wrong", bad_dec);
	CHECK_MSG(bad_rt == 0, "%d codes do not round-trip", bad_rt);
	CHECK(quant_fp8_to_float(0x7e) == 448.0f && quant_fp8_to_float(0xfe) == -448.0f);
	CHECK(quant_fp8_to_float(0x08) == ldexpf(1, -6) && quant_fp8_to_float(0x01) == ldexpf(1, -9));
}

static void test_ties(void)
{
	int bad = 0, checked = 0;
	for (int sign = 0; sign < 2; sign++)
		for (int c = 0; c < 0x7e; c++) { /* c and c + 1: neighbours in magnitude */
			double lo = fabs(spec_value(c)), hi = fabs(spec_value(c + 1)), mid = (lo + hi) / 2;
			int even = (c & 1) ? c + 1 : c;
			float fm = (float)mid; /* exact: mid has at most 5 significant bits */
			float up = nextafterf(fm, INFINITY), dn = nextafterf(fm, 0);
			int s = sign ? 0x80 : 0;
			float k = sign ? -1.0f : 1.0f;
			bad += quant_fp8_from_float(k * fm) != (s | even);
			bad += quant_fp8_from_float(k * up) != (s | (c + 1));
			bad += quant_fp8_from_float(k * dn) != (s | c);
			checked += 3;
		}
	CHECK_MSG(bad == 0, "%d of %d midpoint cases rounded wrong", bad, checked);
}

/* nearest finite code by search; ties to the even code; above 448 saturates */
static int brute(float x)
{
	double ax = fabs((double)x);
	int best = 0;
	double bd = INFINITY;
	for (int c = 0; c <= 0x7e; c++) {
		double d = fabs(spec_value(c) - ax);
		if (d < bd || (d == bd && !(c & 1))) {
			bd = d;
			best = c;
		}
	}
	return (x < 0 || (x == 0 && signbit(x)) ? 0x80 : 0) | best;
}

static void test_random(void)
{
	uint64_t r = 0x9e3779b97f4a7c15ull;
	int bad = 0, n = 400000;
	for (int i = 0; i < n; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		double e = -12.0 + 22.0 * (double)(r >> 40) / 16777216.0; /* 2^-12 .. 2^10 */
		float x = (float)((r & 1 ? -1 : 1) * exp2(e) * (1.0 + (double)((r >> 8) & 0xffff) / 65536.0));
		if (i % 64 == 0) /* exact codes' midpoints are covered by test_ties; also land on the grid */
			x = quant_fp8_to_float((uint8_t)(r >> 3)) * 1.0f;
		if (isnan(x))
			continue;
		bad += quant_fp8_from_float(x) != brute(x);
	}
	CHECK_MSG(bad == 0, "%d of %d random floats differ from the nearest-code search", bad, n);
}

static void test_edges(void)
{
	CHECK(quant_fp8_from_float(448.0f) == 0x7e);
	CHECK(quant_fp8_from_float(464.0f) == 0x7e);  /* tie between 448 and (unrepresentable) 480 */
	CHECK(quant_fp8_from_float(465.0f) == 0x7e && quant_fp8_from_float(1e30f) == 0x7e);
	CHECK(quant_fp8_from_float(-1e30f) == 0xfe && quant_fp8_from_float(FLT_MAX) == 0x7e);
	CHECK(quant_fp8_from_float(INFINITY) == 0x7e && quant_fp8_from_float(-INFINITY) == 0xfe);
	CHECK(quant_fp8_from_float(NAN) == 0x7f && quant_fp8_from_float(-NAN) == 0x7f);
	CHECK(isnan(quant_fp8_to_float(0x7f)) && isnan(quant_fp8_to_float(0xff)));
	CHECK(quant_fp8_from_float(ldexpf(1, -10)) == 0x00);                   /* tie -> even 0 */
	CHECK(quant_fp8_from_float(nextafterf(ldexpf(1, -10), 1)) == 0x01);
	CHECK(quant_fp8_from_float(ldexpf(3, -10)) == 0x02);                   /* 1.5 * 2^-9: tie -> 2 */
	CHECK(quant_fp8_from_float(ldexpf(1, -140)) == 0x00);                  /* float subnormal */
	CHECK(quant_fp8_from_float(-ldexpf(1, -12)) == 0x80 && quant_fp8_from_float(-0.0f) == 0x80);
	CHECK(quant_fp8_from_float(ldexpf(15, -10)) == 0x08);                  /* 7.5 * 2^-9 -> 2^-6 (even) */
	CHECK(quant_fp8_from_float(1.0f) == 0x38 && quant_fp8_from_float(-2.0f) == 0xc0);
}

/* ---- pass_quantize_fp8 */

static uint32_t rng = 777;

/* A 3x3 conv (quant_test.h) with seeded weights and bias; *wout, when given, a copy of the weights */
static int conv(ir_graph *g, const char *name, int x, int m, int c, int act, int res, float **wout)
{
	float *w = malloc(sizeof(float) * (size_t)(m * c * 9)), *b = malloc(sizeof(float) * (size_t)m);
	for (int i = 0; i < m * c * 9; i++)
		w[i] = qt_frand(&rng) * 0.3f;
	for (int i = 0; i < m; i++)
		b[i] = qt_frand(&rng) * 0.1f;
	int y = qt_conv_node(g, name, x, m, c, 3, w, b, act, res);
	free(b);
	if (wout)
		*wout = w;
	else
		free(w);
	return y;
}

static int value_named(const ir_graph *g, const char *name)
{
	for (int v = 0; v < g->n_values; v++)
		if (!strcmp(g->values[v].name, name))
			return v;
	return -1;
}

static const ir_node *node_named(const ir_graph *g, const char *name)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && !strcmp(g->nodes[i].name, name))
			return &g->nodes[i];
	return NULL;
}

static void test_pass(odet_ctx *ctx)
{
	ir_graph *g;
	CHECK(!ir_graph_create(ctx, &g));
	int64_t xd[4] = {1, 16, 6, 6}, zd[4] = {1, 8, 6, 6};
	int x = test_graph_input(g, "x", ODET_F32, 4, xd), z = test_graph_input(g, "z", ODET_F32, 4, zd);
	float *w1 = NULL, *w2 = NULL;
	int y1 = conv(g, "c1", x, 32, 16, IR_ACT_RELU, -1, &w1);   /* read by c2 as X: E4M3 out */
	int r = conv(g, "c3", x, 16, 16, IR_ACT_NONE, -1, NULL);    /* read by c2 as R: stays float */
	int y2 = conv(g, "c2", y1, 16, 32, IR_ACT_NONE, r, &w2);    /* graph output: float */
	int y5 = conv(g, "c5", z, 16, 8, IR_ACT_NONE, -1, NULL);    /* 8 input channels: not FP8 */
	test_graph_output(g, y2);
	test_graph_output(g, y5);
	CHECK(!pass_infer_shapes(g));
	const double ax = 2.0, ay1 = 30.0, ar = 15, az = 1.0; /* above the values: nothing saturates */
	quant_table t = {0};
	CHECK(!quant_table_add(ctx, &t, "x", ax) && !quant_table_add(ctx, &t, "c1", ay1) &&
	      !quant_table_add(ctx, &t, "c3", ar) && !quant_table_add(ctx, &t, "z", az));
	quant_table_sort(&t);
	ir_graph *gf = NULL; /* the float graph, for the CPU run below */
	CHECK(!ir_graph_clone(g, &gf));
	int nq = 0;
	CHECK(!pass_quantize_fp8(g, &t, NULL, 0, &nq));
	CHECK_MSG(nq == 3, "3 convs in FP8, got %d", nq);
	int n_q = 0, n_ql = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		n_q += !g->nodes[i].dead && g->nodes[i].op == IR_OP_QCONV;
		n_ql += !g->nodes[i].dead && g->nodes[i].op == IR_OP_QUANTIZE_LINEAR;
	}
	CHECK_MSG(n_q == 3 && n_ql == 1, "QConv %d (3), QuantizeLinear %d (1: x, shared by c1 and c3)", n_q, n_ql);
	y1 = value_named(g, "c1");
	r = value_named(g, "c3");
	y2 = value_named(g, "c2");
	CHECK(y1 >= 0 && g->values[y1].dtype == ODET_F8E4M3);
	CHECK(r >= 0 && g->values[r].dtype == ODET_F32);
	CHECK(y2 >= 0 && g->values[y2].dtype == ODET_F32);
	const ir_node *c1 = node_named(g, "c1"), *c2 = node_named(g, "c2"), *c5 = node_named(g, "c5");
	CHECK(c5 && c5->op == IR_OP_CONV);
	CHECK(c1 && c1->op == IR_OP_QCONV && c2 && c2->op == IR_OP_QCONV);
	if (!c1 || !c2 || c1->op != IR_OP_QCONV || c2->op != IR_OP_QCONV)
		goto out;
	{
		const ir_value *xq = ir_in(g, c1, 0), *wq = ir_in(g, c1, 1), *a1 = ir_in(g, c1, 4), *a2 = ir_in(g, c2, 4);
		const ir_node *ql = &g->nodes[xq->producer];
		CHECK(xq->dtype == ODET_F8E4M3 && ql->op == IR_OP_QUANTIZE_LINEAR);
		CHECK(fabs(*(const float *)ir_in(g, ql, 1)->data - ax / 448) < 1e-9 && ir_in(g, ql, 2)->dtype == ODET_F8E4M3);
		CHECK(wq->dtype == ODET_F8E4M3 && wq->kind == IR_VALUE_CONST);
		/* weights: one scale per output channel sw[m] = max|W[m]| / 448; each channel's largest |w|
		 * is the code +-448; each code within half a step (2^-4 relative for normals, 2^-10 * sw[m]
		 * absolute for subnormals) */
		double sw1[32], sw2[16];
		for (int m = 0; m < 32; m++) {
			double amax = 0;
			for (int i = m * 144; i < (m + 1) * 144; i++)
				amax = fmax(amax, fabs(w1[i]));
			sw1[m] = amax / 448;
		}
		for (int m = 0; m < 16; m++) {
			double amax = 0;
			for (int i = m * 288; i < (m + 1) * 288; i++)
				amax = fmax(amax, fabs(w2[i]));
			sw2[m] = amax / 448;
		}
		int bad = 0, top = 0;
		bool at_max[32] = {false};
		const uint8_t *code = wq->data;
		for (int i = 0; i < 32 * 16 * 9; i++) {
			const double sw = sw1[i / 144];
			double v = quant_fp8_to_float(code[i]) * sw;
			bad += fabs(v - w1[i]) > fmax(fabs(w1[i]) / 16, ldexp(sw, -10)) * 1.000001;
			at_max[i / 144] |= (code[i] & 0x7f) == 0x7e;
		}
		for (int m = 0; m < 32; m++)
			top += at_max[m];
		CHECK_MSG(bad == 0 && top == 32, "weights: %d off the E4M3 grid, %d channels' largest at +-448 (32)", bad, top);
		/* A[m] = sx * sw[m] / sy */
		const double sx = ax / 448, sy1 = ay1 / 448;
		bad = 0;
		for (int m = 0; m < 32; m++)
			bad += fabs(((const float *)a1->data)[m] - sx * sw1[m] / sy1) > 1e-6 * sx * sw1[m] / sy1;
		for (int m = 0; m < 16; m++)
			bad += fabs(((const float *)a2->data)[m] - sy1 * sw2[m]) > 1e-6 * sy1 * sw2[m];
		CHECK_MSG(bad == 0, "%d scale entries differ from sx * sw / sy", bad);
		CHECK(ir_attr_int(c1, "odet_out_dtype", 0) == ODET_F8E4M3 && ir_attr_int(c2, "odet_out_dtype", 0) == ODET_F32);
		CHECK(ir_in(g, c2, 3) && ir_in(g, c2, 3)->dtype == ODET_F32 && ir_attr_float(c2, "odet_r_scale", 0) == 1.0f);
	}
	{ /* the CPU's exact FP8 reference runs it: close to the float graph (E4M3 keeps 3 mantissa
	   * bits: 2^-4 relative per value at worst), not equal to it, and c5 (float) unchanged */
		const odet_backend *be;
		odet_engine *eq = NULL, *ef = NULL;
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CPU;
		o.no_head = 1;
		CHECK(!engine_backend_select(ctx, ODET_BACKEND_CPU, &be));
		odet_status rc = engine_build_with(ctx, g, &o, be, false, &eq);
		CHECK_MSG(rc == ODET_OK, "CPU fp8 build: %s", odet_ctx_last_error(ctx));
		if (!rc)
			rc = engine_build_with(ctx, gf, &o, be, false, &ef);
		CHECK_MSG(rc == ODET_OK, "CPU float build: %s", odet_ctx_last_error(ctx));
		if (!rc) {
			enum { NX = 16 * 36, NZ = 8 * 36, NY = 16 * 36 };
			static float xin[NX], zin[NZ], yq[2][NY], yf[2][NY];
			for (int i = 0; i < NX; i++)
				xin[i] = qt_frand(&rng) * 2.0f;
			for (int i = 0; i < NZ; i++)
				zin[i] = qt_frand(&rng);
			odet_tensor in[2] = {{.dtype = ODET_F32, .rank = 4, .dims = {1, 16, 6, 6}, .data = xin, .device = -1},
					     {.dtype = ODET_F32, .rank = 4, .dims = {1, 8, 6, 6}, .data = zin, .device = -1}};
			odet_tensor oq[2], of[2];
			for (int k = 0; k < 2; k++) {
				oq[k] = (odet_tensor){.dtype = ODET_F32, .rank = 4, .dims = {1, 16, 6, 6}, .data = yq[k], .device = -1};
				of[k] = oq[k];
				of[k].data = yf[k];
			}
			odet_exec *xq = NULL, *xf = NULL;
			CHECK(!odet_exec_create(eq, &xq) && !odet_exec_infer(xq, in, 2, oq, 2));
			CHECK(!odet_exec_create(ef, &xf) && !odet_exec_infer(xf, in, 2, of, 2));
			double se = 0, sr = 0;
			for (int i = 0; i < NY; i++) {
				se += (yq[0][i] - yf[0][i]) * (double)(yq[0][i] - yf[0][i]);
				sr += yf[0][i] * (double)yf[0][i];
			}
			const double rel = sqrt(se / sr);
			CHECK_MSG(rel > 1e-4 && rel < 0.0625, "CPU fp8 vs float: relative RMS %.4g (quantized, within 2^-4)", rel);
			CHECK_MSG(!memcmp(yq[1], yf[1], sizeof yq[1]), "the float conv c5 is the same in both engines");
			printf("  CPU fp8 engine vs float: relative RMS %.4f\n", rel);
			odet_exec_destroy(xq);
			odet_exec_destroy(xf);
		}
		odet_engine_destroy(eq);
		odet_engine_destroy(ef);
	}
out:
	free(w1);
	free(w2);
	quant_table_free(&t);
	ir_graph_free(gf);
	ir_graph_free(g);
}

int main(void)
{
	test_codes();
	test_ties();
	test_random();
	test_edges();
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	test_pass(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("fp8");
}
