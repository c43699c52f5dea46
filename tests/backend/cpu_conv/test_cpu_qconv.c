/*
 * test_cpu_qconv.c — the CPU QConv's oneDNN int8 path split over odet's pool against the same
 * conv as one single-threaded primitive, and both against the exact reference loops
 * (odet_conv_algo 1): int8 output with an int8 residual and ReLU, float output with a float
 * residual, 3x3 and 1x1, batch 1 (parts of the output channels, M not a multiple of 16 in one
 * case) and batch 4 (one task per image).
 *   - split vs one primitive: equal bit for bit (the same exact int32 sums, the same scaling);
 *   - oneDNN vs the reference: int8 outputs within one step (oneDNN scales (acc + B / A) * A,
 *     the reference A * acc + B: qconv.c), float outputs within 1e-5 relative;
 *   - the split actually happens on 3 threads, and no QConv opens an OpenMP team: the process
 *     has the threads it had before the first QConv (counted in /proc/self/task).
 * Without AVX-512 VNNI (or oneDNN) every path is the reference: only the reference checks run.
 */
#include "backend/backend.h"
#include "backend/cpu/conv.h"
#include "process_threads.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec {
	const char *name;
	int64_t n, c, m, h, w, k, p;
	bool i8_out; /* int8 Y and R (with ReLU), else float Y and R */
} spec;

static const spec specs[] = {
	{"3x3 c32 m64 int8 b1", 1, 32, 64, 34, 34, 3, 1, true},
	{"1x1 c64 m72 float b1", 1, 64, 72, 64, 64, 1, 0, false},
	{"3x3 c32 m32 int8 b4", 4, 32, 32, 30, 30, 3, 1, true},
};

static unsigned seed = 3;

static int8_t *rnd_i8(int64_t n)
{
	int8_t *p = malloc((size_t)n);
	for (int64_t i = 0; i < n; i++)
		p[i] = (int8_t)(rand_r(&seed) % 255 - 127);
	return p;
}

static float *rnd_f(int64_t n, float lo, float hi)
{
	float *p = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		p[i] = lo + (hi - lo) * (float)rand_r(&seed) / RAND_MAX;
	return p;
}

/* one QConv of s on fixed data; y (Y's dtype) receives the output; split: parts per image */
static odet_status run(odet_ctx *ctx, const spec *s, const int8_t *x, const int8_t *w, const float *b,
		       const float *a, const void *r, int algo, void *y, char *impl, size_t impl_len, int *split)
{
	int64_t oh = s->h + 2 * s->p - s->k + 1, ow = s->w + 2 * s->p - s->k + 1;
	int64_t xd[4] = {s->n, s->c, s->h, s->w}, wd[4] = {s->m, s->c, s->k, s->k}, md[1] = {s->m};
	int64_t yd[4] = {s->n, s->m, oh, ow}, nw = s->m * s->c * s->k * s->k;
	odet_dtype yt = s->i8_out ? ODET_I8 : ODET_F32;
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		return ODET_ERR_NO_MEMORY;
	int8_t *wc = malloc((size_t)nw);
	float *bc = malloc(sizeof(float) * (size_t)s->m), *ac = malloc(sizeof(float) * (size_t)s->m);
	memcpy(wc, w, (size_t)nw);
	memcpy(bc, b, sizeof(float) * (size_t)s->m);
	memcpy(ac, a, sizeof(float) * (size_t)s->m);
	int in[5] = {ir_value_add(g, "x", ODET_I8, 4, xd), ir_const_add(g, "w", ODET_I8, 4, wd, wc),
		     ir_const_add(g, "b", ODET_F32, 1, md, bc), ir_value_add(g, "r", yt, 4, yd),
		     ir_const_add(g, "a", ODET_F32, 1, md, ac)};
	int out = ir_value_add(g, "y", yt, 4, yd);
	int n = ir_node_add(g, IR_OP_QCONV, "qconv", 5, in, 1, &out);
	int64_t pads[4] = {s->p, s->p, s->p, s->p};
	ir_attr_set_ints(g, n, "pads", pads, 4);
	ir_attr_set_float(g, n, "odet_r_scale", s->i8_out ? 0.75f : 0.5f);
	if (s->i8_out)
		ir_attr_set_int(g, n, "odet_act", IR_ACT_RELU);
	ir_attr_set_int(g, n, "odet_conv_algo", algo);
	odet_tensor ti[5] = {{ODET_I8, 4, {0}, (void *)x, -1}, {ODET_I8, 4, {0}, wc, -1}, {ODET_F32, 1, {s->m}, bc, -1},
			     {yt, 4, {0}, (void *)r, -1}, {ODET_F32, 1, {s->m}, ac, -1}};
	memcpy(ti[0].dims, xd, sizeof xd);
	memcpy(ti[1].dims, wd, sizeof wd);
	memcpy(ti[3].dims, yd, sizeof yd);
	odet_tensor to = {yt, 4, {0}, y, -1};
	memcpy(to.dims, yd, sizeof yd);
	const odet_backend *be = odet_backend_cpu();
	void *state = NULL;
	size_t ws = 0;
	odet_status rc = be->prepare(ctx, g, &g->nodes[n], &state, &ws);
	if (!rc) {
		snprintf(impl, impl_len, "%s", cpu_qconv_impl_name(state));
		*split = cpu_qconv_split(state);
		be->release(&g->nodes[n], state);
		rc = be_eval_node(be, ctx, g, &g->nodes[n], ti, &to);
	}
	ir_graph_free(g);
	return rc;
}

static void test_spec(odet_ctx *one, odet_ctx *three, const spec *s)
{
	int64_t oh = s->h + 2 * s->p - s->k + 1, ow = s->w + 2 * s->p - s->k + 1;
	int64_t nx = s->n * s->c * s->h * s->w, ny = s->n * s->m * oh * ow;
	size_t es = s->i8_out ? 1 : sizeof(float);
	int8_t *x = rnd_i8(nx), *w = rnd_i8(s->m * s->c * s->k * s->k);
	float *b = rnd_f(s->m, -20, 20), *a = rnd_f(s->m, 2e-4f, 8e-4f);
	void *r = s->i8_out ? (void *)rnd_i8(ny) : (void *)rnd_f(ny, -5, 5);
	char *y3 = malloc(es * (size_t)ny), *y1 = malloc(es * (size_t)ny), *yr = malloc(es * (size_t)ny);
	char impl3[128], impl1[128], implr[128];
	int split3 = 0, split1 = 0, splitr = 0;
	odet_status rc3 = run(three, s, x, w, b, a, r, 0, y3, impl3, sizeof impl3, &split3);
	odet_status rc1 = run(one, s, x, w, b, a, r, 0, y1, impl1, sizeof impl1, &split1);
	odet_status rcr = run(one, s, x, w, b, a, r, 1, yr, implr, sizeof implr, &splitr);
	CHECK_MSG(!rc3 && !rc1 && !rcr, "%s: %s", s->name, odet_ctx_last_error(rc1 || rcr ? one : three));
	bool dnnl = strcmp(impl3, "reference") != 0;
	CHECK_MSG(!strcmp(implr, "reference") && splitr == 0, "%s: algo 1 ran %s", s->name, implr);
	if (dnnl)
		CHECK_MSG(split3 == (s->n >= 3 ? 1 : (int)((s->m + 15) / 16 < 3 ? (s->m + 15) / 16 : 3)) && split1 == 0,
			  "%s: %d parts per image on 3 threads, %d on 1", s->name, split3, split1);
	int64_t diff_split = 0, worst_step = 0;
	double worst_rel = 0, mx = 0;
	for (int64_t i = 0; !rc3 && !rc1 && !rcr && i < ny; i++) {
		diff_split += memcmp(y3 + (size_t)i * es, y1 + (size_t)i * es, es) != 0;
		if (s->i8_out) {
			int64_t d = llabs((int64_t)((int8_t *)y1)[i] - ((int8_t *)yr)[i]);
			worst_step = d > worst_step ? d : worst_step;
		} else {
			double ref = ((float *)yr)[i], d = fabs(((float *)y1)[i] - ref);
			worst_rel = d > worst_rel ? d : worst_rel;
			mx = fabs(ref) > mx ? fabs(ref) : mx;
		}
	}
	worst_rel /= mx > 0 ? mx : 1;
	CHECK_MSG(diff_split == 0, "%s: %lld of %lld outputs differ between the split and one primitive", s->name,
		  (long long)diff_split, (long long)ny);
	CHECK_MSG(worst_step <= 1 && worst_rel <= 1e-5, "%s: vs the reference: %lld steps, rel err %.3g", s->name,
		  (long long)worst_step, worst_rel);
	printf("  %-24s %s, %d parts per image on 3 threads: split == one primitive, vs reference %s %.2g\n",
	       s->name, impl3, split3, s->i8_out ? "steps" : "rel err", s->i8_out ? (double)worst_step : worst_rel);
	free(x), free(w), free(b), free(a), free(r), free(y3), free(y1), free(yr);
}

int main(void)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	odet_ctx *one, *three;
	o.n_threads = 1;
	if (odet_ctx_create(&o, &one))
		return 1;
	o.n_threads = 3;
	if (odet_ctx_create(&o, &three))
		return 1;
	const int before = process_threads();
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		test_spec(one, three, &specs[i]);
	const int after = process_threads();
	CHECK_MSG(before < 0 || after == before, "%d process threads before the QConvs, %d after (an OpenMP team was opened)",
		  before, after);
	odet_ctx_destroy(three);
	odet_ctx_destroy(one);
	return test_summary("cpu_qconv");
}
