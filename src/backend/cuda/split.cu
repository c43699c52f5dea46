/*
 * split.cu — Split(X, split?) along attr axis into n outputs on CUDA (spec:
 *   backend/cpu/split.c). Any fixed-size dtype. The part sizes are the outputs' dims along
 *   axis (shape inference read input 1 or split equally); each output is one 2-d
 *   device-to-device copy (cudaMemcpy2DAsync).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

odet_status split_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || n->n_out < 1 || !odet_dtype_size(x->dtype))
		return cu_refuse(ctx, n, "needs an input of a fixed-size dtype");
	if (ir_attr_get(n, "split"))
		return cu_refuse(ctx, n, "attribute split (want input 1)");
	return ODET_OK;
}

odet_status split_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), x->rank, &axis))
		return cu_bad(a, "axis out of range");
	int64_t outer, n, inner, total = 0;
	cu_split_axis(x, axis, &outer, &n, &inner);
	for (int i = 0; i < a->n_out; i++) {
		const odet_tensor *y = &a->out[i];
		bool ok = y->rank == x->rank && y->dtype == x->dtype;
		for (int d = 0; ok && d < x->rank; d++)
			ok = d == axis || y->dims[d] == x->dims[d];
		if (!ok)
			return cu_bad(a, "output shape mismatch");
		total += y->dims[axis];
	}
	if (total != n)
		return cu_bad(a, "parts do not add up to the input's dim");
	size_t esz = odet_dtype_size(x->dtype), row = (size_t)(n * inner) * esz, off = 0;
	for (int i = 0; i < a->n_out; i++) {
		size_t blk = (size_t)(a->out[i].dims[axis] * inner) * esz;
		if (blk && outer &&
		    ODET_CUDA(cudaMemcpy2DAsync(a->out[i].data, blk, (const char *)x->data + off, row, blk, (size_t)outer,
						cudaMemcpyDeviceToDevice, (cudaStream_t)a->stream)))
			return cu_launched(a);
		off += blk;
	}
	return ODET_OK;
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_SPLIT = {split_check, NULL, NULL, split_run};
