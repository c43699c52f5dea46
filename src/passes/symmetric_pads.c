/*
 * symmetric_pads.c — make every 2-D Conv's padding symmetric (cuDNN takes one pad per
 * spatial dim). TF's SAME padding with stride 2 pads one more pixel at the end than at the
 * start; such a Conv gets an explicit zero Pad node in front of it carrying the difference,
 * and keeps the symmetric part itself (auto_pad becomes NOTSET with explicit pads).
 *   effective pads: NOTSET from `pads`; VALID 0; SAME_UPPER/LOWER: total =
 *   max((ceil(i/s) - 1) * s + (k - 1) * d + 1 - i, 0), UPPER puts the odd pixel at the end.
 * Needs known input shapes (run after inference); Convs already symmetric are untouched.
 */
#include "passes/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void effective_pads(const ir_node *n, const ir_value *x, const ir_value *w, int64_t pb[2], int64_t pe[2])
{
	const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
	const int64_t *pads, *st, *dl;
	int np = ir_attr_ints(n, "pads", &pads), ns = ir_attr_ints(n, "strides", &st);
	int nd = ir_attr_ints(n, "dilations", &dl);
	for (int i = 0; i < 2; i++) {
		int64_t in = x->dims[2 + i], k = w->dims[2 + i];
		int64_t s = ns == 2 ? st[i] : 1, d = nd == 2 ? dl[i] : 1;
		pb[i] = pe[i] = 0;
		if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
			int64_t out = (in + s - 1) / s;
			int64_t total = (out - 1) * s + (k - 1) * d + 1 - in;
			if (total < 0)
				total = 0;
			int64_t small = total / 2, big = total - small;
			bool upper = !strcmp(ap, "SAME_UPPER");
			pb[i] = upper ? small : big;
			pe[i] = upper ? big : small;
		} else if (!strcmp(ap, "NOTSET") && np == 4) {
			pb[i] = pads[i];
			pe[i] = pads[2 + i];
		}
	}
}

odet_status pass_symmetric_conv_pads(ir_graph *g)
{
	int n0 = g->n_nodes;
	for (int ni = 0; ni < n0; ni++) {
		ir_node *n = &g->nodes[ni];
		if (n->dead || n->op != IR_OP_CONV)
			continue;
		const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
		if (!x || !w || x->rank != 4 || w->rank != 4 || !ir_value_shape_known(x) || !ir_value_shape_known(w))
			continue;
		int64_t pb[2], pe[2];
		effective_pads(n, x, w, pb, pe);
		if (pb[0] == pe[0] && pb[1] == pe[1])
			continue;
		/* Pad carries (begin - m, end - m) per dim, the Conv keeps m = min(begin, end) */
		int64_t m[2] = {pb[0] < pe[0] ? pb[0] : pe[0], pb[1] < pe[1] ? pb[1] : pe[1]};
		int64_t padv[8] = {0, 0, pb[0] - m[0], pb[1] - m[1], 0, 0, pe[0] - m[0], pe[1] - m[1]};
		int64_t *pd = malloc(sizeof padv);
		if (!pd)
			return odet_error(g->ctx, ODET_ERR_NO_MEMORY, "out of memory");
		memcpy(pd, padv, sizeof padv);
		int64_t eight = 8;
		char name[600];
		snprintf(name, sizeof name, "%s/odet_pads", n->name);
		int pv = ir_const_add(g, name, ODET_I64, 1, &eight, pd);
		int64_t dims[4] = {x->dims[0], x->dims[1], x->dims[2] + padv[2] + padv[6], x->dims[3] + padv[3] + padv[7]};
		snprintf(name, sizeof name, "%s/odet_padded", n->name);
		int xv = pv < 0 ? -1 : ir_value_add(g, name, x->dtype, 4, dims);
		if (xv < 0)
			return ODET_ERR_NO_MEMORY;
		n = &g->nodes[ni];
		int ins[2] = {n->in[0], pv};
		snprintf(name, sizeof name, "%s/odet_pad", n->name);
		int pn = ir_node_add(g, IR_OP_PAD, name, 2, ins, 1, &xv);
		if (pn < 0 || ir_attr_set_string(g, pn, "mode", "constant"))
			return ODET_ERR_NO_MEMORY;
		n = &g->nodes[ni];
		n->in[0] = xv;
		int64_t cp[4] = {m[0], m[1], m[0], m[1]};
		odet_status rc = ir_attr_set_string(g, ni, "auto_pad", "NOTSET");
		if (!rc)
			rc = ir_attr_set_ints(g, ni, "pads", cp, 4);
		if (rc)
			return rc;
	}
	/* the Pad nodes were appended: restore topological order, then shapes */
	odet_status rc = ir_graph_toposort(g);
	return rc ? rc : pass_infer_shapes(g);
}
