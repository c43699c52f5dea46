/*
 * argmax.cu — ArgMax over one axis on CUDA (spec: backend/cpu/argmax.c).
 *   X: float32/float16/int8/int32/int64/uint8; attrs axis (0), keepdims (1, shapes the
 *   output only), select_last_index (0). Y: int64. Ties go to the first index (the last with
 *   select_last_index); the first NaN wins. Viewed as [outer, n, inner]; one thread per
 *   (outer, inner) walks n (coalesced across threads when inner > 1).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T>
__global__ void argmax_kernel(const T *x, int64_t *y, int64_t outer, int64_t n, int64_t inner, bool last)
{
	typedef cu_num<T> N;
	typedef typename N::acc A;
	CU_FOR(t, outer * inner) {
		int64_t o = t / inner, i = t % inner;
		const T *p = x + o * n * inner + i;
		int64_t best = 0;
		A bv = N::ld(p[0]);
		for (int64_t k = 1; k < n; k++) {
			A v = N::ld(p[k * inner]);
			if (bv != bv)
				break;
			if (v > bv || v != v || (last && v == bv)) {
				bv = v;
				best = k;
			}
		}
		y[t] = best;
	}
}

bool argmax_dtype_ok(odet_dtype t)
{
	switch (t) {
#define CASE(S, T) case ODET_##S: return true;
	CU_NUM_TYPES(CASE)
#undef CASE
	default: return false;
	}
}

odet_status argmax_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || !argmax_dtype_ok(x->dtype) || y->dtype != ODET_I64)
		return cu_refuse(ctx, n, "dtype not supported");
	return ODET_OK;
}

odet_status argmax_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int axis;
	int64_t outer, n, inner;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), x->rank, &axis))
		return cu_bad(a, "axis out of range");
	cu_split_axis(x, axis, &outer, &n, &inner);
	if (n == 0 && outer * inner > 0)
		return cu_bad(a, "empty axis");
	if (odet_tensor_numel(&a->out[0]) != outer * inner)
		return cu_bad(a, "output shape mismatch");
	if (outer * inner == 0)
		return ODET_OK;
	bool last = ir_attr_int(a->node, "select_last_index", 0) != 0;
	unsigned grid = cu_grid(outer * inner, CU_BLOCK);
	cudaStream_t st = (cudaStream_t)a->stream;
	int64_t *y = (int64_t *)a->out[0].data;
	switch (x->dtype) {
#define CASE(S, T) case ODET_##S: argmax_kernel<T><<<grid, CU_BLOCK, 0, st>>>((const T *)x->data, y, outer, n, inner, last); break;
	CU_NUM_TYPES(CASE)
#undef CASE
	default: return cu_bad(a, "dtype not supported");
	}
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_ARGMAX = {argmax_check, NULL, NULL, argmax_run};
