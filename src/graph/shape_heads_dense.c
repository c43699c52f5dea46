/*
 * shape_heads_dense.c — shapes of the dense-prediction head ops (ops.def, domain "odet"):
 *   CenterNetDecode  heat [B,H,W,C] | [B,C,H,W], sizes with 4 channels -> boxes [B,K,4], scores [B,K,C]
 *   DistDecode       dist [B,N,4R]                                      -> boxes [B,N,4]
 */
#include "graph/shape_common.h"

/* Output k: f32 [a,b,c] (-1 = unknown); written on every OK path (plan load re-infers). */
static odet_status set3(ir_graph *g, const ir_node *n, int k, int64_t a, int64_t b, int64_t c)
{
	ir_value *v = ir_out(g, n, k);
	if (!v)
		return shp_fail(g, n, "output %d is missing", k);
	odet_status rc = shp_out_begin(g, n, v, ODET_F32, 3);
	if (!rc)
		rc = shp_out_dim(g, v, 0, a, NULL);
	if (!rc)
		rc = shp_out_dim(g, v, 1, b, NULL);
	if (!rc)
		rc = shp_out_dim(g, v, 2, c, NULL);
	return rc;
}

/* a == b when both are known */
static bool agree(int64_t a, int64_t b)
{
	return a < 0 || b < 0 || a == b;
}

odet_status ir_shape_CENTERNET_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *h = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	odet_status rc = shp_check_io(g, n, 2, 2, 2, 2);
	if (rc)
		return rc;
	if (!h || !s)
		return shp_fail(g, n, "needs inputs heat and sizes, outputs boxes and scores");
	if ((h->rank >= 0 && h->rank != 4) || (s->rank >= 0 && s->rank != 4))
		return shp_fail(g, n, "heat and sizes must be 4-D");
	int64_t nhwc = ir_attr_int(n, "layout", 1), k = ir_attr_int(n, "k", 100);
	if (nhwc != 0 && nhwc != 1)
		return shp_fail(g, n, "layout %lld (0 or 1)", (long long)nhwc);
	if (h->rank < 0 || s->rank < 0) {
		if (k < 1)
			return shp_fail(g, n, "k must be positive");
		rc = set3(g, n, 0, -1, k, 4);
		return rc ? rc : set3(g, n, 1, -1, k, -1);
	}
	int64_t B = h->dims[0], C = nhwc ? h->dims[3] : h->dims[1];
	int64_t H = nhwc ? h->dims[1] : h->dims[2], W = nhwc ? h->dims[2] : h->dims[3];
	int64_t sc = nhwc ? s->dims[3] : s->dims[1], sh = nhwc ? s->dims[1] : s->dims[2];
	int64_t sw = nhwc ? s->dims[2] : s->dims[3];
	if (!agree(s->dims[0], B) || !agree(sc, 4) || !agree(sh, H) || !agree(sw, W))
		return shp_fail(g, n, "sizes must have the heat map's batch, height and width and 4 channels");
	int64_t cells;
	if (k < 1)
		return shp_fail(g, n, "k must be in 1..H*W*C");
	if (H >= 0 && W >= 0 && C >= 0 &&
	    (!odet_mul_i64(H, W, &cells) || !odet_mul_i64(cells, C, &cells) || k > cells))
		return shp_fail(g, n, "k must be in 1..H*W*C");
	rc = set3(g, n, 0, B >= 0 ? B : s->dims[0], k, 4);
	return rc ? rc : set3(g, n, 1, B >= 0 ? B : s->dims[0], k, C);
}

odet_status ir_shape_DIST_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *d = ir_in(g, n, 0);
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (rc)
		return rc;
	if (!d)
		return shp_fail(g, n, "needs one input and one output");
	int64_t gw = ir_attr_int(n, "grid_w", 0);
	if (gw < 1)
		return shp_fail(g, n, "grid_w must divide N");
	if (d->rank < 0)
		return set3(g, n, 0, -1, -1, 4);
	if (d->rank != 3 || (d->dims[2] >= 0 && (d->dims[2] % 4 || d->dims[2] < 4)))
		return shp_fail(g, n, "distributions must be [B,N,4R]");
	if (d->dims[1] >= 0 && d->dims[1] % gw)
		return shp_fail(g, n, "grid_w must divide N");
	return set3(g, n, 0, d->dims[0], d->dims[1], 4);
}
