/*
 * shape.cu — Shape(X) on CUDA (spec: backend/cpu/shape.c): int64 vector of X's
 *   dims[start:end] (attrs start 0, end rank; negative values count from the back, then
 *   clamp to [0, rank]). The dims are known on the host at run time (the tensor
 *   descriptors); they go to the device as kernel arguments (no host copy). In nearly
 *   every model Shape was folded to a constant at build time.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

typedef struct shape_vals {
	int n;
	int64_t v[ODET_MAX_RANK];
} shape_vals;

__global__ void shape_kernel(shape_vals s, int64_t *y)
{
	int i = threadIdx.x;
	if (i < s.n)
		y[i] = s.v[i];
}

int64_t shape_bound(int64_t v, int rank)
{
	if (v < 0)
		v += rank;
	return v < 0 ? 0 : v > rank ? rank : v;
}

odet_status shape_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!ir_in(g, n, 0) || !y || y->dtype != ODET_I64)
		return cu_refuse(ctx, n, "needs an input and an int64 output");
	return ODET_OK;
}

odet_status shape_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t s = shape_bound(ir_attr_int(a->node, "start", 0), x->rank);
	int64_t e = shape_bound(ir_attr_int(a->node, "end", x->rank), x->rank);
	shape_vals v;
	memset(&v, 0, sizeof v);
	v.n = e > s ? (int)(e - s) : 0;
	if (odet_tensor_numel(y) != v.n || y->dtype != ODET_I64 || v.n > ODET_MAX_RANK)
		return cu_bad(a, "output has the wrong size");
	if (!v.n)
		return ODET_OK;
	for (int i = 0; i < v.n; i++)
		v.v[i] = x->dims[s + i];
	shape_kernel<<<1, 32, 0, (cudaStream_t)a->stream>>>(v, (int64_t *)y->data);
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_SHAPE = {shape_check, NULL, NULL, shape_run};
