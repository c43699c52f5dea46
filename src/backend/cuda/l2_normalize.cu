/*
 * l2_normalize.cu — L2Normalize on CUDA (spec: backend/cpu/l2_normalize.c; scale has x's dtype,
 *   as the precision pass leaves it). Two kernels:
 *   - normalized dim innermost (NHWC channels: inner == 1): one warp per row; float16 rows
 *     with C % 8 == 0 (16-byte aligned) are read 8 values (16 bytes) per lane; the sum of squares is a
 *     lane-strided sum then an xor-shuffle reduction (rounding order differs from the CPU's);
 *   - otherwise one thread per (outer, inner) position, looping over the C values (coalesced
 *     across inner).
 *   Sum, norm and quotient in float32 with explicit round-to-nearest intrinsics (no FMA).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

__device__ __forceinline__ float l2n_den(float sum, float eps)
{
	float nrm = sqrtf(sum);
	return nrm < eps ? eps : nrm;
}

template <typename T>
__global__ void l2n_rows(const T *__restrict__ x, const T *__restrict__ s, T *__restrict__ y, long long rows, int c,
			 float eps, bool vec)
{
	const int lane = threadIdx.x & 31;
	const long long w0 = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	const long long nw = ((long long)gridDim.x * blockDim.x) >> 5;
	for (long long r = w0; r < rows; r += nw) {
		const T *xr = x + r * c;
		T *yr = y + r * c;
		float sum = 0.0f;
		if (vec) {
			for (int k = lane * 8; k < c; k += 256) {
				uint4 u = *(const uint4 *)(xr + k);
				const __half2 *h = (const __half2 *)&u;
				for (int j = 0; j < 4; j++) {
					float2 f = __half22float2(h[j]);
					sum = __fadd_rn(sum, __fmul_rn(f.x, f.x));
					sum = __fadd_rn(sum, __fmul_rn(f.y, f.y));
				}
			}
		} else {
			for (int k = lane; k < c; k += 32) {
				float v = cu_num<T>::ld(xr[k]);
				sum = __fadd_rn(sum, __fmul_rn(v, v));
			}
		}
		for (int o = 16; o; o >>= 1)
			sum = __fadd_rn(sum, __shfl_xor_sync(0xffffffffu, sum, o));
		const float d = l2n_den(sum, eps);
		if (vec) {
			for (int k = lane * 8; k < c; k += 256) {
				uint4 u = *(const uint4 *)(xr + k), sv;
				if (s)
					sv = *(const uint4 *)(s + k);
				const __half2 *h = (const __half2 *)&u, *hs = (const __half2 *)&sv;
				__half2 out[4];
				for (int j = 0; j < 4; j++) {
					float2 f = __half22float2(h[j]);
					f.x = __fdiv_rn(f.x, d);
					f.y = __fdiv_rn(f.y, d);
					if (s) {
						float2 g = __half22float2(hs[j]);
						f.x = __fmul_rn(f.x, g.x);
						f.y = __fmul_rn(f.y, g.y);
					}
					out[j] = __floats2half2_rn(f.x, f.y);
				}
				*(uint4 *)(yr + k) = *(const uint4 *)out;
			}
		} else {
			for (int k = lane; k < c; k += 32) {
				float v = __fdiv_rn(cu_num<T>::ld(xr[k]), d);
				if (s)
					v = __fmul_rn(v, cu_num<T>::ld(s[k]));
				yr[k] = cu_num<T>::st(v);
			}
		}
	}
}

template <typename T>
__global__ void l2n_strided(const T *__restrict__ x, const T *__restrict__ s, T *__restrict__ y, long long outer,
			    int c, long long inner, float eps)
{
	CU_FOR(t, outer * inner)
	{
		long long o = t / inner, i = t - o * inner;
		const T *xp = x + o * c * inner + i;
		T *yp = y + o * c * inner + i;
		float sum = 0.0f;
		for (int k = 0; k < c; k++) {
			float v = cu_num<T>::ld(xp[k * inner]);
			sum = __fadd_rn(sum, __fmul_rn(v, v));
		}
		const float d = l2n_den(sum, eps);
		for (int k = 0; k < c; k++) {
			float v = __fdiv_rn(cu_num<T>::ld(xp[k * inner]), d);
			if (s)
				v = __fmul_rn(v, cu_num<T>::ld(s[k]));
			yp[k * inner] = cu_num<T>::st(v);
		}
	}
}

odet_status l2n_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !y || !cu_is_float(x->dtype) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "float32/float16 input and output of one dtype needed");
	if (s && s->dtype != x->dtype)
		return cu_refuse(ctx, n, "scale must have the input's dtype");
	return ODET_OK;
}

template <typename T> odet_status l2n_launch(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	const T *s = a->n_in > 1 ? (const T *)a->in[1].data : NULL;
	int axis;
	int64_t outer, c, inner;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 1), x->rank, &axis) || x->dims[axis] > (1 << 30))
		return cu_bad(a, "axis out of range");
	cu_split_axis(x, axis, &outer, &c, &inner);
	float eps = ir_attr_float(a->node, "eps", 0.0f);
	cudaStream_t st = (cudaStream_t)a->stream;
	if (outer * inner == 0 || c == 0)
		return ODET_OK;
	if (inner == 1) {
		bool vec = sizeof(T) == 2 && (c & 7) == 0 && !((uintptr_t)x->data & 15) && !((uintptr_t)a->out[0].data & 15) &&
			   (!s || !((uintptr_t)s & 15));
		l2n_rows<T><<<cu_grid(outer * 32, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)x->data, s, (T *)a->out[0].data,
										 outer, (int)c, eps, vec);
	} else {
		l2n_strided<T><<<cu_grid(outer * inner, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)x->data, s,
											(T *)a->out[0].data, outer, (int)c, inner,
											eps);
	}
	return cu_launched(a);
}

odet_status l2n_run(const be_run_args *a)
{
	return a->in[0].dtype == ODET_F16 ? l2n_launch<__half>(a) : l2n_launch<float>(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_L2_NORMALIZE = {l2n_check, NULL, NULL, l2n_run};
