/*
 * shape_heads_dense.c — shapes of the dense-prediction head ops (ops.def, domain "odet"):
 *   CenterNetDecode  heat [B,H,W,C] | [B,C,H,W], sizes with 4 channels -> boxes [B,K,4], scores [B,K,C]
 *   DistDecode       dist [B,N,4R]                                      -> boxes [B,N,4]
 */
#include "graph/ir.h"

static void set3(ir_graph *g, const ir_node *n, int k, int64_t a, int64_t b, int64_t c)
{
	ir_value *v = ir_out(g, n, k);
	if (!v)
		return;
	v->dtype = ODET_F32;
	v->rank = 3;
	v->dims[0] = a, v->dims[1] = b, v->dims[2] = c;
}

static odet_status bad(ir_graph *g, const ir_node *n, const char *why)
{
	return odet_error(g->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): %s", n->name, ir_op_name(n->op), why);
}

odet_status ir_shape_CENTERNET_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *h = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	if (!h || !s || n->n_out != 2)
		return bad(g, n, "needs inputs heat and sizes, outputs boxes and scores");
	if (!ir_value_shape_known(h) || !ir_value_shape_known(s))
		return ODET_OK;
	int nhwc = (int)ir_attr_int(n, "layout", 1);
	if (h->rank != 4 || s->rank != 4)
		return bad(g, n, "heat and sizes must be 4-D");
	int64_t B = h->dims[0], C = nhwc ? h->dims[3] : h->dims[1];
	int64_t H = nhwc ? h->dims[1] : h->dims[2], W = nhwc ? h->dims[2] : h->dims[3];
	int64_t sc = nhwc ? s->dims[3] : s->dims[1], sh = nhwc ? s->dims[1] : s->dims[2];
	int64_t sw = nhwc ? s->dims[2] : s->dims[3];
	if (s->dims[0] != B || sc != 4 || sh != H || sw != W)
		return bad(g, n, "sizes must have the heat map's batch, height and width and 4 channels");
	int64_t k = ir_attr_int(n, "k", 100), cells;
	if (!odet_mul_i64(H, W, &cells) || !odet_mul_i64(cells, C, &cells) || k < 1 || k > cells)
		return bad(g, n, "k must be in 1..H*W*C");
	set3(g, n, 0, B, k, 4);
	set3(g, n, 1, B, k, C);
	return ODET_OK;
}

odet_status ir_shape_DIST_DECODE(ir_graph *g, ir_node *n)
{
	const ir_value *d = ir_in(g, n, 0);
	if (!d || n->n_out != 1)
		return bad(g, n, "needs one input and one output");
	if (!ir_value_shape_known(d))
		return ODET_OK;
	int64_t gw = ir_attr_int(n, "grid_w", 0);
	if (d->rank != 3 || d->dims[2] % 4 || d->dims[2] < 4)
		return bad(g, n, "distributions must be [B,N,4R]");
	if (gw < 1 || d->dims[1] % gw)
		return bad(g, n, "grid_w must divide N");
	set3(g, n, 0, d->dims[0], d->dims[1], 4);
	return ODET_OK;
}
