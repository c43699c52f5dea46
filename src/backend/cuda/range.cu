/*
 * range.cu — Range(start, limit, delta) on CUDA (spec: backend/cpu/range.c):
 *   y[i] = start + i * delta for i < the output's length (from shape inference). start and
 *   delta are one-element device tensors read by the kernel (limit only set the length).
 *   float32, float64, int16, int32, int64; float arithmetic without FMA contraction, as
 *   the host computes it.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T> __device__ __forceinline__ T range_at(T s, T d, int64_t i) { return (T)(s + (T)i * d); }
template <> __device__ __forceinline__ float range_at<float>(float s, float d, int64_t i)
{
	return __fadd_rn(s, __fmul_rn((float)i, d));
}
template <> __device__ __forceinline__ double range_at<double>(double s, double d, int64_t i)
{
	return __dadd_rn(s, __dmul_rn((double)i, d));
}

template <typename T>
__global__ void range_kernel(const T *start, const T *delta, T *y, int64_t n)
{
	T s = *start, d = *delta;
	CU_FOR(i, n)
		y[i] = range_at<T>(s, d, i);
}

#define RANGE_TYPES(X) X(F32, float) X(F64, double) X(I16, int16_t) X(I32, int32_t) X(I64, int64_t)

odet_status range_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *s = ir_in(g, n, 0), *l = ir_in(g, n, 1), *d = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (!s || !l || !d || !y || l->dtype != s->dtype || d->dtype != s->dtype || y->dtype != s->dtype)
		return cu_refuse(ctx, n, "needs start, limit, delta of one dtype");
	switch (s->dtype) {
#define CASE(S, T) case ODET_##S: return ODET_OK;
	RANGE_TYPES(CASE)
#undef CASE
	default: return cu_refuse(ctx, n, "dtype not supported");
	}
}

odet_status range_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	int64_t n = odet_tensor_numel(y);
	cudaStream_t st = (cudaStream_t)a->stream;
	for (int i = 0; i < 3; i++)
		if (odet_tensor_numel(&a->in[i]) != 1 || a->in[i].dtype != y->dtype)
			return cu_bad(a, "inputs must be scalars of the output dtype");
	if (n <= 0)
		return ODET_OK;
	switch (y->dtype) {
#define CASE(S, T) case ODET_##S: range_kernel<T><<<cu_grid(n, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)a->in[0].data, (const T *)a->in[2].data, (T *)y->data, n); break;
	RANGE_TYPES(CASE)
#undef CASE
	default: return cu_bad(a, "dtype not supported");
	}
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_RANGE = {range_check, NULL, NULL, range_run};
