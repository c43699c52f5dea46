/*
 * quantize_linear.c — QuantizeLinear (ops.def, ONNX): float32/float16 X, float32 scale (scalar,
 * or 1-D along attr axis, default 1), zero point int8/uint8 shaped like the scale (optional:
 * then uint8, zero point 0) -> y = saturate(round_half_even(x / scale) + zp) to the output
 * type's range. NaN becomes the zero point.
 * Computed as q = x / scale clamped to [lo - zp, hi - zp] first (the same result: the bounds are
 * integers), then rounded half to even by adding and subtracting 1.5 * 2^23 (exact for |q| < 2^22,
 * the default rounding mode; no libm call, so the loop vectorizes), in parallel over blocks of
 * elements of one scale. To float8e4m3: qconv_fp8.c.
 */
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/fp8.h"

#include <math.h>

static odet_status quantize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (y && y->dtype == ODET_F8E4M3)
		return cpu_quantize_fp8_check(ctx, g, n);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    (y->dtype != ODET_I8 && y->dtype != ODET_U8))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): float32/float16 to int8/uint8 with float32 scales only (this one: %s "
				  "to %s)", n->name, x ? odet_dtype_name(x->dtype) : "?", y ? odet_dtype_name(y->dtype) : "?");
	return ODET_OK;
}

typedef struct quant_job {
	const odet_tensor *x, *s, *z;
	odet_tensor *y;
	int64_t inner, axis_len;
	bool u8;
} quant_job;

#define QUANT_BLOCK 4096

/* blocks [begin, end) of QUANT_BLOCK elements; within a block, runs of one channel */
static void quant_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const quant_job *j = arg;
	const int64_t n = odet_tensor_numel(j->x);
	const float *sc = j->s->data;
	const float lo = j->u8 ? 0.f : -128.f, hi = j->u8 ? 255.f : 127.f, magic = 12582912.0f;
	(void)thread;
	for (int64_t i0 = begin * QUANT_BLOCK; i0 < n && i0 < end * QUANT_BLOCK;) {
		int64_t c = j->s->rank == 1 ? (i0 / j->inner) % j->axis_len : 0;
		int64_t run = j->s->rank == 1 ? j->inner - i0 % j->inner : n - i0;
		int64_t i1 = i0 + run;
		if (i1 > end * QUANT_BLOCK)
			i1 = end * QUANT_BLOCK;
		if (i1 > n)
			i1 = n;
		const float zp = !j->z ? 0.f : j->z->dtype == ODET_U8 ? ((const uint8_t *)j->z->data)[c]
								    : ((const int8_t *)j->z->data)[c];
		const float s = sc[c], qlo = lo - zp, qhi = hi - zp;
		if (j->x->dtype == ODET_F32 && !j->u8) {
			const float *x = (const float *)j->x->data;
			int8_t *y = (int8_t *)j->y->data;
			for (int64_t i = i0; i < i1; i++) {
				float q = x[i] / s;
				q = q != q ? 0.f : (q < qlo ? qlo : (q > qhi ? qhi : q));
				y[i] = (int8_t)((q + magic) - magic + zp);
			}
		} else {
			for (int64_t i = i0; i < i1; i++) {
				float v = j->x->dtype == ODET_F32 ? ((const float *)j->x->data)[i]
								  : odet_f16_to_f32(((const uint16_t *)j->x->data)[i]);
				float q = v / s;
				q = q != q ? 0.f : (q < qlo ? qlo : (q > qhi ? qhi : q));
				float r = (q + magic) - magic + zp;
				if (j->u8)
					((uint8_t *)j->y->data)[i] = (uint8_t)r;
				else
					((int8_t *)j->y->data)[i] = (int8_t)r;
			}
		}
		i0 = i1;
	}
}

static odet_status quantize_run(const be_run_args *a)
{
	if (a->out[0].dtype == ODET_F8E4M3)
		return cpu_quantize_fp8_run(a);
	quant_job j = {.x = &a->in[0], .s = &a->in[1], .z = a->n_in > 2 && a->in[2].data ? &a->in[2] : NULL,
		       .y = &a->out[0], .inner = 1, .axis_len = 1, .u8 = a->out[0].dtype == ODET_U8};
	int64_t n = odet_tensor_numel(j.x), ns = odet_tensor_numel(j.s);
	cpu_quant_axis(a->node, j.x, j.s, &j.inner, &j.axis_len);
	const float *sc = j.s->data;
	for (int64_t k = 0; k < ns; k++)
		if (!(sc[k] > 0) || !isfinite(sc[k]))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (QuantizeLinear): scale %g must be positive",
					  a->node->name, (double)sc[k]);
	odet_parallel_for(a->pool, (n + QUANT_BLOCK - 1) / QUANT_BLOCK, 4, quant_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_QUANTIZE_LINEAR = {.check = quantize_check, .run = quantize_run};
