/*
 * pixel_norm.cu — PixelNorm on CUDA (spec: backend/cpu/pixel_norm.c): uint8 pixels to float32 /
 *   float16, y = x * scale[c] + bias[c] (multiply and add rounded separately, as on the CPU);
 *   one thread per element, scale and bias by value (up to 4 channels: images).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

#define PN_MAX_C 4

struct pn_norm {
	float s[PN_MAX_C], b[PN_MAX_C];
};

template <typename TO>
__global__ void pn_kernel(const uint8_t *__restrict__ x, TO *__restrict__ y, long long total, long long inner, int nc,
			  pn_norm nm)
{
	CU_FOR(i, total)
	{
		int c = (int)((i / inner) % nc);
		y[i] = cu_num<TO>::st(__fadd_rn(__fmul_rn((float)x[i], nm.s[c]), nm.b[c]));
	}
}

odet_status pn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || x->rank != 4 || x->dtype != ODET_U8 || (y->dtype != ODET_F32 && y->dtype != ODET_F16))
		return cu_refuse(ctx, n, "4-D uint8 in, float out needed");
	const float *s;
	if (ir_attr_floats(n, "odet_scale", &s) > PN_MAX_C)
		return cu_refuse(ctx, n, "at most 4 channels");
	return ODET_OK;
}

odet_status pn_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	const int axis = (int)ir_attr_int(a->node, "axis", 1);
	const float *s = NULL, *b = NULL;
	const int nc = ir_attr_floats(a->node, "odet_scale", &s);
	if (nc < 1 || nc > PN_MAX_C || nc != x->dims[axis] || ir_attr_floats(a->node, "odet_bias", &b) != nc)
		return cu_bad(a, "odet_scale/odet_bias do not match the channels");
	pn_norm nm;
	memset(&nm, 0, sizeof nm);
	for (int k = 0; k < nc; k++) {
		nm.s[k] = s[k];
		nm.b[k] = b[k];
	}
	long long inner = axis == 1 ? x->dims[2] * x->dims[3] : 1, total = x->dims[0] * x->dims[1] * x->dims[2] * x->dims[3];
	if (y->dtype == ODET_F16)
		pn_kernel<__half><<<cu_grid(total, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			(const uint8_t *)x->data, (__half *)y->data, total, inner, nc, nm);
	else
		pn_kernel<float><<<cu_grid(total, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			(const uint8_t *)x->data, (float *)y->data, total, inner, nc, nm);
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_PIXEL_NORM = {pn_check, NULL, NULL, pn_run};
