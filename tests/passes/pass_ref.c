/* pass_ref.c — what the pass tests share: graph building on a test context, a tiny float32
 * interpreter (direct convolution, batchnorm, broadcasting binary ops, activations, the fused Conv
 * semantics of ir.h, the ops of F.normalize's export with L2Normalize) so that nothing depends on
 * the CPU kernels, the numeric before/after check, and a small constant-folding evaluator
 * (Gather/Unsqueeze/Concat). */
#include "pass_ref.h"

#include "passes/passes.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx; /* set by pass_ref_init */
static uint32_t rng = 12345;

void pass_ref_init(odet_ctx *c)
{
	ctx = c;
}

static double fail(const char *what)
{
	fprintf(stderr, "check_numeric: %s failed: %s\n", what, odet_ctx_last_error(ctx));
	return INFINITY;
}

float frand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* ------------------------------------------------------------------ graph building */

ir_graph *new_graph(void)
{
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		exit(1);
	return g;
}

int const_rand(ir_graph *g, const char *name, int rank, const int64_t *dims, float lo, float hi)
{
	int64_t n;
	odet_dims_numel(dims, rank, &n);
	float *d = malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		d[i] = lo + (hi - lo) * (frand() + 1) / 2;
	return ir_const_add(g, name, ODET_F32, rank, dims, d);
}

int const_f(ir_graph *g, float v)
{
	float *d = malloc(sizeof *d);
	*d = v;
	return ir_const_add(g, NULL, ODET_F32, 0, NULL, d);
}

int const_i64(ir_graph *g, int rank, const int64_t *vals, int64_t n)
{
	int64_t *d = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	memcpy(d, vals, sizeof(int64_t) * (size_t)n);
	return ir_const_add(g, NULL, ODET_I64, rank, rank ? &n : NULL, d);
}

/* node with a fresh output (named) */
int op1(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, const char *out_name, int *out)
{
	int o = ir_value_add(g, out_name, ODET_DTYPE_UNDEFINED, -1, NULL);
	if (out)
		*out = o;
	return ir_node_add(g, op, name, n_in, in, 1, &o);
}

int live_nodes(const ir_graph *g)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead;
	return c;
}

/* every node input is a graph input, a constant, or produced by an earlier node */
bool order_valid(const ir_graph *g)
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


static int64_t ref_numel(const ir_value *v)
{
	return ir_value_numel(v);
}

static float ref_act(float x, int64_t a, float alpha, float beta)
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
static void ref_conv(const ir_graph *g, const ir_node *n, float **buf)
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
					y[o] = ref_act((float)s, a, alpha, beta);
				}
}

/* offset into v (broadcast against out's rank) of the out index idx */
static int64_t ref_bidx(const ir_value *v, const int64_t *idx, int rank)
{
	int64_t off = 0;
	for (int j = 0; j < v->rank; j++) {
		int i = rank - v->rank + j;
		off = off * v->dims[j] + (v->dims[j] == 1 ? 0 : idx[i]);
	}
	return off;
}

static void ref_binary(const ir_graph *g, const ir_node *n, float **buf)
{
	const ir_value *av = ir_in(g, n, 0), *bv = ir_in(g, n, 1), *yv = ir_out(g, n, 0);
	const float *a = buf[n->in[0]], *b = buf[n->in[1]];
	float *y = buf[n->out[0]];
	int64_t idx[ODET_MAX_RANK] = {0};
	for (int64_t o = 0; o < ref_numel(yv); o++) {
		int64_t r = o;
		for (int i = yv->rank - 1; i >= 0; i--) {
			idx[i] = r % yv->dims[i];
			r /= yv->dims[i];
		}
		float p = a[ref_bidx(av, idx, yv->rank)], q = b[ref_bidx(bv, idx, yv->rank)];
		y[o] = n->op == IR_OP_ADD ? p + q : n->op == IR_OP_SUB ? p - q : n->op == IR_OP_MUL ? p * q : p / q;
	}
}

/* out index o -> idx (row-major over v's dims) */
static void ref_unravel(const ir_value *v, int64_t o, int64_t *idx)
{
	for (int i = v->rank - 1; i >= 0; i--) {
		idx[i] = o % v->dims[i];
		o /= v->dims[i];
	}
}

/* ReduceL2 / ReduceSum over the one axis of constant input 1 (keepdims), Expand, Pow by a
 * constant scalar, Sqrt, L2Normalize: the ops of F.normalize's export (fuse_l2norm) */
static void ref_norm(const ir_graph *g, const ir_node *n, float **buf)
{
	const ir_value *xv = ir_in(g, n, 0), *yv = ir_out(g, n, 0);
	const float *x = buf[n->in[0]];
	float *y = buf[n->out[0]];
	int64_t idx[ODET_MAX_RANK], ny = ref_numel(yv), nx = ref_numel(xv);
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
			ref_unravel(yv, o, idx);
			y[o] = x[ref_bidx(xv, idx, yv->rank)];
		} else if (n->op == IR_OP_POW) {
			y[o] = powf(x[o], buf[n->in[1]][0]);
		} else {
			y[o] = sqrtf(x[o]);
		}
	}
}

/* Run g (shapes inferred) on input data; returns per-value buffers (free with interp_free). */
static interp ref_run(const ir_graph *g, const float *const *inputs)
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
		int64_t ny = ref_numel(yv);
		it.buf[n->out[0]] = calloc((size_t)(ny > 0 ? ny : 1), sizeof(float));
		float *y = it.buf[n->out[0]];
		const float *x = it.buf[n->in[0]];
		switch (n->op) {
		case IR_OP_CONV:
			ref_conv(g, n, it.buf);
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
			ref_binary(g, n, it.buf);
			break;
		case IR_OP_RELU:
			for (int64_t o = 0; o < ny; o++)
				y[o] = ref_act(x[o], IR_ACT_RELU, 0, 0);
			break;
		case IR_OP_SIGMOID:
			for (int64_t o = 0; o < ny; o++)
				y[o] = ref_act(x[o], IR_ACT_SIGMOID, 0, 0);
			break;
		case IR_OP_CLIP: {
			float lo = ir_in(g, n, 1) ? it.buf[n->in[1]][0] : -FLT_MAX;
			float hi = ir_in(g, n, 2) ? it.buf[n->in[2]][0] : FLT_MAX;
			for (int64_t o = 0; o < ny; o++)
				y[o] = ref_act(x[o], IR_ACT_CLIP, lo, hi);
			break;
		}
		case IR_OP_REDUCEL2: case IR_OP_REDUCESUM: case IR_OP_EXPAND: case IR_OP_POW: case IR_OP_SQRT:
		case IR_OP_L2_NORMALIZE:
			ref_norm(g, n, it.buf);
			break;
		default:
			fprintf(stderr, "interpreter: op %s not supported\n", ir_op_name(n->op));
			exit(1);
		}
	}
	return it;
}

static void ref_free(const ir_graph *g, interp *it)
{
	for (int v = 0; v < it->n; v++) {
		if (g->values[v].kind == IR_VALUE_INTERMEDIATE && g->values[v].producer >= 0)
			free(it->buf[v]);
	}
	free(it->buf);
}

/* copy of output k's data */
static float *ref_output_copy(const ir_graph *g, const interp *it, int k, int64_t *count)
{
	const ir_value *v = &g->values[g->outputs[k]];
	*count = ref_numel(v);
	float *c = malloc(sizeof(float) * (size_t)*count);
	memcpy(c, it->buf[g->outputs[k]], sizeof(float) * (size_t)*count);
	return c;
}

/* max |a-b| / max |ref| */
static double ref_rel_err(const float *ref, const float *got, int64_t n)
{
	double md = 0, mr = 1e-30;
	for (int64_t i = 0; i < n; i++) {
		md = fmax(md, fabs((double)ref[i] - got[i]));
		mr = fmax(mr, fabs((double)ref[i]));
	}
	return md / mr;
}

/* Run, apply `pass`, eliminate dead code, re-infer, run again; the worst relative error over all
 * outputs, or INFINITY (the reason on stderr) when the pass or the graph after it fails. */
double check_numeric(ir_graph *g, odet_status (*pass)(ir_graph *), const float *const *inputs)
{
	if (pass_infer_shapes(g) != ODET_OK)
		return fail("shapes before the pass");
	interp a = ref_run(g, inputs);
	int64_t cnt[4];
	float *ref[4];
	for (int k = 0; k < g->n_outputs; k++)
		ref[k] = ref_output_copy(g, &a, k, &cnt[k]);
	ref_free(g, &a);
	double worst = 0;
	if (pass(g) != ODET_OK || pass_eliminate_dead(g) != ODET_OK || pass_infer_shapes(g) != ODET_OK) {
		worst = fail("the pass, dead-code elimination or shapes after it");
	} else if (!order_valid(g)) {
		worst = fail("node order after the pass");
	} else {
		interp b = ref_run(g, inputs);
		for (int k = 0; k < g->n_outputs; k++) {
			if (ref_numel(&g->values[g->outputs[k]]) != cnt[k])
				worst = fail("an output's element count changed");
			else
				worst = fmax(worst, ref_rel_err(ref[k], b.buf[g->outputs[k]], cnt[k]));
		}
		ref_free(g, &b);
	}
	for (int k = 0; k < g->n_outputs; k++)
		free(ref[k]);
	return worst;
}

float *rand_input(int64_t n)
{
	float *d = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		d[i] = frand();
	return d;
}

/* ------------------------------------------------------------------ folding evaluator */


odet_status test_eval(void *user, const ir_graph *g, const ir_node *n, const odet_tensor *in,
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

const ir_node *live_op(const ir_graph *g, ir_op op)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == op)
			return &g->nodes[i];
	return NULL;
}
