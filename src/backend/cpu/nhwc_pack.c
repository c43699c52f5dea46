/*
 * nhwc_pack.c — NhwcPack (ops.def): X [N,C,H,W] float32/float16/uint8 -> Y [N,H,W,channels] of
 *   dtype attr to; y[n,h,w,c] = x[n,c,h,w] * scale[c] + bias[c] for c < C (scale 1 and bias 0
 *   without the odet_scale/odet_bias lists), 0 for C <= c < channels. float16 <-> float32 with
 *   round to nearest even.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status np_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || x->rank != 4 || y->rank != 4 || (x->dtype != ODET_F32 && x->dtype != ODET_F16 && x->dtype != ODET_U8) ||
	    (y->dtype != ODET_F32 && y->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (NhwcPack): 4-D float32/float16/uint8 tensors needed",
				  n->name);
	return ODET_OK;
}

static odet_status np_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t nb = x->dims[0], c = x->dims[1], hw = x->dims[2] * x->dims[3], cp = y->dims[3];
	const float *sc = NULL, *bi = NULL;
	int ns = ir_attr_floats(a->node, "odet_scale", &sc);
	if (y->dims[0] != nb || y->dims[1] * y->dims[2] != hw || cp < c ||
	    (ns && (ns != c || ir_attr_floats(a->node, "odet_bias", &bi) != c)))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (NhwcPack): output does not match the input",
				  a->node->name);
	for (int64_t i = 0; i < nb; i++)
		for (int64_t p = 0; p < hw; p++)
			for (int64_t k = 0; k < cp; k++) {
				float v = 0.0f;
				int64_t s = (i * c + k) * hw + p, d = (i * hw + p) * cp + k;
				if (k < c) {
					v = x->dtype == ODET_F32   ? ((const float *)x->data)[s]
					    : x->dtype == ODET_U8 ? (float)((const uint8_t *)x->data)[s]
								 : odet_f16_to_f32(((const uint16_t *)x->data)[s]);
					if (ns)
						v = v * sc[k] + bi[k];
				}
				if (y->dtype == ODET_F32)
					((float *)y->data)[d] = v;
				else
					((uint16_t *)y->data)[d] = odet_f32_to_f16(v);
			}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_NHWC_PACK = {.check = np_check, .run = np_run};
