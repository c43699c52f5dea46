/*
 * expand.cu — Expand(X, shape) on CUDA (spec: backend/cpu/expand.c): broadcast X to the
 *   output shape (numpy rules; the output shape comes from shape inference, the device
 *   tensor `shape` is not read). Any element size 1/2/4/8; one thread per output element.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T>
__global__ void expand_kernel(be_bcast b, const T *x, T *y)
{
	CU_FOR(i, b.numel) {
		int64_t off[1];
		cu_bcast_off<1>(b, i, off);
		y[i] = x[off[0]];
	}
}

odet_status expand_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype || y->rank > ODET_MAX_RANK)
		return cu_refuse(ctx, n, "needs an input of element size 1, 2, 4 or 8");
	return ODET_OK;
}

odet_status expand_run(const be_run_args *a)
{
	const odet_tensor *ins[1] = {&a->in[0]};
	odet_tensor *y = &a->out[0];
	be_bcast b;
	odet_status rc = ODET_OK;
	if (a->in[0].dtype != y->dtype || !be_bcast_init(&b, y, ins, 1))
		return cu_bad(a, "input does not broadcast to the output");
	if (b.numel == 0)
		return ODET_OK;
	CU_BY_SIZE(odet_dtype_size(y->dtype), rc,
		   (expand_kernel<T><<<cu_grid(b.numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			   b, (const T *)a->in[0].data, (T *)y->data)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_EXPAND = {expand_check, NULL, NULL, expand_run};
