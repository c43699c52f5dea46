/*
 * expand.c — Expand(X, shape): broadcast X to the output shape (numpy rules; the output
 *   shape is broadcast(X.shape, shape), set by shape inference). Any fixed-size dtype.
 */
#include "backend/cpu/cpu_util.h"

static odet_status expand_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Expand needs an input of a fixed-size dtype", n->name);
	return ODET_OK;
}

static odet_status expand_run(const be_run_args *a)
{
	return cpu_broadcast_copy(a, &a->in[0], &a->out[0]);
}

const cpu_kernel cpu_kernel_EXPAND = {.check = expand_check, .run = expand_run};
