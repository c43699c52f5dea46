/*
 * quantize_linear.c — QuantizeLinear (ops.def, ONNX): float32/float16 X, float32 scale (scalar,
 * or 1-D along attr axis, default 1), zero point int8/uint8 shaped like the scale (optional:
 * then uint8, zero point 0) -> y = saturate(round_half_even(x / scale) + zp) to the output
 * type's range. NaN becomes the zero point.
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>

static odet_status quantize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    (y->dtype != ODET_I8 && y->dtype != ODET_U8))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): float32/float16 to int8/uint8 with float32 scales only", n->name);
	return ODET_OK;
}

static odet_status quantize_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0], *s = &a->in[1], *z = a->n_in > 2 && a->in[2].data ? &a->in[2] : NULL;
	const bool u8 = a->out[0].dtype == ODET_U8;
	const float lo = u8 ? 0.f : -128.f, hi = u8 ? 255.f : 127.f;
	int64_t n = odet_tensor_numel(x), ns = odet_tensor_numel(s), inner, axis_len;
	cpu_quant_axis(a->node, x, s, &inner, &axis_len);
	const float *sc = s->data;
	for (int64_t k = 0; k < ns; k++)
		if (!(sc[k] > 0) || !isfinite(sc[k]))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (QuantizeLinear): scale %g must be positive",
					  a->node->name, (double)sc[k]);
	for (int64_t i = 0; i < n; i++) {
		int64_t c = s->rank == 1 ? (i / inner) % axis_len : 0;
		float v = x->dtype == ODET_F32 ? ((const float *)x->data)[i] : odet_f16_to_f32(((const uint16_t *)x->data)[i]);
		float zp = !z ? 0.f : z->dtype == ODET_U8 ? ((const uint8_t *)z->data)[c] : ((const int8_t *)z->data)[c];
		float r = nearbyintf(v / sc[c]) + zp;
		r = isnan(r) ? zp : (r < lo ? lo : (r > hi ? hi : r));
		if (u8)
			((uint8_t *)a->out[0].data)[i] = (uint8_t)r;
		else
			((int8_t *)a->out[0].data)[i] = (int8_t)r;
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_QUANTIZE_LINEAR = {.check = quantize_check, .run = quantize_run};
