/*
 * nhwc_pack.cu — NhwcPack on CUDA (spec: backend/cpu/nhwc_pack.c): one thread per pixel reads
 *   its C values from the C planes (coalesced across the warp) and writes its `channels`
 *   values as one row (float16 with 4 channels: one 8-byte store). A uint8 input with
 *   odet_scale/odet_bias (a folded PixelNorm, up to 4 channels) is normalized on the way:
 *   x * scale[c] + bias[c] in float32, multiply and add rounded separately as on the CPU.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

#define NP_MAX_NORM 4

struct np_norm {
	int on;
	float s[NP_MAX_NORM], b[NP_MAX_NORM];
};

__device__ __forceinline__ float np_val(float v, const np_norm &nm, int k)
{
	return nm.on ? __fadd_rn(__fmul_rn(v, nm.s[k]), nm.b[k]) : v;
}

template <typename TI, typename TO>
__global__ void np_kernel(const TI *__restrict__ x, TO *__restrict__ y, long long pixels, long long hw, int c, int cp,
			  np_norm nm)
{
	CU_FOR(i, pixels)
	{
		long long n = i / hw, p = i - n * hw;
		const TI *src = x + n * c * hw + p;
		TO *dst = y + i * cp;
		if (sizeof(TO) == 2 && cp == 4) {
			float v[4] = {0, 0, 0, 0};
			for (int k = 0; k < c && k < 4; k++)
				v[k] = np_val((float)cu_num<TI>::ld(src[k * hw]), nm, k);
			__half2 h[2] = {__floats2half2_rn(v[0], v[1]), __floats2half2_rn(v[2], v[3])};
			*(uint2 *)dst = *(const uint2 *)h;
			continue;
		}
		for (int k = 0; k < cp; k++)
			dst[k] = cu_num<TO>::st(k < c ? np_val((float)cu_num<TI>::ld(src[k * hw]), nm, k) : 0.0f);
	}
}

odet_status np_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || x->rank != 4 || y->rank != 4 || (x->dtype != ODET_F32 && x->dtype != ODET_F16 && x->dtype != ODET_U8) ||
	    (y->dtype != ODET_F32 && y->dtype != ODET_F16))
		return cu_refuse(ctx, n, "4-D float32/float16/uint8 input and float output needed");
	const float *s;
	int ns = ir_attr_floats(n, "odet_scale", &s);
	if (ns > NP_MAX_NORM || (ns && ns != x->dims[1]))
		return cu_refuse(ctx, n, "odet_scale/odet_bias: one value per channel, at most 4 channels");
	return ODET_OK;
}

template <typename TI, typename TO>
odet_status np_launch(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	long long hw = x->dims[2] * x->dims[3], pixels = x->dims[0] * hw;
	int c = (int)x->dims[1], cp = (int)y->dims[3];
	np_norm nm;
	memset(&nm, 0, sizeof nm);
	const float *s = NULL, *b = NULL;
	int ns = ir_attr_floats(a->node, "odet_scale", &s);
	if (ns && (ns != c || ns > NP_MAX_NORM || ir_attr_floats(a->node, "odet_bias", &b) != ns))
		return cu_bad(a, "odet_scale/odet_bias do not match the channels");
	nm.on = ns > 0;
	for (int k = 0; k < ns; k++) {
		nm.s[k] = s[k];
		nm.b[k] = b[k];
	}
	if (cp < c || y->dims[1] * y->dims[2] != hw || (cp == 4 && ((uintptr_t)y->data & 7)))
		return cu_bad(a, "output does not match the input");
	np_kernel<TI, TO><<<cu_grid(pixels, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
		(const TI *)x->data, (TO *)y->data, pixels, hw, c, cp, nm);
	return cu_launched(a);
}

odet_status np_run(const be_run_args *a)
{
	odet_dtype ti = a->in[0].dtype;
	bool ho = a->out[0].dtype == ODET_F16;
	if (ti == ODET_U8)
		return ho ? np_launch<uint8_t, __half>(a) : np_launch<uint8_t, float>(a);
	if (ti == ODET_F16)
		return ho ? np_launch<__half, __half>(a) : np_launch<__half, float>(a);
	return ho ? np_launch<float, __half>(a) : np_launch<float, float>(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_NHWC_PACK = {np_check, NULL, NULL, np_run};
