/*
 * softmax.cu — Softmax over one axis on CUDA (spec: backend/cpu/softmax.c):
 *   y = exp(x - max) / sum(exp(x - max)); X, Y float32 or float16 (computed in float32),
 *   any rank >= 1; attr axis (-1); attr odet_coerce2d = 1: over the flattened dims [axis, rank).
 *   Viewed as [outer, n, inner]. inner == 1: one warp per contiguous row (shuffle max/sum);
 *   otherwise one thread per (outer, inner) column (reads coalesced across the warp).
 *   A NaN in a row makes the row NaN (the max propagates NaN).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

__device__ __forceinline__ float max_nan(float m, float v)
{
	return v > m || v != v ? v : m;
}

template <typename T>
__global__ void softmax_rows(const T *x, T *y, int64_t rows, int64_t n)
{
	typedef cu_num<T> N;
	const int lane = threadIdx.x & 31;
	int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	int64_t nwarps = ((int64_t)gridDim.x * blockDim.x) >> 5;
	for (int64_t r = warp; r < rows; r += nwarps) {
		const T *xr = x + r * n;
		T *yr = y + r * n;
		float m = -INFINITY, s = 0;
		for (int64_t k = lane; k < n; k += 32)
			m = max_nan(m, N::ld(xr[k]));
		for (int o = 16; o; o >>= 1)
			m = max_nan(m, __shfl_xor_sync(0xffffffffu, m, o));
		for (int64_t k = lane; k < n; k += 32)
			s += expf(N::ld(xr[k]) - m);
		for (int o = 16; o; o >>= 1)
			s += __shfl_xor_sync(0xffffffffu, s, o);
		float inv = 1.0f / s;
		for (int64_t k = lane; k < n; k += 32)
			yr[k] = N::st(expf(N::ld(xr[k]) - m) * inv);
	}
}

template <typename T>
__global__ void softmax_cols(const T *x, T *y, int64_t outer, int64_t n, int64_t inner)
{
	typedef cu_num<T> N;
	CU_FOR(t, outer * inner) {
		int64_t o = t / inner, i = t % inner;
		const T *xc = x + o * n * inner + i;
		T *yc = y + o * n * inner + i;
		float m = -INFINITY, s = 0;
		for (int64_t k = 0; k < n; k++)
			m = max_nan(m, N::ld(xc[k * inner]));
		for (int64_t k = 0; k < n; k++)
			s += expf(N::ld(xc[k * inner]) - m);
		float inv = 1.0f / s;
		for (int64_t k = 0; k < n; k++)
			yc[k * inner] = N::st(expf(N::ld(xc[k * inner]) - m) * inv);
	}
}

template <typename T>
odet_status softmax_launch(const void *x, void *y, int64_t outer, int64_t n, int64_t inner, cudaStream_t st)
{
	if (inner == 1)
		softmax_rows<T><<<cu_grid(outer * 32, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)x, (T *)y, outer, n);
	else
		softmax_cols<T><<<cu_grid(outer * inner, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)x, (T *)y, outer, n,
										  inner);
	return ODET_CUDA(cudaGetLastError());
}

odet_status softmax_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	int axis;
	if (!x || !y || !cu_is_float(x->dtype) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs a float32/float16 input and output of one dtype");
	if (x->rank >= 0 && !odet_norm_axis(ir_attr_int(n, "axis", -1), x->rank == 0 ? 1 : x->rank, &axis))
		return cu_refuse(ctx, n, "axis out of range");
	return ODET_OK;
}

odet_status softmax_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	int rank = x->rank, axis;
	if (!odet_norm_axis(ir_attr_int(nd, "axis", -1), rank == 0 ? 1 : rank, &axis))
		return cu_bad(a, "axis out of range");
	int64_t outer, n, inner;
	odet_dims_split_softmax(x->dims, rank, axis, ir_attr_int(nd, "odet_coerce2d", 0) != 0, &outer, &n, &inner);
	if (outer * n * inner == 0)
		return ODET_OK;
	cudaStream_t st = (cudaStream_t)a->stream;
	odet_status rc = x->dtype == ODET_F16 ? softmax_launch<__half>(x->data, a->out[0].data, outer, n, inner, st)
					      : softmax_launch<float>(x->data, a->out[0].data, outer, n, inner, st);
	return rc ? cu_launched(a) : ODET_OK;
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_SOFTMAX = {softmax_check, NULL, NULL, softmax_run};
