/*
 * merge_convs.c — sibling head convolutions into one (CUDA float16 NHWC engines, after the
 * layout pass).
 *
 * SSD's heads put two convs on every feature map: loc (4 x anchors outputs, 16 or 24 channels)
 * and conf (classes x anchors, 324 or 486), same input, same 3x3 geometry. A conv with 16
 * output channels uses a fraction of a tensor-core tile (SSD300-R50's loc.0: 0.24 ms at batch 64,
 * 113 TFLOP/s, next to conf.0's 1.04 ms at 531). Merged, the pair is one conv with the outputs
 * side by side in the channel dim; each original output becomes a Slice of the channels, which
 * fuse_concat_views then reads in place (its views start at a Slice of their source).
 *
 * Merged: live NHWC Convs with the same input value, constant weights of one dtype, identical
 * attributes (geometry, group 1, fused activation), no residual input, whose NHWC outputs are
 * each read only by the layout pass's Transpose back to NCHW (head outputs: the Slices cost
 * nothing only when a Concat's view chain absorbs them). A missing bias counts as zeros.
 */
#include "passes/pass_util.h"

#include <stdlib.h>
#include <string.h>

static bool attrs_equal(const ir_node *a, const ir_node *b)
{
	if (a->n_attrs != b->n_attrs)
		return false;
	for (int i = 0; i < a->n_attrs; i++) {
		const ir_attr *x = &a->attrs[i], *y = ir_attr_get(b, a->attrs[i].name);
		if (!y || x->type != y->type)
			return false;
		switch (x->type) {
		case IR_ATTR_INT: if (x->i != y->i) return false; break;
		case IR_ATTR_FLOAT: if (x->f != y->f) return false; break;
		case IR_ATTR_STRING: if (x->s_len != y->s_len || memcmp(x->s, y->s, x->s_len)) return false; break;
		case IR_ATTR_INTS:
			if (x->n != y->n || (x->n && memcmp(x->ints, y->ints, sizeof(int64_t) * (size_t)x->n)))
				return false;
			break;
		case IR_ATTR_FLOATS:
			if (x->n != y->n || (x->n && memcmp(x->floats, y->floats, sizeof(float) * (size_t)x->n)))
				return false;
			break;
		default: return false;
		}
	}
	return true;
}

/* a head conv: NHWC, group 1, constant weight [M,kh,kw,C], optional constant bias, no
 * residual, output read only by one Transpose */
static bool head_conv(const ir_graph *g, int i)
{
	const ir_node *n = &g->nodes[i];
	if (n->dead || n->op != IR_OP_CONV || !ir_attr_int(n, "odet_nhwc", 0) || ir_attr_int(n, "group", 1) != 1 ||
	    n->n_in < 2 || (n->n_in > 3 && n->in[3] >= 0) || n->out[0] < 0)
		return false;
	const ir_value *w = ir_in(g, n, 1), *b = n->n_in > 2 ? ir_in(g, n, 2) : NULL;
	if (!w || w->kind != IR_VALUE_CONST || !w->data || w->rank != 4)
		return false;
	if (b && (b->kind != IR_VALUE_CONST || !b->data || b->rank != 1 || b->dtype != w->dtype))
		return false;
	int r = pass_sole_consumer(g, n->out[0]);
	return r >= 0 && g->nodes[r].op == IR_OP_TRANSPOSE;
}

static bool siblings(const ir_graph *g, int a, int b)
{
	const ir_node *x = &g->nodes[a], *y = &g->nodes[b];
	const ir_value *wx = ir_in(g, x, 1), *wy = ir_in(g, y, 1);
	return x->in[0] == y->in[0] && wx->dtype == wy->dtype && wx->dims[1] == wy->dims[1] &&
	       wx->dims[2] == wy->dims[2] && wx->dims[3] == wy->dims[3] && attrs_equal(x, y);
}

static int add_slice(ir_graph *g, int src, int dst, int64_t start, int64_t end, const char *name)
{
	int64_t one[1] = {1};
	int64_t *s = malloc(sizeof(int64_t)), *e = malloc(sizeof(int64_t)), *ax = malloc(sizeof(int64_t));
	if (!s || !e || !ax) {
		free(s);
		free(e);
		free(ax);
		return -1;
	}
	*s = start, *e = end, *ax = 3;
	char nm[300];
	snprintf(nm, sizeof nm, "%s_starts", name);
	int sv = ir_const_add(g, nm, ODET_I64, 1, one, s);
	snprintf(nm, sizeof nm, "%s_ends", name);
	int ev = ir_const_add(g, nm, ODET_I64, 1, one, e);
	snprintf(nm, sizeof nm, "%s_axes", name);
	int av = ir_const_add(g, nm, ODET_I64, 1, one, ax);
	if (sv < 0 || ev < 0 || av < 0)
		return -1;
	int in[4] = {src, sv, ev, av};
	int node = ir_node_add(g, IR_OP_SLICE, name, 4, in, 1, &dst);
	if (node < 0)
		return -1;
	g->values[dst].producer = node;
	return node;
}

/* Merge conv b into conv a (a keeps its name and attributes; a's output becomes the merged
 * tensor; both old outputs are Slices of it). */
static odet_status merge(ir_graph *g, int a, int b)
{
	odet_ctx *ctx = g->ctx;
	const ir_value *wa = ir_in(g, &g->nodes[a], 1), *wb = ir_in(g, &g->nodes[b], 1);
	int64_t ma = wa->dims[0], mb = wb->dims[0], row = wa->dims[1] * wa->dims[2] * wa->dims[3];
	size_t es = odet_dtype_size(wa->dtype);
	odet_dtype dt = wa->dtype;
	unsigned char *w = malloc((size_t)((ma + mb) * row) * es), *bias = calloc((size_t)(ma + mb), es);
	if (!w || !bias) {
		free(w);
		free(bias);
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "merge_convs: out of memory");
	}
	memcpy(w, wa->data, (size_t)(ma * row) * es);
	memcpy(w + (size_t)(ma * row) * es, wb->data, (size_t)(mb * row) * es);
	const ir_value *ba = g->nodes[a].n_in > 2 ? ir_in(g, &g->nodes[a], 2) : NULL;
	const ir_value *bb = g->nodes[b].n_in > 2 ? ir_in(g, &g->nodes[b], 2) : NULL;
	if (ba)
		memcpy(bias, ba->data, (size_t)ma * es);
	if (bb)
		memcpy(bias + (size_t)ma * es, bb->data, (size_t)mb * es);
	int64_t wd[4] = {ma + mb, wa->dims[1], wa->dims[2], wa->dims[3]}, bd[1] = {ma + mb};
	char name[300];
	snprintf(name, sizeof name, "%s+%s", g->nodes[a].name, g->nodes[b].name);
	char wn[320];
	snprintf(wn, sizeof wn, "%s_w", name);
	int wv = ir_const_add(g, wn, dt, 4, wd, w);
	snprintf(wn, sizeof wn, "%s_b", name);
	int bv = ir_const_add(g, wn, dt, 1, bd, bias);
	int ya = g->nodes[a].out[0], yb = g->nodes[b].out[0];
	const ir_value *y = &g->values[ya];
	int64_t yd[4] = {y->dims[0], y->dims[1], y->dims[2], ma + mb};
	snprintf(wn, sizeof wn, "%s_out", name);
	int ym = wv < 0 || bv < 0 ? -1 : ir_value_add(g, wn, y->dtype, 4, yd);
	if (ym < 0 || pass_node_set_input(g, a, 1, wv) || pass_node_set_input(g, a, 2, bv))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "merge_convs: out of memory");
	g->nodes[a].out[0] = ym;
	g->values[ym].producer = a;
	pass_node_kill(g, b);
	char sn[320];
	snprintf(sn, sizeof sn, "%s_slice0", name);
	if (add_slice(g, ym, ya, 0, ma, sn) < 0)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "merge_convs: out of memory");
	snprintf(sn, sizeof sn, "%s_slice1", name);
	if (add_slice(g, ym, yb, ma, ma + mb, sn) < 0)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "merge_convs: out of memory");
	return ODET_OK;
}

odet_status pass_merge_sibling_convs(ir_graph *g)
{
	int n0 = g->n_nodes, merged = 0;
	for (int a = 0; a < n0; a++) {
		if (!head_conv(g, a))
			continue;
		for (int b = a + 1; b < n0; b++) {
			if (!head_conv(g, b) || !siblings(g, a, b))
				continue;
			odet_status rc = merge(g, a, b);
			if (rc)
				return rc;
			merged++;
			break; /* a's output is now a merged tensor read by Slices: a is no head conv any more */
		}
	}
	if (!merged)
		return ODET_OK;
	odet_status rc;
	if ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
		return rc;
	odet_log(g->ctx, ODET_LOG_INFO, "merge_convs: %d pairs of sibling head convs merged", merged);
	return ODET_OK;
}
