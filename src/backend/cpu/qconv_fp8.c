/*
 * qconv_fp8.c — FP8 E4M3 QConv and QuantizeLinear on the CPU (fp8.h): the reference the CUDA FP8
 * engines are compared with, not a fast path.
 *
 * QConv (ops.def): X and W E4M3 (per-tensor scales folded into A by pass_quantize_fp8),
 *   y = act(A[m] * acc + B[m] + r_scale * R), acc the sum of the E4M3 products in double (each
 *   product is exact; the sum rounds at 2^-53, where CUDA's tensor cores accumulate in fewer
 *   bits), Y E4M3 (quant_fp8_from_float: nearest even, saturated to +-448), float16 or float32;
 *   R float16/float32 or E4M3. NCHW, or NHWC (odet_nhwc: X [N,H,W,C], W [M,kh,kw,C]); run by the
 *   int8 reference's loops in qconv.c with E4M3 elements (here: what they accept).
 * QuantizeLinear: float32/float16 X, one float32 scale, zero point E4M3 0 -> e4m3(x / scale),
 *   the quotient rounded once in float32 (as CUDA's __fdiv_rn), NaN -> 0x7f.
 */
#include "backend/cpu/fp8.h"

#include "backend/cpu/act.h"
#include "backend/cpu/cpu_util.h"
#include "quant/fp8.h"

#include <math.h>
#include <stdlib.h>

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
