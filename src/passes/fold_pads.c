/*
 * fold_pads.c — a zero Pad in front of 2-D convolutions becomes the convolutions' own padding.
 *
 * TF.js graphs (NanoDet: 29 of them) pad explicitly before every VALID conv. A separate Pad
 * costs a copy of the tensor, and in an INT8 engine it also keeps the conv before it from
 * writing int8 (its reader is the Pad, not a quantized conv), so a QuantizeLinear runs too.
 *
 * Rewritten: Pad(X, pads) -> Y, mode constant with value 0 (or none), rank 4, pads constant,
 * non-negative and only on the two spatial dims, no axes input, Y not a graph output, every
 * reader of Y a Conv reading it as X (input 0) whose W is rank 4, auto_pad NOTSET or VALID;
 * each such Conv then reads X with pads + the Pad's, and the Pad goes. Kept when a conv's new
 * padding would exceed its dilated kernel extent minus one on a side (a window entirely in
 * the padding: some kernels refuse it), so the engine's outputs are the same numbers: a zero
 * border is what a conv's padding is.
 */
#include "passes/pass_util.h"

#include <string.h>

/* The Pad's spatial begins/ends (pb[2], pe[2]) when it qualifies (file comment) */
static bool foldable_pad(const ir_graph *g, const ir_node *n, int64_t pb[2], int64_t pe[2])
{
	if (n->dead || n->op != IR_OP_PAD || n->n_out != 1 || n->n_in < 2 || (n->n_in > 3 && n->in[3] >= 0) ||
	    !pass_zero_const_pad(g, n))
		return false;
	const ir_value *x = ir_in(g, n, 0), *p = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !p || !y || y->is_output || x->rank != 4 || p->kind != IR_VALUE_CONST || !p->data ||
	    ir_value_numel(p) != 8 || (p->dtype != ODET_I64 && p->dtype != ODET_I32))
		return false;
	int64_t v[8];
	for (int i = 0; i < 8; i++)
		if ((v[i] = ir_const_i64(p, i)) < 0)
			return false;
	if (v[0] || v[1] || v[4] || v[5])
		return false;
	pb[0] = v[2], pb[1] = v[3], pe[0] = v[6], pe[1] = v[7];
	return true;
}

/* The Conv's padding (begins cb, ends ce) when it can take more, and its dilated kernel extent - 1 */
static bool foldable_conv(const ir_graph *g, const ir_node *n, int v, int64_t cb[2], int64_t ce[2], int64_t lim[2])
{
	if (n->op != IR_OP_CONV || n->n_in < 2 || n->in[0] != v)
		return false;
	for (int k = 1; k < n->n_in; k++)
		if (n->in[k] == v)
			return false;
	const ir_value *w = ir_in(g, n, 1);
	const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
	if (!w || w->rank != 4 || !ir_value_shape_known(w) || (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")))
		return false;
	const int64_t *pads, *dl;
	int np = ir_attr_ints(n, "pads", &pads), nd = ir_attr_ints(n, "dilations", &dl);
	if ((np && np != 4) || (nd && nd != 2))
		return false;
	for (int i = 0; i < 2; i++) {
		bool notset = !strcmp(ap, "NOTSET") && np == 4;
		cb[i] = notset ? pads[i] : 0;
		ce[i] = notset ? pads[2 + i] : 0;
		lim[i] = (w->dims[2 + i] - 1) * (nd ? dl[i] : 1);
	}
	return true;
}

static odet_status fold_one(ir_graph *g, int pi, bool *done)
{
	*done = false;
	int64_t pb[2], pe[2], cb[2], ce[2], lim[2];
	if (!foldable_pad(g, &g->nodes[pi], pb, pe))
		return ODET_OK;
	const int x = g->nodes[pi].in[0], y = g->nodes[pi].out[0];
	int readers = 0;
	for (int k = 0; k < g->n_nodes; k++) {
		const ir_node *n = &g->nodes[k];
		bool reads = false;
		for (int i = 0; !n->dead && i < n->n_in; i++)
			reads |= n->in[i] == y;
		if (!reads)
			continue;
		if (!foldable_conv(g, n, y, cb, ce, lim))
			return ODET_OK;
		for (int i = 0; i < 2; i++)
			if (cb[i] + pb[i] > lim[i] || ce[i] + pe[i] > lim[i])
				return ODET_OK;
		readers++;
	}
	if (!readers)
		return ODET_OK;
	for (int k = 0; k < g->n_nodes; k++) {
		ir_node *n = &g->nodes[k];
		if (n->dead || n->op != IR_OP_CONV || n->in[0] != y)
			continue;
		foldable_conv(g, n, y, cb, ce, lim);
		int64_t np[4] = {cb[0] + pb[0], cb[1] + pb[1], ce[0] + pe[0], ce[1] + pe[1]};
		odet_status rc = ir_attr_set_string(g, k, "auto_pad", "NOTSET");
		if (!rc)
			rc = ir_attr_set_ints(g, k, "pads", np, 4);
		if (rc)
			return rc;
		g->nodes[k].in[0] = x;
	}
	pass_node_kill(g, pi);
	*done = true;
	return ODET_OK;
}

odet_status pass_fold_pads(ir_graph *g)
{
	int count = 0;
	odet_status rc = pass_fuse_each(g, IR_OP_PAD, fold_one, &count);
	if (!rc && count)
		odet_log(g->ctx, ODET_LOG_DEBUG, "fold_pads: %d Pad nodes folded into convolutions", count);
	return rc;
}
