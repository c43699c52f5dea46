/*
 * split.c — Split(X, split?) along attr axis (0) into n outputs. Any fixed-size dtype.
 *   The part sizes are the outputs' dims along axis (set by shape inference from input 1 or
 *   the equal split); they must add up to X's dim, and match input 1 when it is given.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status split_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || n->n_out < 1 || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Split needs an input of a fixed-size dtype", n->name);
	if (ir_attr_get(n, "split"))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Split attribute split (want input 1)", n->name);
	return ODET_OK;
}

static odet_status split_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(nd, "axis", 0), x->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Split): axis out of range", nd->name);
	int64_t sizes[IR_MAX_IO];
	int n_sizes = 0;
	if (a->n_in > 1 && a->in[1].data) {
		odet_status rc = cpu_read_ints(a, 1, sizes, IR_MAX_IO, &n_sizes);
		if (rc)
			return rc;
		if (n_sizes != a->n_out)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Split): %d sizes for %d outputs", nd->name,
					  n_sizes, a->n_out);
	}
	int64_t outer, inner, total = 0;
	odet_dims_split(x->dims, x->rank, axis, &outer, &inner);
	for (int i = 0; i < a->n_out; i++) {
		const odet_tensor *y = &a->out[i];
		bool ok = y->rank == x->rank && y->dtype == x->dtype && (!n_sizes || sizes[i] == y->dims[axis]);
		for (int d = 0; ok && d < x->rank; d++)
			ok = d == axis || y->dims[d] == x->dims[d];
		if (!ok)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Split): output %d shape mismatch", nd->name, i);
		total += y->dims[axis];
	}
	if (total != x->dims[axis])
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Split): parts add up to %lld, dim is %lld", nd->name,
				  (long long)total, (long long)x->dims[axis]);
	size_t esz = odet_dtype_size(x->dtype), row = (size_t)(x->dims[axis] * inner) * esz, off = 0;
	for (int i = 0; i < a->n_out; i++) {
		size_t blk = (size_t)(a->out[i].dims[axis] * inner) * esz;
		for (int64_t o = 0; o < outer && blk; o++)
			memcpy((char *)a->out[i].data + (size_t)o * blk, (const char *)x->data + (size_t)o * row + off, blk);
		off += blk;
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_SPLIT = {.check = split_check, .run = split_run};
