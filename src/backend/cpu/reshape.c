/*
 * reshape.c — ops that only change the shape: Reshape, Flatten, Squeeze, Unsqueeze, Identity.
 *   Any fixed-size dtype; the output's dims come from shape inference, the data is the
 *   input's bytes unchanged (a copy; none when the engine aliases output and input).
 *   The shape/axes inputs are not needed here.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status reshape_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s needs an input and an output", n->name,
				  ir_op_name(n->op));
	if (!odet_dtype_size(x->dtype) || y->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s: dtype %s is not supported on CPU", n->name,
				  ir_op_name(n->op), odet_dtype_name(x->dtype));
	return ODET_OK;
}

static odet_status reshape_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t n = odet_tensor_numel(x);
	if (n < 0 || n != odet_tensor_numel(y) || x->dtype != y->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): %lld input elements, %lld output elements",
				  a->node->name, ir_op_name(a->node->op), (long long)n, (long long)odet_tensor_numel(y));
	if (n > 0 && y->data != x->data)
		memcpy(y->data, x->data, (size_t)n * odet_dtype_size(x->dtype));
	return ODET_OK;
}

#define KERNEL(ID) const cpu_kernel cpu_kernel_##ID = {.check = reshape_check, .run = reshape_run};
KERNEL(RESHAPE)
KERNEL(FLATTEN)
KERNEL(SQUEEZE)
KERNEL(UNSQUEEZE)
KERNEL(IDENTITY)
