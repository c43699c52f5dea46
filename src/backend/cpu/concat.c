/*
 * concat.c — Concat(X0..Xn) along attr axis (negative counts back). Any fixed-size dtype
 *   (all inputs alike); inputs may have 0 elements along axis. Viewed as [outer, d_i * inner]:
 *   each input contributes one contiguous block per outer index.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status concat_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!y || n->n_in < 1 || !odet_dtype_size(y->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Concat: no inputs or unsupported dtype", n->name);
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *x = ir_in(g, n, i);
		if (!x || x->dtype != y->dtype)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Concat input %d is missing or of another dtype",
					  n->name, i);
	}
	return ODET_OK;
}

static odet_status concat_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), y->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Concat): axis out of range", a->node->name);
	int64_t outer, inner, total = 0;
	odet_dims_split(y->dims, y->rank, axis, &outer, &inner);
	size_t esz = odet_dtype_size(y->dtype);
	for (int i = 0; i < a->n_in; i++) {
		const odet_tensor *x = &a->in[i];
		bool ok = x->rank == y->rank && x->dtype == y->dtype;
		for (int d = 0; ok && d < y->rank; d++)
			ok = d == axis || x->dims[d] == y->dims[d];
		if (!ok)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Concat): input %d does not match the output",
					  a->node->name, i);
		total += x->dims[axis];
	}
	if (total != y->dims[axis])
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Concat): inputs add up to %lld along axis, output has %lld",
				  a->node->name, (long long)total, (long long)y->dims[axis]);
	size_t row = (size_t)(y->dims[axis] * inner) * esz, off = 0;
	for (int i = 0; i < a->n_in; i++) {
		size_t blk = (size_t)(a->in[i].dims[axis] * inner) * esz;
		const char *src = a->in[i].data;
		char *dst = (char *)y->data + off;
		for (int64_t o = 0; o < outer && blk; o++)
			memcpy(dst + (size_t)o * row, src + (size_t)o * blk, blk);
		off += blk;
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CONCAT = {.check = concat_check, .run = concat_run};
