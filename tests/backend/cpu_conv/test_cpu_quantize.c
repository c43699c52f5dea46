/*
 * test_cpu_quantize.c — the CPU QuantizeLinear (float32 -> int8 / uint8) against an independent
 * model of ONNX's definition: y = saturate(round_half_even(x / scale) + zero_point), NaN -> zero
 * point. Inputs hit every branch of the kernel: exact ties (k + 0.5) * scale, NaN, +-inf, huge
 * values, -0, values just inside and outside the range; sizes not a multiple of 16 (the vector
 * path's masked tail) and larger than one 4096-element block; a per-tensor int8 scale and a
 * per-channel uint8 scale with zero points; on 1 and 3 threads. Equal bit for bit.
 */
#include "backend/backend.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned seed = 7;

/* element i of a test input of channel scale s: the awkward values first, then ties and noise */
static float input_value(int64_t i, float s)
{
	static const float special[] = {0.0f, -0.0f, 127.5f, -128.5f, 126.5f, -127.5f, 1e30f, -1e30f, 0.5f, -0.5f,
					1.5f, 2.5f, -2.5f, 255.5f, 254.5f, 128.0f};
	const int64_t ns = (int64_t)(sizeof special / sizeof special[0]);
	if (i % 97 == 3)
		return NAN;
	if (i % 89 == 5)
		return i % 2 ? INFINITY : -INFINITY;
	if (i < ns)
		return special[i] * s;
	if (i % 3 == 0) /* a tie: k + 0.5 steps */
		return ((float)(rand_r(&seed) % 400) - 200.0f + 0.5f) * s;
	return ((float)rand_r(&seed) / RAND_MAX - 0.5f) * 400.0f * s;
}

static int model(float x, float s, int zp, bool u8)
{
	float q = x / s;
	if (q != q)
		return zp;
	double r = (double)nearbyintf(fmaxf(fminf(q, 1e9f), -1e9f)) + zp;
	double lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
	return (int)(r < lo ? lo : r > hi ? hi : r);
}

/* QuantizeLinear of x [n, c, hw] (scale per channel when per_channel) on ctx; returns mismatches */
static int64_t run_case(odet_ctx *ctx, int64_t n, int64_t c, int64_t hw, bool per_channel, bool u8)
{
	const int64_t numel = n * c * hw, ns = per_channel ? c : 1;
	int64_t xd[3] = {n, c, hw}, sd[1] = {c};
	float *x = malloc(sizeof(float) * (size_t)numel), *s = malloc(sizeof(float) * (size_t)ns);
	uint8_t *z = malloc((size_t)ns), *y = malloc((size_t)numel);
	for (int64_t k = 0; k < ns; k++) {
		s[k] = 0.01f * (float)(k + 1) + 0.003f;
		z[k] = u8 ? (uint8_t)(k * 37 % 256) : (uint8_t)(int8_t)(k % 2 ? -3 : 5);
	}
	for (int64_t i = 0; i < numel; i++)
		x[i] = input_value(i, s[per_channel ? (i / hw) % c : 0]);
	odet_dtype yt = u8 ? ODET_U8 : ODET_I8;
	ir_graph *g;
	ir_graph_create(ctx, &g);
	float *sc = malloc(sizeof(float) * (size_t)ns);
	uint8_t *zc = malloc((size_t)ns);
	memcpy(sc, s, sizeof(float) * (size_t)ns);
	memcpy(zc, z, (size_t)ns);
	int in[3] = {ir_value_add(g, "x", ODET_F32, 3, xd),
		     ir_const_add(g, "s", ODET_F32, per_channel ? 1 : 0, sd, sc),
		     ir_const_add(g, "z", yt, per_channel ? 1 : 0, sd, zc)};
	int out = ir_value_add(g, "y", yt, 3, xd);
	int node = ir_node_add(g, IR_OP_QUANTIZE_LINEAR, "q", 3, in, 1, &out);
	odet_tensor ti[3] = {{ODET_F32, 3, {n, c, hw}, x, -1}, {ODET_F32, per_channel ? 1 : 0, {c}, sc, -1},
			     {yt, per_channel ? 1 : 0, {c}, zc, -1}};
	odet_tensor to = {yt, 3, {n, c, hw}, y, -1};
	odet_status rc = be_eval_node(odet_backend_cpu(), ctx, g, &g->nodes[node], ti, &to);
	CHECK_MSG(!rc, "QuantizeLinear: %s", odet_ctx_last_error(ctx));
	int64_t bad = 0;
	for (int64_t i = 0; !rc && i < numel; i++) {
		int64_t k = per_channel ? (i / hw) % c : 0;
		int zp = u8 ? z[k] : (int8_t)z[k];
		int got = u8 ? y[i] : (int8_t)y[i], want = model(x[i], s[k], zp, u8);
		if (got != want && bad++ < 5)
			printf("  element %lld: x %g s %g zp %d: got %d, want %d\n", (long long)i, (double)x[i],
			       (double)s[k], zp, got, want);
	}
	ir_graph_free(g);
	free(x);
	free(s);
	free(z);
	free(y);
	return rc ? -1 : bad;
}

int main(void)
{
	odet_ctx_opts o1 = odet_ctx_opts_default(), o3 = odet_ctx_opts_default();
	o1.n_threads = 1;
	o3.n_threads = 3;
	odet_ctx *ctx[2];
	CHECK(!odet_ctx_create(&o1, &ctx[0]) && !odet_ctx_create(&o3, &ctx[1]));
	static const struct {
		int64_t n, c, hw;
		bool per_channel, u8;
	} cases[] = {
		{1, 1, 16, false, false}, {1, 1, 15, false, false}, {2, 3, 10007, false, false}, {1, 7, 33, true, true},
		{2, 32, 1109, true, true}, {3, 5, 4099, true, false}, {1, 1, 1, false, true},
	};
	for (int t = 0; t < 2; t++)
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			int64_t bad = run_case(ctx[t], cases[k].n, cases[k].c, cases[k].hw, cases[k].per_channel, cases[k].u8);
			CHECK_MSG(bad == 0, "[%lld,%lld,%lld] %s %s on %d threads: %lld elements differ from the model",
				  (long long)cases[k].n, (long long)cases[k].c, (long long)cases[k].hw,
				  cases[k].per_channel ? "per channel" : "per tensor", cases[k].u8 ? "uint8" : "int8",
				  t ? 3 : 1, (long long)bad);
		}
	odet_ctx_destroy(ctx[0]);
	odet_ctx_destroy(ctx[1]);
	return test_summary("cpu_quantize");
}
