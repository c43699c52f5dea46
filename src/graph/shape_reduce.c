/*
 * shape_reduce.c — shape functions of reductions, Softmax, ArgMax and TopK.
 *
 *   Softmax       attr axis (default -1, in [-r, r)); Y like X
 *   Reduce{Mean,Sum,Max}(data, axes?)  attrs keepdims (1), noop_with_empty_axes (0):
 *                 no/empty axes reduce every dim unless noop_with_empty_axes (then Y = X);
 *                 reduced dims become 1 (keepdims) or are removed; repeated axes are an error.
 *                 Axes that are not constant: keepdims gives rank r with unknown dims,
 *                 otherwise unknown rank.
 *   ArgMax        attrs axis (0), keepdims (1); int64 out
 *   TopK(X, K)    attr axis (-1); K a 1-element int64 in [0, dim]; Values (X's dtype) and
 *                 Indices (int64) are X's shape with dim[axis] = K
 *   L2Normalize(X, scale?)  attr axis (1); float X; scale a float constant of X.dims[axis]
 *                 elements; Y like X
 */
#include "graph/shape_common.h"

odet_status ir_shape_SOFTMAX(ir_graph *g, ir_node *n)
{
	ir_value *x;
	int ax;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	int64_t axis = ir_attr_int(n, "axis", ir_attr_int(n, "odet_coerce2d", 0) ? 1 : -1);
	if (x->rank >= 0 && !odet_norm_axis(axis, x->rank, &ax) && !(x->rank == 0 && (axis == 0 || axis == -1)))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	return shp_out_like(g, n, ir_out(g, n, 0), x, 0);
}

static odet_status reduce_to(ir_graph *g, ir_node *n, const ir_value *x, const bool *red,
			     bool keep, ir_value *y, odet_dtype dt)
{
	int r = 0;
	for (int i = 0; i < x->rank; i++)
		r += keep || !red[i];
	odet_status rc = shp_out_begin(g, n, y, dt, r);
	for (int i = 0, o = 0; !rc && i < x->rank; i++) {
		if (red[i] && !keep)
			continue;
		rc = red[i] ? shp_out_dim(g, y, o, 1, NULL) : shp_out_dim(g, y, o, x->dims[i], x->sym[i]);
		o++;
	}
	return rc;
}

static odet_status reduce(ir_graph *g, ir_node *n)
{
	ir_value *x;
	int64_t axes[SHP_MAX_LIST];
	int na;
	odet_status rc = shp_check_io(g, n, 1, 2, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	bool keep = ir_attr_int(n, "keepdims", 1) != 0;
	bool noop = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
	int k = shp_const_ints(g, n, 1, axes, SHP_MAX_LIST, &na);
	if (k < 0)
		return ODET_ERR_BAD_INPUT;
	if (x->rank < 0)
		return shp_out_begin(g, n, y, x->dtype, -1);
	if (k == 0 && ir_in(g, n, 1)) /* axes computed at run time */
		return shp_out_begin(g, n, y, x->dtype, keep ? x->rank : -1);
	bool red[ODET_MAX_RANK] = {false};
	if (na <= 0) {
		if (noop)
			return shp_out_like(g, n, y, x, 0);
		for (int i = 0; i < x->rank; i++)
			red[i] = true;
	}
	for (int j = 0; j < na; j++) {
		int a;
		if (!odet_norm_axis(axes[j], x->rank, &a))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axes[j],
					x->rank);
		if (red[a])
			return shp_fail(g, n, "axis %lld is repeated", (long long)axes[j]);
		red[a] = true;
	}
	return reduce_to(g, n, x, red, keep, y, x->dtype);
}

odet_status ir_shape_REDUCEMEAN(ir_graph *g, ir_node *n)
{
	return reduce(g, n);
}

odet_status ir_shape_REDUCESUM(ir_graph *g, ir_node *n)
{
	return reduce(g, n);
}

odet_status ir_shape_REDUCEMAX(ir_graph *g, ir_node *n)
{
	return reduce(g, n);
}

odet_status ir_shape_REDUCEL2(ir_graph *g, ir_node *n)
{
	return reduce(g, n);
}

odet_status ir_shape_ARGMAX(ir_graph *g, ir_node *n)
{
	ir_value *x;
	int ax;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	bool keep = ir_attr_int(n, "keepdims", 1) != 0;
	int64_t axis = ir_attr_int(n, "axis", 0);
	if (x->rank < 0)
		return shp_out_begin(g, n, y, ODET_I64, -1);
	if (!odet_norm_axis(axis, x->rank, &ax))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	bool red[ODET_MAX_RANK] = {false};
	red[ax] = true;
	return reduce_to(g, n, x, red, keep, y, ODET_I64);
}

odet_status ir_shape_TOPK(ir_graph *g, ir_node *n)
{
	ir_value *x, *kv;
	int64_t k = -1;
	int nk, ax = -1;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 2);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (!rc)
		rc = shp_need_in(g, n, 1, &kv);
	if (rc)
		return rc;
	int c = shp_const_ints(g, n, 1, &k, 1, &nk);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 1 && nk != 1)
		return shp_fail(g, n, "K must have exactly one element");
	if (c == 1 && k < 0)
		return shp_fail(g, n, "K = %lld is negative", (long long)k);
	int64_t axis = ir_attr_int(n, "axis", -1);
	if (x->rank >= 0) {
		if (!odet_norm_axis(axis, x->rank, &ax))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis,
					x->rank);
		if (c == 1 && x->dims[ax] >= 0 && k > x->dims[ax])
			return shp_fail(g, n, "K = %lld exceeds dim %d of size %lld", (long long)k, ax,
					(long long)x->dims[ax]);
	}
	for (int o = 0; o < n->n_out; o++) {
		ir_value *y = ir_out(g, n, o);
		if (!y)
			continue;
		if ((rc = shp_out_like(g, n, y, x, o ? ODET_I64 : x->dtype)))
			return rc;
		if (ax >= 0 && (rc = shp_out_dim(g, y, ax, c == 1 ? k : -1, NULL)))
			return rc;
	}
	return ODET_OK;
}

odet_status ir_shape_L2_NORMALIZE(ir_graph *g, ir_node *n)
{
	ir_value *x;
	int ax = 0; /* set when the rank is known, the only case that reads it */
	odet_status rc = shp_check_io(g, n, 1, 2, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	if (x->dtype != ODET_F32 && x->dtype != ODET_F16)
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "float32/float16 input needed");
	int64_t axis = ir_attr_int(n, "axis", 1);
	if (x->rank >= 0 && !odet_norm_axis(axis, x->rank, &ax))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	const ir_value *s = ir_in(g, n, 1);
	if (s) {
		if (s->kind != IR_VALUE_CONST || !s->data || (s->dtype != ODET_F32 && s->dtype != ODET_F16))
			return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "scale must be a float constant");
		if (x->rank >= 0 && x->dims[ax] >= 0 && ir_value_numel(s) != x->dims[ax])
			return shp_fail(g, n, "scale has %lld elements for %lld channels", (long long)ir_value_numel(s),
					(long long)x->dims[ax]);
	}
	return shp_out_like(g, n, ir_out(g, n, 0), x, 0);
}
