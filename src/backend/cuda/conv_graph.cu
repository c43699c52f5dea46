/*
 * conv_graph.cu — fused convolution through cuDNN's backend API (see conv_graph.h).
 *
 * Graph: ConvolutionForward(x, w) -> t0 [-> Add(t0, b) -> t1] [-> Add(t1, r) -> t2]
 *        [-> act(t2)] -> y; the intermediates are virtual fp32 tensors, so a fused engine
 * writes y once. Tensor dims are always given in N,C,H,W order with strides saying the
 * layout (NHWC: strides HWC,1,WC,C). Unique ids: x 1, w 2, b 3, r 4, y 5, virtual 101...
 */
#include "backend/cuda/conv_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CG_MAX_OPS 4
#define CG_MAX_CANDIDATES 66 /* mode A's first 8 (ODET_CONV_CANDIDATES: up to 64), FALLBACK's first 2 */
#define CG_MAX_KNOBS 32      /* knob choices compared to find a repeated candidate */
enum { UID_X = 1, UID_W = 2, UID_B = 3, UID_R = 4, UID_Y = 5, UID_S = 6, UID_V = 101 };

/* cuDNN 9.19 deprecates the handle attributes in favour of device properties, which 9.14
 * (the device's version) may lack; the numeric values are stable. */
#define ATTR_OPGRAPH_HANDLE ((cudnnBackendAttributeName_t)800)
#define ATTR_PLAN_HANDLE ((cudnnBackendAttributeName_t)400)

struct conv_graph {
	cudnnHandle_t own_h; /* the plan's own handle (desc without dnn), kept while the plan lives */
	cudnnBackendDescriptor_t plan;
	int64_t ws;
	bool has_bias, has_res, has_scale;
	char name[64];
	int refs;            /* nodes and the engine's state holding it (conv_graph_free) */
	/* what the plan was made for (same_desc) and what its tuning found */
	cuda_window cw;
	conv_graph_desc d;   /* cw, opts, dnn and dev not compared */
	float ms;
	conv_graph_choice choice;
};

typedef cudnnBackendDescriptor_t bdesc;

static void dfree(bdesc *d)
{
	if (*d)
		cudnnBackendDestroyDescriptor(*d);
	*d = NULL;
}

/* Descriptor helpers. Each step takes the status so far and runs only while every earlier
 * step succeeded, so a chain of them (st = step(st, ...);) returns the first failure. */
static cudnnStatus_t set_attr(cudnnStatus_t st, bdesc d, cudnnBackendAttributeName_t name,
			      cudnnBackendAttributeType_t type, int64_t count, const void *v)
{
	return st == CUDNN_STATUS_SUCCESS ? cudnnBackendSetAttribute(d, name, type, count, v) : st;
}

static cudnnStatus_t create_desc(cudnnStatus_t st, cudnnBackendDescriptorType_t type, bdesc *d)
{
	return st == CUDNN_STATUS_SUCCESS ? cudnnBackendCreateDescriptor(type, d) : st;
}

static cudnnStatus_t finalize(cudnnStatus_t st, bdesc d)
{
	return st == CUDNN_STATUS_SUCCESS ? cudnnBackendFinalize(d) : st;
}

static cudnnStatus_t make_tensor(bdesc *t, int64_t uid, cudnnDataType_t dt, const int64_t dims[4],
				 const int64_t strides[4], bool is_virtual)
{
	int64_t align = 16;
	bool v = true;
	cudnnStatus_t st = create_desc(CUDNN_STATUS_SUCCESS, CUDNN_BACKEND_TENSOR_DESCRIPTOR, t);
	st = set_attr(st, *t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
	st = set_attr(st, *t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
	st = set_attr(st, *t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
	st = set_attr(st, *t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
	st = set_attr(st, *t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
	if (is_virtual)
		st = set_attr(st, *t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &v);
	return finalize(st, *t);
}

static void strides_of(const int64_t d[4], bool nhwc, int64_t s[4])
{
	if (nhwc) {
		s[1] = 1;
		s[3] = d[1];
		s[2] = d[3] * d[1];
		s[0] = d[2] * d[3] * d[1];
	} else {
		s[3] = 1;
		s[2] = d[3];
		s[1] = d[2] * d[3];
		s[0] = d[1] * d[2] * d[3];
	}
}

/* pointwise op y = mode(x [, b]) */
static cudnnStatus_t make_pointwise(bdesc *op, bdesc *pw, cudnnPointwiseMode_t mode, const cuda_act *act,
				    bdesc x, bdesc b, bdesc y)
{
	cudnnDataType_t prec = CUDNN_DATA_FLOAT;
	float slope = act ? act->alpha : 0.0f, lo = slope, hi = act ? act->beta : 0.0f;
	cudnnStatus_t st = create_desc(CUDNN_STATUS_SUCCESS, CUDNN_BACKEND_POINTWISE_DESCRIPTOR, pw);
	st = set_attr(st, *pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
	st = set_attr(st, *pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec);
	if (act && act->kind == IR_ACT_LEAKYRELU) {
		st = set_attr(st, *pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_FLOAT, 1, &slope);
	} else if (act && act->kind == IR_ACT_CLIP) {
		st = set_attr(st, *pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_FLOAT, 1, &lo);
		st = set_attr(st, *pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_FLOAT, 1, &hi);
	}
	st = finalize(st, *pw);
	st = create_desc(st, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, op);
	st = set_attr(st, *op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, pw);
	st = set_attr(st, *op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
	if (b)
		st = set_attr(st, *op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
	st = set_attr(st, *op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
	return finalize(st, *op);
}

bool conv_graph_supports(const conv_graph_desc *d)
{
	switch (d->act.kind) {
	case IR_ACT_NONE:
	case IR_ACT_RELU:
	case IR_ACT_LEAKYRELU:
	case IR_ACT_CLIP:
	case IR_ACT_SIGMOID: return true;
	default: return false;
	}
}

/* Everything the operation graph is made of; freed together. */
typedef struct cg_build {
	bdesc x, w, b, r, y, s, v[4];
	bdesc conv, op[CG_MAX_OPS], pw[CG_MAX_OPS];
	int n_ops;
	bdesc graph;
} cg_build;

static void build_free(cg_build *s)
{
	dfree(&s->graph);
	for (int i = 0; i < CG_MAX_OPS; i++) {
		dfree(&s->op[i]);
		dfree(&s->pw[i]);
	}
	dfree(&s->conv);
	dfree(&s->x);
	dfree(&s->w);
	dfree(&s->b);
	dfree(&s->r);
	dfree(&s->y);
	dfree(&s->s);
	for (int i = 0; i < 4; i++)
		dfree(&s->v[i]);
}

/* The convolution operation x (*) w -> out, with its convolution descriptor (freed here). */
static cudnnStatus_t make_conv(cg_build *s, const cuda_window *cw, cudnnDataType_t comp, bdesc out)
{
	bdesc cd = NULL;
	int64_t nd = 2, pre[2] = {cw->pt, cw->pl}, post[2] = {cw->pb, cw->pr};
	int64_t str[2] = {cw->sh, cw->sw}, dil[2] = {cw->dh, cw->dw};
	cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
	float alpha = 1.0f, beta = 0.0f;
	cudnnStatus_t st = create_desc(CUDNN_STATUS_SUCCESS, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &cd);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &nd);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pre);
	st = set_attr(st, cd, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, post);
	st = finalize(st, cd);
	st = create_desc(st, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, &s->conv);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &s->x);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &s->w);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &out);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
		      &cd);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
	st = set_attr(st, s->conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
	st = finalize(st, s->conv);
	dfree(&cd);
	return st;
}

static cudnnStatus_t build_graph(cg_build *s, cudnnHandle_t h, const conv_graph_desc *d)
{
	const cuda_window *cw = d->cw;
	cudnnDataType_t half = CUDNN_DATA_HALF, fl = CUDNN_DATA_FLOAT;
	const cudnnDataType_t qdt = d->fp8 ? CUDNN_DATA_FP8_E4M3 : CUDNN_DATA_INT8;
	const cudnnDataType_t xdt = d->int8 ? qdt : half, ydt = d->int8 ? d->ydt : half;
	const cudnnDataType_t bdt = d->int8 ? fl : half, rdt = d->int8 ? d->rdt : half;
	const cudnnDataType_t comp = d->int8 && !d->fp8 ? CUDNN_DATA_INT32 : fl;
	int64_t xd[4] = {cw->n, cw->c, cw->h, cw->w}, yd[4] = {cw->n, cw->oc, cw->oh, cw->ow};
	int64_t wd[4] = {cw->oc, cw->c, cw->kh, cw->kw}, bd[4] = {1, cw->oc, 1, 1};
	int64_t xs[4], ys[4], ws[4], bs[4];
	strides_of(xd, d->nhwc, xs);
	strides_of(yd, d->nhwc, ys);
	strides_of(wd, d->nhwc, ws);
	strides_of(bd, d->nhwc, bs);
	cudnnStatus_t st = make_tensor(&s->x, UID_X, xdt, xd, xs, false);
	if (st == CUDNN_STATUS_SUCCESS)
		st = make_tensor(&s->w, UID_W, xdt, wd, ws, false);
	if (st == CUDNN_STATUS_SUCCESS)
		st = make_tensor(&s->y, UID_Y, ydt, yd, ys, false);
	if (st == CUDNN_STATUS_SUCCESS && d->has_bias)
		st = make_tensor(&s->b, UID_B, bdt, bd, bs, false);
	if (st == CUDNN_STATUS_SUCCESS && d->has_res)
		st = make_tensor(&s->r, UID_R, rdt, yd, ys, false);
	if (st == CUDNN_STATUS_SUCCESS && d->int8) /* INT8 and FP8: A per output channel, shaped as the bias */
		st = make_tensor(&s->s, UID_S, fl, bd, bs, false);
	if (st != CUDNN_STATUS_SUCCESS)
		return st;

	/* the chain after the convolution: [scale], bias, residual, activation */
	cudnnPointwiseMode_t modes[4];
	bdesc second[4];
	const cuda_act *acts[4] = {NULL, NULL, NULL, NULL};
	int k = 0;
	if (d->int8) {
		modes[k] = CUDNN_POINTWISE_MUL;
		second[k++] = s->s;
	}
	if (d->has_bias) {
		modes[k] = CUDNN_POINTWISE_ADD;
		second[k++] = s->b;
	}
	if (d->has_res) {
		modes[k] = CUDNN_POINTWISE_ADD;
		second[k++] = s->r;
	}
	if (d->act.kind != IR_ACT_NONE) {
		modes[k] = d->act.kind == IR_ACT_SIGMOID ? CUDNN_POINTWISE_SIGMOID_FWD : CUDNN_POINTWISE_RELU_FWD;
		acts[k] = &d->act;
		second[k++] = NULL;
	}
	for (int i = 0; i < k && st == CUDNN_STATUS_SUCCESS; i++)
		st = make_tensor(&s->v[i], UID_V + i, fl, yd, ys, true);
	/* convolution: output y directly when nothing follows, else the first virtual tensor */
	if (st == CUDNN_STATUS_SUCCESS)
		st = make_conv(s, cw, comp, k ? s->v[0] : s->y);
	for (int i = 0; i < k && st == CUDNN_STATUS_SUCCESS; i++)
		st = make_pointwise(&s->op[i], &s->pw[i], modes[i], acts[i], s->v[i], second[i],
				    i + 1 < k ? s->v[i + 1] : s->y);
	if (st != CUDNN_STATUS_SUCCESS)
		return st;
	s->n_ops = k;

	bdesc ops[1 + CG_MAX_OPS];
	ops[0] = s->conv;
	for (int i = 0; i < k; i++)
		ops[1 + i] = s->op[i];
	st = create_desc(st, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &s->graph);
	st = set_attr(st, s->graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1 + k, ops);
	st = set_attr(st, s->graph, ATTR_OPGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
	return finalize(st, s->graph);
}

/* Heuristic engine configurations of one mode, appended to cfg[*n..max). */
static void heuristics(bdesc graph, cudnnBackendHeurMode_t mode, bdesc *cfg, int *n, int max)
{
	bdesc heur = NULL;
	int64_t count = 0;
	if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur) ||
	    cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
				     &graph) ||
	    cudnnBackendSetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode) ||
	    cudnnBackendFinalize(heur) ||
	    cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
				     NULL)) {
		dfree(&heur);
		return;
	}
	int want = (int)(count < max - *n ? count : max - *n);
	if (want <= 0) {
		dfree(&heur);
		return;
	}
	bdesc got[CG_MAX_CANDIDATES];
	int made = 0;
	for (; made < want; made++)
		if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &got[made]))
			break;
	int64_t ret = 0;
	if (made && cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
					     made, &ret, got) == CUDNN_STATUS_SUCCESS) {
		for (int i = 0; i < made; i++)
			if (i < ret)
				cfg[(*n)++] = got[i];
			else
				dfree(&got[i]);
	} else {
		for (int i = 0; i < made; i++)
			dfree(&got[i]);
	}
	dfree(&heur);
}

/* Notes of the configuration's engine that rule it out (non-deterministic, reordered filters). */
static bool config_acceptable(bdesc cfg, int64_t *engine_index)
{
	bdesc eng = NULL;
	int64_t cnt = 0;
	*engine_index = -1;
	if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng))
		return false;
	if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cnt, &eng)) {
		dfree(&eng);
		return true; /* cannot tell: let finalize decide */
	}
	cudnnBackendNumericalNote_t num[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
	cudnnBackendBehaviorNote_t beh[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
	bool ok = true;
	cnt = 0;
	cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &cnt, engine_index);
	cnt = 0;
	if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
				     CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &cnt, num) == CUDNN_STATUS_SUCCESS)
		for (int64_t i = 0; i < cnt; i++)
			if (num[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC)
				ok = false;
	cnt = 0;
	if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
				     CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &cnt, beh) == CUDNN_STATUS_SUCCESS)
		for (int64_t i = 0; i < cnt; i++)
			if (beh[i] == CUDNN_BEHAVIOR_NOTE_REQUIRES_FILTER_INT8x32_REORDER ||
			    beh[i] == CUDNN_BEHAVIOR_NOTE_REQUIRES_BIAS_INT8x32_REORDER)
				ok = false;
	dfree(&eng);
	return ok;
}

/* A candidate's identity: its engine and knob choices (sorted by knob type). */
typedef struct cg_sig {
	int64_t engine;
	int n;  /* knob choices; -1: unknown (never equal to another) */
	int64_t kv[2 * CG_MAX_KNOBS];
} cg_sig;

static void sig_of(bdesc cfg, int64_t engine, cg_sig *sig)
{
	bdesc k[CG_MAX_KNOBS];
	int64_t cnt = 0, got = 0;
	int made = 0;
	sig->engine = engine;
	sig->n = -1;
	if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &cnt,
				     NULL) != CUDNN_STATUS_SUCCESS ||
	    cnt < 0 || cnt > CG_MAX_KNOBS)
		return;
	for (; made < cnt; made++)
		if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, &k[made]) != CUDNN_STATUS_SUCCESS)
			break;
	bool ok = made == cnt && (cnt == 0 || cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES,
								       CUDNN_TYPE_BACKEND_DESCRIPTOR, cnt, &got,
								       k) == CUDNN_STATUS_SUCCESS);
	ok = ok && (cnt == 0 || got == cnt);
	for (int i = 0; ok && i < cnt; i++) {
		cudnnBackendKnobType_t type = (cudnnBackendKnobType_t)0;
		int64_t value = 0, one = 0;
		ok = cudnnBackendGetAttribute(k[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &one,
					      &type) == CUDNN_STATUS_SUCCESS &&
		     cudnnBackendGetAttribute(k[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &one,
					      &value) == CUDNN_STATUS_SUCCESS;
		/* insertion by knob type */
		int j = i;
		for (; ok && j > 0 && sig->kv[2 * (j - 1)] > (int64_t)type; j--) {
			sig->kv[2 * j] = sig->kv[2 * (j - 1)];
			sig->kv[2 * j + 1] = sig->kv[2 * (j - 1) + 1];
		}
		sig->kv[2 * j] = (int64_t)type;
		sig->kv[2 * j + 1] = value;
	}
	for (int i = 0; i < made; i++)
		dfree(&k[i]);
	if (ok && engine >= 0)
		sig->n = (int)cnt;
}

static bool sig_equal(const cg_sig *a, const cg_sig *b)
{
	return a->n >= 0 && a->n == b->n && a->engine == b->engine &&
	       !memcmp(a->kv, b->kv, sizeof a->kv[0] * 2 * (size_t)a->n);
}

/* Same plan: every fact of the description the operation graph is made of. */
static bool same_desc(const conv_graph *g, const conv_graph_desc *d)
{
	const conv_graph_desc *e = &g->d;
	return !memcmp(&g->cw, d->cw, sizeof g->cw) && e->nhwc == d->nhwc && e->has_bias == d->has_bias &&
	       e->has_res == d->has_res && e->act.kind == d->act.kind && e->act.alpha == d->act.alpha &&
	       e->act.beta == d->act.beta && e->int8 == d->int8 && e->fp8 == d->fp8 &&
	       (!d->int8 || (e->ydt == d->ydt && e->rdt == d->rdt));
}

/* A graph of the engine made for this description: for a replay, of the same choice; for a
 * tuning, a tuned one (its time is the one found). */
static conv_graph *shared_graph(const conv_graph_desc *d, const conv_graph_choice *only, size_t ws_cap)
{
	cuda_dev_state *dev = d->dev;
	for (int i = 0; dev && i < dev->n_graphs; i++) {
		conv_graph *g = dev->graphs[i];
		if (same_desc(g, d) && (size_t)g->ws <= ws_cap &&
		    (only ? only->cand == g->choice.cand && only->engine == g->choice.engine : g->ms > 0))
			return g;
	}
	return NULL;
}

/* The engine's state keeps a reference (dropped by cuda_dev_state_destroy); a failure to
 * keep it only costs a later identical convolution its own finalize. */
static void keep_graph(cuda_dev_state *dev, conv_graph *g)
{
	if (!dev)
		return;
	if (dev->n_graphs == dev->cap_graphs) {
		int cap = dev->cap_graphs ? 2 * dev->cap_graphs : 16;
		conv_graph **p = (conv_graph **)realloc(dev->graphs, sizeof *p * (size_t)cap);
		if (!p)
			return;
		dev->graphs = p;
		dev->cap_graphs = cap;
	}
	g->refs++;
	dev->graphs[dev->n_graphs++] = g;
}

static double ms_since(double t0)
{
	return (odet_now_s() - t0) * 1e3;
}

static cudnnStatus_t execute(cudnnBackendDescriptor_t plan, cudnnHandle_t h, bool has_bias, bool has_res,
			     const void *x, const void *w, const void *b, const void *r, const void *sc, void *y,
			     void *ws)
{
	int64_t uids[6];
	void *ptrs[6];
	int k = 0;
	uids[k] = UID_X, ptrs[k++] = (void *)x;
	uids[k] = UID_W, ptrs[k++] = (void *)w;
	uids[k] = UID_Y, ptrs[k++] = y;
	if (has_bias)
		uids[k] = UID_B, ptrs[k++] = (void *)b;
	if (has_res)
		uids[k] = UID_R, ptrs[k++] = (void *)r;
	if (sc)
		uids[k] = UID_S, ptrs[k++] = (void *)sc;
	bdesc vp = NULL;
	cudnnStatus_t st = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp);
	if (st == CUDNN_STATUS_SUCCESS)
		st = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, k, uids);
	if (st == CUDNN_STATUS_SUCCESS)
		st = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, k, ptrs);
	if (st == CUDNN_STATUS_SUCCESS)
		st = cudnnBackendSetAttribute(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws);
	if (st == CUDNN_STATUS_SUCCESS)
		st = cudnnBackendFinalize(vp);
	if (st == CUDNN_STATUS_SUCCESS)
		st = cudnnBackendExecute(h, plan, vp);
	dfree(&vp);
	return st;
}

odet_status conv_graph_tune(odet_ctx *ctx, const ir_node *n, const conv_graph_desc *d, void *x, void *w,
			    void *b, void *r, void *y, void *ws, size_t ws_cap, const conv_graph_choice *only,
			    conv_graph **out, float *ms, size_t *ws_need, conv_graph_choice *chosen)
{
	return conv_graph_tune_q(ctx, n, d, x, w, b, r, NULL, y, ws, ws_cap, only, out, ms, ws_need, chosen);
}

odet_status conv_graph_tune_q(odet_ctx *ctx, const ir_node *n, const conv_graph_desc *d, void *x, void *w,
			      void *b, void *r, void *sc, void *y, void *ws, size_t ws_cap,
			      const conv_graph_choice *only, conv_graph **out, float *ms, size_t *ws_need,
			      conv_graph_choice *chosen)
{
	*out = NULL;
	cuda_tune_stats local, *stats = d->dev ? &d->dev->stats : &local;
	memset(&local, 0, sizeof local);
	conv_graph *same = shared_graph(d, only, ws_cap);
	if (same) {
		same->refs++;
		stats->shared++;
		*out = same;
		*ms = only ? 0 : same->ms;
		*ws_need = (size_t)same->ws;
		*chosen = same->choice;
		return ODET_OK;
	}
	cudnnHandle_t h = NULL;
	cg_build s;
	memset(&s, 0, sizeof s);
	bdesc cfg[CG_MAX_CANDIDATES];
	cg_sig sigs[CG_MAX_CANDIDATES];
	int n_cfg = 0, tried = 0, finalized = 0, n_sigs = 0;
	cudaEvent_t e0 = NULL, e1 = NULL;
	bdesc best = NULL;
	float best_ms = 0;
	int64_t best_ws = 0, best_engine = -1;
	int best_cand = -1;
	odet_status rc = ODET_OK;
	cudnnStatus_t st;

	cudnnHandle_t own_h = NULL; /* only when d gives no handle */
	if (d->dnn) {
		h = d->dnn;
	} else {
		if ((st = cudnnCreate(&own_h)) != CUDNN_STATUS_SUCCESS)
			return odet_cudnn_check(ctx, st, n, "cudnnCreate");
		h = own_h;
	}
	if ((st = build_graph(&s, h, d)) != CUDNN_STATUS_SUCCESS) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Conv): cuDNN operation graph refused: %s", n->name,
				cudnnGetErrorString(st));
		goto done;
	}
	(only ? stats->replays : stats->tunings)++;
	{ /* each candidate costs a finalize (and for runtime-compiled engines a compile) at build time */
		int n_a = d->opts && d->opts->conv_candidates > 0 ? d->opts->conv_candidates : 8;
		if (n_a > CG_MAX_CANDIDATES - 2)
			n_a = CG_MAX_CANDIDATES - 2;
		heuristics(s.graph, CUDNN_HEUR_MODE_A, cfg, &n_cfg, n_a);
		heuristics(s.graph, CUDNN_HEUR_MODE_FALLBACK, cfg, &n_cfg, n_a + 2);
	}
	if (cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
		rc = odet_cuda_check(ctx, cudaGetLastError(), n, "cudaEventCreate");
		goto done;
	}
	for (int i = 0; i < n_cfg; i++) {
		int64_t eng = -1, wsz = 0, cnt = 0;
		if (only && i != only->cand)
			continue;
		if (!config_acceptable(cfg[i], &eng) || (only && eng != only->engine))
			continue;
		if (!only) { /* mode A and FALLBACK may propose one configuration twice */
			bool repeat = false;
			sig_of(cfg[i], eng, &sigs[n_sigs]);
			for (int j = 0; j < n_sigs && !repeat; j++)
				repeat = sig_equal(&sigs[j], &sigs[n_sigs]);
			if (repeat) {
				stats->duplicates++;
				continue;
			}
			n_sigs++;
		}
		tried++;
		bdesc plan = NULL;
		double t0 = odet_now_s();
		st = cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan);
		if (st == CUDNN_STATUS_SUCCESS)
			st = cudnnBackendSetAttribute(plan, ATTR_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
		if (st == CUDNN_STATUS_SUCCESS)
			st = cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
						      CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg[i]);
		if (st == CUDNN_STATUS_SUCCESS)
			st = cudnnBackendFinalize(plan);
		if (st == CUDNN_STATUS_SUCCESS)
			st = cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1,
						      &cnt, &wsz);
		stats->finalize_ms += ms_since(t0);
		if (st != CUDNN_STATUS_SUCCESS || wsz < 0 || (size_t)wsz > ws_cap) {
			dfree(&plan);
			continue;
		}
		finalized++;
		stats->finalized++;
		/* one warm-up (also catches launch failures), timed; then the mean of 5 calls */
		t0 = odet_now_s();
		float warm = 0;
		cudaEventRecord(e0, 0);
		st = execute(plan, h, d->has_bias, d->has_res, x, w, b, r, d->int8 ? sc : NULL, y, ws);
		cudaEventRecord(e1, 0);
		bool ran = st == CUDNN_STATUS_SUCCESS && cudaDeviceSynchronize() == cudaSuccess &&
			   cudaEventElapsedTime(&warm, e0, e1) == cudaSuccess;
		stats->warmup_ms += ms_since(t0);
		if (!ran) {
			cudaGetLastError();
			dfree(&plan);
			continue;
		}
		if (only) { /* replaying a cached choice: it runs, that is all we need */
			best = plan;
			best_ws = wsz;
			best_engine = eng;
			best_cand = i;
			break;
		}
		if (best && warm > 2 * best_ms + stats->first_cost_ms) {
			stats->untimed++;
			dfree(&plan);
			continue;
		}
		t0 = odet_now_s();
		cudaEventRecord(e0, 0);
		for (int it = 0; it < 5 && st == CUDNN_STATUS_SUCCESS; it++)
			st = execute(plan, h, d->has_bias, d->has_res, x, w, b, r, d->int8 ? sc : NULL, y, ws);
		cudaEventRecord(e1, 0);
		float t = 0;
		ran = st == CUDNN_STATUS_SUCCESS && cudaEventSynchronize(e1) == cudaSuccess &&
		      cudaEventElapsedTime(&t, e0, e1) == cudaSuccess;
		stats->timed_ms += ms_since(t0);
		if (!ran) {
			cudaGetLastError();
			dfree(&plan);
			continue;
		}
		t /= 5;
		stats->timed++;
		if (warm - t > stats->first_cost_ms)
			stats->first_cost_ms = warm - t;
		if (t > 0) {
			float ratio = warm / t;
			if (stats->timed == 1 || ratio < stats->ratio_lo)
				stats->ratio_lo = ratio;
			if (stats->timed == 1 || ratio > stats->ratio_hi)
				stats->ratio_hi = ratio;
		}
		if (!best || t < best_ms) {
			dfree(&best);
			best = plan;
			best_ms = t;
			best_ws = wsz;
			best_engine = eng;
			best_cand = i;
		} else {
			dfree(&plan);
		}
	}
	if (!best) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED,
				"node '%s' (Conv): none of cuDNN's %d engine configurations (%d acceptable, %d finalized) runs the fused graph",
				n->name, n_cfg, tried, finalized);
		goto done;
	}
	{
		conv_graph *g = (conv_graph *)odet_calloc(ctx, 1, sizeof *g);
		if (!g) {
			rc = ODET_ERR_NO_MEMORY;
			goto done;
		}
		g->plan = best;
		g->own_h = own_h;
		best = NULL;
		own_h = NULL;
		g->ws = best_ws;
		g->has_bias = d->has_bias;
		g->has_res = d->has_res;
		g->has_scale = d->int8;
		g->refs = 1;
		g->cw = *d->cw;
		g->d = *d;
		g->d.cw = NULL;
		g->d.opts = NULL;
		g->d.dnn = NULL;
		g->d.dev = NULL;
		g->ms = best_ms;
		g->choice.cand = best_cand;
		g->choice.engine = (long long)best_engine;
		snprintf(g->name, sizeof g->name, "graph engine %lld (of %d tried)", (long long)best_engine, finalized);
		if (!g->own_h)
			keep_graph(d->dev, g);
		*out = g;
		*ms = best_ms;
		*ws_need = (size_t)best_ws;
		*chosen = g->choice;
	}
done:
	dfree(&best);
	for (int i = 0; i < n_cfg; i++)
		dfree(&cfg[i]);
	if (e0)
		cudaEventDestroy(e0);
	if (e1)
		cudaEventDestroy(e1);
	build_free(&s);
	if (own_h)
		cudnnDestroy(own_h);
	return rc;
}

cudnnStatus_t conv_graph_run(const conv_graph *g, cudnnHandle_t h, const void *x, const void *w, const void *b,
			     const void *r, void *y, void *ws)
{
	return execute(g->plan, h, g->has_bias, g->has_res, x, w, b, r, NULL, y, ws);
}

cudnnStatus_t conv_graph_run_q(const conv_graph *g, cudnnHandle_t h, const void *x, const void *w, const void *b,
			       const void *r, const void *s, void *y, void *ws)
{
	return execute(g->plan, h, g->has_bias, g->has_res, x, w, b, r, g->has_scale ? s : NULL, y, ws);
}

const char *conv_graph_name(const conv_graph *g)
{
	return g->name;
}

void conv_graph_free(conv_graph *g)
{
	if (!g || --g->refs > 0)
		return;
	dfree(&g->plan);
	if (g->own_h)
		cudnnDestroy(g->own_h);
	free(g);
}

bool conv_graph_key(const conv_graph_desc *gd, const char *kind, const char *what, int group, const char *tail,
		    char *key, size_t cap)
{
	int dev = 0;
	cudaDeviceProp p;
	if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
		cudaGetLastError();
		return false;
	}
	char name[sizeof p.name];
	size_t i = 0;
	for (; p.name[i] && i + 1 < sizeof name; i++)
		name[i] = p.name[i] > 0x20 && p.name[i] < 0x7f ? p.name[i] : '_';
	name[i] = 0;
	const cuda_window *c = gd->cw;
	int k = snprintf(key, cap,
			 "%s %s sm%d%d cudnn%zu %s x%lld,%lld,%lld,%lld k%lld,%lld,%lld s%lld,%lld d%lld,%lld "
			 "p%lld,%lld,%lld,%lld g%d b%d r%d a%d%s",
			 kind, name, p.major, p.minor, cudnnGetVersion(), what, (long long)c->n, (long long)c->c,
			 (long long)c->h, (long long)c->w, (long long)c->oc, (long long)c->kh, (long long)c->kw,
			 (long long)c->sh, (long long)c->sw, (long long)c->dh, (long long)c->dw, (long long)c->pt,
			 (long long)c->pl, (long long)c->pb, (long long)c->pr, group, (int)gd->has_bias, (int)gd->has_res,
			 gd->act.kind, tail);
	return k > 0 && (size_t)k < cap;
}
