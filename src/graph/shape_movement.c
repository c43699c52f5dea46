/*
 * shape_movement.c — shape functions of data movement ops (ONNX semantics, IR canonical
 * forms of ir.h). Values that arrive as inputs (shape, axes, starts, repeats, pads, split)
 * are read when constant; otherwise the dims they decide stay unknown.
 *
 *   Concat      attr axis; ranks equal, other dims equal; axis dims summed
 *   Reshape     shape input: 0 copies the input dim (unless attr allowzero), one -1 is
 *               inferred from the element count
 *   Flatten     attr axis (1) in [-r, r]: [prod(d[:axis]), prod(d[axis:])]
 *   Transpose   attr perm (default: reversed dims)
 *   Squeeze     axes input (optional: every dim of size 1); squeezed dims must be 1
 *   Unsqueeze   axes input, normalized against the output rank
 *   Slice       starts, ends, axes?, steps? inputs; indices clamped as in the ONNX spec,
 *               negative steps walk backwards
 *   Gather      attr axis: d[:axis] + indices.shape + d[axis+1:]
 *   Split       attr axis; split sizes input or equal parts (last smaller)
 *   Expand      broadcast of the input with the shape input
 *   Tile        dims multiplied by the repeats input
 *   Pad         pads input (begins then ends) over all or the axes input's dims
 */
#include "graph/shape_common.h"

#include <string.h>

/* inputs 0 and 1, both required */
static odet_status need_in2(ir_graph *g, const ir_node *n, ir_value **x, ir_value **y)
{
	odet_status rc = shp_need_in(g, n, 0, x);
	return rc ? rc : shp_need_in(g, n, 1, y);
}

odet_status ir_shape_CONCAT(ir_graph *g, ir_node *n)
{
	char a[160], b[160];
	odet_status rc = shp_check_io(g, n, 1, 1 << 20, 1, 1);
	if (rc)
		return rc;
	const ir_value *first = NULL;
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *v;
		if ((rc = shp_need_in(g, n, i, (ir_value **)&v)))
			return rc;
		if (!first && v->rank >= 0)
			first = v;
	}
	ir_value *y = ir_out(g, n, 0);
	odet_dtype dt = ir_in(g, n, 0)->dtype;
	if (!first)
		return shp_out_begin(g, n, y, dt, -1);
	int r = first->rank, ax;
	int64_t axis = ir_attr_int(n, "axis", INT64_MIN);
	if (axis == INT64_MIN)
		return shp_fail(g, n, "attribute axis is required");
	if (!odet_norm_axis(axis, r, &ax))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, r);
	int64_t dims[ODET_MAX_RANK];
	const char *sym[ODET_MAX_RANK];
	for (int j = 0; j < r; j++) {
		dims[j] = j == ax ? 0 : -1;
		sym[j] = NULL;
	}
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *v = ir_in(g, n, i);
		if (v->rank < 0) {
			dims[ax] = -1;
			continue;
		}
		if (v->rank != r)
			return shp_fail(g, n, "inputs %s and %s differ in rank", ir_shape_str(first, a, sizeof a),
					ir_shape_str(v, b, sizeof b));
		for (int j = 0; j < r; j++) {
			int64_t d = v->dims[j];
			if (j == ax) {
				if (dims[ax] >= 0 && (d < 0 || !odet_add_i64(dims[ax], d, &dims[ax])))
					dims[ax] = -1;
				continue;
			}
			if (d >= 0 && dims[j] >= 0 && d != dims[j])
				return shp_fail(g, n, "inputs %s and %s differ in dim %d",
						ir_shape_str(first, a, sizeof a), ir_shape_str(v, b, sizeof b), j);
			if (d >= 0)
				dims[j] = d;
			else if (!sym[j])
				sym[j] = v->sym[j];
		}
	}
	if ((rc = shp_out_begin(g, n, y, dt, r)))
		return rc;
	for (int j = 0; !rc && j < r; j++)
		rc = shp_out_dim(g, y, j, dims[j], j == ax ? NULL : sym[j]);
	return rc;
}

bool ir_permute_view(const ir_node *n, int i, ir_view *v)
{
	const int64_t *vr, *vs, *vp, *vt = NULL, *vo = NULL;
	int nr = ir_attr_ints(n, "vrank", &vr), ns = ir_attr_ints(n, "vshape", &vs), np = ir_attr_ints(n, "vperm", &vp);
	int nt = ir_attr_ints(n, "vstride", &vt), no = ir_attr_ints(n, "voffset", &vo);
	if (nr != n->n_in || ns != np || (nt > 0 && nt != ns) || (no > 0 && no != n->n_in) || i < 0 || i >= nr)
		return false;
	int at = 0;
	for (int k = 0; k < i; k++)
		at += (int)vr[k];
	if (vr[i] < 1 || vr[i] > IR_VIEW_MAX || at + vr[i] > ns)
		return false;
	v->r = (int)vr[i];
	v->dense = nt <= 0;
	v->off = no > 0 ? vo[i] : 0;
	v->numel = 1;
	v->last = v->off;
	unsigned seen = 0;
	for (int k = v->r - 1; k >= 0; k--) {
		int64_t d = vs[at + k], p = vp[at + k];
		if (d < 1 || p < 0 || p >= v->r || (seen >> p) & 1 || (!v->dense && vt[at + k] < 0))
			return false;
		seen |= 1u << p;
		v->dims[k] = d;
		v->perm[k] = p;
		v->strides[k] = v->dense ? v->numel : vt[at + k];
		if (!odet_mul_i64(v->numel, d, &v->numel))
			return false;
		v->last += (d - 1) * v->strides[k];
	}
	return v->off >= 0;
}

/* PermuteConcat (ops.def): output dims from attr shape, checked against the inputs' views */
odet_status ir_shape_PERMUTE_CONCAT(ir_graph *g, ir_node *n)
{
	odet_status rc = shp_check_io(g, n, 1, IR_MAX_IO, 1, 1);
	if (rc)
		return rc;
	const int64_t *shape;
	int r = ir_attr_ints(n, "shape", &shape);
	int64_t to = ir_attr_int(n, "to", 0), axis = ir_attr_int(n, "axis", 0);
	int ax;
	if (r < 1 || r > ODET_MAX_RANK || !odet_norm_axis(axis, r, &ax))
		return shp_fail(g, n, "attributes shape/axis are inconsistent");
	int64_t outer = 1, inner = 1, total = 0;
	for (int j = 0; j < r; j++) {
		if (shape[j] < 0)
			return shp_fail(g, n, "attribute shape has a negative dim");
		if (j != ax && !odet_mul_i64(j < ax ? outer : inner, shape[j], j < ax ? &outer : &inner))
			return shp_fail(g, n, "output too large");
	}
	odet_dtype dt = ODET_DTYPE_UNDEFINED;
	for (int i = 0; i < n->n_in; i++) {
		ir_value *x;
		if ((rc = shp_need_in(g, n, i, &x)))
			return rc;
		if (i == 0)
			dt = x->dtype;
		if (x->dtype != dt)
			return shp_fail(g, n, "inputs differ in dtype");
		ir_view v;
		if (!ir_permute_view(n, i, &v))
			return shp_fail(g, n, "input %d: bad view attributes (vrank/vshape/vperm/vstride/voffset)", i);
		if (!ir_value_shape_known(x))
			return shp_out_begin(g, n, ir_out(g, n, 0), dt, -1);
		if (v.last >= ir_value_numel(x) || (v.dense && v.numel != ir_value_numel(x)) || outer * inner == 0 ||
		    v.numel % (outer * inner))
			return shp_fail(g, n, "input %d: its view does not fit the input or the output", i);
		total += v.numel / (outer * inner);
	}
	if (total != shape[ax])
		return shp_fail(g, n, "inputs add up to %lld along the axis, attribute shape has %lld", (long long)total,
				(long long)shape[ax]);
	if (to != dt && !((to == ODET_F16 || to == ODET_F32) && (dt == ODET_F16 || dt == ODET_F32)))
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "dtype change %d -> %d not supported", (int)dt, (int)to);
	ir_value *y = ir_out(g, n, 0);
	if ((rc = shp_out_begin(g, n, y, (odet_dtype)to, r)))
		return rc;
	for (int j = 0; !rc && j < r; j++)
		rc = shp_out_dim(g, y, j, shape[j], NULL);
	return rc;
}

/* NhwcPack (ops.def): [N,C,H,W] -> [N,H,W,channels], dtype attr to */
odet_status ir_shape_NHWC_PACK(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (rc || (rc = shp_need_in(g, n, 0, &x)))
		return rc;
	int64_t to = ir_attr_int(n, "to", ODET_F16), ch = ir_attr_int(n, "channels", -1);
	if ((x->dtype != ODET_F32 && x->dtype != ODET_F16 && x->dtype != ODET_U8) || (to != ODET_F32 && to != ODET_F16))
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "float32/float16/uint8 input and float output needed");
	const float *sc, *bi;
	int nsc = ir_attr_floats(n, "odet_scale", &sc), nbi = ir_attr_floats(n, "odet_bias", &bi);
	if ((nsc || nbi) && (nsc != nbi || (x->dims[1] >= 0 && nsc != x->dims[1])))
		return shp_fail(g, n, "odet_scale/odet_bias need one value per input channel");
	if (x->rank != 4)
		return shp_fail(g, n, "input must have rank 4");
	if (x->dims[1] >= 0 && ch < x->dims[1])
		return shp_fail(g, n, "attribute channels (%lld) is below the input's %lld", (long long)ch,
				(long long)x->dims[1]);
	ir_value *y = ir_out(g, n, 0);
	if ((rc = shp_out_begin(g, n, y, (odet_dtype)to, 4)))
		return rc;
	if ((rc = shp_out_dim(g, y, 0, x->dims[0], x->sym[0])) || (rc = shp_out_dim(g, y, 1, x->dims[2], x->sym[2])) ||
	    (rc = shp_out_dim(g, y, 2, x->dims[3], x->sym[3])))
		return rc;
	return shp_out_dim(g, y, 3, ch, NULL);
}

/* PixelNorm (ops.def): uint8 -> float of the same shape, dtype attr to */
odet_status ir_shape_PIXEL_NORM(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (rc || (rc = shp_need_in(g, n, 0, &x)))
		return rc;
	int64_t to = ir_attr_int(n, "to", ODET_F32), axis = ir_attr_int(n, "axis", 1);
	if (x->dtype != ODET_U8 || (to != ODET_F32 && to != ODET_F16))
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "uint8 input and float32/float16 output needed");
	if (x->rank != 4 || (axis != 1 && axis != 3))
		return shp_fail(g, n, "a 4-D input with the channels at axis 1 or 3 needed");
	const float *sc, *bi;
	int nsc = ir_attr_floats(n, "odet_scale", &sc), nbi = ir_attr_floats(n, "odet_bias", &bi);
	if (nsc < 1 || nsc != nbi || (x->dims[axis] >= 0 && nsc != x->dims[axis]))
		return shp_fail(g, n, "odet_scale/odet_bias need one value per channel");
	ir_value *y = ir_out(g, n, 0);
	if ((rc = shp_out_begin(g, n, y, (odet_dtype)to, 4)))
		return rc;
	for (int j = 0; !rc && j < 4; j++)
		rc = shp_out_dim(g, y, j, x->dims[j], x->sym[j]);
	return rc;
}

odet_status ir_shape_RESHAPE(ir_graph *g, ir_node *n)
{
	ir_value *x, *s;
	int64_t sh[SHP_MAX_LIST];
	int ns;
	char a[160], b[160];
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &s)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int c = shp_const_ints(g, n, 1, sh, SHP_MAX_LIST, &ns);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 0) {
		int r = s->rank == 1 && s->dims[0] >= 0 && s->dims[0] <= ODET_MAX_RANK ? (int)s->dims[0] : -1;
		return shp_out_begin(g, n, y, x->dtype, r);
	}
	if (ns > ODET_MAX_RANK)
		return shp_fail_s(g, n, ODET_ERR_LIMIT, "shape has %d dims, limit %d", ns, ODET_MAX_RANK);
	bool allowzero = ir_attr_int(n, "allowzero", 0) != 0;
	int64_t od[ODET_MAX_RANK];
	const char *osym[ODET_MAX_RANK] = {0};
	int infer = -1;
	bool has_zero = false;
	for (int i = 0; i < ns; i++) {
		od[i] = sh[i];
		if (sh[i] == -1) {
			if (infer >= 0)
				return shp_fail(g, n, "shape %s has more than one -1", shp_dims_str(sh, ns, a, sizeof a));
			infer = i;
		} else if (sh[i] < -1) {
			return shp_fail(g, n, "shape has invalid dim %lld", (long long)sh[i]);
		} else if (sh[i] == 0) {
			has_zero = true;
			if (allowzero)
				continue;
			if (x->rank >= 0 && i >= x->rank)
				return shp_fail(g, n, "shape dim %d is 0 (copy) but input %s has rank %d", i,
						ir_shape_str(x, a, sizeof a), x->rank);
			od[i] = x->rank >= 0 ? x->dims[i] : -1;
			osym[i] = x->rank >= 0 ? x->sym[i] : NULL;
		}
	}
	if (allowzero && has_zero && infer >= 0)
		return shp_fail(g, n, "shape has both 0 and -1 with allowzero");
	int64_t in_numel = ir_value_numel(x), rest = 1;
	bool rest_known = true;
	for (int i = 0; i < ns; i++) {
		if (i == infer)
			continue;
		if (od[i] < 0 || !odet_mul_i64(rest, od[i], &rest)) {
			rest_known = false;
			break;
		}
	}
	if (infer >= 0) {
		od[infer] = -1;
		if (in_numel >= 0 && rest_known) {
			if (rest == 0 || in_numel % rest)
				return shp_fail(g, n, "cannot reshape %s into %s", ir_shape_str(x, a, sizeof a),
						shp_dims_str(sh, ns, b, sizeof b));
			od[infer] = in_numel / rest;
		}
	} else if (in_numel >= 0 && rest_known && rest != in_numel) {
		return shp_fail(g, n, "cannot reshape %s (%lld elements) into %s", ir_shape_str(x, a, sizeof a),
				(long long)in_numel, shp_dims_str(od, ns, b, sizeof b));
	}
	if ((rc = shp_out_begin(g, n, y, x->dtype, ns)))
		return rc;
	for (int i = 0; !rc && i < ns; i++)
		rc = shp_out_dim(g, y, i, od[i], osym[i]);
	return rc;
}

odet_status ir_shape_FLATTEN(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int64_t axis = ir_attr_int(n, "axis", 1);
	if ((rc = shp_out_begin(g, n, y, x->dtype, 2)) || x->rank < 0)
		return rc;
	if (axis < -(int64_t)x->rank || axis > x->rank)
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	int ax = (int)(axis < 0 ? axis + x->rank : axis);
	int64_t p[2] = {1, 1};
	for (int i = 0; i < x->rank; i++) {
		int64_t *t = &p[i >= ax];
		if (*t < 0)
			continue;
		if (x->dims[i] < 0)
			*t = -1;
		else if (!odet_mul_i64(*t, x->dims[i], t))
			return shp_fail(g, n, "element count overflows");
	}
	y->dims[0] = p[0];
	y->dims[1] = p[1];
	if (ax == 1 && x->dims[0] < 0 && x->sym[0])
		rc = shp_out_dim(g, y, 0, -1, x->sym[0]);
	return rc;
}

odet_status ir_shape_TRANSPOSE(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	const int64_t *perm;
	int np = ir_attr_ints(n, "perm", &perm);
	int r = x->rank >= 0 ? x->rank : (np ? np : -1);
	if (x->rank >= 0 && np && np != x->rank)
		return shp_fail(g, n, "perm has %d values for rank %d", np, x->rank);
	bool seen[ODET_MAX_RANK] = {false};
	for (int i = 0; i < np; i++) {
		if (perm[i] < 0 || perm[i] >= np || np > ODET_MAX_RANK || seen[perm[i]])
			return shp_fail(g, n, "perm is not a permutation");
		seen[perm[i]] = true;
	}
	if ((rc = shp_out_begin(g, n, y, x->dtype, r)) || x->rank < 0)
		return rc;
	for (int i = 0; !rc && i < r; i++) {
		int src = np ? (int)perm[i] : r - 1 - i;
		rc = shp_out_dim(g, y, i, x->dims[src], x->sym[src]);
	}
	return rc;
}

odet_status ir_shape_SQUEEZE(ir_graph *g, ir_node *n)
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
	int c = shp_const_ints(g, n, 1, axes, SHP_MAX_LIST, &na);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (x->rank < 0)
		return shp_out_begin(g, n, y, x->dtype, -1);
	bool drop[ODET_MAX_RANK] = {false};
	int nd = 0;
	if (c == 0 && ir_in(g, n, 1)) {
		const ir_value *av = ir_in(g, n, 1);
		int r = av->rank == 1 && av->dims[0] >= 0 && av->dims[0] <= x->rank ? x->rank - (int)av->dims[0] : -1;
		return shp_out_begin(g, n, y, x->dtype, r);
	}
	if (c == 0 || na == 0) {
		for (int i = 0; i < x->rank; i++) {
			if (x->dims[i] < 0)
				return shp_out_begin(g, n, y, x->dtype, -1);
			drop[i] = x->dims[i] == 1;
		}
	}
	for (int j = 0; j < na; j++) {
		int a;
		if (!odet_norm_axis(axes[j], x->rank, &a))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axes[j], x->rank);
		if (drop[a])
			return shp_fail(g, n, "axis %lld is repeated", (long long)axes[j]);
		if (x->dims[a] >= 0 && x->dims[a] != 1) {
			char b[160];
			return shp_fail(g, n, "cannot squeeze dim %d of %s (size %lld)", a,
					ir_shape_str(x, b, sizeof b), (long long)x->dims[a]);
		}
		drop[a] = true;
	}
	for (int i = 0; i < x->rank; i++)
		nd += drop[i];
	if ((rc = shp_out_begin(g, n, y, x->dtype, x->rank - nd)))
		return rc;
	for (int i = 0, o = 0; !rc && i < x->rank; i++)
		if (!drop[i])
			rc = shp_out_dim(g, y, o++, x->dims[i], x->sym[i]);
	return rc;
}

odet_status ir_shape_UNSQUEEZE(ir_graph *g, ir_node *n)
{
	ir_value *x, *av;
	int64_t axes[SHP_MAX_LIST];
	int na;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &av)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int c = shp_const_ints(g, n, 1, axes, SHP_MAX_LIST, &na);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 0 || x->rank < 0) {
		int r = -1;
		if (x->rank >= 0 && c == 1)
			r = x->rank + na;
		else if (x->rank >= 0 && av->rank == 1 && av->dims[0] >= 0 && av->dims[0] <= ODET_MAX_RANK)
			r = x->rank + (int)av->dims[0];
		return shp_out_begin(g, n, y, x->dtype, r);
	}
	int r = x->rank + na;
	if ((rc = shp_out_begin(g, n, y, x->dtype, r)))
		return rc;
	bool ins[ODET_MAX_RANK] = {false};
	for (int j = 0; j < na; j++) {
		int a;
		if (!odet_norm_axis(axes[j], r, &a))
			return shp_fail(g, n, "axis %lld is out of range for output rank %d", (long long)axes[j], r);
		if (ins[a])
			return shp_fail(g, n, "axis %lld is repeated", (long long)axes[j]);
		ins[a] = true;
	}
	for (int i = 0, k = 0; !rc && i < r; i++)
		rc = ins[i] ? shp_out_dim(g, y, i, 1, NULL) : (k++, shp_out_dim(g, y, i, x->dims[k - 1], x->sym[k - 1]));
	return rc;
}

odet_status ir_shape_SLICE(ir_graph *g, ir_node *n)
{
	ir_value *x, *sv;
	int64_t st[SHP_MAX_LIST], en[SHP_MAX_LIST], ax[SHP_MAX_LIST], sp[SHP_MAX_LIST];
	int ns, ne, na, nsp;
	odet_status rc = shp_check_io(g, n, 3, 5, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &sv)))
		return rc;
	if (!ir_in(g, n, 2))
		return shp_fail(g, n, "required input 2 (ends) is missing");
	ir_value *y = ir_out(g, n, 0);
	int cs = shp_const_ints(g, n, 1, st, SHP_MAX_LIST, &ns);
	int ce = shp_const_ints(g, n, 2, en, SHP_MAX_LIST, &ne);
	int ca = shp_const_ints(g, n, 3, ax, SHP_MAX_LIST, &na);
	int cp = shp_const_ints(g, n, 4, sp, SHP_MAX_LIST, &nsp);
	if (cs < 0 || ce < 0 || ca < 0 || cp < 0)
		return ODET_ERR_BAD_INPUT;
	if (x->rank < 0)
		return shp_out_begin(g, n, y, x->dtype, -1);
	int r = x->rank;
	if ((rc = shp_out_like(g, n, y, x, 0)))
		return rc;
	bool axes_known = ca == 1 || !ir_in(g, n, 3);
	bool vals_known = cs == 1 && ce == 1 && (cp == 1 || !ir_in(g, n, 4));
	if (!axes_known) {
		for (int i = 0; i < r; i++)
			shp_out_dim(g, y, i, -1, NULL);
		return ODET_OK;
	}
	/* the number of sliced axes, from whichever list is known */
	int k = cs == 1 ? ns : ce == 1 ? ne : ca == 1 ? na : -1;
	if (k < 0) {
		const ir_value *s0 = ir_in(g, n, 1);
		k = s0->rank == 1 && s0->dims[0] >= 0 && s0->dims[0] <= r ? (int)s0->dims[0] : -1;
	}
	if (k < 0) {
		for (int i = 0; i < r; i++)
			shp_out_dim(g, y, i, -1, NULL);
		return ODET_OK;
	}
	if ((cs == 1 && ns != k) || (ce == 1 && ne != k) || (ca == 1 && na != k) || (cp == 1 && nsp != k))
		return shp_fail(g, n, "starts, ends, axes and steps differ in length");
	if (k > r)
		return shp_fail(g, n, "%d slice axes for rank %d", k, r);
	bool seen[ODET_MAX_RANK] = {false};
	for (int j = 0; j < k; j++) {
		int a = j;
		if (ca == 1 && !odet_norm_axis(ax[j], r, &a))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)ax[j], r);
		if (seen[a])
			return shp_fail(g, n, "axis %d is repeated", a);
		seen[a] = true;
		int64_t step = cp == 1 ? sp[j] : 1;
		if (cp == 1 && step == 0)
			return shp_fail(g, n, "step is 0 on axis %d", a);
		int64_t d = x->dims[a];
		shp_out_dim(g, y, a, vals_known && d >= 0 ? odet_slice_range(d, st[j], en[j], step, &(int64_t){0}) : -1, NULL);
	}
	return ODET_OK;
}

odet_status ir_shape_GATHER(ir_graph *g, ir_node *n)
{
	ir_value *x, *idx;
	int ax;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &idx)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int64_t axis = ir_attr_int(n, "axis", 0);
	if (x->rank < 0 || idx->rank < 0)
		return shp_out_begin(g, n, y, x->dtype, -1);
	if (x->rank < 1 || !odet_norm_axis(axis, x->rank, &ax))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	int64_t d = x->dims[ax], ni = ir_value_numel(idx);
	if (idx->kind == IR_VALUE_CONST && d >= 0 && ni >= 0 && idx->data &&
	    (uint64_t)ni * odet_dtype_size(idx->dtype) <= idx->nbytes) {
		for (int64_t i = 0; i < ni; i++) {
			int64_t v = ir_const_i64(idx, i);
			if (v < -d || v >= d)
				return shp_fail(g, n, "index %lld is out of range for dim %d of size %lld",
						(long long)v, ax, (long long)d);
		}
	}
	if ((rc = shp_out_begin(g, n, y, x->dtype, x->rank - 1 + idx->rank)))
		return rc;
	int o = 0;
	for (int i = 0; !rc && i < ax; i++, o++)
		rc = shp_out_dim(g, y, o, x->dims[i], x->sym[i]);
	for (int i = 0; !rc && i < idx->rank; i++, o++)
		rc = shp_out_dim(g, y, o, idx->dims[i], idx->sym[i]);
	for (int i = ax + 1; !rc && i < x->rank; i++, o++)
		rc = shp_out_dim(g, y, o, x->dims[i], x->sym[i]);
	return rc;
}

odet_status ir_shape_SPLIT(ir_graph *g, ir_node *n)
{
	ir_value *x;
	int64_t sp[SHP_MAX_LIST];
	int ns, ax = -1;
	odet_status rc = shp_check_io(g, n, 1, 2, 1, SHP_MAX_LIST);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	int c = shp_const_ints(g, n, 1, sp, SHP_MAX_LIST, &ns);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	int64_t axis = ir_attr_int(n, "axis", 0);
	if (x->rank >= 0 && !odet_norm_axis(axis, x->rank, &ax))
		return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	int64_t d = ax >= 0 ? x->dims[ax] : -1;
	int64_t part[SHP_MAX_LIST];
	for (int o = 0; o < n->n_out; o++)
		part[o] = -1;
	if (c == 1) {
		int64_t sum = 0;
		if (ns != n->n_out)
			return shp_fail(g, n, "split has %d sizes for %d outputs", ns, n->n_out);
		for (int o = 0; o < ns; o++) {
			if (sp[o] < 0 || !odet_add_i64(sum, sp[o], &sum))
				return shp_fail(g, n, "invalid split size %lld", (long long)sp[o]);
			part[o] = sp[o];
		}
		if (d >= 0 && sum != d)
			return shp_fail(g, n, "split sizes sum to %lld, dim %d has %lld", (long long)sum, ax,
					(long long)d);
	} else if (!ir_in(g, n, 1) && d >= 0) {
		int64_t chunk = d / n->n_out + (d % n->n_out != 0);
		for (int o = 0; o < n->n_out; o++) {
			int64_t left = d - chunk * o;
			part[o] = left < chunk ? left : chunk;
			if (part[o] < 0)
				return shp_fail(g, n, "dim %d of size %lld cannot be split into %d parts", ax,
						(long long)d, n->n_out);
		}
	}
	for (int o = 0; o < n->n_out; o++) {
		ir_value *y = ir_out(g, n, o);
		if (!y)
			continue;
		if ((rc = shp_out_like(g, n, y, x, 0)))
			return rc;
		if (ax >= 0 && (rc = shp_out_dim(g, y, ax, part[o], NULL)))
			return rc;
	}
	return ODET_OK;
}

odet_status ir_shape_EXPAND(ir_graph *g, ir_node *n)
{
	ir_value *x, *s;
	int64_t sh[SHP_MAX_LIST];
	int ns;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &s)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int c = shp_const_ints(g, n, 1, sh, SHP_MAX_LIST, &ns);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (c == 0) {
		int r = -1;
		if (x->rank >= 0 && s->rank == 1 && s->dims[0] >= 0 && s->dims[0] <= ODET_MAX_RANK)
			r = x->rank > s->dims[0] ? x->rank : (int)s->dims[0];
		return shp_out_begin(g, n, y, x->dtype, r);
	}
	if (ns > ODET_MAX_RANK)
		return shp_fail_s(g, n, ODET_ERR_LIMIT, "shape has %d dims, limit %d", ns, ODET_MAX_RANK);
	ir_value t;
	memset(&t, 0, sizeof t);
	t.name = "shape";
	t.rank = ns;
	for (int i = 0; i < ns; i++) {
		if (sh[i] < 0)
			return shp_fail(g, n, "shape has negative dim %lld", (long long)sh[i]);
		t.dims[i] = sh[i];
	}
	const ir_value *vals[2] = {x, &t};
	return shp_broadcast(g, n, vals, 2, y, x->dtype);
}

odet_status ir_shape_TILE(ir_graph *g, ir_node *n)
{
	ir_value *x, *rv;
	int64_t rep[SHP_MAX_LIST];
	int nr;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &rv)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int c = shp_const_ints(g, n, 1, rep, SHP_MAX_LIST, &nr);
	if (c < 0)
		return ODET_ERR_BAD_INPUT;
	if (x->rank < 0 || c == 0)
		return shp_out_begin(g, n, y, x->dtype, x->rank);
	if (nr != x->rank)
		return shp_fail(g, n, "repeats has %d values for rank %d", nr, x->rank);
	if ((rc = shp_out_begin(g, n, y, x->dtype, x->rank)))
		return rc;
	for (int i = 0; i < x->rank; i++) {
		int64_t o;
		if (rep[i] < 0)
			return shp_fail(g, n, "repeats has negative value %lld", (long long)rep[i]);
		if (x->dims[i] < 0) {
			if (rep[i] == 1)
				shp_out_dim(g, y, i, -1, x->sym[i]);
			continue;
		}
		if (!odet_mul_i64(x->dims[i], rep[i], &o))
			return shp_fail(g, n, "dim %d overflows (%lld x %lld)", i, (long long)x->dims[i],
					(long long)rep[i]);
		y->dims[i] = o;
	}
	return ODET_OK;
}

odet_status ir_shape_PAD(ir_graph *g, ir_node *n)
{
	ir_value *x, *pv;
	int64_t pads[SHP_MAX_LIST], axes[SHP_MAX_LIST];
	int np, na;
	odet_status rc = shp_check_io(g, n, 2, 4, 1, 1);
	if (rc)
		return rc;
	if ((rc = need_in2(g, n, &x, &pv)))
		return rc;
	ir_value *y = ir_out(g, n, 0);
	int cp = shp_const_ints(g, n, 1, pads, SHP_MAX_LIST, &np);
	int ca = shp_const_ints(g, n, 3, axes, SHP_MAX_LIST, &na);
	if (cp < 0 || ca < 0)
		return ODET_ERR_BAD_INPUT;
	if (x->rank < 0 || cp == 0 || (ca == 0 && ir_in(g, n, 3)))
		return shp_out_begin(g, n, y, x->dtype, x->rank);
	int r = x->rank, k = ca == 1 ? na : r;
	int ax[ODET_MAX_RANK];
	if (k > r || np != 2 * k)
		return shp_fail(g, n, "pads has %d values for %d axes", np, k);
	for (int j = 0; j < k; j++) {
		ax[j] = j;
		if (ca == 1 && !odet_norm_axis(axes[j], r, &ax[j]))
			return shp_fail(g, n, "axis %lld is out of range for rank %d", (long long)axes[j], r);
	}
	if ((rc = shp_out_like(g, n, y, x, 0)))
		return rc;
	for (int j = 0; j < k; j++) {
		int a = ax[j];
		int64_t d = x->dims[a], o;
		if (d < 0) {
			shp_out_dim(g, y, a, -1, pads[j] == 0 && pads[k + j] == 0 ? x->sym[a] : NULL);
			continue;
		}
		if (!odet_add_i64(d, pads[j], &o) || !odet_add_i64(o, pads[k + j], &o))
			return shp_fail(g, n, "padded dim %d overflows", a);
		if (o < 0)
			return shp_fail(g, n, "pads %lld,%lld make dim %d of size %lld negative",
					(long long)pads[j], (long long)pads[k + j], a, (long long)d);
		shp_out_dim(g, y, a, o, NULL);
	}
	return ODET_OK;
}
