/*
 * qconv_fp8.c — FP8 E4M3 QConv and QuantizeLinear on the CPU (fp8.h): the reference the CUDA FP8
 * engines are compared with, not a fast path.
 *
 * QConv (ops.def): X and W E4M3 (per-tensor scales folded into A by pass_quantize_fp8),
 *   y = act(A[m] * acc + B[m] + r_scale * R), acc the sum of the E4M3 products in double (each
 *   product is exact; the sum rounds at 2^-53, where CUDA's tensor cores accumulate in fewer
 *   bits), Y E4M3 (quant_fp8_from_float: nearest even, saturated to +-448), float16 or float32;
 *   R float16/float32 or E4M3. NCHW, or NHWC (odet_nhwc: X [N,H,W,C], W [M,kh,kw,C]), as the int8
 *   reference in qconv.c; threaded over output rows.
 * QuantizeLinear: float32/float16 X, one float32 scale, zero point E4M3 0 -> e4m3(x / scale),
 *   the quotient rounded once in float32 (as CUDA's __fdiv_rn), NaN -> 0x7f.
 */
#include "backend/cpu/fp8.h"

#include "backend/cpu/act.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/window.h"
#include "quant/fp8.h"

#include <math.h>
#include <stdlib.h>

typedef struct fp8_job {
	const be_run_args *a;
	cpu_window w;
	bool nhwc;
	int64_t n, c, m, h, wd, oh, ow;
	cpu_act act;
	float r_scale;
	float lut[256]; /* E4M3 code -> value */
} fp8_job;

static float fp8_load(const odet_tensor *t, int64_t i, const float *lut)
{
	switch (t->dtype) {
	case ODET_F8E4M3: return lut[((const uint8_t *)t->data)[i]];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	default: return ((const float *)t->data)[i];
	}
}

static void fp8_store(odet_tensor *t, int64_t i, float v)
{
	switch (t->dtype) {
	case ODET_F8E4M3: ((uint8_t *)t->data)[i] = quant_fp8_from_float(v); break;
	case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(v); break;
	default: ((float *)t->data)[i] = v; break;
	}
}

/* rows [begin, end) of n * m * oh (one output row of one channel each) */
static void fp8_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const fp8_job *j = arg;
	const be_run_args *a = j->a;
	const uint8_t *x = a->in[0].data, *wt = a->in[1].data;
	const float *bias = a->n_in > 2 ? a->in[2].data : NULL, *scale = a->in[4].data;
	const odet_tensor *r = a->n_in > 3 && a->in[3].data ? &a->in[3] : NULL;
	const int64_t kh = j->w.k[0], kw = j->w.k[1];
	(void)thread;
	for (int64_t row = begin; row < end; row++) {
		int64_t oy = row % j->oh, mm = (row / j->oh) % j->m, b = row / (j->oh * j->m);
		for (int64_t ox = 0; ox < j->ow; ox++) {
			double acc = 0;
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
						acc += (double)(j->lut[x[xi]] * j->lut[wt[wi]]);
					}
				}
			}
			int64_t yi = j->nhwc ? ((b * j->oh + oy) * j->ow + ox) * j->m + mm
					     : ((b * j->m + mm) * j->oh + oy) * j->ow + ox;
			float v = (float)((double)scale[mm] * acc) + (bias ? bias[mm] : 0.0f);
			if (r)
				v += j->r_scale * fp8_load(r, yi, j->lut);
			fp8_store(&a->out[0], yi, cpu_act_apply1(&j->act, v));
		}
	}
}

odet_status cpu_qconv_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *r = ir_in(g, n, 3), *a = ir_in(g, n, 4);
	const ir_value *y = ir_out(g, n, 0);
	cpu_act act;
	if (!x || !w || !a || !y || x->rank != 4 || w->rank != 4 || x->dtype != ODET_F8E4M3 || w->dtype != ODET_F8E4M3 ||
	    a->dtype != ODET_F32 || (y->dtype != ODET_F8E4M3 && y->dtype != ODET_F16 && y->dtype != ODET_F32) ||
	    (r && r->dtype != ODET_F8E4M3 && r->dtype != ODET_F16 && r->dtype != ODET_F32))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): FP8 on the CPU takes 2-D float8e4m3 X and W, float32 A, and "
				  "float8e4m3/float16/float32 Y and R", n->name);
	if (!cpu_act_from_node(n, &act))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): unknown fused activation", n->name);
	return ODET_OK;
}

odet_status cpu_qconv_fp8_run(const be_run_args *a)
{
	fp8_job *j = calloc(1, sizeof *j);
	if (!j)
		return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "node '%s' (QConv): out of memory", a->node->name);
	const odet_tensor *x = &a->in[0], *w = &a->in[1], *y = &a->out[0];
	j->a = a;
	j->nhwc = ir_attr_int(a->node, "odet_nhwc", 0) != 0;
	j->n = x->dims[0];
	j->c = j->nhwc ? x->dims[3] : x->dims[1];
	j->h = j->nhwc ? x->dims[1] : x->dims[2];
	j->wd = j->nhwc ? x->dims[2] : x->dims[3];
	j->m = w->dims[0];
	j->oh = j->nhwc ? y->dims[1] : y->dims[2];
	j->ow = j->nhwc ? y->dims[2] : y->dims[3];
	int64_t sp[2] = {j->h, j->wd}, k[2] = {j->nhwc ? w->dims[1] : w->dims[2], j->nhwc ? w->dims[2] : w->dims[3]};
	odet_status rc = cpu_window_init(a->ctx, a->node, 2, sp, k, &j->w);
	if (!rc && (j->w.out[0] != j->oh || j->w.out[1] != j->ow))
		rc = odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): output size disagrees with the window",
				a->node->name);
	if (!rc) {
		for (int c = 0; c < 256; c++)
			j->lut[c] = quant_fp8_to_float((uint8_t)c);
		cpu_act_from_node(a->node, &j->act);
		j->r_scale = ir_attr_float(a->node, "odet_r_scale", 1.0f);
		odet_parallel_for(a->pool, j->n * j->m * j->oh, 1, fp8_rows, j);
	}
	free(j);
	return rc;
}

odet_status cpu_quantize_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *z = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    ir_value_numel(s) != 1 || y->dtype != ODET_F8E4M3 ||
	    (z && (z->dtype != ODET_F8E4M3 || z->kind != IR_VALUE_CONST || (z->data && (*(const uint8_t *)z->data & 0x7f)))))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): float8e4m3 from float32/float16 with one float32 scale and a "
				  "zero point of 0 only", n->name);
	return ODET_OK;
}

typedef struct fp8_quant_job {
	const odet_tensor *x;
	uint8_t *y;
	float s;
} fp8_quant_job;

static void fp8_quant_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const fp8_quant_job *j = arg;
	(void)thread;
	for (int64_t i = begin; i < end; i++) {
		float v = j->x->dtype == ODET_F32 ? ((const float *)j->x->data)[i]
						  : odet_f16_to_f32(((const uint16_t *)j->x->data)[i]);
		j->y[i] = quant_fp8_from_float(v / j->s);
	}
}

odet_status cpu_quantize_fp8_run(const be_run_args *a)
{
	fp8_quant_job j = {.x = &a->in[0], .y = a->out[0].data, .s = *(const float *)a->in[1].data};
	if (!(j.s > 0) || !isfinite(j.s))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (QuantizeLinear): scale %g must be positive",
				  a->node->name, (double)j.s);
	odet_parallel_for(a->pool, odet_tensor_numel(j.x), 4096, fp8_quant_range, &j);
	return ODET_OK;
}
