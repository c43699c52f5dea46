/*
 * shape.c — Shape(X): int64 vector of X's dims[start:end] (attrs start 0, end rank;
 *   negative values count from the back, then clamp to [0, rank], as in opset 15).
 */
#include "backend/cpu/cpu_util.h"

static odet_status shape_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!ir_in(g, n, 0) || !y || y->dtype != ODET_I64)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Shape needs an input and an int64 output", n->name);
	return ODET_OK;
}

static int64_t shape_bound(int64_t v, int rank)
{
	if (v < 0)
		v += rank;
	return v < 0 ? 0 : v > rank ? rank : v;
}

static odet_status shape_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t s = shape_bound(ir_attr_int(a->node, "start", 0), x->rank);
	int64_t e = shape_bound(ir_attr_int(a->node, "end", x->rank), x->rank);
	int64_t n = e > s ? e - s : 0;
	if (odet_tensor_numel(y) != n || y->dtype != ODET_I64)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Shape): output has the wrong size", a->node->name);
	for (int64_t i = 0; i < n; i++)
		((int64_t *)y->data)[i] = x->dims[s + i];
	return ODET_OK;
}

const cpu_kernel cpu_kernel_SHAPE = {.check = shape_check, .run = shape_run};
