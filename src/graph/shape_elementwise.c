/*
 * shape_elementwise.c — shape functions of unary and binary elementwise ops.
 *
 *   unary (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Exp, Log, Sqrt, Neg,
 *          Abs, Floor, Ceil, Identity, Clip):  Y has X's shape, dtype and symbolic dims
 *   Not                                      bool in, bool out
 *   Cast                                     attr `to` (ONNX DataType) gives Y's dtype
 *   Add Sub Mul Div Pow                      numpy broadcast; dtype of input 0
 *   Max Min (variadic)                       numpy broadcast of all inputs
 *   Equal Less Greater                       numpy broadcast; bool out
 *   Where(cond, X, Y)                        broadcast of the three; dtype of X
 */
#include "graph/shape_common.h"

static odet_status unary(ir_graph *g, ir_node *n, int max_in, odet_dtype dt)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, max_in, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	return y ? shp_out_like(g, n, y, x, dt) : ODET_OK;
}

#define UNARY(ID, MAX_IN)                                     \
	odet_status ir_shape_##ID(ir_graph *g, ir_node *n)    \
	{                                                     \
		return unary(g, n, MAX_IN, ODET_DTYPE_UNDEFINED); \
	}
UNARY(RELU, 1)
UNARY(LEAKYRELU, 1)
UNARY(SIGMOID, 1)
UNARY(HARDSIGMOID, 1)
UNARY(HARDSWISH, 1)
UNARY(TANH, 1)
UNARY(EXP, 1)
UNARY(LOG, 1)
UNARY(SQRT, 1)
UNARY(NEG, 1)
UNARY(ABS, 1)
UNARY(FLOOR, 1)
UNARY(CEIL, 1)
UNARY(IDENTITY, 1)
UNARY(CLIP, 3)
#undef UNARY

odet_status ir_shape_NOT(ir_graph *g, ir_node *n)
{
	return unary(g, n, 1, ODET_BOOL);
}

odet_status ir_shape_CAST(ir_graph *g, ir_node *n)
{
	int64_t to = ir_attr_int(n, "to", -1);
	if (to <= 0 || to >= ODET_DTYPE_MAX || !odet_dtype_size((odet_dtype)to))
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "attribute 'to' = %lld is not a supported dtype",
				  (long long)to);
	return unary(g, n, 1, (odet_dtype)to);
}

static odet_status nary(ir_graph *g, ir_node *n, int min_in, int max_in, int dtype_from,
			odet_dtype dt)
{
	const ir_value *vals[IR_MAX_IO];
	odet_status rc = shp_check_io(g, n, min_in, max_in, 1, 1);
	if (rc)
		return rc;
	if (n->n_in > IR_MAX_IO)
		return shp_fail(g, n, "too many inputs (%d)", n->n_in);
	for (int i = 0; i < n->n_in; i++) {
		ir_value *v;
		if ((rc = shp_need_in(g, n, i, &v)))
			return rc;
		vals[i] = v;
	}
	ir_value *y = ir_out(g, n, 0);
	if (!y)
		return ODET_OK;
	if (!dt)
		dt = vals[dtype_from]->dtype;
	return shp_broadcast(g, n, vals, n->n_in, y, dt);
}

#define BINARY(ID, DT)                                     \
	odet_status ir_shape_##ID(ir_graph *g, ir_node *n) \
	{                                                  \
		return nary(g, n, 2, 2, 0, DT);            \
	}
BINARY(ADD, ODET_DTYPE_UNDEFINED)
BINARY(SUB, ODET_DTYPE_UNDEFINED)
BINARY(MUL, ODET_DTYPE_UNDEFINED)
BINARY(DIV, ODET_DTYPE_UNDEFINED)
BINARY(POW, ODET_DTYPE_UNDEFINED)
BINARY(EQUAL, ODET_BOOL)
BINARY(LESS, ODET_BOOL)
BINARY(GREATER, ODET_BOOL)
#undef BINARY

odet_status ir_shape_MAX(ir_graph *g, ir_node *n)
{
	return nary(g, n, 1, IR_MAX_IO, 0, ODET_DTYPE_UNDEFINED);
}

odet_status ir_shape_MIN(ir_graph *g, ir_node *n)
{
	return nary(g, n, 1, IR_MAX_IO, 0, ODET_DTYPE_UNDEFINED);
}

odet_status ir_shape_WHERE(ir_graph *g, ir_node *n)
{
	return nary(g, n, 3, 3, 1, ODET_DTYPE_UNDEFINED);
}
