/*
 * fuse_concat_views.c — a Concat whose inputs are views (chains of Transpose / Reshape /
 * Flatten / Squeeze / Unsqueeze / Identity) of other tensors, optionally followed by a Cast,
 * becomes one PermuteConcat node that reads the source tensors directly.
 *
 * Detection heads end this way: per feature level conv -> Transpose(NHWC->NCHW, from the
 * layout pass) -> Reshape [N,A,-1] (-> Permute -> Reshape, RetinaNet) -> Concat -> Cast to
 * float32 (graph output or head input). Each step is a full copy of the head's largest tensors
 * (SSD300 at batch 256: 362 MB of scores, four times). PermuteConcat does it in one pass.
 *
 * A chain of views is composed into its canonical form: the source X seen as a shape of
 * "atoms" (X's dims, split where a Reshape cuts through one), the atoms permuted, the result
 * flattened — then atoms adjacent in both orders are merged (SSD's chain becomes the batched
 * 2-D transpose [N, H*W, C] -> [N, C, H*W]; RetinaNet's Transpose + view + permute chain
 * becomes the identity, a plain copy). A chain that cannot be composed (a Reshape that does
 * not regroup whole atoms, more than PC_MAX_ATOMS atoms) stops at that point: the value there
 * is the source. Only values with exactly one reader that are not graph outputs are absorbed,
 * so nothing is computed twice. Runs on the final graph (after the precision and layout
 * passes); shapes must be known.
 *
 * A chain may start with a Slice of its source (steps 1, constant starts: merge_convs.c's
 * channel halves of a merged conv): the atoms then keep the source's strides and an offset.
 *
 * Attributes of PermuteConcat (spec: backend/cpu/permute_concat.c): axis, to (output dtype),
 * shape (output dims), vrank (per input: number of atoms), vshape / vperm / vstride (the atoms
 * of all inputs, concatenated), voffset (per input).
 */
#include "passes/pass_util.h"

#include <stdlib.h>
#include <string.h>

#define PC_MAX_ATOMS 16

typedef struct view {
	int m;                     /* atoms */
	int64_t s[PC_MAX_ATOMS];   /* atom sizes, source order */
	int64_t st[PC_MAX_ATOMS];  /* atom strides in the source (elements) */
	int64_t off;               /* element offset of the view's first element */
	int p[PC_MAX_ATOMS];       /* logical order: p[j] = source atom at logical position j */
	int nd;                    /* current dims */
	int gc[ODET_MAX_RANK];     /* atoms per current dim (0 for a dim of size 1) */
} view;

/* The source x [dims of x], or (sl != NULL) Slice(x) with steps 1 and constant starts: dims
 * `dims` (the Slice's output) inside x's row-major strides, from element `off`. */
static bool view_init_dims(view *w, const ir_value *x, const int64_t *dims, int64_t off)
{
	memset(w, 0, sizeof *w);
	if (x->rank < 0 || x->rank > ODET_MAX_RANK || !ir_value_shape_known(x))
		return false;
	w->nd = x->rank;
	w->off = off;
	int64_t stride = 1, xs[ODET_MAX_RANK];
	for (int k = x->rank - 1; k >= 0; k--) {
		xs[k] = stride;
		stride *= x->dims[k];
	}
	for (int k = 0; k < x->rank; k++) {
		if (dims[k] < 1)
			return false;
		if (dims[k] == 1)
			continue;
		if (w->m == PC_MAX_ATOMS)
			return false;
		w->s[w->m] = dims[k];
		w->st[w->m] = xs[k];
		w->p[w->m] = w->m;
		w->m++;
		w->gc[k] = 1;
	}
	return true;
}

static bool view_init(view *w, const ir_value *x)
{
	return view_init_dims(w, x, x->dims, 0);
}

/* Slice(x, starts, ends, axes[, steps]) with constant starts/axes and steps 1 */
static bool view_init_slice(view *w, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0), *sv = ir_in(g, n, 1),
		       *av = n->n_in > 3 ? ir_in(g, n, 3) : NULL, *pv = n->n_in > 4 ? ir_in(g, n, 4) : NULL;
	if (!x || !y || !sv || !ir_value_shape_known(x) || !ir_value_shape_known(y) || y->rank != x->rank ||
	    sv->kind != IR_VALUE_CONST || !sv->data || (av && (av->kind != IR_VALUE_CONST || !av->data)) ||
	    (pv && (pv->kind != IR_VALUE_CONST || !pv->data)))
		return false;
	int64_t ns = ir_value_numel(sv), off = 0, stride = 1, xs[ODET_MAX_RANK];
	if (ns < 1 || ns > x->rank || (av && ir_value_numel(av) != ns) || (pv && ir_value_numel(pv) != ns))
		return false;
	for (int k = x->rank - 1; k >= 0; k--) {
		xs[k] = stride;
		stride *= x->dims[k];
	}
	for (int64_t i = 0; i < ns; i++) {
		int64_t ax = av ? ir_const_i64(av, i) : i, st = ir_const_i64(sv, i);
		if (ax < 0)
			ax += x->rank;
		if (ax < 0 || ax >= x->rank || (pv && ir_const_i64(pv, i) != 1))
			return false;
		int64_t d = x->dims[ax];
		if (st < 0)
			st += d;
		st = st < 0 ? 0 : st > d ? d : st;
		if (st + y->dims[ax] > d)
			return false;
		off += st * xs[ax];
	}
	return view_init_dims(w, x, y->dims, off);
}

static bool view_transpose(view *w, const int64_t *perm, int n)
{
	if (n != w->nd)
		return false;
	int start[ODET_MAX_RANK + 1] = {0}, np[PC_MAX_ATOMS], ngc[ODET_MAX_RANK], j = 0;
	for (int k = 0; k < n; k++)
		start[k + 1] = start[k] + w->gc[k];
	for (int k = 0; k < n; k++) {
		if (perm[k] < 0 || perm[k] >= n)
			return false;
		int d = (int)perm[k];
		for (int a = start[d]; a < start[d + 1]; a++)
			np[j++] = w->p[a];
		ngc[k] = w->gc[d];
	}
	if (j != w->m)
		return false; /* a repeated axis */
	memcpy(w->p, np, sizeof(int) * (size_t)w->m);
	memcpy(w->gc, ngc, sizeof(int) * (size_t)n);
	return true;
}

/* split source atom a into (hi, lo) with hi of size `hi` (hi first in both orders) */
static bool view_split(view *w, int pos, int64_t hi)
{
	if (w->m == PC_MAX_ATOMS)
		return false;
	int a = w->p[pos];
	int64_t lo = w->s[a] / hi, st = w->st[a];
	memmove(&w->s[a + 2], &w->s[a + 1], sizeof(int64_t) * (size_t)(w->m - a - 1));
	memmove(&w->st[a + 2], &w->st[a + 1], sizeof(int64_t) * (size_t)(w->m - a - 1));
	w->s[a] = hi;
	w->s[a + 1] = lo;
	w->st[a] = st * lo;
	w->st[a + 1] = st;
	for (int j = 0; j < w->m; j++)
		if (w->p[j] > a)
			w->p[j]++;
	memmove(&w->p[pos + 2], &w->p[pos + 1], sizeof(int) * (size_t)(w->m - pos - 1));
	w->p[pos + 1] = a + 1;
	w->m++;
	return true;
}

static int view_canonical(const view *w, int64_t *vshape, int64_t *vperm, int64_t *vstride);

static bool view_reshape(view *w, const int64_t *e, int n)
{
	if (n > ODET_MAX_RANK)
		return false;
	/* a reshape regroups the logical order: first merge atoms adjacent in both orders, so
	 * that e.g. [5,6] -> [3,10] is a split of one atom of 30 */
	int64_t vs[PC_MAX_ATOMS], vp[PC_MAX_ATOMS], vt[PC_MAX_ATOMS];
	if (w->m > 0) {
		int m = view_canonical(w, vs, vp, vt);
		for (int k = 0; k < m; k++) {
			w->s[k] = vs[k];
			w->st[k] = vt[k];
			w->p[k] = (int)vp[k];
		}
		w->m = m;
	}
	int j = 0, ngc[ODET_MAX_RANK];
	for (int k = 0; k < n; k++) {
		int64_t prod = 1;
		int cnt = 0;
		if (e[k] < 1)
			return false;
		while (prod < e[k]) {
			if (j >= w->m)
				return false;
			int64_t sz = w->s[w->p[j]];
			if (e[k] % (prod * sz) != 0) {
				int64_t need = e[k] / prod;
				if (e[k] % prod || sz % need || !view_split(w, j, need))
					return false;
				sz = need;
			}
			prod *= sz;
			cnt++;
			j++;
		}
		ngc[k] = cnt;
	}
	if (j != w->m)
		return false;
	w->nd = n;
	memcpy(w->gc, ngc, sizeof(int) * (size_t)n);
	return true;
}

/* merge atoms adjacent in both orders whose strides chain; write vshape and vstride (source
 * order) and vperm */
static int view_canonical(const view *w, int64_t *vshape, int64_t *vperm, int64_t *vstride)
{
	if (w->m == 0) {
		vshape[0] = 1;
		vperm[0] = 0;
		vstride[0] = 1;
		return 1;
	}
	int run_first[PC_MAX_ATOMS], nr = 0;
	int64_t run_size[PC_MAX_ATOMS], run_st[PC_MAX_ATOMS];
	for (int j = 0; j < w->m; j++) {
		int a = w->p[j];
		if (j > 0 && a == w->p[j - 1] + 1 && w->st[a - 1] == w->st[a] * w->s[a]) {
			run_size[nr - 1] *= w->s[a];
			run_st[nr - 1] = w->st[a];
			continue;
		}
		run_first[nr] = a;
		run_size[nr] = w->s[a];
		run_st[nr] = w->st[a];
		nr++;
	}
	/* rank of each run by its first source atom */
	for (int r = 0; r < nr; r++) {
		int rank = 0;
		for (int q = 0; q < nr; q++)
			rank += run_first[q] < run_first[r];
		vshape[rank] = run_size[r];
		vstride[rank] = run_st[r];
		vperm[r] = rank;
	}
	return nr;
}

static bool is_view_op(ir_op op)
{
	return op == IR_OP_TRANSPOSE || op == IR_OP_RESHAPE || op == IR_OP_FLATTEN || op == IR_OP_SQUEEZE ||
	       op == IR_OP_UNSQUEEZE || op == IR_OP_IDENTITY;
}

/* Apply node n (a view op) to w; its output value gives the new dims. */
static bool view_apply(view *w, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!y || !ir_value_shape_known(y))
		return false;
	if (n->op != IR_OP_TRANSPOSE)
		return view_reshape(w, y->dims, y->rank);
	const int64_t *perm;
	int np = ir_attr_ints(n, "perm", &perm);
	if (np > 0)
		return view_transpose(w, perm, np);
	int64_t rev[ODET_MAX_RANK];
	for (int k = 0; k < w->nd; k++)
		rev[k] = w->nd - 1 - k;
	return view_transpose(w, rev, w->nd);
}

typedef struct pc_input {
	int src;                   /* source value */
	int chain[32], nchain;     /* view nodes, from the Concat upwards (the top may be a Slice) */
	int r;
	int64_t vshape[PC_MAX_ATOMS], vperm[PC_MAX_ATOMS], vstride[PC_MAX_ATOMS], voff;
} pc_input;

/* Longest composable chain of single-reader views above value v (read by node `reader`). */
static void find_chain(const ir_graph *g, int v, int reader, pc_input *in)
{
	int chain[32], nc = 0, cur = v, rd = reader;
	while (nc < 32) {
		const ir_value *cv = &g->values[cur];
		if (cv->producer < 0 || pass_sole_consumer(g, cur) != rd)
			break;
		const ir_node *p = &g->nodes[cv->producer];
		if (p->dead || p->n_out != 1 || p->n_in < 1 || p->in[0] < 0)
			break;
		if (p->op == IR_OP_SLICE) { /* a Slice starts the chain (merge_convs.c's channel halves) */
			chain[nc++] = cv->producer;
			break;
		}
		if (!is_view_op(p->op))
			break;
		chain[nc++] = cv->producer;
		rd = cv->producer;
		cur = p->in[0];
	}
	/* compose from the top; stop at the first step that does not compose */
	for (int keep = nc; keep >= 0; keep--) {
		int src = keep == 0 ? v : g->nodes[chain[keep - 1]].in[0];
		view w;
		int k = keep - 1;
		bool ok;
		if (keep > 0 && g->nodes[chain[k]].op == IR_OP_SLICE)
			ok = view_init_slice(&w, g, &g->nodes[chain[k--]]);
		else
			ok = view_init(&w, &g->values[src]);
		for (; ok && k >= 0; k--)
			ok = view_apply(&w, g, &g->nodes[chain[k]]);
		if (!ok)
			continue;
		in->src = src;
		in->nchain = keep;
		memcpy(in->chain, chain, sizeof(int) * (size_t)keep);
		in->r = view_canonical(&w, in->vshape, in->vperm, in->vstride);
		in->voff = w.off;
		return;
	}
	/* the value itself always composes unless its shape is unknown or too finely split */
	in->src = v;
	in->nchain = 0;
	in->r = -1;
}

static odet_status fuse_one(ir_graph *g, int ci, bool *done)
{
	odet_ctx *ctx = g->ctx;
	ir_node *c = &g->nodes[ci];
	int nin = c->n_in, y = c->out[0];
	*done = false;
	if (nin < 1 || nin > IR_MAX_IO || y < 0 || !ir_value_shape_known(&g->values[y]))
		return ODET_OK;
	pc_input *ins = calloc((size_t)nin, sizeof *ins);
	if (!ins)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "fuse_concat_views: out of memory");
	int views = 0, atoms = 0;
	for (int k = 0; k < nin; k++) {
		if (c->in[k] < 0)
			goto out;
		find_chain(g, c->in[k], ci, &ins[k]);
		if (ins[k].r < 0)
			goto out;
		views += ins[k].nchain;
		atoms += ins[k].r;
	}
	/* a Cast between float types as the Concat's only reader */
	odet_dtype from = g->values[y].dtype, to = from;
	int cast = pass_sole_consumer(g, y), out = y;
	if (cast >= 0 && g->nodes[cast].op == IR_OP_CAST && g->nodes[cast].out[0] >= 0) {
		odet_dtype t = g->values[g->nodes[cast].out[0]].dtype;
		if ((from == ODET_F16 || from == ODET_F32) && (t == ODET_F16 || t == ODET_F32)) {
			to = t;
			out = g->nodes[cast].out[0];
		} else {
			cast = -1;
		}
	} else {
		cast = -1;
	}
	if (!views && cast < 0)
		goto out;
	int64_t *vr = malloc(sizeof(int64_t) * (size_t)nin), *vs = malloc(sizeof(int64_t) * (size_t)atoms),
		*vp = malloc(sizeof(int64_t) * (size_t)atoms), *vt = malloc(sizeof(int64_t) * (size_t)atoms),
		*vo = malloc(sizeof(int64_t) * (size_t)nin);
	int *src = malloc(sizeof(int) * (size_t)nin);
	odet_status rc = ODET_OK;
	if (!vr || !vs || !vp || !vt || !vo || !src) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "fuse_concat_views: out of memory");
		goto out_free;
	}
	for (int k = 0, a = 0; k < nin; k++) {
		vr[k] = ins[k].r;
		src[k] = ins[k].src;
		memcpy(vs + a, ins[k].vshape, sizeof(int64_t) * (size_t)ins[k].r);
		memcpy(vp + a, ins[k].vperm, sizeof(int64_t) * (size_t)ins[k].r);
		memcpy(vt + a, ins[k].vstride, sizeof(int64_t) * (size_t)ins[k].r);
		vo[k] = ins[k].voff;
		a += ins[k].r;
	}
	int64_t axis = ir_attr_int(c, "axis", 0);
	char name[300];
	snprintf(name, sizeof name, "%s", c->name);
	int nn = ir_node_add(g, IR_OP_PERMUTE_CONCAT, name, nin, src, 1, &out);
	if (nn < 0 || ir_attr_set_int(g, nn, "axis", axis) || ir_attr_set_int(g, nn, "to", (int64_t)to) ||
	    ir_attr_set_ints(g, nn, "vrank", vr, nin) || ir_attr_set_ints(g, nn, "vshape", vs, atoms) ||
	    ir_attr_set_ints(g, nn, "vperm", vp, atoms) || ir_attr_set_ints(g, nn, "vstride", vt, atoms) ||
	    ir_attr_set_ints(g, nn, "voffset", vo, nin) ||
	    ir_attr_set_ints(g, nn, "shape", g->values[out].dims, g->values[out].rank)) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "fuse_concat_views: out of memory");
		goto out_free;
	}
	/* the replaced nodes die and let go of their values (the sort must neither place a
	 * reader of the output after a dead producer nor wait for a dead node's inputs) */
	pass_node_kill(g, ci);
	for (int k = 0; k < nin; k++)
		for (int j = 0; j < ins[k].nchain; j++)
			pass_node_kill(g, ins[k].chain[j]);
	if (cast >= 0)
		pass_node_kill(g, cast);
	g->values[out].producer = nn;
	odet_log(ctx, ODET_LOG_DEBUG, "fuse_concat_views: '%s': %d inputs, %d view nodes%s absorbed", name, nin,
		 views, cast >= 0 ? " and a Cast" : "");
	*done = true;
out_free:
	free(vr);
	free(vs);
	free(vp);
	free(vt);
	free(vo);
	free(src);
	free(ins);
	return rc;
out:
	free(ins);
	return ODET_OK;
}

odet_status pass_fuse_concat_views(ir_graph *g)
{
	int fused;
	odet_status rc = pass_fuse_each(g, IR_OP_CONCAT, fuse_one, &fused);
	if (!rc && fused)
		odet_log(g->ctx, ODET_LOG_INFO, "fuse_concat_views: %d Concat nodes fused with their views", fused);
	return rc;
}
