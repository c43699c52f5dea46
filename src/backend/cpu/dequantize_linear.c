/*
 * dequantize_linear.c — DequantizeLinear (ops.def, ONNX): int8/uint8/int32 X, float32 scale
 * (scalar, or 1-D along attr axis, default 1), zero point of X's type shaped like the scale
 * (optional: 0) -> y = (x - zp) * scale in float32.
 */
#include "backend/cpu/cpu_util.h"

static odet_status dequantize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !s || !y || (x->dtype != ODET_I8 && x->dtype != ODET_U8 && x->dtype != ODET_I32) ||
	    s->dtype != ODET_F32 || y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (DequantizeLinear): int8/uint8/int32 to float32 with float32 scales only", n->name);
	return ODET_OK;
}

static inline double qval(const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_I8:
		return (double)((const int8_t *)t->data)[i];
	case ODET_U8:
		return (double)((const uint8_t *)t->data)[i];
	default:
		return (double)((const int32_t *)t->data)[i];
	}
}

static odet_status dequantize_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0], *s = &a->in[1], *z = a->n_in > 2 && a->in[2].data ? &a->in[2] : NULL;
	int64_t n = odet_tensor_numel(x), inner, axis_len;
	cpu_quant_axis(a->node, x, s, &inner, &axis_len);
	const float *sc = s->data;
	float *y = a->out[0].data;
	for (int64_t i = 0; i < n; i++) {
		int64_t c = s->rank == 1 ? (i / inner) % axis_len : 0;
		/* in double: int32 codes subtract exactly */
		double v = qval(x, i) - (z ? qval(z, c) : 0.0);
		y[i] = (float)(v * sc[c]);
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_DEQUANTIZE_LINEAR = {.check = dequantize_check, .run = dequantize_run};
