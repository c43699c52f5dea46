/*
 * concat.cu — Concat(X0..Xn) along attr axis on CUDA (spec: backend/cpu/concat.c).
 *   Any fixed-size dtype (all inputs alike). Viewed as [outer, d_i * inner]: each input is
 *   one 2-d device-to-device copy (cudaMemcpy2DAsync: outer rows of d_i * inner elements
 *   into rows of the output's pitch).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

odet_status concat_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!y || n->n_in < 1 || !odet_dtype_size(y->dtype))
		return cu_refuse(ctx, n, "no inputs or unsupported dtype");
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *x = ir_in(g, n, i);
		if (!x || x->dtype != y->dtype)
			return cu_refuse(ctx, n, "an input is missing or of another dtype");
	}
	return ODET_OK;
}

odet_status concat_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), y->rank, &axis))
		return cu_bad(a, "axis out of range");
	int64_t outer, n, inner, total = 0;
	cu_split_axis(y, axis, &outer, &n, &inner);
	size_t esz = odet_dtype_size(y->dtype);
	for (int i = 0; i < a->n_in; i++) {
		const odet_tensor *x = &a->in[i];
		bool ok = x->rank == y->rank && x->dtype == y->dtype;
		for (int d = 0; ok && d < y->rank; d++)
			ok = d == axis || x->dims[d] == y->dims[d];
		if (!ok)
			return cu_bad(a, "an input does not match the output");
		total += x->dims[axis];
	}
	if (total != y->dims[axis])
		return cu_bad(a, "inputs do not add up to the output along axis");
	size_t row = (size_t)(n * inner) * esz, off = 0;
	for (int i = 0; i < a->n_in; i++) {
		size_t blk = (size_t)(a->in[i].dims[axis] * inner) * esz;
		if (blk && outer &&
		    ODET_CUDA(cudaMemcpy2DAsync((char *)y->data + off, row, a->in[i].data, blk, blk, (size_t)outer,
						cudaMemcpyDeviceToDevice, (cudaStream_t)a->stream)))
			return cu_launched(a);
		off += blk;
	}
	return ODET_OK;
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_CONCAT = {concat_check, NULL, NULL, concat_run};
