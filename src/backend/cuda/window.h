/*
 * window.h — 2-D window geometry of Conv / MaxPool / AveragePool on CUDA (NCHW tensors of
 * rank 4; a rank-3 tensor is treated as H = 1). Pads follow ONNX: attr pads [hb, wb, he, we],
 * auto_pad VALID = 0, SAME_UPPER / SAME_LOWER from the output size (extra pad at the end /
 * at the beginning). The output size is taken from the IR (shape inference computed it,
 * ceil_mode included), so the kernels only need begin pads. With attribute odet_nhwc = 1
 * (passes/layout.c) X and Y are [N,H,W,C] (rank 4 only).
 */
#ifndef ODET_CUDA_WINDOW_H
#define ODET_CUDA_WINDOW_H

#include <math.h>
#include <string.h>

#include "graph/ir.h"

typedef struct cuda_window {
	int64_t n, c, h, w;     /* input */
	int64_t oc, oh, ow;     /* output channels and spatial dims */
	int64_t kh, kw, sh, sw, dh, dw;
	int64_t pt, pl, pb, pr; /* begin (top, left), end (bottom, right) pads */
} cuda_window;

/* false when the node is not 2-D (rank 3 or 4) or an attribute is out of range. */
static inline bool cuda_window_read(const ir_graph *g, const ir_node *n, int64_t kh, int64_t kw,
				    cuda_window *w)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	memset(w, 0, sizeof *w);
	if (!x || !y || (x->rank != 4 && x->rank != 3) || y->rank != x->rank)
		return false;
	bool r3 = x->rank == 3;
	if (ir_attr_int(n, "odet_nhwc", 0)) {
		if (r3)
			return false;
		w->n = x->dims[0];
		w->h = x->dims[1];
		w->w = x->dims[2];
		w->c = x->dims[3];
		w->oh = y->dims[1];
		w->ow = y->dims[2];
		w->oc = y->dims[3];
	} else {
		w->n = x->dims[0];
		w->c = x->dims[1];
		w->h = r3 ? 1 : x->dims[2];
		w->w = x->dims[x->rank - 1];
		w->oc = y->dims[1];
		w->oh = r3 ? 1 : y->dims[2];
		w->ow = y->dims[y->rank - 1];
	}
	w->kh = kh;
	w->kw = kw;
	w->sh = w->sw = w->dh = w->dw = 1;
	const int64_t *v;
	int nsp = r3 ? 1 : 2;
	if (ir_attr_ints(n, "strides", &v) == nsp) {
		w->sh = r3 ? 1 : v[0];
		w->sw = v[nsp - 1];
	}
	if (ir_attr_ints(n, "dilations", &v) == nsp) {
		w->dh = r3 ? 1 : v[0];
		w->dw = v[nsp - 1];
	}
	const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
	if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
		int64_t th = (w->oh - 1) * w->sh + w->dh * (w->kh - 1) + 1 - w->h;
		int64_t tw = (w->ow - 1) * w->sw + w->dw * (w->kw - 1) + 1 - w->w;
		th = th < 0 ? 0 : th;
		tw = tw < 0 ? 0 : tw;
		bool up = !strcmp(ap, "SAME_UPPER");
		w->pt = up ? th / 2 : th - th / 2;
		w->pb = th - w->pt;
		w->pl = up ? tw / 2 : tw - tw / 2;
		w->pr = tw - w->pl;
	} else if (strcmp(ap, "VALID") != 0 && ir_attr_ints(n, "pads", &v) == 2 * nsp) {
		w->pt = r3 ? 0 : v[0];
		w->pl = v[nsp - 1];
		w->pb = r3 ? 0 : v[nsp];
		w->pr = v[2 * nsp - 1];
	}
	return w->sh > 0 && w->sw > 0 && w->dh > 0 && w->dw > 0 && w->pt >= 0 && w->pl >= 0 &&
	       w->pb >= 0 && w->pr >= 0 && w->kh > 0 && w->kw > 0 && w->n > 0 && w->c > 0 && w->h > 0 &&
	       w->w > 0 && w->oh > 0 && w->ow > 0 && w->h < INT32_MAX && w->w < INT32_MAX &&
	       w->n < INT32_MAX && w->c < INT32_MAX;
}

/* Fused activation of a Conv (ir.h): kind and parameters with the CPU backend's defaults. */
typedef struct cuda_act {
	int kind;
	float alpha, beta;
} cuda_act;

static inline bool cuda_act_read(const ir_node *n, cuda_act *a)
{
	a->kind = (int)ir_attr_int(n, "odet_act", IR_ACT_NONE);
	a->alpha = a->beta = 0;
	switch (a->kind) {
	case IR_ACT_LEAKYRELU:
		a->alpha = ir_attr_float(n, "odet_act_alpha", 0.01f);
		return true;
	case IR_ACT_CLIP:
		a->alpha = ir_attr_float(n, "odet_act_alpha", -INFINITY);
		a->beta = ir_attr_float(n, "odet_act_beta", INFINITY);
		return true;
	case IR_ACT_HARDSIGMOID:
		a->alpha = ir_attr_float(n, "odet_act_alpha", 0.2f);
		a->beta = ir_attr_float(n, "odet_act_beta", 0.5f);
		return true;
	case IR_ACT_NONE: case IR_ACT_RELU: case IR_ACT_SIGMOID: case IR_ACT_HARDSWISH:
		return true;
	default:
		return false;
	}
}

/* y = act(x) on the device, the CPU backend's act.h rule (Conv's and QConv's epilogues). */
static __device__ __forceinline__ float cuda_act_apply(int kind, float a, float b, float x)
{
	switch (kind) {
	case IR_ACT_RELU: return x > 0 ? x : 0;
	case IR_ACT_LEAKYRELU: return x < 0 ? a * x : x;
	case IR_ACT_CLIP: return x < a ? a : (x > b ? b : x);
	case IR_ACT_SIGMOID: return 1.0f / (1.0f + __expf(-x));
	case IR_ACT_HARDSIGMOID: { float y = a * x + b; return y < 0 ? 0 : (y > 1 ? 1 : y); }
	case IR_ACT_HARDSWISH: { float y = x * (1.0f / 6) + 0.5f; return x * (y < 0 ? 0 : (y > 1 ? 1 : y)); }
	default: return x;
	}
}

#endif
