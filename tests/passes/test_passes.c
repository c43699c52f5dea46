/* test_passes.c — graph passes on hand-built graphs.
 *
 * Numerical checks run the graph before and after a pass with a tiny float32 interpreter
 * written here (direct convolution, batchnorm, broadcasting binary ops, activations, the
 * fused Conv semantics of ir.h, and the ops of F.normalize's export with L2Normalize), so nothing depends on the CPU kernels being written in
 * parallel. Constant folding uses a small evaluator (Gather/Unsqueeze/Concat) of its own. */
#include "core/core.h"
#include "graph/ir.h"
#include "passes/passes.h"
#include "graph_build.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IN(...) (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (const int[]){__VA_ARGS__}
#define D(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

static odet_ctx *ctx;
static uint32_t rng = 12345;

static float frand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* ------------------------------------------------------------------ graph building */

static ir_graph *new_graph(void)
{
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		exit(1);
	return g;
}

static int const_rand(ir_graph *g, const char *name, int rank, const int64_t *dims, float lo, float hi)
{
	int64_t n;
	odet_dims_numel(dims, rank, &n);
	float *d = malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		d[i] = lo + (hi - lo) * (frand() + 1) / 2;
	return ir_const_add(g, name, ODET_F32, rank, dims, d);
}

static int const_f(ir_graph *g, float v)
{
	float *d = malloc(sizeof *d);
	*d = v;
	return ir_const_add(g, NULL, ODET_F32, 0, NULL, d);
}

static int const_i64(ir_graph *g, int rank, const int64_t *vals, int64_t n)
{
	int64_t *d = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	memcpy(d, vals, sizeof(int64_t) * (size_t)n);
	return ir_const_add(g, NULL, ODET_I64, rank, rank ? &n : NULL, d);
}

/* node with a fresh output (named) */
static int op1(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, const char *out_name, int *out)
{
	int o = ir_value_add(g, out_name, ODET_DTYPE_UNDEFINED, -1, NULL);
	if (out)
		*out = o;
	return ir_node_add(g, op, name, n_in, in, 1, &o);
}

static int live_nodes(const ir_graph *g)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead;
	return c;
}

/* every node input is a graph input, a constant, or produced by an earlier node */
static bool order_valid(const ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v < 0 || g->values[v].kind != IR_VALUE_INTERMEDIATE)
				continue;
			int p = g->values[v].producer;
			if (p < 0 || p >= i || g->nodes[p].dead)
				return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ tiny interpreter */

typedef struct interp {
	float **buf; /* per value; constants point at their data */
	int n;
} interp;

static int64_t numel(const ir_value *v)
{
	return ir_value_numel(v);
}

static float act(float x, int64_t a, float alpha, float beta)
{
	switch (a) {
	case IR_ACT_RELU: return x > 0 ? x : 0;
	case IR_ACT_LEAKYRELU: return x > 0 ? x : alpha * x;
	case IR_ACT_CLIP: return x < alpha ? alpha : x > beta ? beta : x;
	case IR_ACT_SIGMOID: return 1 / (1 + expf(-x));
	default: return x;
	}
}

/* NCHW direct convolution, group 1, dilation 1, with the fused attrs of ir.h */
static void conv_ref(const ir_graph *g, const ir_node *n, float **buf)
{
	const ir_value *xv = ir_in(g, n, 0), *wv = ir_in(g, n, 1), *yv = ir_out(g, n, 0);
	const float *x = buf[n->in[0]], *w = buf[n->in[1]];
	const float *b = ir_in(g, n, 2) ? buf[n->in[2]] : NULL;
	const float *res = ir_in(g, n, 3) ? buf[n->in[3]] : NULL;
	float *y = buf[n->out[0]];
	const int64_t *pads, *strides;
	int np = ir_attr_ints(n, "pads", &pads), ns = ir_attr_ints(n, "strides", &strides);
	int64_t ph = np ? pads[0] : 0, pw = np ? pads[1] : 0, sh = ns ? strides[0] : 1, sw = ns ? strides[1] : 1;
	int64_t N = xv->dims[0], C = xv->dims[1], H = xv->dims[2], W = xv->dims[3];
	int64_t M = wv->dims[0], KH = wv->dims[2], KW = wv->dims[3], OH = yv->dims[2], OW = yv->dims[3];
	int64_t a = ir_attr_int(n, "odet_act", 0);
	float alpha = ir_attr_float(n, "odet_act_alpha", 0), beta = ir_attr_float(n, "odet_act_beta", 0);
	for (int64_t nn = 0; nn < N; nn++)
		for (int64_t m = 0; m < M; m++)
			for (int64_t oh = 0; oh < OH; oh++)
				for (int64_t ow = 0; ow < OW; ow++) {
					double s = b ? b[m] : 0;
					for (int64_t c = 0; c < C; c++)
						for (int64_t kh = 0; kh < KH; kh++)
							for (int64_t kw = 0; kw < KW; kw++) {
								int64_t ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
								if (ih < 0 || ih >= H || iw < 0 || iw >= W)
									continue;
								s += (double)x[((nn * C + c) * H + ih) * W + iw] *
								     w[((m * C + c) * KH + kh) * KW + kw];
							}
					int64_t o = ((nn * M + m) * OH + oh) * OW + ow;
					if (res)
						s += res[o];
					y[o] = act((float)s, a, alpha, beta);
				}
}

/* offset into v (broadcast against out's rank) of the out index idx */
static int64_t bidx(const ir_value *v, const int64_t *idx, int rank)
{
	int64_t off = 0;
	for (int j = 0; j < v->rank; j++) {
		int i = rank - v->rank + j;
		off = off * v->dims[j] + (v->dims[j] == 1 ? 0 : idx[i]);
	}
	return off;
}

static void binary_ref(const ir_graph *g, const ir_node *n, float **buf)
{
	const ir_value *av = ir_in(g, n, 0), *bv = ir_in(g, n, 1), *yv = ir_out(g, n, 0);
	const float *a = buf[n->in[0]], *b = buf[n->in[1]];
	float *y = buf[n->out[0]];
	int64_t idx[ODET_MAX_RANK] = {0};
	for (int64_t o = 0; o < numel(yv); o++) {
		int64_t r = o;
		for (int i = yv->rank - 1; i >= 0; i--) {
			idx[i] = r % yv->dims[i];
			r /= yv->dims[i];
		}
		float p = a[bidx(av, idx, yv->rank)], q = b[bidx(bv, idx, yv->rank)];
		y[o] = n->op == IR_OP_ADD ? p + q : n->op == IR_OP_SUB ? p - q : n->op == IR_OP_MUL ? p * q : p / q;
	}
}

/* out index o -> idx (row-major over v's dims) */
static void unravel(const ir_value *v, int64_t o, int64_t *idx)
{
	for (int i = v->rank - 1; i >= 0; i--) {
		idx[i] = o % v->dims[i];
		o /= v->dims[i];
	}
}

/* ReduceL2 / ReduceSum over the one axis of constant input 1 (keepdims), Expand, Pow by a
 * constant scalar, Sqrt, L2Normalize: the ops of F.normalize's export (fuse_l2norm) */
static void norm_ref(const ir_graph *g, const ir_node *n, float **buf)
{
	const ir_value *xv = ir_in(g, n, 0), *yv = ir_out(g, n, 0);
	const float *x = buf[n->in[0]];
	float *y = buf[n->out[0]];
	int64_t idx[ODET_MAX_RANK], ny = numel(yv), nx = numel(xv);
	if (n->op == IR_OP_REDUCEL2 || n->op == IR_OP_REDUCESUM || n->op == IR_OP_L2_NORMALIZE) {
		int64_t ax = n->op == IR_OP_L2_NORMALIZE ? ir_attr_int(n, "axis", 1)
							 : ((const int64_t *)ir_in(g, n, 1)->data)[0];
		ax = ax < 0 ? ax + xv->rank : ax;
		int64_t c = xv->dims[ax], inner = 1;
		for (int i = (int)ax + 1; i < xv->rank; i++)
			inner *= xv->dims[i];
		for (int64_t o = 0; o < nx / c; o++) { /* (outer, inner) position */
			int64_t base = (o / inner) * c * inner + o % inner;
			double s = 0;
			for (int64_t k = 0; k < c; k++) {
				double v = x[base + k * inner];
				s += n->op == IR_OP_REDUCESUM ? v : v * v;
			}
			if (n->op != IR_OP_L2_NORMALIZE) {
				y[o] = (float)(n->op == IR_OP_REDUCEL2 ? sqrt(s) : s);
				continue;
			}
			double d = fmax(sqrt(s), ir_attr_float(n, "eps", 0.0f));
			const float *sc = n->n_in > 1 && n->in[1] >= 0 ? buf[n->in[1]] : NULL;
			for (int64_t k = 0; k < c; k++)
				y[base + k * inner] = (float)(x[base + k * inner] / d * (sc ? sc[k] : 1.0));
		}
		return;
	}
	for (int64_t o = 0; o < ny; o++) {
		if (n->op == IR_OP_EXPAND) {
			unravel(yv, o, idx);
			y[o] = x[bidx(xv, idx, yv->rank)];
		} else if (n->op == IR_OP_POW) {
			y[o] = powf(x[o], buf[n->in[1]][0]);
		} else {
			y[o] = sqrtf(x[o]);
		}
	}
}

/* Run g (shapes inferred) on input data; returns per-value buffers (free with interp_free). */
static interp run(const ir_graph *g, const float *const *inputs)
{
	interp it = {calloc((size_t)g->n_values, sizeof(float *)), g->n_values};
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *val = &g->values[v];
		if (val->kind == IR_VALUE_CONST)
			it.buf[v] = val->data;
	}
	for (int i = 0; i < g->n_inputs; i++)
		it.buf[g->inputs[i]] = (float *)inputs[i];
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		const ir_value *yv = ir_out(g, n, 0);
		int64_t ny = numel(yv);
		it.buf[n->out[0]] = calloc((size_t)(ny > 0 ? ny : 1), sizeof(float));
		float *y = it.buf[n->out[0]];
		const float *x = it.buf[n->in[0]];
		switch (n->op) {
		case IR_OP_CONV:
			conv_ref(g, n, it.buf);
			break;
		case IR_OP_BATCHNORM: {
			const ir_value *xv = ir_in(g, n, 0);
			const float *s = it.buf[n->in[1]], *b = it.buf[n->in[2]], *mu = it.buf[n->in[3]],
				    *var = it.buf[n->in[4]];
			float eps = ir_attr_float(n, "epsilon", 1e-5f);
			int64_t C = xv->dims[1], hw = ny / (xv->dims[0] * C);
			for (int64_t o = 0; o < ny; o++) {
				int64_t c = (o / hw) % C;
				y[o] = (float)((x[o] - mu[c]) / sqrt((double)var[c] + eps) * s[c] + b[c]);
			}
			break;
		}
		case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV:
			binary_ref(g, n, it.buf);
			break;
		case IR_OP_RELU:
			for (int64_t o = 0; o < ny; o++)
				y[o] = act(x[o], IR_ACT_RELU, 0, 0);
			break;
		case IR_OP_SIGMOID:
			for (int64_t o = 0; o < ny; o++)
				y[o] = act(x[o], IR_ACT_SIGMOID, 0, 0);
			break;
		case IR_OP_CLIP: {
			float lo = ir_in(g, n, 1) ? it.buf[n->in[1]][0] : -FLT_MAX;
			float hi = ir_in(g, n, 2) ? it.buf[n->in[2]][0] : FLT_MAX;
			for (int64_t o = 0; o < ny; o++)
				y[o] = act(x[o], IR_ACT_CLIP, lo, hi);
			break;
		}
		case IR_OP_REDUCEL2: case IR_OP_REDUCESUM: case IR_OP_EXPAND: case IR_OP_POW: case IR_OP_SQRT:
		case IR_OP_L2_NORMALIZE:
			norm_ref(g, n, it.buf);
			break;
		default:
			fprintf(stderr, "interpreter: op %s not supported\n", ir_op_name(n->op));
			exit(1);
		}
	}
	return it;
}

static void interp_free(const ir_graph *g, interp *it)
{
	for (int v = 0; v < it->n; v++) {
		if (g->values[v].kind == IR_VALUE_INTERMEDIATE && g->values[v].producer >= 0)
			free(it->buf[v]);
	}
	free(it->buf);
}

/* copy of output k's data */
static float *output_copy(const ir_graph *g, const interp *it, int k, int64_t *count)
{
	const ir_value *v = &g->values[g->outputs[k]];
	*count = numel(v);
	float *c = malloc(sizeof(float) * (size_t)*count);
	memcpy(c, it->buf[g->outputs[k]], sizeof(float) * (size_t)*count);
	return c;
}

/* max |a-b| / max |ref| */
static double rel_err(const float *ref, const float *got, int64_t n)
{
	double md = 0, mr = 1e-30;
	for (int64_t i = 0; i < n; i++) {
		md = fmax(md, fabs((double)ref[i] - got[i]));
		mr = fmax(mr, fabs((double)ref[i]));
	}
	return md / mr;
}

/* Run, apply `pass`, eliminate dead code, re-infer, run again; compare all outputs. */
static double check_numeric(ir_graph *g, odet_status (*pass)(ir_graph *), const float *const *inputs)
{
	CHECK(pass_infer_shapes(g) == ODET_OK);
	interp a = run(g, inputs);
	int64_t cnt[4];
	float *ref[4];
	for (int k = 0; k < g->n_outputs; k++)
		ref[k] = output_copy(g, &a, k, &cnt[k]);
	interp_free(g, &a);
	CHECK(pass(g) == ODET_OK);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(order_valid(g));
	interp b = run(g, inputs);
	double worst = 0;
	for (int k = 0; k < g->n_outputs; k++) {
		CHECK(numel(&g->values[g->outputs[k]]) == cnt[k]);
		worst = fmax(worst, rel_err(ref[k], b.buf[g->outputs[k]], cnt[k]));
		free(ref[k]);
	}
	interp_free(g, &b);
	return worst;
}

static float *rand_input(int64_t n)
{
	float *d = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		d[i] = frand();
	return d;
}

/* ------------------------------------------------------------------ folding evaluator */

typedef struct eval_stats {
	int calls;
} eval_stats;

static odet_status test_eval(void *user, const ir_graph *g, const ir_node *n, const odet_tensor *in,
			     odet_tensor *out)
{
	eval_stats *st = user;
	st->calls++;
	int64_t no = odet_tensor_numel(&out[0]);
	switch (n->op) {
	case IR_OP_GATHER: { /* axis 0, int64 data */
		const int64_t *d = in[0].data, *ix = in[1].data;
		int64_t *o = out[0].data;
		if (in[0].dtype != ODET_I64 || in[0].rank != 1 || ir_attr_int(n, "axis", 0) != 0)
			return ODET_ERR_UNSUPPORTED;
		for (int64_t i = 0; i < no; i++) {
			int64_t k = ix[i] < 0 ? ix[i] + in[0].dims[0] : ix[i];
			o[i] = d[k];
		}
		return ODET_OK;
	}
	case IR_OP_UNSQUEEZE:
		memcpy(out[0].data, in[0].data, (size_t)no * odet_dtype_size(out[0].dtype));
		return ODET_OK;
	case IR_OP_CONCAT: { /* 1-D */
		char *o = out[0].data;
		for (int i = 0; i < n->n_in; i++) {
			size_t b = (size_t)odet_tensor_numel(&in[i]) * odet_dtype_size(in[i].dtype);
			memcpy(o, in[i].data, b);
			o += b;
		}
		return ODET_OK;
	}
	default:
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "test evaluator: %s", ir_op_name(n->op));
	}
}

/* ------------------------------------------------------------------ tests */

static void test_set_input_shape(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "images", ODET_F32, D(-1, 3, -1, -1));
	g->values[x].sym[0] = strdup("batch");
	g->values[x].sym[2] = strdup("height");
	int x2 = test_graph_input(g, "info", ODET_F32, D(-1, 3));
	CHECK(pass_set_input_shape(g, 2, 300, 320) == ODET_OK);
	const ir_value *v = &g->values[x];
	CHECK(v->dims[0] == 2 && v->dims[1] == 3 && v->dims[2] == 300 && v->dims[3] == 320);
	CHECK(!v->sym[0] && !v->sym[2]);
	CHECK(g->values[x2].dims[0] == 2 && g->values[x2].dims[1] == 3);
	/* the same values again are fine, a contradicting one is refused */
	CHECK(pass_set_input_shape(g, 2, 0, 0) == ODET_OK);
	CHECK(pass_set_input_shape(g, 4, 0, 0) == ODET_ERR_INVALID_ARG);
	CHECK(strstr(odet_ctx_last_error(ctx), "images") != NULL);
	CHECK(pass_set_input_shape(g, 0, 416, 0) == ODET_ERR_INVALID_ARG);
	CHECK(pass_set_input_shape(g, -1, 0, 0) == ODET_ERR_INVALID_ARG);
	ir_graph_free(g);

	/* an op with no shape function is named */
	g = new_graph();
	int a = test_graph_input(g, "a", ODET_F32, D(1));
	int o = ir_value_add(g, "o", ODET_F32, -1, NULL);
	ir_node_add(g, IR_OP_COUNT, "mystery", 1, &a, 1, &o);
	CHECK(pass_infer_shapes(g) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "mystery") != NULL);
	ir_graph_free(g);

	/* a 4 TiB ConstantOfShape is refused by shape inference, naming the node */
	g = new_graph();
	int64_t huge[2] = {(int64_t)1 << 20, (int64_t)1 << 20};
	op1(g, IR_OP_CONSTANTOFSHAPE, "huge", IN(const_i64(g, 1, huge, 2)), "h", &o);
	CHECK(pass_infer_shapes(g) == ODET_ERR_LIMIT);
	CHECK(strstr(odet_ctx_last_error(ctx), "huge") != NULL);
	ir_graph_free(g);
}

/* x.view(x.size(0), -1, 4) as torch exports it */
static void test_fold_view_chain(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(-1, 3, 8, 8));
	g->values[x].sym[0] = strdup("batch");
	int s, gi, u, cat, y;
	op1(g, IR_OP_SHAPE, "Shape_0", IN(x), "shape", &s);
	int64_t zero = 0, m1 = -1, four = 4, ax0 = 0;
	int c0 = const_i64(g, 0, &zero, 1);
	int gn = op1(g, IR_OP_GATHER, "Gather_1", IN(s, c0), "gather", &gi);
	ir_attr_set_int(g, gn, "axis", 0);
	op1(g, IR_OP_UNSQUEEZE, "Unsqueeze_2", IN(gi, const_i64(g, 1, &ax0, 1)), "unsq", &u);
	int cn = op1(g, IR_OP_CONCAT, "Concat_3", IN(u, const_i64(g, 1, &m1, 1), const_i64(g, 1, &four, 1)), "cat", &cat);
	ir_attr_set_int(g, cn, "axis", 0);
	op1(g, IR_OP_RESHAPE, "Reshape_4", IN(x, cat), "y", &y);
	test_graph_output(g, y);

	eval_stats st = {0};
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(g->values[y].rank == 3 && g->values[y].dims[2] == -1);
	/* batch still symbolic: Shape cannot fold, nothing else can either */
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(live_nodes(g) == 5 && st.calls == 0);
	CHECK(g->values[cat].kind == IR_VALUE_INTERMEDIATE);

	CHECK(pass_set_input_shape(g, 2, 0, 0) == ODET_OK);
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(st.calls == 3); /* Gather, Unsqueeze, Concat; Shape folds without eval */
	const ir_value *cv = &g->values[cat];
	CHECK(cv->kind == IR_VALUE_CONST && cv->dtype == ODET_I64 && cv->rank == 1 && cv->dims[0] == 3);
	if (cv->kind == IR_VALUE_CONST) {
		const int64_t *d = cv->data;
		CHECK(d[0] == 2 && d[1] == -1 && d[2] == 4);
	}
	const ir_value *yv = &g->values[y];
	CHECK(yv->rank == 3 && yv->dims[0] == 2 && yv->dims[1] == 48 && yv->dims[2] == 4);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_RESHAPE);
	CHECK(g->values[g->nodes[0].in[1]].kind == IR_VALUE_CONST);
	CHECK(strcmp(g->values[g->outputs[0]].name, "y") == 0);
	ir_graph_free(g);
}

static void test_fold_misc(void)
{
	/* a graph output that becomes constant stays an output */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 4, 5));
	int s;
	op1(g, IR_OP_SHAPE, "shape", IN(x), "s", &s);
	test_graph_output(g, s);
	/* ConstantOfShape of 64 MiB from 16 bytes: left to run time; a small one goes to eval */
	int64_t big[2] = {4096, 4096}, small[2] = {2, 2};
	int cb, cs;
	op1(g, IR_OP_CONSTANTOFSHAPE, "cos_big", IN(const_i64(g, 1, big, 2)), "cb", &cb);
	op1(g, IR_OP_CONSTANTOFSHAPE, "cos_small", IN(const_i64(g, 1, small, 2)), "cs", &cs);
	test_graph_output(g, cb);
	test_graph_output(g, cs);
	int s2;
	int sn = op1(g, IR_OP_SHAPE, "shape_hw", IN(x), "s2", &s2);
	ir_attr_set_int(g, sn, "start", -2);
	test_graph_output(g, s2);
	eval_stats st = {0};
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(st.calls == 1); /* only cos_small reached the evaluator (which refused it) */
	CHECK(g->values[s].kind == IR_VALUE_CONST && g->values[s].is_output);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 2 && g->n_outputs == 4);
	const ir_value *hw = &g->values[g->outputs[3]];
	CHECK(hw->kind == IR_VALUE_CONST && hw->rank == 1 && hw->dims[0] == 2);
	if (hw->kind == IR_VALUE_CONST)
		CHECK(((const int64_t *)hw->data)[0] == 4 && ((const int64_t *)hw->data)[1] == 5);
	int so = g->outputs[0];
	CHECK(g->values[so].kind == IR_VALUE_CONST && strcmp(g->values[so].name, "s") == 0);
	if (g->values[so].kind == IR_VALUE_CONST) {
		const int64_t *d = g->values[so].data;
		CHECK(d[0] == 1 && d[1] == 3 && d[2] == 4 && d[3] == 5);
	}
	ir_graph_free(g);
}

/* Conv → BatchNormalization, with and without conv bias, weights shared with another conv */
static void test_fold_bn(void)
{
	for (int with_bias = 0; with_bias < 2; with_bias++) {
		ir_graph *g = new_graph();
		int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 6, 6));
		int w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
		int b = with_bias ? const_rand(g, "B", D(4), -1, 1) : -1;
		int c, y, y2;
		int cn = op1(g, IR_OP_CONV, "conv", IN(x, w, b), "c", &c);
		ir_attr_set_ints(g, cn, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
		int bn = op1(g, IR_OP_BATCHNORM, "bn",
			     IN(c, const_rand(g, "gamma", D(4), 0.5f, 2), const_rand(g, "beta", D(4), -1, 1),
				const_rand(g, "mean", D(4), -0.5f, 0.5f), const_rand(g, "var", D(4), 0.1f, 2)),
			     "y", &y);
		ir_attr_set_float(g, bn, "epsilon", 1e-3f);
		test_graph_output(g, y);
		/* a second conv reading the same weights must keep them */
		op1(g, IR_OP_CONV, "conv_shared", IN(x, w), "y2", &y2);
		test_graph_output(g, y2);
		float *wcopy = malloc(g->values[w].nbytes);
		memcpy(wcopy, g->values[w].data, g->values[w].nbytes);
		float *in = rand_input(3 * 36);
		const float *ins[1] = {in};
		double e = check_numeric(g, pass_fold_batchnorm, ins);
		CHECK_MSG(e <= 1e-5, "bn fold (bias %d): rel err %g", with_bias, e);
		CHECK(g->n_nodes == 2 && g->nodes[0].op == IR_OP_CONV && g->nodes[1].op == IR_OP_CONV);
		CHECK(g->nodes[0].n_in >= 3 && g->nodes[0].in[2] >= 0); /* bias added if missing */
		const ir_value *ws = ir_in(g, &g->nodes[1], 1);
		CHECK(ws != ir_in(g, &g->nodes[0], 1) && memcmp(ws->data, wcopy, ws->nbytes) == 0);
		CHECK(strcmp(g->values[g->outputs[0]].name, "y") == 0);
		free(wcopy);
		free(in);
		ir_graph_free(g);
	}
}

/* torchvision FrozenBatchNorm2d: Conv → Mul([1,C,1,1]) → Add([C,1,1]); and lone ops */
static void test_fold_frozen_bn(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(2, 3, 5, 5));
	int w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
	int c, m, y;
	op1(g, IR_OP_CONV, "conv", IN(x, w), "c", &c);
	op1(g, IR_OP_MUL, "mul", IN(c, const_rand(g, "scale", D(1, 4, 1, 1), 0.5f, 2)), "m", &m);
	op1(g, IR_OP_ADD, "add", IN(const_rand(g, "shift", D(4, 1, 1), -1, 1), m), "y", &y);
	test_graph_output(g, y);
	float *in = rand_input(2 * 3 * 25);
	const float *ins[1] = {in};
	double e = check_numeric(g, pass_fold_batchnorm, ins);
	CHECK_MSG(e <= 1e-5, "frozen bn fold: rel err %g", e);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_CONV && g->nodes[0].in[2] >= 0);
	ir_graph_free(g);

	/* Sub and Div of per-channel constants; a spatially varying Mul must stay */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
	int b = const_rand(g, "B", D(4), -1, 1), s, d;
	op1(g, IR_OP_CONV, "conv", IN(x, w, b), "c", &c);
	op1(g, IR_OP_SUB, "sub", IN(c, const_rand(g, "mu", D(4, 1, 1), -1, 1)), "s", &s);
	op1(g, IR_OP_DIV, "div", IN(s, const_rand(g, "sd", D(1), 0.5f, 2)), "d", &d);
	op1(g, IR_OP_MUL, "mul_sp", IN(d, const_rand(g, "sp", D(1, 1, 3, 3), 0.5f, 2)), "y", &y);
	test_graph_output(g, y);
	e = check_numeric(g, pass_fold_batchnorm, ins);
	CHECK_MSG(e <= 1e-5, "sub/div fold: rel err %g", e);
	CHECK(g->n_nodes == 2 && g->nodes[0].op == IR_OP_CONV && g->nodes[1].op == IR_OP_MUL);
	free(in);
	ir_graph_free(g);
}

static odet_status fold_and_fuse(ir_graph *g)
{
	odet_status rc = pass_fold_batchnorm(g);
	return rc ? rc : pass_fuse_conv(g);
}

static void test_fuse(void)
{
	/* Conv → Relu, Conv → Clip(0, 6) */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	int c, y, c2, y2;
	op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 1, 1), -1, 1)), "c", &c);
	op1(g, IR_OP_RELU, "relu", IN(c), "y", &y);
	test_graph_output(g, y);
	op1(g, IR_OP_CONV, "conv6", IN(x, const_rand(g, "W6", D(4, 3, 1, 1), -4, 4)), "c2", &c2);
	op1(g, IR_OP_CLIP, "relu6", IN(c2, const_f(g, 0), const_f(g, 6)), "y2", &y2);
	test_graph_output(g, y2);
	float *in = rand_input(75);
	const float *ins[1] = {in};
	double e = check_numeric(g, pass_fuse_conv, ins);
	CHECK_MSG(e <= 1e-6, "fused act: rel err %g", e);
	CHECK(g->n_nodes == 2);
	CHECK(ir_attr_int(&g->nodes[0], "odet_act", 0) == IR_ACT_RELU);
	CHECK(ir_attr_int(&g->nodes[1], "odet_act", 0) == IR_ACT_CLIP);
	CHECK(ir_attr_float(&g->nodes[1], "odet_act_alpha", -1) == 0 &&
	      ir_attr_float(&g->nodes[1], "odet_act_beta", -1) == 6);
	CHECK(strcmp(g->values[g->nodes[0].out[0]].name, "y") == 0);
	free(in);
	ir_graph_free(g);

	/* ResNet block with downsample: relu(conv2(relu(bn(conv1 x))) + conv_d(x)) */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 4, 5, 5));
	int c1, r1, c2v, dv, a;
	int n1 = op1(g, IR_OP_CONV, "conv1", IN(x, const_rand(g, "W1", D(8, 4, 3, 3), -1, 1)), "c1", &c1);
	ir_attr_set_ints(g, n1, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	int bnv;
	op1(g, IR_OP_BATCHNORM, "bn1",
	    IN(c1, const_rand(g, "g1", D(8), 0.5f, 2), const_rand(g, "b1", D(8), -1, 1),
	       const_rand(g, "m1", D(8), -1, 1), const_rand(g, "v1", D(8), 0.5f, 2)),
	    "bn1o", &bnv);
	op1(g, IR_OP_RELU, "relu1", IN(bnv), "r1", &r1);
	int n2 = op1(g, IR_OP_CONV, "conv2", IN(r1, const_rand(g, "W2", D(8, 8, 3, 3), -1, 1)), "c2", &c2v);
	ir_attr_set_ints(g, n2, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_CONV, "down", IN(x, const_rand(g, "Wd", D(8, 4, 1, 1), -1, 1)), "d", &dv);
	op1(g, IR_OP_ADD, "add", IN(c2v, dv), "a", &a);
	op1(g, IR_OP_RELU, "relu2", IN(a), "out", &y);
	test_graph_output(g, y);
	in = rand_input(100);
	ins[0] = in;
	e = check_numeric(g, fold_and_fuse, ins);
	CHECK_MSG(e <= 1e-5, "residual fusion: rel err %g", e);
	CHECK_MSG(g->n_nodes == 3, "%d nodes", g->n_nodes);
	int n_res = 0, n_relu = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		CHECK(n->op == IR_OP_CONV);
		n_res += n->n_in > 3 && n->in[3] >= 0;
		n_relu += ir_attr_int(n, "odet_act", 0) == IR_ACT_RELU;
		if (n->n_in > 3 && n->in[3] >= 0)
			CHECK(ir_attr_int(n, "odet_act", 0) == IR_ACT_RELU && g->values[n->out[0]].is_output);
	}
	CHECK(n_res == 1 && n_relu == 2);
	free(in);
	ir_graph_free(g);

	/* identity residual (no downsample) */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 4, 5, 5));
	n1 = op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 4, 3, 3), -1, 1)), "c", &c);
	ir_attr_set_ints(g, n1, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_ADD, "add", IN(x, c), "a", &a);
	op1(g, IR_OP_RELU, "relu", IN(a), "y", &y);
	test_graph_output(g, y);
	in = rand_input(100);
	ins[0] = in;
	e = check_numeric(g, pass_fuse_conv, ins);
	CHECK_MSG(e <= 1e-6, "identity residual: rel err %g", e);
	CHECK(g->n_nodes == 1 && g->nodes[0].n_in == 4 && g->nodes[0].in[3] == g->inputs[0]);
	free(in);
	ir_graph_free(g);

	/* no fusion: conv output used twice, conv output is a graph output, broadcasting Add */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	int bias_in = test_graph_input(g, "bias_in", ODET_F32, D(1, 4, 1, 1));
	int s1, s2, c3, s3, a4;
	op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 1, 1), -1, 1)), "c", &c);
	op1(g, IR_OP_RELU, "relu", IN(c), "s1", &s1);
	op1(g, IR_OP_SIGMOID, "sig", IN(c), "s2", &s2);
	test_graph_output(g, s1);
	test_graph_output(g, s2);
	op1(g, IR_OP_CONV, "conv_out", IN(x, const_rand(g, "W2", D(4, 3, 1, 1), -1, 1)), "c3", &c3);
	op1(g, IR_OP_RELU, "relu3", IN(c3), "s3", &s3);
	test_graph_output(g, c3);
	test_graph_output(g, s3);
	op1(g, IR_OP_CONV, "conv_b", IN(x, const_rand(g, "W3", D(4, 3, 1, 1), -1, 1)), "c4", &c);
	op1(g, IR_OP_ADD, "add_b", IN(c, bias_in), "a4", &a4);
	test_graph_output(g, a4);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_fuse_conv(g) == ODET_OK);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 7);
	for (int i = 0; i < g->n_nodes; i++)
		CHECK(ir_attr_get(&g->nodes[i], "odet_act") == NULL && g->nodes[i].n_in <= 3);
	ir_graph_free(g);
}

static const ir_node *live_op(const ir_graph *g, ir_op op)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == op)
			return &g->nodes[i];
	return NULL;
}

/* F.normalize exports -> one L2Normalize (torchvision SSD300-VGG16's L2Norm and the older
 * Pow/ReduceSum/Sqrt form); same outputs; left alone when an intermediate is also read
 * elsewhere; a Mul by a constant along another axis stays a Mul. */
static void test_fuse_l2norm(void)
{
	/* ReduceL2 -> Clip -> Expand -> Div -> Mul(scale [1,6,1,1]) */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	int r, c, e, q, y;
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_CLIP, "clip", IN(r, const_f(g, 1e-12f)), "c", &c);
	op1(g, IR_OP_EXPAND, "expand", IN(c, const_i64(g, 1, (const int64_t[]){2, 6, 5, 4}, 4)), "e", &e);
	op1(g, IR_OP_DIV, "div", IN(x, e), "q", &q);
	op1(g, IR_OP_MUL, "mul", IN(const_rand(g, "scale", D(1, 6, 1, 1), 5, 20), q), "y", &y);
	test_graph_output(g, y);
	float *in = rand_input(240);
	const float *ins[1] = {in};
	double err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm + scale: rel err %g", err);
	const ir_node *n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 1 && n && n->n_in == 2 && ir_attr_int(n, "axis", -9) == 1 &&
	      ir_attr_float(n, "eps", 0) == 1e-12f && ir_in(g, n, 1)->rank == 1 && ir_in(g, n, 1)->dims[0] == 6);
	CHECK(n && !strcmp(ir_out(g, n, 0)->name, "y") && ir_out(g, n, 0)->is_output);
	ir_graph_free(g);

	/* Sqrt(ReduceSum(Pow(x, 2))) over the last axis, Div broadcasting, no Clip/Expand/Mul */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	int p, s, sq;
	op1(g, IR_OP_POW, "pow", IN(x, const_f(g, 2.0f)), "p", &p);
	op1(g, IR_OP_REDUCESUM, "sum", IN(p, const_i64(g, 1, (const int64_t[]){-1}, 1)), "s", &s);
	op1(g, IR_OP_SQRT, "sqrt", IN(s), "sq", &sq);
	op1(g, IR_OP_DIV, "div", IN(x, sq), "y", &y);
	test_graph_output(g, y);
	err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm (pow form): rel err %g", err);
	n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 1 && n && n->n_in == 1 && ir_attr_int(n, "axis", -9) == 3 &&
	      ir_attr_float(n, "eps", -1) == 0);
	ir_graph_free(g);

	/* the norm is also a graph output: nothing fused */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_DIV, "div", IN(x, r), "y", &y);
	test_graph_output(g, y);
	test_graph_output(g, r);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_l2norm(g) == ODET_OK);
	CHECK(!live_op(g, IR_OP_L2_NORMALIZE) && live_nodes(g) == 2);
	ir_graph_free(g);

	/* a Mul by a constant along H (not the normalized axis) stays */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_DIV, "div", IN(x, r), "q", &q);
	op1(g, IR_OP_MUL, "mul", IN(q, const_rand(g, "sh", D(1, 1, 5, 1), 1, 2)), "y", &y);
	test_graph_output(g, y);
	err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm + other-axis Mul: rel err %g", err);
	n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 2 && n && n->n_in == 1 && live_op(g, IR_OP_MUL));
	ir_graph_free(g);
	free(in);
}

static void test_eliminate_dead(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3));
	int i1, r, o, sg, ex;
	op1(g, IR_OP_IDENTITY, "id1", IN(x), "i1", &i1);
	op1(g, IR_OP_RELU, "relu", IN(i1), "r", &r);
	op1(g, IR_OP_IDENTITY, "id2", IN(r), "out", &o);
	test_graph_output(g, o);
	op1(g, IR_OP_SIGMOID, "dead1", IN(x), "sg", &sg);
	op1(g, IR_OP_EXP, "dead2", IN(sg), "ex", &ex);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_RELU);
	CHECK(strcmp(g->values[g->nodes[0].out[0]].name, "out") == 0);
	CHECK(g->nodes[0].in[0] == g->inputs[0]);
	CHECK(g->n_outputs == 1 && g->outputs[0] == g->nodes[0].out[0]);
	CHECK(g->n_values == 2);
	ir_graph_free(g);

	/* input passed straight to an output keeps its Identity */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2));
	op1(g, IR_OP_IDENTITY, "copy", IN(x), "y", &o);
	test_graph_output(g, o);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && strcmp(g->values[g->outputs[0]].name, "y") == 0);
	ir_graph_free(g);
}

static ir_graph *small_net(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "images", ODET_F32, D(-1, 3, -1, -1));
	g->values[x].sym[0] = strdup("N");
	int c, b, y;
	int cn = op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 3, 3), -1, 1)), "c", &c);
	ir_attr_set_ints(g, cn, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_BATCHNORM, "bn",
	    IN(c, const_rand(g, "g", D(4), 0.5f, 2), const_rand(g, "b", D(4), -1, 1),
	       const_rand(g, "m", D(4), -1, 1), const_rand(g, "v", D(4), 0.5f, 2)),
	    "b", &b);
	op1(g, IR_OP_RELU, "relu", IN(b), "y", &y);
	test_graph_output(g, y);
	return g;
}

static void test_pipeline_and_print(void)
{
	ir_graph *g = small_net();
	char *text = NULL;
	size_t len = 0;
	/* partially known shapes print '?' */
	CHECK(pass_infer_shapes(g) == ODET_OK);
	FILE *f = open_memstream(&text, &len);
	CHECK(odet_graph_print(g, f) == ODET_OK);
	fclose(f);
	CHECK(strstr(text, "[N,3,?,?]") && strstr(text, "totals:") && strstr(text, "BatchNormalization"));
	free(text);

	eval_stats st = {0};
	pass_opts o = {.batch = 2, .input_h = 16, .input_w = 12, .eval = test_eval, .eval_user = &st, .fuse = 1};
	CHECK(passes_run_default(g, &o) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_CONV);
	CHECK(ir_attr_int(&g->nodes[0], "odet_act", 0) == IR_ACT_RELU);
	const ir_value *y = &g->values[g->outputs[0]];
	CHECK(y->rank == 4 && y->dims[0] == 2 && y->dims[1] == 4 && y->dims[2] == 16 && y->dims[3] == 12);

	/* cost: 2 * M * OH * OW * C * KH * KW per image, plus bias and activation */
	ir_cost cost = ir_node_cost(g, &g->nodes[0]);
	int64_t macs = (int64_t)2 * 4 * 16 * 12 * 3 * 3 * 3;
	CHECK(cost.flops == 2 * macs + 2 * (2 * 4 * 16 * 12));
	CHECK(cost.params == 4 * 3 * 3 * 3 + 4);
	f = open_memstream(&text, &len);
	CHECK(odet_graph_print(g, f) == ODET_OK);
	fclose(f);
	CHECK_MSG(strstr(text, "Conv+Relu") && strstr(text, "[2,4,16,12]") && strstr(text, "1 nodes"), "%s", text);
	free(text);
	ir_graph_free(g);

	g = small_net();
	o.fuse = 0;
	CHECK(passes_run_default(g, &o) == ODET_OK);
	CHECK(g->n_nodes == 3);
	ir_graph_free(g);
}

int main(void)
{
	if (odet_ctx_create(NULL, &ctx))
		return 1;
	test_set_input_shape();
	test_fold_view_chain();
	test_fold_misc();
	test_fold_bn();
	test_fold_frozen_bn();
	test_fuse();
	test_fuse_l2norm();
	test_eliminate_dead();
	test_pipeline_and_print();
	odet_ctx_destroy(ctx);
	return test_summary("passes");
}
