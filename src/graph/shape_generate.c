/*
 * shape_generate.c — shape functions of ops whose output shape comes from values:
 *
 *   Resize(X, roi, scales, sizes)  sizes when given (non-empty), else
 *                 out = floor(in * scale) computed in float32 as ONNX Runtime does;
 *                 attr axes (opset 18) limits scales/sizes to those axes;
 *                 keep_aspect_ratio_policy not_larger/not_smaller scales sizes uniformly
 *   Shape         int64 [end - start] with attrs start/end (opset 15), clamped to [0, r]
 *   Constant      shape of its value/value_float(s)/value_int(s) attribute
 *   ConstantOfShape(shape)  dims from the shape input; dtype of attr value (default f32)
 *   Range(start, limit, delta)  1-D, max(ceil((limit-start)/delta), 0) elements
 */
#include "graph/shape_common.h"

#include <math.h>
#include <string.h>

odet_status ir_shape_RESIZE(ir_graph *g, ir_node *n)
{
	ir_value *x;
	double vals[SHP_MAX_LIST];
	int64_t sizes[SHP_MAX_LIST];
	int nv, ns;
	odet_status rc = shp_check_io(g, n, 1, 4, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0), *scales = ir_in(g, n, 2), *sizev = ir_in(g, n, 3);
	if (x->rank < 0)
		return shp_out_begin(g, n, y, x->dtype, -1);
	int r = x->rank;
	/* an input given as an empty tensor counts as absent */
	if (sizev && ir_value_numel(sizev) == 0)
		sizev = NULL;
	if (scales && ir_value_numel(scales) == 0)
		scales = NULL;
	if (!sizev && !scales)
		return shp_fail(g, n, "neither scales nor sizes is given");
	const int64_t *axes_attr;
	int nax = ir_attr_ints(n, "axes", &axes_attr);
	int ax[ODET_MAX_RANK], k = nax ? nax : r;
	if (k > r)
		return shp_fail(g, n, "attribute axes has %d values for rank %d", nax, r);
	for (int j = 0; j < k; j++) {
		ax[j] = j;
		if (nax && !odet_norm_axis(axes_attr[j], r, &ax[j]))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axes_attr[j], r);
	}
	if ((rc = shp_out_like(g, n, y, x, 0)))
		return rc;
	int c = sizev ? shp_const_ints(g, n, 3, sizes, SHP_MAX_LIST, &ns)
		      : shp_const_floats(g, n, 2, vals, SHP_MAX_LIST, &nv);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 0) {
		for (int j = 0; j < k; j++)
			shp_out_dim(g, y, ax[j], -1, NULL);
		return ODET_OK;
	}
	if ((sizev ? ns : nv) != k)
		return shp_fail(g, n, "%s has %d values for %d axes", sizev ? "sizes" : "scales",
				sizev ? ns : nv, k);
	if (sizev) {
		const char *policy = ir_attr_string(n, "keep_aspect_ratio_policy", "stretch");
		bool larger = strcmp(policy, "not_larger") == 0, smaller = strcmp(policy, "not_smaller") == 0;
		if (!larger && !smaller && strcmp(policy, "stretch") != 0)
			return shp_fail(g, n, "unknown keep_aspect_ratio_policy '%s'", policy);
		if (larger || smaller) {
			double s = larger ? INFINITY : 0;
			for (int j = 0; j < k; j++) {
				int64_t d = x->dims[ax[j]];
				if (d <= 0) {
					for (int i = 0; i < k; i++)
						shp_out_dim(g, y, ax[i], -1, NULL);
					return ODET_OK;
				}
				double t = (double)sizes[j] / (double)d;
				s = larger ? fmin(s, t) : fmax(s, t);
			}
			for (int j = 0; j < k; j++) {
				double o = s * (double)x->dims[ax[j]];
				if (!(o < 9.0e18))
					return shp_fail(g, n, "scaled dim %d overflows", ax[j]);
				sizes[j] = (int64_t)llround(o);
			}
		}
		for (int j = 0; j < k; j++) {
			if (sizes[j] < 0)
				return shp_fail(g, n, "sizes has negative value %lld", (long long)sizes[j]);
			shp_out_dim(g, y, ax[j], sizes[j], NULL);
		}
		return ODET_OK;
	}
	for (int j = 0; j < k; j++) {
		int64_t d = x->dims[ax[j]];
		float s = (float)vals[j];
		if (!(s > 0) || !isfinite(s))
			return shp_fail(g, n, "scale %g is not positive", vals[j]);
		if (d < 0) {
			shp_out_dim(g, y, ax[j], -1, s == 1.0f ? x->sym[ax[j]] : NULL);
			continue;
		}
		float o = (float)d * s;
		if (!(o < 9.0e18f))
			return shp_fail(g, n, "scaled dim %d overflows", ax[j]);
		shp_out_dim(g, y, ax[j], (int64_t)floorf(o), NULL);
	}
	return ODET_OK;
}

odet_status ir_shape_SHAPE(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	if ((rc = shp_out_begin(g, n, y, ODET_I64, 1)) || x->rank < 0)
		return rc;
	int64_t r = x->rank, start = ir_attr_int(n, "start", 0), end = ir_attr_int(n, "end", r);
	if (start < 0)
		start += r;
	if (end < 0)
		end += r;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	y->dims[0] = end > start ? end - start : 0;
	return ODET_OK;
}

odet_status ir_shape_CONSTANT(ir_graph *g, ir_node *n)
{
	odet_status rc = shp_check_io(g, n, 0, 0, 1, 1);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	const ir_attr *a;
	if ((a = ir_attr_get(n, "value")) && a->type == IR_ATTR_TENSOR) {
		if (a->tensor < 0 || a->tensor >= g->n_values)
			return shp_fail(g, n, "attribute value refers to no tensor");
		return shp_out_like(g, n, y, &g->values[a->tensor], 0);
	}
	if ((a = ir_attr_get(n, "value_float")) || (a = ir_attr_get(n, "value_int")))
		return shp_out_begin(g, n, y, a->type == IR_ATTR_FLOAT ? ODET_F32 : ODET_I64, 0);
	if ((a = ir_attr_get(n, "value_floats")) || (a = ir_attr_get(n, "value_ints"))) {
		if ((rc = shp_out_begin(g, n, y, a->type == IR_ATTR_FLOATS ? ODET_F32 : ODET_I64, 1)))
			return rc;
		y->dims[0] = a->n;
		return ODET_OK;
	}
	return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "no supported value attribute");
}

odet_status ir_shape_CONSTANTOFSHAPE(ir_graph *g, ir_node *n)
{
	ir_value *s;
	int64_t sh[SHP_MAX_LIST];
	int ns;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &s);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	odet_dtype dt = ODET_F32;
	const ir_attr *a = ir_attr_get(n, "value");
	if (a && a->type == IR_ATTR_TENSOR) {
		if (a->tensor < 0 || a->tensor >= g->n_values || ir_value_numel(&g->values[a->tensor]) != 1)
			return shp_fail(g, n, "attribute value must be a one-element tensor");
		dt = g->values[a->tensor].dtype;
	}
	int c = shp_const_ints(g, n, 0, sh, SHP_MAX_LIST, &ns);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 0) {
		int r = s->rank == 1 && s->dims[0] >= 0 && s->dims[0] <= ODET_MAX_RANK ? (int)s->dims[0] : -1;
		return shp_out_begin(g, n, y, dt, r);
	}
	if ((rc = shp_out_begin(g, n, y, dt, ns)))
		return rc;
	for (int i = 0; i < ns; i++) {
		if (sh[i] < 0)
			return shp_fail(g, n, "shape has negative dim %lld", (long long)sh[i]);
		y->dims[i] = sh[i];
	}
	int64_t numel;
	if (!odet_dims_numel(y->dims, ns, &numel))
		return shp_fail(g, n, "element count overflows");
	return ODET_OK;
}

odet_status ir_shape_RANGE(ir_graph *g, ir_node *n)
{
	ir_value *st;
	odet_status rc = shp_check_io(g, n, 3, 3, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &st);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	if ((rc = shp_out_begin(g, n, y, st->dtype, 1)))
		return rc;
	bool is_float = st->dtype == ODET_F32 || st->dtype == ODET_F64 || st->dtype == ODET_F16;
	int64_t count;
	if (is_float) {
		double v[3];
		int cnt;
		for (int i = 0; i < 3; i++) {
			int c = shp_const_floats(g, n, i, &v[i], 1, &cnt);
			if (c < 0)
				return ODET_ERR_BAD_INPUT;
			if (c == 0)
				return ODET_OK;
			if (cnt != 1)
				return shp_fail(g, n, "input %d must be a scalar", i);
		}
		if (v[2] == 0)
			return shp_fail(g, n, "delta is 0");
		double c = ceil((v[1] - v[0]) / v[2]);
		if (!(c < 9.0e18))
			return shp_fail(g, n, "element count overflows");
		count = c > 0 ? (int64_t)c : 0;
	} else {
		int64_t v[3];
		int cnt;
		for (int i = 0; i < 3; i++) {
			int c = shp_const_ints(g, n, i, &v[i], 1, &cnt);
			if (c < 0)
				return ODET_ERR_BAD_INPUT;
			if (c == 0)
				return ODET_OK;
			if (cnt != 1)
				return shp_fail(g, n, "input %d must be a scalar", i);
		}
		int64_t diff;
		if (v[2] == 0)
			return shp_fail(g, n, "delta is 0");
		if (__builtin_sub_overflow(v[1], v[0], &diff))
			return shp_fail(g, n, "limit - start overflows");
		if (diff == INT64_MIN && v[2] == -1)
			return shp_fail(g, n, "element count overflows");
		if ((diff > 0) != (v[2] > 0) || diff == 0) {
			count = 0;
		} else {
			/* same signs: ceil(diff / delta) */
			int64_t q = diff / v[2], rem = diff % v[2];
			count = q + (rem != 0);
		}
	}
	y->dims[0] = count;
	return ODET_OK;
}
