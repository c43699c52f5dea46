/*
 * constant.c — Constant and ConstantOfShape.
 *   Constant: no inputs; attr value (TENSOR: a CONST value of the graph) or value_float,
 *     value_floats, value_int, value_ints; the output gets a copy. (The importer normally
 *     turns Constant into a CONST value, so this runs only for hand-made graphs.)
 *   ConstantOfShape(shape): output of the given shape (set by shape inference) filled with
 *     attr value's single element (TENSOR), default float32 0. Any fixed-size dtype.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static const ir_value *tensor_attr(const ir_graph *g, const ir_node *n)
{
	const ir_attr *at = ir_attr_get(n, "value");
	if (!at || at->type != IR_ATTR_TENSOR || at->tensor < 0 || at->tensor >= g->n_values)
		return NULL;
	const ir_value *v = &g->values[at->tensor];
	return v->data || v->nbytes == 0 ? v : NULL;
}

static odet_status constant_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Constant has no output", n->name);
	if (!tensor_attr(g, n) && !ir_attr_get(n, "value_float") && !ir_attr_get(n, "value_floats") &&
	    !ir_attr_get(n, "value_int") && !ir_attr_get(n, "value_ints"))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Constant: no supported value attribute", n->name);
	return ODET_OK;
}

static odet_status constant_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	odet_tensor *y = &a->out[0];
	const ir_value *v = tensor_attr(a->g, n);
	const void *src = NULL;
	size_t bytes = 0;
	float f;
	int64_t i;
	const ir_attr *at;
	if (v) {
		src = v->data;
		bytes = v->nbytes;
	} else if ((at = ir_attr_get(n, "value_float"))) {
		f = at->f;
		src = &f;
		bytes = sizeof f;
	} else if ((at = ir_attr_get(n, "value_floats"))) {
		src = at->floats;
		bytes = (size_t)at->n * sizeof(float);
	} else if ((at = ir_attr_get(n, "value_int"))) {
		i = at->i;
		src = &i;
		bytes = sizeof i;
	} else if ((at = ir_attr_get(n, "value_ints"))) {
		src = at->ints;
		bytes = (size_t)at->n * sizeof(int64_t);
	}
	int64_t numel = odet_tensor_numel(y);
	if (numel < 0 || (size_t)numel * odet_dtype_size(y->dtype) != bytes)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Constant): value has %zu bytes, output needs %lld",
				  n->name, bytes, (long long)numel * (long long)odet_dtype_size(y->dtype));
	if (bytes)
		memcpy(y->data, src, bytes);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CONSTANT = {.check = constant_check, .run = constant_run};

static odet_status cos_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0), *v = tensor_attr(g, n);
	if (!y || !ir_in(g, n, 0) || !odet_dtype_size(y->dtype))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': ConstantOfShape needs a shape and an output", n->name);
	if (ir_attr_get(n, "value") && (!v || v->dtype != y->dtype || ir_value_numel(v) != 1))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': ConstantOfShape: value must be one element of the output dtype",
				  n->name);
	if (!v && y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': ConstantOfShape without value must be float32", n->name);
	return ODET_OK;
}

static odet_status cos_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	const ir_value *v = tensor_attr(a->g, a->node);
	size_t esz = odet_dtype_size(y->dtype);
	uint8_t zero[16] = {0};
	const void *val = v ? v->data : zero;
	int64_t numel = odet_tensor_numel(y);
	if (numel < 0 || !esz || esz > sizeof zero || (v && (v->dtype != y->dtype || v->nbytes != esz)))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (ConstantOfShape): bad value or output",
				  a->node->name);
	for (int64_t k = 0; k < numel; k++)
		memcpy((char *)y->data + k * (int64_t)esz, val, esz);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CONSTANTOFSHAPE = {.check = cos_check, .run = cos_run};
