/*
 * pixel_norm.c — PixelNorm (ops.def): X uint8 [N,C,H,W] (axis 1) or [N,H,W,C] (axis 3) ->
 *   Y float32/float16 of X's shape, y = x * scale[c] + bias[c] in float32 (float16 rounded to
 *   nearest even).
 */
#include "backend/cpu/cpu_util.h"

static odet_status pn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || x->rank != 4 || x->dtype != ODET_U8 || (y->dtype != ODET_F32 && y->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (PixelNorm): 4-D uint8 in, float out needed",
				  n->name);
	return ODET_OK;
}

static odet_status pn_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	const float *sc, *bi;
	const int axis = (int)ir_attr_int(a->node, "axis", 1);
	const int nc = ir_attr_floats(a->node, "odet_scale", &sc);
	if (nc != x->dims[axis] || ir_attr_floats(a->node, "odet_bias", &bi) != nc)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PixelNorm): %d scales for %lld channels",
				  a->node->name, nc, (long long)x->dims[axis]);
	/* element (o, c, k): o over the dims before the channel, k over those after it */
	const int64_t inner = axis == 1 ? x->dims[2] * x->dims[3] : 1, outer = odet_tensor_numel(x) / (inner * nc);
	const uint8_t *s = x->data;
	for (int64_t o = 0; o < outer; o++)
		for (int c = 0; c < nc; c++) {
			const int64_t base = (o * nc + c) * inner;
			for (int64_t k = 0; k < inner; k++) {
				float v = (float)s[base + k] * sc[c] + bi[c];
				if (y->dtype == ODET_F32)
					((float *)y->data)[base + k] = v;
				else
					((uint16_t *)y->data)[base + k] = odet_f32_to_f16(v);
			}
		}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_PIXEL_NORM = {.check = pn_check, .run = pn_run};
