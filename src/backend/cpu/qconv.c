/*
 * qconv.c — QConv (ops.def), the reference: exact int32 sums of int8 products, then
 * y = act(A[m] * acc + B[m] + r_scale * R) in float32, int8 outputs rounded half to even and
 * saturated. NCHW, or NHWC (odet_nhwc: X [N,H,W,C], W [M,kh,kw,C], Y [N,oh,ow,M]). Direct
 * loops, threaded over output rows; the point is exactness, not speed (the CPU backend's
 * fast INT8 is its own work item).
 */
#include "backend/cpu/act.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/window.h"

#include <math.h>

typedef struct qconv_job {
	const be_run_args *a;
	cpu_window w;
	bool nhwc;
	int64_t n, c, m, h, wd, oh, ow;
	cpu_act act;
	float r_scale;
} qconv_job;

static float load(const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_I8: return ((const int8_t *)t->data)[i];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	default: return ((const float *)t->data)[i];
	}
}

static void store(odet_tensor *t, int64_t i, float v)
{
	switch (t->dtype) {
	case ODET_I8: {
		float r = nearbyintf(v);
		((int8_t *)t->data)[i] = (int8_t)(r > 127.f ? 127 : (r < -128.f ? -128 : (isnan(r) ? 0 : (int)r)));
		break;
	}
	case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(v); break;
	default: ((float *)t->data)[i] = v; break;
	}
}

/* rows [begin, end) of n * m * oh (one output row of one channel each) */
static void qconv_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const qconv_job *j = arg;
	const be_run_args *a = j->a;
	const int8_t *x = a->in[0].data, *wt = a->in[1].data;
	const float *bias = a->n_in > 2 ? a->in[2].data : NULL, *scale = a->in[4].data;
	const odet_tensor *r = a->n_in > 3 && a->in[3].data ? &a->in[3] : NULL;
	const int64_t kh = j->w.k[0], kw = j->w.k[1];
	(void)thread;
	for (int64_t row = begin; row < end; row++) {
		int64_t oy = row % j->oh, mm = (row / j->oh) % j->m, b = row / (j->oh * j->m);
		for (int64_t ox = 0; ox < j->ow; ox++) {
			int32_t acc = 0;
			for (int64_t ky = 0; ky < kh; ky++) {
				int64_t iy = oy * j->w.s[0] - j->w.pb[0] + ky * j->w.d[0];
				if (iy < 0 || iy >= j->h)
					continue;
				for (int64_t kx = 0; kx < kw; kx++) {
					int64_t ix = ox * j->w.s[1] - j->w.pb[1] + kx * j->w.d[1];
					if (ix < 0 || ix >= j->wd)
						continue;
					for (int64_t ci = 0; ci < j->c; ci++) {
						int64_t xi = j->nhwc ? ((b * j->h + iy) * j->wd + ix) * j->c + ci
								     : ((b * j->c + ci) * j->h + iy) * j->wd + ix;
						int64_t wi = j->nhwc ? ((mm * kh + ky) * kw + kx) * j->c + ci
								     : ((mm * j->c + ci) * kh + ky) * kw + kx;
						acc += (int32_t)x[xi] * (int32_t)wt[wi];
					}
				}
			}
			int64_t yi = j->nhwc ? ((b * j->oh + oy) * j->ow + ox) * j->m + mm
					     : ((b * j->m + mm) * j->oh + oy) * j->ow + ox;
			float v = scale[mm] * (float)acc + (bias ? bias[mm] : 0.0f);
			if (r)
				v += j->r_scale * load(r, yi);
			store(&a->out[0], yi, cpu_act_apply1(&j->act, v));
		}
	}
}

static odet_status qconv_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
	cpu_act act;
	if (!x || !w || x->rank != 4 || w->rank != 4)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): 2-D convolutions only", n->name);
	if (!cpu_act_from_node(n, &act))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): unknown fused activation", n->name);
	return ODET_OK;
}

static odet_status qconv_run(const be_run_args *a)
{
	qconv_job j = {.a = a};
	const odet_tensor *x = &a->in[0], *w = &a->in[1], *y = &a->out[0];
	j.nhwc = ir_attr_int(a->node, "odet_nhwc", 0) != 0;
	j.n = x->dims[0];
	j.c = j.nhwc ? x->dims[3] : x->dims[1];
	j.h = j.nhwc ? x->dims[1] : x->dims[2];
	j.wd = j.nhwc ? x->dims[2] : x->dims[3];
	j.m = w->dims[0];
	j.oh = j.nhwc ? y->dims[1] : y->dims[2];
	j.ow = j.nhwc ? y->dims[2] : y->dims[3];
	int64_t sp[2] = {j.h, j.wd}, k[2] = {j.nhwc ? w->dims[1] : w->dims[2], j.nhwc ? w->dims[2] : w->dims[3]};
	odet_status rc = cpu_window_init(a->ctx, a->node, 2, sp, k, &j.w);
	if (rc)
		return rc;
	if (j.w.out[0] != j.oh || j.w.out[1] != j.ow)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): output size disagrees with the window",
				  a->node->name);
	cpu_act_from_node(a->node, &j.act);
	j.r_scale = ir_attr_float(a->node, "odet_r_scale", 1.0f);
	odet_parallel_for(a->pool, j.n * j.m * j.oh, 1, qconv_rows, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_QCONV = {.check = qconv_check, .run = qconv_run};
