/*
 * gather.c — Gather(data, indices) along attr axis (0). Any fixed-size dtype; indices int32
 *   or int64 of any rank, negative values count from the back; an index outside
 *   [-dim, dim) fails the run (ODET_ERR_BAD_INPUT). Output shape
 *   data[:axis] + indices.shape + data[axis+1:]; each (outer, index) copies one block of
 *   inner elements.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status gather_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	static const odet_dtype ok[] = {ODET_I32, ODET_I64, 0};
	const ir_value *x = ir_in(g, n, 0);
	if (!x || !ir_in(g, n, 1) || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Gather needs data of a fixed-size dtype and indices",
				  n->name);
	return cpu_check_dtype(ctx, g, n, false, 1, ok);
}

static odet_status gather_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0], *ind = &a->in[1];
	odet_tensor *y = &a->out[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(nd, "axis", 0), x->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Gather): axis out of range", nd->name);
	if (ind->dtype != ODET_I32 && ind->dtype != ODET_I64)
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Gather): indices must be int32/int64", nd->name);
	int64_t outer, inner, dim = x->dims[axis], ni = odet_tensor_numel(ind);
	odet_dims_split(x->dims, x->rank, axis, &outer, &inner);
	if (ni < 0 || odet_tensor_numel(y) != outer * ni * inner || y->dtype != x->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Gather): output shape mismatch", nd->name);
	size_t esz = odet_dtype_size(x->dtype), blk = (size_t)inner * esz;
	for (int64_t k = 0; k < ni; k++) {
		int64_t i = ind->dtype == ODET_I64 ? ((const int64_t *)ind->data)[k] : ((const int32_t *)ind->data)[k];
		if (i < -dim || i >= dim)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Gather): index %lld outside [-%lld, %lld)",
					  nd->name, (long long)i, (long long)dim, (long long)dim);
		if (i < 0)
			i += dim;
		for (int64_t o = 0; o < outer && blk; o++)
			memcpy((char *)y->data + ((size_t)(o * ni + k)) * blk,
			       (const char *)x->data + ((size_t)(o * dim + i)) * blk, blk);
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_GATHER = {.check = gather_check, .run = gather_run};
