/*
 * cancel_transposes.c — regions of layout-agnostic ops between transposes run in the layout
 * of the tensors around them, so that the transposes at their borders cancel.
 *
 * A graph from an NHWC framework (TF.js) wraps every NCHW Conv in Transpose(0,2,3,1) after it
 * and Transpose(0,3,1,2) before the next; what lies between runs in NHWC: hard-swish
 * (x * clip(x * a + b) reads x twice), residual Adds of two transposed values, squeeze-excite
 * (ReduceMean over H, W and a broadcast Mul), Concats of feature maps. fold_transposes.c sinks
 * a transpose only down single-reader chains with constant operands; these diamonds stay.
 *
 * Region: the values joined by agnostic nodes (a node joins its output and its non-constant
 * inputs). Agnostic: unary elementwise ops and Cast; Add/Sub/Mul/Div/Pow/Max/Min whose
 * non-constant operands have the output's rank (constants of lower rank broadcast); Clip with
 * constant bounds; ReduceMean/Sum/Max/L2 with keepdims and constant axes; Concat. Every value
 * of a region has rank r and a known shape.
 *
 * Flipping a region by perm p (of rank r) stores each of its values v as v' with
 * v = Transpose(v', p); its nodes then read and write v' (constants permuted as by
 * pass_permute_const, axes a -> p[a]). At the border:
 *   - an input b = Transpose(a, p) is read as a: that Transpose goes when the region was its
 *     only reader; any other input gets a new Transpose(b, p^-1);
 *   - a value produced inside and read outside (or a graph output) gets Transpose(v', p), except
 *     for readers that are Transposes themselves: they compose with it (and vanish when the
 *     composition is the identity). v' takes v's name unless v is a graph output (the names
 *     of calibration caches, see quantize.c, stay those of the values the convs read).
 * A region is flipped (p = the perm of its largest transposed input) when the elements of the
 * transposes that go exceed those of the ones it adds. Then transpose pairs merge
 * (pass_fold_transposes) and the next round looks again (flipping one region may make its
 * neighbour's borders cancel), until nothing changes. Shapes must be known (after inference).
 */
#include "passes/pass_util.h"

#include <stdlib.h>
#include <string.h>

#define CT_MAX_ROUNDS 8

static bool is_const(const ir_graph *g, int v)
{
	return v >= 0 && g->values[v].kind == IR_VALUE_CONST && g->values[v].data;
}

static bool unary_op(ir_op op)
{
	switch (op) {
	case IR_OP_RELU: case IR_OP_LEAKYRELU: case IR_OP_SIGMOID: case IR_OP_HARDSIGMOID: case IR_OP_HARDSWISH:
	case IR_OP_TANH: case IR_OP_EXP: case IR_OP_LOG: case IR_OP_SQRT: case IR_OP_NEG: case IR_OP_ABS:
	case IR_OP_FLOOR: case IR_OP_CEIL: case IR_OP_CAST: case IR_OP_CLIP:
		return true;
	default:
		return false;
	}
}

static bool binary_op(ir_op op)
{
	switch (op) {
	case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV: case IR_OP_POW: case IR_OP_MAX: case IR_OP_MIN:
		return true;
	default:
		return false;
	}
}

static bool reduce_op(ir_op op)
{
	return op == IR_OP_REDUCEMEAN || op == IR_OP_REDUCESUM || op == IR_OP_REDUCEMAX || op == IR_OP_REDUCEL2;
}

/* input k of an agnostic node that belongs to its region (the others are parameters) */
static bool data_input(const ir_node *n, int k)
{
	return unary_op(n->op) || reduce_op(n->op) ? k == 0 : true;
}

/* node n can run in any layout of its region (see the header) */
static bool agnostic(const ir_graph *g, const ir_node *n)
{
	if (n->dead || n->n_out != 1 || n->out[0] < 0 || n->n_in < 1)
		return false;
	if (!unary_op(n->op) && !binary_op(n->op) && !reduce_op(n->op) && n->op != IR_OP_CONCAT)
		return false;
	const ir_value *y = &g->values[n->out[0]];
	int r = y->rank;
	if (r < 1 || r > ODET_MAX_RANK || !ir_value_shape_known(y))
		return false;
	if (reduce_op(n->op) && (ir_attr_int(n, "keepdims", 1) != 1 || ir_attr_get(n, "axes")))
		return false;
	if (n->op == IR_OP_CONCAT) {
		int64_t a = ir_attr_int(n, "axis", 0);
		if (a < -r || a >= r)
			return false;
	}
	for (int k = 0; k < n->n_in; k++) {
		int v = n->in[k];
		if (v < 0) {
			if (k == 0)
				return false;
			continue;
		}
		const ir_value *x = &g->values[v];
		if (!data_input(n, k)) {
			if (!is_const(g, v))
				return false;
			if (reduce_op(n->op) && (x->dtype != ODET_I64 || x->rank != 1))
				return false;
			for (int64_t j = 0; reduce_op(n->op) && j < ir_value_numel(x); j++) {
				int64_t a = ir_const_i64(x, j);
				if (a < -r || a >= r)
					return false;
			}
			continue;
		}
		if (is_const(g, v)) {
			if (!binary_op(n->op) || x->rank > r || x->rank < 0)
				return false;
			continue;
		}
		if (x->rank != r || !ir_value_shape_known(x))
			return false;
	}
	return true;
}

static int uf_find(int *parent, int v)
{
	while (parent[v] != v) {
		parent[v] = parent[parent[v]];
		v = parent[v];
	}
	return v;
}

static bool same_perm(const int64_t *a, const int64_t *b, int r)
{
	for (int i = 0; i < r; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* perm of live Transpose node t when it has rank r, else NULL */
static const int64_t *transpose_perm(const ir_graph *g, int t, int r)
{
	if (t < 0 || g->nodes[t].dead || g->nodes[t].op != IR_OP_TRANSPOSE)
		return NULL;
	const int64_t *p;
	return ir_attr_ints(&g->nodes[t], "perm", &p) == r ? p : NULL;
}

typedef struct ct_state {
	int *region;     /* per value: region root, or -1 (not in a region) */
	int *producer;   /* per value: live producing node, or -1 */
	bool *in_region; /* per node: agnostic */
	int *node_root;  /* per node: its region's root (agnostic nodes), or -1 */
	int *cand;       /* per root: the Transpose whose perm the region would take, or -1 */
	int64_t *gain;   /* per root: transposed elements removed minus added */
	bool *need;      /* per value: produced in its region and read outside it (or an output):
			  * Transpose(v', p) keeps v under its name (readers that are Transposes
			  * compose with it later) */
} ct_state;

/* gain of flipping each region by its candidate perm (see the header) */
static void evaluate(const ir_graph *g, ct_state *s)
{
	int nv = g->n_values;
	for (int v = 0; v < nv; v++) {
		s->cand[v] = -1;
		s->gain[v] = 0;
		s->need[v] = false;
	}
	/* candidate: the largest input produced by a Transpose of the region's rank */
	for (int v = 0; v < nv; v++) {
		int root = s->region[v], p = s->producer[v];
		if (root < 0 || (p >= 0 && s->in_region[p]) || !transpose_perm(g, p, g->values[v].rank))
			continue;
		int c = s->cand[root];
		if (c < 0 || ir_value_numel(&g->values[v]) > ir_value_numel(&g->values[g->nodes[c].out[0]]))
			s->cand[root] = p;
	}
	/* readers: a border input's Transpose goes only when the region alone reads it; a value
	 * produced inside needs a Transpose for its non-Transpose readers outside */
	bool *outside = calloc(2 * ((size_t)nv + 1), 1), *plain = outside + nv + 1;
	if (!outside) {
		for (int v = 0; v < nv; v++)
			s->cand[v] = -1; /* no flips: the graph stays valid */
		return;
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead || s->in_region[i])
			continue;
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v < 0 || s->region[v] < 0)
				continue;
			int root = s->region[v], c = s->cand[root], pv = s->producer[v];
			bool inside = pv >= 0 && s->in_region[pv];
			outside[v] = true;
			if (c < 0 || !inside)
				continue;
			int r = g->values[v].rank;
			const int64_t *p = transpose_perm(g, c, r), *q = transpose_perm(g, i, r);
			if (!q) {
				plain[v] = true;
				continue;
			}
			int64_t comp[ODET_MAX_RANK];
			for (int j = 0; j < r; j++)
				comp[j] = p[q[j]];
			bool identity = true;
			for (int j = 0; j < r; j++)
				identity = identity && comp[j] == j;
			if (identity && !g->values[n->out[0]].is_output)
				s->gain[root] += ir_value_numel(&g->values[n->out[0]]);
		}
	}
	for (int v = 0; v < nv; v++) {
		int root = s->region[v];
		if (root < 0 || s->cand[root] < 0)
			continue;
		const ir_value *val = &g->values[v];
		int pv = s->producer[v], r = val->rank;
		int64_t numel = ir_value_numel(val);
		if (pv >= 0 && s->in_region[pv]) {
			s->need[v] = outside[v] || val->is_output;
			if (plain[v] || val->is_output)
				s->gain[root] -= numel;
			continue;
		}
		const int64_t *pc = transpose_perm(g, s->cand[root], r), *pp = transpose_perm(g, pv, r);
		if (!pp || !same_perm(pc, pp, r))
			s->gain[root] -= numel; /* a new Transpose(b, p^-1) */
		else if (!outside[v] && !val->is_output)
			s->gain[root] += numel; /* its Transpose goes */
	}
	free(outside);
}

static int add_transpose(ir_graph *g, int x, int y, const int64_t *perm, int r)
{
	char name[300];
	snprintf(name, sizeof name, "%s_flip", g->values[y].name ? g->values[y].name : "t");
	int t = ir_node_add(g, IR_OP_TRANSPOSE, name, 1, &x, 1, &y);
	if (t < 0 || ir_attr_set_ints(g, t, "perm", perm, r))
		return -1;
	g->values[y].producer = t;
	return t;
}

/* region `root` read and written in the layout p^-1 of its values (see the header) */
static odet_status flip(ir_graph *g, ct_state *s, int root, int *newv, int nv0, int n0)
{
	odet_ctx *ctx = g->ctx;
	int r = g->values[g->nodes[s->cand[root]].out[0]].rank;
	int64_t p[ODET_MAX_RANK], pinv[ODET_MAX_RANK];
	memcpy(p, transpose_perm(g, s->cand[root], r), sizeof(int64_t) * (size_t)r);
	for (int i = 0; i < r; i++)
		pinv[p[i]] = i;
	for (int v = 0; v < nv0; v++) {
		if (s->region[v] != root)
			continue;
		int64_t d[ODET_MAX_RANK];
		for (int i = 0; i < r; i++)
			d[p[i]] = g->values[v].dims[i];
		char name[300];
		snprintf(name, sizeof name, "%s_flip", g->values[v].name ? g->values[v].name : "v");
		int w = ir_value_add(g, name, g->values[v].dtype, r, d);
		if (w < 0)
			return odet_error(ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
		newv[v] = w;
		int pv = s->producer[v];
		if (pv >= 0 && s->in_region[pv]) {
			if (!g->values[v].is_output) { /* v' keeps the name (calibration caches use it) */
				char *t = g->values[v].name;
				g->values[v].name = g->values[w].name;
				g->values[w].name = t;
			}
			g->nodes[pv].out[0] = w;
			g->values[w].producer = pv;
			g->values[v].producer = -1;
			if (s->need[v] && add_transpose(g, w, v, p, r) < 0)
				return odet_error(ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
		} else if (add_transpose(g, v, w, pinv, r) < 0) {
			return odet_error(ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
		}
	}
	for (int i = 0; i < n0; i++) {
		if (s->node_root[i] != root)
			continue;
		ir_op op = g->nodes[i].op;
		for (int k = 0; k < g->nodes[i].n_in; k++) {
			int v = g->nodes[i].in[k];
			if (v < 0 || v >= nv0)
				continue;
			if (s->region[v] == root) {
				g->nodes[i].in[k] = newv[v];
			} else if (reduce_op(op) && k == 1) {
				const ir_value *a = &g->values[v];
				int64_t na = ir_value_numel(a);
				int64_t *ax = odet_malloc(ctx, sizeof(int64_t) * (size_t)(na > 0 ? na : 1));
				if (!ax)
					return ODET_ERR_NO_MEMORY;
				for (int64_t j = 0; j < na; j++) {
					int64_t x = ir_const_i64(a, j); /* in range: agnostic() */
					ax[j] = p[x < 0 ? x + r : x];
				}
				int c = ir_const_add(g, NULL, ODET_I64, 1, (const int64_t[]){na}, ax);
				if (c < 0)
					return ODET_ERR_NO_MEMORY;
				g->nodes[i].in[k] = c;
			} else if (binary_op(op)) {
				int c = pass_permute_const(g, v, p, r);
				if (c < 0)
					return odet_error(ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
				g->nodes[i].in[k] = c;
			}
		}
		if (op == IR_OP_CONCAT) {
			int64_t ax = ir_attr_int(&g->nodes[i], "axis", 0);
			odet_status rc = ir_attr_set_int(g, i, "axis", p[ax < 0 ? ax + r : ax]);
			if (rc)
				return rc;
		}
	}
	return ODET_OK;
}

/* regions of the graph as it is now (union-find over values, see the header) */
static odet_status find_regions(ir_graph *g, ct_state *s)
{
	int nv = g->n_values;
	for (int v = 0; v < nv; v++) {
		s->region[v] = v;
		s->producer[v] = -1;
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		s->in_region[i] = agnostic(g, n);
		for (int k = 0; !n->dead && k < n->n_out; k++)
			if (n->out[k] >= 0)
				s->producer[n->out[k]] = i;
		if (!s->in_region[i])
			continue;
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v < 0 || !data_input(n, k) || is_const(g, v))
				continue;
			int a = uf_find(s->region, v), b = uf_find(s->region, n->out[0]);
			if (a != b)
				s->region[a] = b;
		}
	}
	/* values touched by no agnostic node: no region */
	bool *touched = calloc((size_t)nv + 1, 1);
	if (!touched)
		return odet_error(g->ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
	for (int i = 0; i < g->n_nodes; i++) {
		if (!s->in_region[i])
			continue;
		const ir_node *n = &g->nodes[i];
		touched[n->out[0]] = true;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0 && data_input(n, k) && !is_const(g, n->in[k]))
				touched[n->in[k]] = true;
	}
	for (int v = 0; v < nv; v++)
		if (touched[v])
			s->region[v] = uf_find(s->region, v);
	for (int v = 0; v < nv; v++)
		if (!touched[v])
			s->region[v] = -1;
	for (int i = 0; i < g->n_nodes; i++)
		s->node_root[i] = s->in_region[i] ? s->region[g->nodes[i].out[0]] : -1;
	free(touched);
	return ODET_OK;
}

static int count_transposes(const ir_graph *g)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead && g->nodes[i].op == IR_OP_TRANSPOSE;
	return c;
}

/* One round: flip every region that gains; *flipped of them. */
static odet_status round_once(ir_graph *g, int *flipped)
{
	int nv = g->n_values, nn = g->n_nodes;
	ct_state s = {0};
	odet_status rc = ODET_OK;
	*flipped = 0;
	s.region = malloc(sizeof(int) * ((size_t)nv + 1));
	s.producer = malloc(sizeof(int) * ((size_t)nv + 1));
	s.cand = malloc(sizeof(int) * ((size_t)nv + 1));
	s.gain = malloc(sizeof(int64_t) * ((size_t)nv + 1));
	s.need = malloc((size_t)nv + 1);
	s.in_region = malloc((size_t)nn + 1);
	s.node_root = malloc(sizeof(int) * ((size_t)nn + 1));
	int *newv = malloc(sizeof(int) * ((size_t)nv + 1));
	if (!s.region || !s.producer || !s.cand || !s.gain || !s.need || !s.in_region || !s.node_root || !newv) {
		rc = odet_error(g->ctx, ODET_ERR_NO_MEMORY, "cancel_transposes: out of memory");
		goto out_free;
	}
	if ((rc = find_regions(g, &s)))
		goto out_free;
	evaluate(g, &s);
	for (int root = 0; root < nv; root++) {
		if (s.region[root] != root || s.cand[root] < 0 || s.gain[root] <= 0)
			continue;
		if ((rc = flip(g, &s, root, newv, nv, nn)))
			goto out_free;
		(*flipped)++;
	}
out_free:
	free(s.region);
	free(s.producer);
	free(s.cand);
	free(s.gain);
	free(s.need);
	free(s.in_region);
	free(s.node_root);
	free(newv);
	return rc;
}

odet_status pass_cancel_transposes(ir_graph *g)
{
	int before = count_transposes(g), total = 0;
	for (int round = 0; round < CT_MAX_ROUNDS; round++) {
		int flipped = 0;
		odet_status rc = round_once(g, &flipped);
		if (rc)
			return rc;
		if (!flipped)
			break;
		total += flipped;
		if ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_fold_transposes(g)) ||
		    (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
			return rc;
	}
	if (total)
		odet_log(g->ctx, ODET_LOG_INFO, "cancel_transposes: %d regions flipped, %d -> %d Transpose nodes", total,
			 before, count_transposes(g));
	return ODET_OK;
}
