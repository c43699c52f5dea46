/*
 * test_cuda_fp8.c — FP8 E4M3 on CUDA (backend/cuda/quantize_fp8.cu, qconv_fp8.cu) against the
 * CPU reference of quant/fp8.h. Needs a GPU of compute capability 8.9+ (else exit 77, skipped).
 *  1. QuantizeLinear to E4M3 (a one-node engine): every code's value, every midpoint between
 *     neighbouring codes and the floats next to it, NaN, +-inf, huge and tiny values, random
 *     floats at two scales: the bytes equal quant_fp8_from_float(x / s) (s = 0.5 exact; s = 0.3
 *     with the float quotient rounded once, as __fdiv_rn does).
 *  2. QConv with E4M3 x and w (hand-built NHWC graphs: QuantizeLinear -> QConv), both paths of
 *     qconv_fp8.cu (auto: the fused graph where cuDNN has one; split: conv_path legacy): float32 output
 *     against a double-precision model of the same codes (products exact, so only the
 *     accumulation may differ). Tolerance 2^-12 of the sum of |terms|: Hopper's FP8 MMA is
 *     reported to accumulate with about 14 mantissa bits, not full float32 (DeepSeek-V3 report,
 *     section 3.3.2); how many outputs exceed a float32 bound (3e-5) is printed. With a
 *     float32 residual and LeakyReLU; with an E4M3 output: every code equal to the reference's
 *     except where the exact value lies within the tolerance of a rounding midpoint (then the
 *     neighbour), outputs past 448 saturated to +-448 (not NaN).
 *  3. odet_engine_build precision fp8 with a calibration cache on a float conv chain (ReLU conv
 *     -> conv + residual conv): 3 QConvs, one E4M3 activation; outputs near the fp32 engine's
 *     (relative RMS error < 5%); the plan round trip (save, load) gives bit-identical outputs
 *     and carries the "cuda-qconv-fp8" tuning choices.
 */
#include "engine/engine.h"
#include "graph_build.h"
#include "passes/passes.h"
#include "quant/fp8.h"
#include "quant/quant.h"
#include "cuda_test.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rs = 0x2545f4914f6cdd1dull;
static double urand(void) /* [0, 1) */
{
	rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
	return (double)(rs >> 11) / 9007199254740992.0;
}

static int add_const(ir_graph *g, const char *name, odet_dtype dt, int rank, const int64_t *dims, const void *src,
		     size_t bytes)
{
	void *d = malloc(bytes + 1);
	memcpy(d, src, bytes);
	return ir_const_add(g, name, dt, rank, dims, d);
}

/* y = QuantizeLinear(x, s, 0 as E4M3) */
static int add_quantize(ir_graph *g, const char *name, int x, float s)
{
	uint8_t z = 0;
	char sn[64], zn[64];
	snprintf(sn, sizeof sn, "%s_s", name);
	snprintf(zn, sizeof zn, "%s_z", name);
	int in[3] = {x, add_const(g, sn, ODET_F32, 0, NULL, &s, 4), add_const(g, zn, ODET_F8E4M3, 0, NULL, &z, 1)};
	int y = test_graph_value(g, name);
	ir_node_add(g, IR_OP_QUANTIZE_LINEAR, name, 3, in, 1, &y);
	return y;
}

/* Build (no passes) and run a one-input (+ optional second input) graph on CUDA; split: the
 * FP8 QConv's split path (conv_path legacy). */
static bool run_graph(odet_ctx *ctx, const odet_backend *be, ir_graph *g, const void *x, const void *r, void *y,
		      size_t y_bytes, bool split)
{
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CUDA;
	o.no_head = 1;
	o.conv_path = split ? ODET_CONV_LEGACY : ODET_CONV_AUTO;
	o.conv_candidates = 2; /* tuning time: the test checks values, not speed */
	odet_engine *e = NULL;
	odet_exec *xe = NULL;
	bool ok = false;
	odet_status rc = pass_infer_shapes(g);
	if (!rc)
		rc = engine_build_with(ctx, g, &o, be, false, &e);
	CHECK_MSG(rc == ODET_OK, "build: %s", odet_ctx_last_error(ctx));
	if (rc)
		return false;
	odet_tensor in[2], out;
	int ni = odet_engine_num_inputs(e);
	for (int i = 0; i < ni && i < 2; i++) {
		odet_engine_input_info(e, i, NULL, &in[i]);
		in[i].data = (void *)(i ? r : x);
	}
	odet_engine_output_info(e, 0, NULL, &out);
	out.data = y;
	CHECK(odet_tensor_numel(&out) * (int64_t)odet_dtype_size(out.dtype) == (int64_t)y_bytes);
	rc = odet_exec_create(e, &xe);
	if (!rc)
		rc = odet_exec_infer(xe, in, ni, &out, 1);
	CHECK_MSG(rc == ODET_OK, "run: %s", odet_ctx_last_error(ctx));
	ok = rc == ODET_OK;
	odet_exec_destroy(xe);
	odet_engine_destroy(e);
	return ok;
}

static void test_quantize(odet_ctx *ctx, const odet_backend *be)
{
	enum { NR = 100000 };
	const int n = 256 + 3 * 2 * 0x7e + 8 + NR;
	float *x = malloc(sizeof(float) * (size_t)n);
	uint8_t *y = malloc((size_t)n);
	uint16_t *xh = malloc(sizeof(uint16_t) * (size_t)n);
	const float scales[2] = {0.5f, 0.3f};
	for (int si = 0; si < 2; si++) {
		const float s = scales[si];
		int k = 0;
		for (int c = 0; c < 256; c++)
			x[k++] = quant_fp8_to_float((uint8_t)c) * s;
		for (int sign = 0; sign < 2; sign++)
			for (int c = 0; c < 0x7e; c++) {
				float mid = (quant_fp8_to_float((uint8_t)c) + quant_fp8_to_float((uint8_t)(c + 1))) / 2;
				mid = sign ? -mid : mid;
				x[k++] = mid * s;
				x[k++] = nextafterf(mid, INFINITY) * s;
				x[k++] = nextafterf(mid, -INFINITY) * s;
			}
		const float special[8] = {NAN, -NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 1e-30f, 464.0f * s};
		for (int i = 0; i < 8; i++)
			x[k++] = special[i];
		for (int i = 0; i < NR; i++)
			x[k++] = (float)((urand() < 0.5 ? -1 : 1) * exp2(-14 + 24 * urand()));
		/* float32 input, then the same values rounded to float16 (the engines' usual input) */
		for (int hf = 0; hf < 2; hf++) {
			for (int i = 0; hf && i < n; i++)
				xh[i] = odet_f32_to_f16(x[i]);
			ir_graph *g;
			ir_graph_create(ctx, &g);
			int64_t d[1] = {n};
			int xv = test_graph_input(g, "x", hf ? ODET_F16 : ODET_F32, 1, d);
			test_graph_output(g, add_quantize(g, "q", xv, s));
			memset(y, 0xcd, (size_t)n);
			if (run_graph(ctx, be, g, hf ? (const void *)xh : x, NULL, y, (size_t)n, false)) {
				int bad = 0, first = -1;
				float xf = 0;
				for (int i = 0; i < n; i++) {
					float xi = hf ? odet_f16_to_f32(xh[i]) : x[i];
					if (y[i] != quant_fp8_from_float(xi / s) && bad++ == 0)
						first = i, xf = xi;
				}
				CHECK_MSG(bad == 0, "QuantizeLinear e4m3 from %s (s %g): %d of %d bytes differ from the CPU "
					  "reference (first: x %a -> 0x%02x, want 0x%02x)", hf ? "float16" : "float32", s, bad,
					  n, xf, first >= 0 ? y[first] : 0, first >= 0 ? quant_fp8_from_float(xf / s) : 0);
				printf("  QuantizeLinear e4m3 from %s s %g: %d values, %d differ\n", hf ? "float16" : "float32",
				       s, n, bad);
			}
			ir_graph_free(g);
		}
	}
	free(x);
	free(xh);
	free(y);
}

/* ---- QConv */

enum { QN = 2, QH = 9, QW = 9, QC = 32, QM = 16, QK = 3 };

typedef struct qcase {
	const char *what;
	odet_dtype out;   /* F32 or F8E4M3 */
	bool residual;    /* a float32 residual input */
	int act;
	float alpha;
	float ascale;     /* A[m] magnitude: large enough for an E4M3 output to pass 448 sometimes */
} qcase;

static void test_qconv(odet_ctx *ctx, const odet_backend *be, const qcase *qc, bool split)
{
	const int64_t nx = (int64_t)QN * QH * QW * QC, nw = (int64_t)QM * QK * QK * QC, ny = (int64_t)QN * QH * QW * QM;
	float *x = malloc(sizeof(float) * (size_t)nx), *r = malloc(sizeof(float) * (size_t)ny);
	float a[QM], b[QM];
	uint8_t *w = malloc((size_t)nw);
	void *y = malloc(sizeof(float) * (size_t)ny);
	const float sx = 0.05f;
	for (int64_t i = 0; i < nx; i++)
		x[i] = (float)((urand() * 2 - 1) * 448 * sx * (urand() < 0.1 ? 1.2 : 0.5));
	for (int64_t i = 0; i < nw; i++) /* codes of every exponent below 1, subnormals included */
		w[i] = quant_fp8_from_float((float)((urand() * 2 - 1) * exp2(-8 * urand())));
	/* A[m] = sx * sw[m] / sy: FP8 weights have one scale per output channel */
	for (int m = 0; m < QM; m++) {
		a[m] = qc->ascale * (float)(0.5 + urand());
		b[m] = (float)(urand() * 2 - 1);
	}
	for (int64_t i = 0; i < ny; i++)
		r[i] = (float)(urand() * 2 - 1) * 4;
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {QN, QH, QW, QC}, wd[4] = {QM, QK, QK, QC}, md[1] = {QM}, yd[4] = {QN, QH, QW, QM};
	int xv = test_graph_input(g, "x", ODET_F32, 4, xd);
	int rv = qc->residual ? test_graph_input(g, "r", ODET_F32, 4, yd) : -1;
	int xq = add_quantize(g, "xq", xv, sx);
	int in[5] = {xq, add_const(g, "w", ODET_F8E4M3, 4, wd, w, (size_t)nw), add_const(g, "b", ODET_F32, 1, md, b, sizeof b),
		     rv, add_const(g, "a", ODET_F32, 1, md, a, sizeof a)};
	int yv = test_graph_value(g, "y");
	int node = ir_node_add(g, IR_OP_QCONV, "qconv", 5, in, 1, &yv);
	int64_t pads[4] = {1, 1, 1, 1};
	ir_attr_set_ints(g, node, "pads", pads, 4);
	ir_attr_set_int(g, node, "odet_nhwc", 1);
	ir_attr_set_int(g, node, "odet_act", qc->act);
	ir_attr_set_float(g, node, "odet_act_alpha", qc->alpha);
	ir_attr_set_int(g, node, "odet_out_dtype", qc->out);
	ir_attr_set_float(g, node, "odet_r_scale", 1.0f);
	test_graph_output(g, yv);
	const size_t ybytes = (size_t)ny * odet_dtype_size(qc->out);
	if (!run_graph(ctx, be, g, x, r, y, ybytes, split))
		goto out;
	{
		int bad = 0, other_code = 0, sat = 0, sat_bad = 0, past_f32 = 0;
		double worst = 0;
		for (int n = 0; n < QN; n++)
			for (int oy = 0; oy < QH; oy++)
				for (int ox = 0; ox < QW; ox++)
					for (int m = 0; m < QM; m++) {
						double acc = 0, mag = 0;
						for (int ky = 0; ky < QK; ky++)
							for (int kx = 0; kx < QK; kx++) {
								int iy = oy + ky - 1, ix = ox + kx - 1;
								if (iy < 0 || iy >= QH || ix < 0 || ix >= QW)
									continue;
								for (int c = 0; c < QC; c++) {
									float xv8 = quant_fp8_to_float(quant_fp8_from_float(
										x[(((int64_t)n * QH + iy) * QW + ix) * QC + c] / sx));
									double t = (double)xv8 * quant_fp8_to_float(
										w[(((int64_t)m * QK + ky) * QK + kx) * QC + c]);
									acc += t;
									mag += fabs(t);
								}
							}
						const int64_t o = (((int64_t)n * QH + oy) * QW + ox) * QM + m;
						double v = (double)a[m] * acc + b[m] + (qc->residual ? r[o] : 0.0);
						if (qc->act == IR_ACT_RELU)
							v = v > 0 ? v : 0;
						else if (qc->act == IR_ACT_LEAKYRELU)
							v = v > 0 ? v : v * qc->alpha;
						const double scale = fabs((double)a[m]) * mag + fabs(b[m]) + 4;
						const double tol = ldexp(scale, -12) + 1e-6;
						if (qc->out == ODET_F32) {
							double e = fabs(((const float *)y)[o] - v);
							worst = fmax(worst, e / tol);
							bad += !(e <= tol);
							past_f32 += e > 3e-5 * scale + 1e-6;
							continue;
						}
						uint8_t got = ((const uint8_t *)y)[o], want = quant_fp8_from_float((float)v);
						if (fabs(v) > 448) {
							sat++;
							sat_bad += got != want;
							continue;
						}
						if (got == want)
							continue;
						/* any code that rounds a value within tol of v is right: rounding is monotone, so
						 * those are the codes from quant(v - tol) to quant(v + tol) (tol may span several) */
						const float gf = quant_fp8_to_float(got);
						bool neighbour = gf >= quant_fp8_to_float(quant_fp8_from_float((float)(v - tol))) &&
								 gf <= quant_fp8_to_float(quant_fp8_from_float((float)(v + tol)));
						if (neighbour)
							other_code++;
						else if (bad++ == 0)
							printf("  first code off (%s): y[%lld] = %a (0x%02x), reference %.9g -> %a (0x%02x), "
							       "tolerance %.3g, sum of |terms| %.6g\n", qc->what, (long long)o,
							       quant_fp8_to_float(got), got, v, quant_fp8_to_float(want), want, tol,
							       fabs((double)a[m]) * mag);
					}
		if (qc->out == ODET_F32) {
			CHECK_MSG(bad == 0, "%s: %d of %lld outputs off the reference (worst %.2f x tolerance)", qc->what, bad,
				  (long long)ny, worst);
			printf("  QConv fp8 %-5s %-34s %lld outputs, worst %.3f x tolerance, %d past a float32 sum's bound\n",
			       split ? "split" : "auto", qc->what, (long long)ny, worst, past_f32);
		} else {
			CHECK_MSG(bad == 0 && sat_bad == 0, "%s: %d codes differ, %d of %d past 448 not saturated to +-448",
				  qc->what, bad, sat_bad, sat);
			printf("  QConv fp8 %-5s %-34s %lld codes, %d another code within tolerance, %d saturated\n",
			       split ? "split" : "auto", qc->what,
			       (long long)ny, other_code, sat);
		}
	}
out:
	ir_graph_free(g);
	free(x);
	free(r);
	free(w);
	free(y);
}

/* ---- the whole build: odet_engine_build precision fp8 with a calibration cache */

static int conv(ir_graph *g, const char *name, int x, int m, int c, int k, int act, int res)
{
	int64_t wd[4] = {m, c, k, k}, bd[1] = {m}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
	float *w = malloc(sizeof(float) * (size_t)(m * c * k * k)), *b = malloc(sizeof(float) * (size_t)m);
	for (int i = 0; i < m * c * k * k; i++)
		w[i] = (float)((urand() * 2 - 1) / sqrt((double)c * k * k));
	for (int i = 0; i < m; i++)
		b[i] = (float)(urand() * 0.2 - 0.1);
	char n1[64], n2[64];
	snprintf(n1, sizeof n1, "%s_w", name);
	snprintf(n2, sizeof n2, "%s_b", name);
	int in[4] = {x, ir_const_add(g, n1, ODET_F32, 4, wd, w), ir_const_add(g, n2, ODET_F32, 1, bd, b), res};
	int y = test_graph_value(g, name);
	int node = ir_node_add(g, IR_OP_CONV, name, res >= 0 ? 4 : 3, in, 1, &y);
	ir_attr_set_ints(g, node, "pads", pads, 4);
	ir_attr_set_int(g, node, "odet_act", act);
	return y;
}

static double amax_of(const float *p, int64_t n)
{
	double a = 0;
	for (int64_t i = 0; i < n; i++)
		a = fmax(a, fabs(p[i]));
	return a;
}

static void test_build(odet_ctx *ctx)
{
	enum { N = 2, C = 32, H = 12, W = 12, M = 32 };
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {N, C, H, W};
	int x = test_graph_input(g, "x", ODET_F32, 4, xd);
	int y1 = conv(g, "c1", x, M, C, 3, IR_ACT_RELU, -1);
	int r = conv(g, "c3", x, M, C, 1, IR_ACT_NONE, -1);
	int y2 = conv(g, "c2", y1, M, M, 3, IR_ACT_NONE, r);
	test_graph_output(g, y2);
	CHECK(!pass_infer_shapes(g));
	/* calibrate by hand: the fp32 engine with taps (x, c1, c3) over the input itself */
	const int64_t nx = (int64_t)N * C * H * W, ny = (int64_t)N * M * H * W;
	float *xin = malloc(sizeof(float) * (size_t)nx), *yf = malloc(sizeof(float) * (size_t)ny);
	float *y8 = malloc(sizeof(float) * (size_t)ny), *yl = malloc(sizeof(float) * (size_t)ny);
	for (int64_t i = 0; i < nx; i++)
		xin[i] = (float)(urand() * 2 - 1);
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CUDA;
	o.no_head = 1;
	o.batch = N;
	o.conv_candidates = 2;
	const odet_backend *be = NULL;
	odet_engine *et = NULL, *ef = NULL, *e8 = NULL, *el = NULL;
	odet_exec *xe = NULL;
	int n_taps = 0;
	char path[] = "/tmp/odet_fp8_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	quant_table t = {0};
	CHECK(!engine_backend_select(ctx, ODET_BACKEND_CPU, &be));
	CHECK(!engine_build_taps(ctx, g, &o, be, &n_taps, &et) && n_taps == 3);
	if (!et || n_taps != 3)
		goto out;
	{
		odet_tensor in, outs[4];
		odet_engine_input_info(et, 0, NULL, &in);
		in.data = xin;
		for (int i = 0; i < 4; i++) {
			odet_engine_output_info(et, i, NULL, &outs[i]);
			outs[i].data = malloc(sizeof(float) * (size_t)odet_tensor_numel(&outs[i]));
		}
		CHECK(!odet_exec_create(et, &xe) && !odet_exec_infer(xe, &in, 1, outs, 4));
		for (int i = 1; i < 4; i++) {
			const char *nm = NULL;
			odet_tensor info;
			odet_engine_output_info(et, i, &nm, &info);
			CHECK(!quant_table_add(ctx, &t, nm, amax_of(outs[i].data, odet_tensor_numel(&outs[i]))));
		}
		for (int i = 0; i < 4; i++)
			free(outs[i].data);
		odet_exec_destroy(xe);
		xe = NULL;
	}
	quant_table_sort(&t);
	t.model_hash = quant_graph_hash(g);
	t.calibrator = ODET_CALIB_MINMAX;
	t.percentile = 99.99;
	t.images = 1;
	CHECK(!quant_table_save(ctx, &t, path));
	CHECK(!odet_engine_build(ctx, g, &o, &ef));
	o.precision = ODET_PRECISION_FP8;
	o.calib_cache = path;
	odet_status rc = odet_engine_build(ctx, g, &o, &e8);
	CHECK_MSG(rc == ODET_OK, "fp8 build: %s", odet_ctx_last_error(ctx));
	if (!ef || !e8)
		goto out;
	{
		int n_q = 0, n_f8 = 0;
		for (int i = 0; i < e8->g->n_nodes; i++)
			n_q += !e8->g->nodes[i].dead && e8->g->nodes[i].op == IR_OP_QCONV;
		for (int v = 0; v < e8->g->n_values; v++)
			n_f8 += e8->g->values[v].kind != IR_VALUE_CONST && e8->g->values[v].dtype == ODET_F8E4M3;
		CHECK_MSG(n_q == 3 && n_f8 == 2, "QConv %d (3), E4M3 activations %d (2: x quantized, c1's output)", n_q, n_f8);
		bool tuned = false;
		for (int i = 0; i < e8->tune.n; i++)
			tuned |= !strncmp(e8->tune.key[i], "cuda-qconv-fp8 ", 15);
		CHECK_MSG(tuned, "a cuda-qconv-fp8 tuning choice recorded (%d choices)", e8->tune.n);
	}
	{
		odet_tensor in, out;
		odet_engine_input_info(ef, 0, NULL, &in);
		odet_engine_output_info(ef, 0, NULL, &out);
		in.data = xin;
		out.data = yf;
		CHECK(!odet_exec_create(ef, &xe) && !odet_exec_infer(xe, &in, 1, &out, 1));
		odet_exec_destroy(xe);
		xe = NULL;
		out.data = y8;
		CHECK(!odet_exec_create(e8, &xe) && !odet_exec_infer(xe, &in, 1, &out, 1));
		odet_exec_destroy(xe);
		xe = NULL;
		double se = 0, sr = 0;
		for (int64_t i = 0; i < ny; i++) {
			se += ((double)y8[i] - yf[i]) * ((double)y8[i] - yf[i]);
			sr += (double)yf[i] * yf[i];
		}
		double rel = sqrt(se / (sr > 0 ? sr : 1));
		CHECK_MSG(rel < 0.05, "fp8 vs fp32 relative RMS error %.4f (< 0.05)", rel);
		printf("  engine fp8 vs fp32: relative RMS error %.4f\n", rel);
		/* the plan round trip */
		void *buf = NULL;
		size_t size = 0;
		CHECK(!engine_save_buffer(e8, &buf, &size));
		rc = buf ? engine_load_buffer_dev(ctx, buf, size, "fp8.plan", NULL, 0, &el) : ODET_ERR_INTERNAL;
		CHECK_MSG(rc == ODET_OK, "fp8 plan load: %s", odet_ctx_last_error(ctx));
		free(buf);
		if (el) {
			out.data = yl;
			CHECK(!odet_exec_create(el, &xe) && !odet_exec_infer(xe, &in, 1, &out, 1));
			CHECK_MSG(!memcmp(yl, y8, sizeof(float) * (size_t)ny), "the loaded fp8 plan's outputs equal the built one's");
			CHECK(el->tune.n == e8->tune.n);
			odet_exec_destroy(xe);
			xe = NULL;
		}
	}
out:
	quant_table_free(&t);
	unlink(path);
	odet_engine_destroy(et);
	odet_engine_destroy(ef);
	odet_engine_destroy(e8);
	odet_engine_destroy(el);
	free(xin);
	free(yf);
	free(y8);
	free(yl);
	ir_graph_free(g);
}

int main(void)
{
	const odet_backend *be = odet_backend_cuda();
	odet_ctx *ctx = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	int skip = cuda_test_open("cuda_fp8", &co, &ctx);
	if (skip)
		return skip;
	{ /* the device must run FP8: a probe build of a one-node QuantizeLinear */
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int64_t d[1] = {4};
		test_graph_output(g, add_quantize(g, "q", test_graph_input(g, "x", ODET_F32, 1, d), 1.0f));
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CUDA;
		o.no_head = 1;
		odet_engine *e = NULL;
		odet_status rc = pass_infer_shapes(g);
		if (!rc)
			rc = engine_build_with(ctx, g, &o, be, false, &e);
		odet_engine_destroy(e);
		ir_graph_free(g);
		if (rc == ODET_ERR_UNSUPPORTED && strstr(odet_ctx_last_error(ctx), "compute capability")) {
			printf("cuda_fp8: skipped (%s)\n", odet_ctx_last_error(ctx));
			odet_ctx_destroy(ctx);
			return 77;
		}
	}
	test_quantize(ctx, be);
	const qcase cases[] = {
		{"float32 out, ReLU", ODET_F32, false, IR_ACT_RELU, 0, 0.01f},
		{"float32 out, residual, LeakyReLU", ODET_F32, true, IR_ACT_LEAKYRELU, 0.1f, 0.01f},
		{"e4m3 out (requantized)", ODET_F8E4M3, false, IR_ACT_NONE, 0, 0.5f},
		{"e4m3 out, ReLU, residual", ODET_F8E4M3, true, IR_ACT_RELU, 0, 0.5f},
	};
	for (int split = 0; split < 2; split++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
			test_qconv(ctx, be, &cases[i], split);
	test_build(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("cuda_fp8");
}
