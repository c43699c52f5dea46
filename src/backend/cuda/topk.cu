/*
 * topk.cu — TopK(X, K) along attr axis (-1) on CUDA (spec: backend/cpu/topk.c): the K
 *   largest (attr largest = 1) or smallest elements, sorted; ties by the lower index; NaN
 *   counts as larger than any number. X: float32/float16/int32/int64 (compared as double);
 *   K is taken from the output shape (shape inference read it; the device tensor K is not
 *   read on the host). Outputs Values (X's dtype) and Indices (int64).
 *   Algorithm: one thread per element counts the elements of its slice that come before it
 *   and stops at K; an element with rank < K writes itself at that rank. O(n * K) per slice
 *   for most elements, O(n^2) worst case (fine for the sizes of detection heads, n <= ~10^5).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T> __device__ __forceinline__ double ldd(T x) { return (double)x; }
template <> __device__ __forceinline__ double ldd<__half>(__half x) { return (double)__half2float(x); }

/* a (value va, index ia) before b? */
__device__ __forceinline__ bool before(double va, int64_t ia, double vb, int64_t ib, bool largest)
{
	bool an = va != va, bn = vb != vb;
	if (an != bn)
		return largest ? an : bn;
	if (!an && va != vb)
		return largest ? va > vb : va < vb;
	return ia < ib;
}

template <typename T>
__global__ void topk_kernel(const T *x, T *vals, int64_t *idx, int64_t outer, int64_t n, int64_t inner, int64_t k,
			    bool largest)
{
	CU_FOR(t, outer * inner * n) {
		int64_t e = t % n, s = t / n, o = s / inner, i = s % inner;
		const T *p = x + o * n * inner + i;
		double v = ldd<T>(p[e * inner]);
		int64_t rank = 0;
		for (int64_t q = 0; q < n && rank < k; q++)
			rank += before(ldd<T>(p[q * inner]), q, v, e, largest);
		if (rank < k) {
			int64_t dst = (o * k + rank) * inner + i;
			vals[dst] = p[e * inner];
			idx[dst] = e;
		}
	}
}

odet_status topk_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *v = ir_out(g, n, 0), *ix = ir_out(g, n, 1);
	if (!x || !ir_in(g, n, 1) || !v || !ix)
		return cu_refuse(ctx, n, "needs inputs X, K and two outputs");
	if ((x->dtype != ODET_F32 && x->dtype != ODET_F16 && x->dtype != ODET_I32 && x->dtype != ODET_I64) ||
	    v->dtype != x->dtype || ix->dtype != ODET_I64)
		return cu_refuse(ctx, n, "dtype not supported");
	return ODET_OK;
}

odet_status topk_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *vals = &a->out[0], *idx = &a->out[1];
	int axis;
	int64_t outer, n, inner;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", -1), x->rank, &axis) || vals->rank != x->rank)
		return cu_bad(a, "axis out of range");
	cu_split_axis(x, axis, &outer, &n, &inner);
	int64_t k = vals->dims[axis];
	if (k < 0 || k > n || odet_tensor_numel(vals) != outer * k * inner || odet_tensor_numel(idx) != outer * k * inner)
		return cu_bad(a, "output shape mismatch");
	if (outer * inner * k == 0)
		return ODET_OK;
	bool largest = ir_attr_int(a->node, "largest", 1) != 0;
	cudaStream_t st = (cudaStream_t)a->stream;
	unsigned grid = cu_grid(outer * inner * n, CU_BLOCK);
	int64_t *ip = (int64_t *)idx->data;
	switch (x->dtype) {
#define CASE(S, T) case ODET_##S: topk_kernel<T><<<grid, CU_BLOCK, 0, st>>>((const T *)x->data, (T *)vals->data, ip, outer, n, inner, k, largest); break;
	CASE(F32, float) CASE(F16, __half) CASE(I32, int32_t) CASE(I64, int64_t)
#undef CASE
	default: return cu_bad(a, "dtype not supported");
	}
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_TOPK = {topk_check, NULL, NULL, topk_run};
