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
#include "graph/ir.h"

static void set_out(ir_graph *g, const ir_node *n, int k, odet_dtype dt, int rank, const int64_t *dims)
{
	ir_value *v = ir_out(g, n, k);
	if (!v)
		return;
	v->dtype = dt;
	v->rank = rank;
	for (int i = 0; i < ODET_MAX_RANK; i++)
		v->dims[i] = i < rank ? dims[i] : -1;
}

static odet_status bad(ir_graph *g, const ir_node *n, const char *why)
{
	return odet_error(g->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): %s", n->name, ir_op_name(n->op), why);
}

static bool known(const ir_value *v, int rank)
{
	return v && v->rank == rank && ir_value_shape_known(v);
}

odet_status ir_shape_BOX_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *d = ir_in(g, n, 0), *a = ir_in(g, n, 1);
	if (!known(d, 3) || !known(a, 2))
		return d && a ? ODET_OK : bad(g, n, "needs inputs deltas and anchors");
	int layout = (int)ir_attr_int(n, "layout", 0);
	int64_t N = layout ? d->dims[2] : d->dims[1], four = layout ? d->dims[1] : d->dims[2];
	if (four != 4 || a->dims[0] != N || a->dims[1] != 4)
		return bad(g, n, "deltas must be [B,N,4] (or [B,4,N] with layout 1) and anchors [N,4]");
	int64_t coder = ir_attr_int(n, "coder", 0);
	if (coder != 0 && coder != 1)
		return odet_error(g->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (BoxDecode): coder %lld (0 or 1)", n->name,
				  (long long)coder);
	int64_t dims[3] = {d->dims[0], N, 4};
	set_out(g, n, 0, ODET_F32, 3, dims);
	return ODET_OK;
}

odet_status ir_shape_CLASS_SCORES(ir_graph *g, ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!known(x, 3))
		return x ? ODET_OK : bad(g, n, "needs input logits");
	int layout = (int)ir_attr_int(n, "layout", 0);
	int64_t dims[3] = {x->dims[0], layout ? x->dims[2] : x->dims[1], layout ? x->dims[1] : x->dims[2]};
	if (dims[2] < 1)
		return bad(g, n, "no classes");
	set_out(g, n, 0, ODET_F32, 3, dims);
	return ODET_OK;
}

odet_status ir_shape_YOLO_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	int version = (int)ir_attr_int(n, "version", 5);
	int decoded = ir_attr_int(n, "decoded", 0) != 0;
	if (!x)
		return bad(g, n, "needs an input");
	if (!known(x, decoded ? 3 : 4))
		return ODET_OK;
	int64_t B = x->dims[0], M, C, t;
	if (decoded) {
		M = version == 5 ? x->dims[1] : x->dims[2];
		C = (version == 5 ? x->dims[2] : x->dims[1]) - (version == 5 ? 5 : 4);
	} else if (version == 5) {
		const float *an;
		int64_t A = ir_attr_floats(n, "anchors", &an) / 2;
		if (A < 1 || x->dims[1] % A)
			return bad(g, n, "channels are not a multiple of the anchor count");
		C = x->dims[1] / A - 5;
		if (!odet_mul_i64(A, x->dims[2], &t) || !odet_mul_i64(t, x->dims[3], &M))
			return bad(g, n, "size overflows");
	} else {
		int64_t R = ir_attr_int(n, "reg_max", 16);
		if (R < 1 || R > 1024)
			return bad(g, n, "reg_max out of range");
		C = x->dims[1] - 4 * R;
		if (!odet_mul_i64(x->dims[2], x->dims[3], &M))
			return bad(g, n, "size overflows");
	}
	if (C < 1)
		return bad(g, n, "input has no class channels");
	int64_t bd[3] = {B, M, 4}, sd[3] = {B, M, C};
	set_out(g, n, 0, ODET_F32, 3, bd);
	set_out(g, n, 1, ODET_F32, 3, sd);
	return ODET_OK;
}

odet_status ir_shape_BATCHED_NMS(ir_graph *g, ir_node *n)
{
	const ir_value *b = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	if (!b || !s || n->n_out != 4)
		return bad(g, n, "needs boxes, scores and 4 outputs");
	int64_t K = ir_attr_int(n, "max_detections", 100);
	if (K < 1 || K > (1 << 24))
		return bad(g, n, "max_detections out of range [1, 2^24]");
	int64_t act = ir_attr_int(n, "activation", 0), layout = ir_attr_int(n, "layout", 0);
	if (act < 0 || act > 2 || (layout != 0 && layout != 1))
		return bad(g, n, "activation must be 0..2 and layout 0 or 1");
	if ((act || layout) && s->dtype != ODET_DTYPE_UNDEFINED && s->dtype != ODET_F32 && s->dtype != ODET_F16 &&
	    s->dtype != ODET_BF16 && s->dtype != ODET_F64)
		return bad(g, n, "logits must be a float tensor");
	if (!known(b, 3) || !known(s, 3))
		return ODET_OK;
	int64_t N = layout ? s->dims[2] : s->dims[1];
	if (b->dims[2] != 4 || b->dims[0] != s->dims[0] || b->dims[1] != N)
		return bad(g, n, layout ? "boxes must be [B,N,4] and logits [B,C,N] (layout 1)"
					: "boxes must be [B,N,4] and scores [B,N,C]");
	int64_t B = b->dims[0], d1[1] = {B}, d3[3] = {B, K, 4}, d2[2] = {B, K};
	set_out(g, n, 0, ODET_I32, 1, d1);
	set_out(g, n, 1, ODET_F32, 3, d3);
	set_out(g, n, 2, ODET_F32, 2, d2);
	set_out(g, n, 3, ODET_I32, 2, d2);
	return ODET_OK;
}
