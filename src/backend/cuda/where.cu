/*
 * where.cu — Where(C, X, Y) = C ? X : Y on CUDA with numpy broadcasting of all three.
 *   C: bool; X, Y, output: one dtype of element size 1, 2, 4 or 8 (bits are copied).
 * One thread per output element. Spec: backend/cpu/where.c.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T>
__global__ void where_kernel(be_bcast b, const uint8_t *c, const T *x, const T *y, T *out)
{
	CU_FOR(i, b.numel) {
		int64_t off[3];
		cu_bcast_off<3>(b, i, off);
		out[i] = c[off[0]] ? x[off[1]] : y[off[2]];
	}
}

odet_status where_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *c = ir_in(g, n, 0), *x = ir_in(g, n, 1), *y = ir_in(g, n, 2), *o = ir_out(g, n, 0);
	if (!c || !x || !y || !o)
		return cu_refuse(ctx, n, "needs 3 inputs");
	if (c->dtype != ODET_BOOL || x->dtype != y->dtype || o->dtype != x->dtype || !cu_esz_ok(odet_dtype_size(x->dtype)) ||
	    o->rank > ODET_MAX_RANK)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Where on CUDA: dtypes %s, %s, %s are not supported",
				  n->name, odet_dtype_name(c->dtype), odet_dtype_name(x->dtype), odet_dtype_name(y->dtype));
	return ODET_OK;
}

odet_status where_run(const be_run_args *a)
{
	const odet_tensor *ins[3] = {&a->in[0], &a->in[1], &a->in[2]};
	odet_tensor *o = &a->out[0];
	be_bcast b;
	odet_status rc = ODET_OK;
	if (a->in[0].dtype != ODET_BOOL || a->in[2].dtype != a->in[1].dtype || o->dtype != a->in[1].dtype)
		return cu_bad(a, "dtypes not supported");
	if (!be_bcast_init(&b, o, ins, 3))
		return cu_bad(a, "inputs do not broadcast to the output");
	if (b.numel == 0)
		return ODET_OK;
	CU_BY_SIZE(odet_dtype_size(o->dtype), rc,
		   (where_kernel<T><<<cu_grid(b.numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			   b, (const uint8_t *)a->in[0].data, (const T *)a->in[1].data, (const T *)a->in[2].data,
			   (T *)o->data)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_WHERE = {where_check, NULL, NULL, where_run};
