/*
 * shape_quant.c — shape functions of the quantization ops (QConv's is Conv's, shape_conv.c).
 */
#include "graph/shape_common.h"

odet_status ir_shape_QUANTIZE_LINEAR(ir_graph *g, ir_node *n)
{
	ir_value *x, *s;
	odet_status rc = shp_check_io(g, n, 2, 3, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (!rc)
		rc = shp_need_in(g, n, 1, &s);
	if (rc)
		return rc;
	const ir_value *z = ir_in(g, n, 2);
	if (x->dtype != ODET_F32 && x->dtype != ODET_F16)
		return shp_fail(g, n, "input must be float32 or float16, got %s", odet_dtype_name(x->dtype));
	if (s->dtype != ODET_F32 || s->rank > 1)
		return shp_fail(g, n, "y_scale must be a float32 scalar or 1-D (per axis)");
	if (z && ((z->dtype != ODET_I8 && z->dtype != ODET_U8 && z->dtype != ODET_F8E4M3) || z->rank != s->rank ||
		  (s->rank == 1 && z->dims[0] != s->dims[0])))
		return shp_fail(g, n, "y_zero_point must be int8, uint8 or float8e4m3 and shaped like y_scale");
	if (s->rank == 1 && x->rank >= 0) {
		int64_t axis = ir_attr_int(n, "axis", 1);
		if (axis < 0)
			axis += x->rank;
		if (axis < 0 || axis >= x->rank || (x->dims[axis] >= 0 && s->dims[0] >= 0 && s->dims[0] != x->dims[axis]))
			return shp_fail(g, n, "per-axis y_scale of %lld values does not match axis %lld of the input",
					(long long)s->dims[0], (long long)axis);
	}
	if (ir_attr_int(n, "saturate", 1) != 1)
		return shp_fail(g, n, "saturate = 0 is not supported");
	/* ONNX: the zero point's type, uint8 without one */
	return shp_out_like(g, n, ir_out(g, n, 0), x, z ? z->dtype : ODET_U8);
}

odet_status ir_shape_DEQUANTIZE_LINEAR(ir_graph *g, ir_node *n)
{
	ir_value *x, *s;
	odet_status rc = shp_check_io(g, n, 2, 3, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (!rc)
		rc = shp_need_in(g, n, 1, &s);
	if (rc)
		return rc;
	const ir_value *z = ir_in(g, n, 2);
	if (x->dtype != ODET_I8 && x->dtype != ODET_U8 && x->dtype != ODET_I32)
		return shp_fail(g, n, "input must be int8, uint8 or int32, got %s", odet_dtype_name(x->dtype));
	if (s->dtype != ODET_F32 || s->rank > 1)
		return shp_fail(g, n, "x_scale must be a float32 scalar or 1-D (per axis)");
	if (z && (z->dtype != x->dtype || z->rank != s->rank || (s->rank == 1 && z->dims[0] != s->dims[0])))
		return shp_fail(g, n, "x_zero_point must have the input's type and be shaped like x_scale");
	if (s->rank == 1) {
		int64_t axis = ir_attr_int(n, "axis", 1);
		if (x->rank < 1)
			return shp_fail(g, n, "a per-axis x_scale needs an input of rank >= 1");
		if (axis < 0)
			axis += x->rank;
		if (axis < 0 || axis >= x->rank || (x->dims[axis] >= 0 && s->dims[0] >= 0 && s->dims[0] != x->dims[axis]))
			return shp_fail(g, n, "per-axis x_scale of %lld values does not match axis %lld of the input",
					(long long)s->dims[0], (long long)axis);
	}
	return shp_out_like(g, n, ir_out(g, n, 0), x, ODET_F32);
}
