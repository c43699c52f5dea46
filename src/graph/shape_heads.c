/*
 * shape_heads.c — shape functions of the odet-internal head ops (ops.def, domain "odet"):
 *   BoxDecode    deltas [B,N,4] | [B,4,N] (layout), anchors [N,4]  -> boxes [B,N,4] f32
 *   ClassScores  logits [B,N,C] | [B,C,N] (layout)                 -> scores [B,N,C] f32
 *   YoloDecode   raw [B,A*(5+C),H,W] (v5) | [B,4R+C,H,W] (v8), decoded [B,N,5+C] | [B,4+C,N]
 *                                                                  -> boxes [B,M,4], scores [B,M,C]
 *   BatchedNms   boxes [B,N,4], scores [B,N,C] (or, fused class scores, logits [B,N,C] |
 *                [B,C,N] with layout 1, any float dtype) -> count [B] i32, boxes [B,K,4] f32,
 *                scores [B,K] f32, classes [B,K] i32
 */
#include "graph/shape_common.h"

/* Output k: dtype dt, rank `rank`, dims as given (-1 stays unknown). Every output is written
 * on every path that returns OK, so no stale shape survives a re-inference (plan load). */
static odet_status set_out(ir_graph *g, const ir_node *n, int k, odet_dtype dt, int rank, const int64_t *dims)
{
	ir_value *v = ir_out(g, n, k);
	if (!v)
		return shp_fail(g, n, "output %d is missing", k);
	odet_status rc = shp_out_begin(g, n, v, dt, rank);
	for (int i = 0; !rc && i < rank; i++)
		rc = shp_out_dim(g, v, i, dims[i], NULL);
	return rc;
}

/* Input k, required, of rank `rank` when its rank is known (unknown rank passes: the dims
 * derived from it stay unknown). */
static odet_status need_rank(ir_graph *g, const ir_node *n, int k, int rank, const char *what,
			     const ir_value **out)
{
	const ir_value *v = ir_in(g, n, k);
	*out = v;
	if (!v)
		return shp_fail(g, n, "needs input %d (%s)", k, what);
	if (v->rank >= 0 && v->rank != rank) {
		char b[160];
		return shp_fail(g, n, "%s '%s' must be %d-D, got %s", what, v->name, rank,
				ir_shape_str(v, b, sizeof b));
	}
	return ODET_OK;
}

/* dim i of v, -1 when v's rank or the dim is unknown */
static int64_t dim(const ir_value *v, int i)
{
	return v->rank > i ? v->dims[i] : -1;
}

odet_status ir_shape_BOX_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *d, *a;
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (!rc)
		rc = need_rank(g, n, 0, 3, "deltas", &d);
	if (!rc)
		rc = need_rank(g, n, 1, 2, "anchors", &a);
	if (rc)
		return rc;
	int64_t layout = ir_attr_int(n, "layout", 0), coder = ir_attr_int(n, "coder", 0);
	if (layout != 0 && layout != 1)
		return shp_fail(g, n, "layout %lld (0 or 1)", (long long)layout);
	if (coder != 0 && coder != 1)
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "coder %lld (0 or 1)", (long long)coder);
	int64_t N = dim(d, layout ? 2 : 1), four = dim(d, layout ? 1 : 2);
	int64_t an = dim(a, 0), a4 = dim(a, 1);
	if ((four >= 0 && four != 4) || (a4 >= 0 && a4 != 4) || (N >= 0 && an >= 0 && an != N))
		return shp_fail(g, n, "deltas must be [B,N,4] (or [B,4,N] with layout 1) and anchors [N,4]");
	int64_t dims[3] = {dim(d, 0), N >= 0 ? N : an, 4};
	return set_out(g, n, 0, ODET_F32, 3, dims);
}

odet_status ir_shape_CLASS_SCORES(ir_graph *g, ir_node *n)
{
	const ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = need_rank(g, n, 0, 3, "logits", &x);
	if (rc)
		return rc;
	int64_t layout = ir_attr_int(n, "layout", 0);
	if (layout != 0 && layout != 1)
		return shp_fail(g, n, "layout %lld (0 or 1)", (long long)layout);
	int64_t dims[3] = {dim(x, 0), dim(x, layout ? 2 : 1), dim(x, layout ? 1 : 2)};
	if (dims[2] == 0)
		return shp_fail(g, n, "no classes");
	return set_out(g, n, 0, ODET_F32, 3, dims);
}

odet_status ir_shape_YOLO_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *x;
	int64_t version = ir_attr_int(n, "version", 5), decoded = ir_attr_int(n, "decoded", 0);
	odet_status rc = shp_check_io(g, n, 1, 1, 2, 2);
	if (rc)
		return rc;
	if (version != 5 && version != 8)
		return shp_fail_s(g, n, ODET_ERR_UNSUPPORTED, "version %lld (5 or 8)", (long long)version);
	if (decoded != 0 && decoded != 1)
		return shp_fail(g, n, "decoded %lld (0 or 1)", (long long)decoded);
	if ((rc = need_rank(g, n, 0, decoded ? 3 : 4, decoded ? "decoded predictions" : "raw predictions", &x)))
		return rc;
	int64_t B = dim(x, 0), M = -1, C = -1, t;
	if (decoded) {
		int64_t ch = dim(x, version == 5 ? 2 : 1);
		M = dim(x, version == 5 ? 1 : 2);
		C = ch < 0 ? -1 : ch - (version == 5 ? 5 : 4);
	} else if (version == 5) {
		const float *an;
		int64_t A = ir_attr_floats(n, "anchors", &an) / 2;
		int64_t ch = dim(x, 1), H = dim(x, 2), W = dim(x, 3);
		if (A < 1)
			return shp_fail(g, n, "v5 needs anchors (w,h pairs)");
		if (ch >= 0 && ch % A)
			return shp_fail(g, n, "channels are not a multiple of the anchor count");
		C = ch < 0 ? -1 : ch / A - 5;
		if (H >= 0 && W >= 0 && (!odet_mul_i64(A, H, &t) || !odet_mul_i64(t, W, &M)))
			return shp_fail(g, n, "size overflows");
	} else {
		int64_t R = ir_attr_int(n, "reg_max", 16), ch = dim(x, 1), H = dim(x, 2), W = dim(x, 3);
		if (R < 1 || R > 1024)
			return shp_fail(g, n, "reg_max out of range");
		C = ch < 0 ? -1 : ch - 4 * R;
		if (H >= 0 && W >= 0 && !odet_mul_i64(H, W, &M))
			return shp_fail(g, n, "size overflows");
	}
	if (C == -1 ? false : C < 1)
		return shp_fail(g, n, "input has no class channels");
	if (M == 0)
		return shp_fail(g, n, "input has no positions");
	int64_t bd[3] = {B, M, 4}, sd[3] = {B, M, C};
	if (!(rc = set_out(g, n, 0, ODET_F32, 3, bd)))
		rc = set_out(g, n, 1, ODET_F32, 3, sd);
	return rc;
}

odet_status ir_shape_BATCHED_NMS(ir_graph *g, ir_node *n)
{
	const ir_value *b, *s;
	odet_status rc = shp_check_io(g, n, 2, 2, 4, 4);
	if (!rc)
		rc = need_rank(g, n, 0, 3, "boxes", &b);
	if (!rc)
		rc = need_rank(g, n, 1, 3, "scores", &s);
	if (rc)
		return rc;
	int64_t K = ir_attr_int(n, "max_detections", 100);
	if (K < 1 || K > (1 << 24))
		return shp_fail(g, n, "max_detections out of range [1, 2^24]");
	int64_t act = ir_attr_int(n, "activation", 0), layout = ir_attr_int(n, "layout", 0);
	if (act < 0 || act > 2 || (layout != 0 && layout != 1))
		return shp_fail(g, n, "activation must be 0..2 and layout 0 or 1");
	if ((act || layout) && s->dtype != ODET_DTYPE_UNDEFINED && s->dtype != ODET_F32 && s->dtype != ODET_F16 &&
	    s->dtype != ODET_BF16 && s->dtype != ODET_F64)
		return shp_fail(g, n, "logits must be a float tensor");
	int64_t N = dim(s, layout ? 2 : 1), C = dim(s, layout ? 1 : 2);
	int64_t B = dim(b, 0) >= 0 ? dim(b, 0) : dim(s, 0);
	if ((dim(b, 2) >= 0 && dim(b, 2) != 4) || (dim(b, 0) >= 0 && dim(s, 0) >= 0 && dim(b, 0) != dim(s, 0)) ||
	    (dim(b, 1) >= 0 && N >= 0 && dim(b, 1) != N) || C == 0)
		return shp_fail(g, n, layout ? "boxes must be [B,N,4] and logits [B,C,N] (layout 1), C > 0"
					     : "boxes must be [B,N,4] and scores [B,N,C], C > 0");
	int64_t d1[1] = {B}, d3[3] = {B, K, 4}, d2[2] = {B, K};
	if (!(rc = set_out(g, n, 0, ODET_I32, 1, d1)) && !(rc = set_out(g, n, 1, ODET_F32, 3, d3)) &&
	    !(rc = set_out(g, n, 2, ODET_F32, 2, d2)))
		rc = set_out(g, n, 3, ODET_I32, 2, d2);
	return rc;
}
