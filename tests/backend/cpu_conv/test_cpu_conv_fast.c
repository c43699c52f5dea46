/*
 * test_cpu_conv_fast.c — the CPU Conv's fast paths against its exact im2col+GEMM path (itself
 * checked against a double-precision reference in test_cpu_conv.c):
 *   - Winograd (odet_conv_algo 6, and the auto choice for 3x3 stride 1, C >= 16): rel err <= 1e-4;
 *   - bf16 (odet_bf16 = 1, what precision bf16 sets): rel err <= 3e-2 (inputs and weights rounded
 *     to 8 significant bits, fp32 accumulation), and the implementation is oneDNN's bf16 kernel
 *     (or, for 3x3 stride 1, its fp32 Winograd);
 *     on a CPU without AVX512_BF16 (or under DNNL_MAX_CPU_ISA=AVX512_CORE, the ctest case
 *     cpu_conv_bf16_refused) the build is refused naming the instruction set.
 *   test_cpu_conv_fast [--expect-no-bf16]
 * Shapes: SSD/ResNet-like 3x3 (bias, ReLU, residual), a head conv with M not a multiple of 16,
 * 1x1, stride 2, depthwise; batch 1 and 2; 3 threads then 1. Convs large enough to be split
 * over the pool (CONV_SERIAL_FLOPS): depthwise and grouped ones by parts of whole groups,
 * batch 2 by parts and batch 4 by images, against the same exact path.
 * Threads: no conv opens an OpenMP team (their spinning workers slowed a busy machine 1.5-4x,
 * conv.c): the process has exactly the threads it had before the first conv (the context's
 * pool), counted in /proc/self/task, after every conv has run on 3 threads.
 */
#include "backend/backend.h"
#include "backend/cpu/conv.h"
#include "process_threads.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

typedef struct spec {
	const char *name;
	int64_t n, c, m, group, h, w, k, s, p;
	bool residual;
	int act;
} spec;

static const spec specs[] = {
	{"3x3 c32 relu", 1, 32, 48, 1, 19, 17, 3, 1, 1, false, IR_ACT_RELU},
	{"3x3 c64 residual relu b2", 2, 64, 64, 1, 12, 13, 3, 1, 1, true, IR_ACT_RELU},
	{"3x3 head m=36", 1, 64, 36, 1, 10, 10, 3, 1, 1, false, 0},
	{"3x3 s2", 1, 32, 32, 1, 15, 15, 3, 2, 1, false, IR_ACT_RELU},
	{"1x1 b2", 2, 48, 80, 1, 9, 11, 1, 1, 0, false, IR_ACT_RELU},
	{"depthwise 3x3", 1, 32, 32, 32, 14, 14, 3, 1, 1, false, IR_ACT_CLIP},
	/* split over the pool (>= 3e7 FLOPs) */
	{"split 1x1 c64 m96 residual", 1, 64, 96, 1, 56, 56, 1, 1, 0, true, IR_ACT_RELU},
	{"split depthwise 3x3 c128", 1, 128, 128, 128, 118, 118, 3, 1, 1, false, IR_ACT_CLIP},
	{"split depthwise 5x5 c72 b2", 2, 72, 72, 72, 66, 66, 5, 1, 2, false, 0},
	{"split grouped 3x3 g4 cg16 residual", 1, 64, 64, 4, 42, 42, 3, 1, 1, true, IR_ACT_RELU},
	{"split grouped 3x3 g8 cg4 mg8 b4", 4, 32, 64, 8, 42, 42, 3, 1, 1, false, 0},
};

static unsigned seed = 7;

static float *rnd(int64_t n)
{
	float *p = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		p[i] = (float)rand_r(&seed) / RAND_MAX * 2 - 1;
	return p;
}

/* one Conv of spec s with algo / bf16 on fixed data; y receives the output; impl its name */
static odet_status run(odet_ctx *ctx, const spec *s, const float *x, const float *w, const float *b,
		       const float *r, int algo, bool bf16, float *y, char *impl, size_t impl_len)
{
	int64_t oh = (s->h + 2 * s->p - s->k) / s->s + 1, ow = (s->w + 2 * s->p - s->k) / s->s + 1;
	int64_t xd[4] = {s->n, s->c, s->h, s->w}, wd[4] = {s->m, s->c / s->group, s->k, s->k}, bd[1] = {s->m};
	int64_t yd[4] = {s->n, s->m, oh, ow};
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		return ODET_ERR_NO_MEMORY;
	int64_t nw = wd[0] * wd[1] * wd[2] * wd[3];
	float *wc = malloc(sizeof(float) * (size_t)nw), *bc = malloc(sizeof(float) * (size_t)s->m);
	memcpy(wc, w, sizeof(float) * (size_t)nw);
	memcpy(bc, b, sizeof(float) * (size_t)s->m);
	int in[4] = {ir_value_add(g, "x", ODET_F32, 4, xd), ir_const_add(g, "w", ODET_F32, 4, wd, wc),
		     ir_const_add(g, "b", ODET_F32, 1, bd, bc), s->residual ? ir_value_add(g, "r", ODET_F32, 4, yd) : -1};
	int out = ir_value_add(g, "y", ODET_F32, 4, yd);
	int n = ir_node_add(g, IR_OP_CONV, "conv", s->residual ? 4 : 3, in, 1, &out);
	int64_t pads[4] = {s->p, s->p, s->p, s->p}, st[2] = {s->s, s->s};
	ir_attr_set_ints(g, n, "pads", pads, 4);
	ir_attr_set_ints(g, n, "strides", st, 2);
	if (s->group > 1)
		ir_attr_set_int(g, n, "group", s->group);
	if (s->act) {
		ir_attr_set_int(g, n, "odet_act", s->act);
		ir_attr_set_float(g, n, "odet_act_alpha", 0.0f);
		ir_attr_set_float(g, n, "odet_act_beta", 6.0f);
	}
	ir_attr_set_int(g, n, "odet_conv_algo", algo);
	if (bf16)
		ir_attr_set_int(g, n, "odet_bf16", 1);
	odet_tensor ti[4] = {{ODET_F32, 4, {0}, (void *)x, -1}, {ODET_F32, 4, {0}, wc, -1},
			     {ODET_F32, 1, {s->m}, bc, -1}, {ODET_F32, 4, {0}, (void *)r, -1}};
	memcpy(ti[0].dims, xd, sizeof xd);
	memcpy(ti[1].dims, wd, sizeof wd);
	memcpy(ti[3].dims, yd, sizeof yd);
	odet_tensor to = {ODET_F32, 4, {0}, y, -1};
	memcpy(to.dims, yd, sizeof yd);
	const odet_backend *be = odet_backend_cpu();
	void *state = NULL;
	size_t ws = 0;
	odet_status rc = be->prepare(ctx, g, &g->nodes[n], &state, &ws);
	if (!rc) {
		snprintf(impl, impl_len, "%s%s", cpu_conv_impl_name(state), cpu_conv_split(state) ? " split" : "");
		be->release(&g->nodes[n], state);
		rc = be_eval_node(be, ctx, g, &g->nodes[n], ti, &to);
	}
	ir_graph_free(g);
	return rc;
}

static double rel(const float *y, const float *ref, int64_t n)
{
	double mx = 0, err = 0;
	for (int64_t i = 0; i < n; i++) {
		double a = fabs((double)ref[i]), d = fabs((double)y[i] - ref[i]);
		mx = a > mx ? a : mx;
		err = d > err || d != d ? d : err;
	}
	return err / (mx > 0 ? mx : 1);
}

static void test_spec(odet_ctx *ctx, int threads, const spec *s, bool expect_no_bf16)
{
	int64_t oh = (s->h + 2 * s->p - s->k) / s->s + 1, ow = (s->w + 2 * s->p - s->k) / s->s + 1;
	int64_t nx = s->n * s->c * s->h * s->w, nw = s->m * (s->c / s->group) * s->k * s->k, ny = s->n * s->m * oh * ow;
	float *x = rnd(nx), *w = rnd(nw), *b = rnd(s->m), *r = rnd(ny);
	float *ref = malloc(sizeof(float) * (size_t)ny), *y = malloc(sizeof(float) * (size_t)ny);
	char impl[128];
	odet_status rc = run(ctx, s, x, w, b, s->residual ? r : NULL, 1, false, ref, impl, sizeof impl);
	CHECK_MSG(rc == ODET_OK, "%s: GEMM reference: %s", s->name, odet_ctx_last_error(ctx));
	if (!expect_no_bf16) {
		for (int algo = 0; algo <= 6; algo += 6) {
			rc = run(ctx, s, x, w, b, s->residual ? r : NULL, algo, false, y, impl, sizeof impl);
			double e = rc ? INFINITY : rel(y, ref, ny);
			CHECK_MSG(rc == ODET_OK && e <= 1e-4, "%s algo %d (%s): status %d, rel err %g", s->name, algo,
				  impl, rc, e);
			/* the large shapes run split over the pool (auto, several threads) */
			if (algo == 0 && threads > 1 && !strncmp(s->name, "split", 5))
				CHECK_MSG(strstr(impl, " split"), "%s on %d threads: not split (%s)", s->name, threads, impl);
			if (getenv("ODET_TEST_VERBOSE"))
				printf("%s algo %d: %s, rel err %.2e\n", s->name, algo, impl, e);
		}
	}
	rc = run(ctx, s, x, w, b, s->residual ? r : NULL, 0, true, y, impl, sizeof impl);
	const char *msg = odet_ctx_last_error(ctx);
	if (expect_no_bf16 || (rc == ODET_ERR_UNSUPPORTED && strstr(msg, "AVX512_BF16"))) {
		CHECK_MSG(rc == ODET_ERR_UNSUPPORTED && strstr(msg, "AVX512_BF16"), "%s bf16 refusal: status %d (%s)",
			  s->name, rc, msg);
		if (!expect_no_bf16)
			printf("bf16 not on this CPU, refused: %s\n", msg);
	} else {
		double e = rc ? INFINITY : rel(y, ref, ny);
		CHECK_MSG(rc == ODET_OK && e <= 3e-2 && e > 0, "%s bf16 (%s): status %d (%s), rel err %g", s->name, impl,
			  rc, rc ? msg : "", e);
		CHECK_MSG(strstr(impl, "bf16") || strstr(impl, "wino"), "%s bf16 runs on %s", s->name, impl);
		if (getenv("ODET_TEST_VERBOSE"))
			printf("%s bf16: %s, rel err %.2e\n", s->name, impl, e);
	}
	free(x);
	free(w);
	free(b);
	free(r);
	free(ref);
	free(y);
}

int main(int argc, char **argv)
{
	bool expect_no_bf16 = argc > 1 && !strcmp(argv[1], "--expect-no-bf16");
	static const int threads[2] = {3, 1};
	for (int t = 0; t < 2; t++) {
		odet_ctx_opts o = odet_ctx_opts_default();
		o.n_threads = threads[t];
		odet_ctx *ctx;
		if (odet_ctx_create(&o, &ctx))
			return 1;
		const int before = process_threads();
		for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
			test_spec(ctx, threads[t], &specs[i], expect_no_bf16);
		const int after = process_threads();
		CHECK_MSG(before < 0 || after == before, "%d threads: %d process threads before the convs, %d after "
			  "(an OpenMP team was opened)", threads[t], before, after);
		odet_ctx_destroy(ctx);
	}
	return test_summary(expect_no_bf16 ? "cpu_conv_bf16_refused" : "cpu_conv_fast");
}
