/*
 * reshape.cu — Reshape, Flatten, Squeeze, Unsqueeze, Identity on CUDA (spec:
 *   backend/cpu/reshape.c): the output's dims come from shape inference; the data is the
 *   input's bytes unchanged: one device-to-device copy on the stream (none when the engine
 *   aliases output and input). The shape/axes inputs are not read.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

odet_status reshape_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || !odet_dtype_size(x->dtype) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs an input and an output of one fixed-size dtype");
	return ODET_OK;
}

odet_status reshape_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t n = odet_tensor_numel(x);
	if (n < 0 || n != odet_tensor_numel(y) || x->dtype != y->dtype)
		return cu_bad(a, "input and output element counts differ");
	if (n > 0 && y->data != x->data &&
	    ODET_CUDA(cudaMemcpyAsync(y->data, x->data, (size_t)n * odet_dtype_size(x->dtype), cudaMemcpyDeviceToDevice,
				      (cudaStream_t)a->stream)))
		return cu_launched(a);
	return ODET_OK;
}

} /* namespace */

#define KERNEL(ID) extern "C" const cuda_kernel cuda_kernel_##ID = {reshape_check, NULL, NULL, reshape_run};
KERNEL(RESHAPE)
KERNEL(FLATTEN)
KERNEL(SQUEEZE)
KERNEL(UNSQUEEZE)
KERNEL(IDENTITY)
