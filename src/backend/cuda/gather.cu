/*
 * gather.cu — Gather(data, indices) along attr axis (0) on CUDA (spec: backend/cpu/gather.c).
 *   Any element size 1/2/4/8; indices int32/int64 device tensors of any rank, negative
 *   values count from the back. Output data[:axis] + indices.shape + data[axis+1:]; one
 *   thread per output element. An index outside [-dim, dim) cannot fail the run on the
 *   device (no host sync): its output block is written as zeros (the CPU reports an error).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T, typename I>
__global__ void gather_kernel(const T *x, const I *ind, T *y, int64_t outer, int64_t ni, int64_t dim, int64_t inner)
{
	CU_FOR(t, outer * ni * inner) {
		int64_t r = t % inner, q = t / inner, k = q % ni, o = q / ni;
		int64_t i = (int64_t)ind[k];
		if (i < 0)
			i += dim;
		y[t] = i >= 0 && i < dim ? x[(o * dim + i) * inner + r] : T(0);
	}
}

template <typename T>
void gather_launch(const odet_tensor *x, const odet_tensor *ind, odet_tensor *y, int64_t outer, int64_t ni,
		   int64_t dim, int64_t inner, cudaStream_t st)
{
	unsigned grid = cu_grid(outer * ni * inner, CU_BLOCK);
	if (ind->dtype == ODET_I64)
		gather_kernel<T, int64_t><<<grid, CU_BLOCK, 0, st>>>((const T *)x->data, (const int64_t *)ind->data,
								    (T *)y->data, outer, ni, dim, inner);
	else
		gather_kernel<T, int32_t><<<grid, CU_BLOCK, 0, st>>>((const T *)x->data, (const int32_t *)ind->data,
								    (T *)y->data, outer, ni, dim, inner);
}

odet_status gather_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *ind = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !ind || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs data of element size 1, 2, 4 or 8 and indices");
	if (ind->dtype != ODET_I32 && ind->dtype != ODET_I64)
		return cu_refuse(ctx, n, "indices must be int32/int64");
	return ODET_OK;
}

odet_status gather_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0], *ind = &a->in[1];
	odet_tensor *y = &a->out[0];
	odet_status rc = ODET_OK;
	int axis;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), x->rank, &axis))
		return cu_bad(a, "axis out of range");
	if (ind->dtype != ODET_I32 && ind->dtype != ODET_I64)
		return cu_bad(a, "indices must be int32/int64");
	int64_t outer, dim, inner, ni = odet_tensor_numel(ind);
	cu_split_axis(x, axis, &outer, &dim, &inner);
	if (ni < 0 || odet_tensor_numel(y) != outer * ni * inner || y->dtype != x->dtype)
		return cu_bad(a, "output shape mismatch");
	if (outer * ni * inner == 0)
		return ODET_OK;
	CU_BY_SIZE(odet_dtype_size(x->dtype), rc, gather_launch<T>(x, ind, y, outer, ni, dim, inner, (cudaStream_t)a->stream));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_GATHER = {gather_check, NULL, NULL, gather_run};
