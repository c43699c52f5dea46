/*
 * act.h — the fused-activation epilogue of odet's Conv (ir_act in graph/ir.h), shared by
 * every CPU kernel that applies y = act(x):
 *   NONE x; RELU max(x,0); LEAKYRELU x<0 ? alpha*x : x; CLIP min(max(x,alpha),beta);
 *   SIGMOID 1/(1+exp(-x)); HARDSIGMOID max(0,min(1,alpha*x+beta)); HARDSWISH x*max(0,min(1,x/6+1/2)).
 * Parameters come from the node attributes odet_act, odet_act_alpha, odet_act_beta with
 * ONNX defaults (LeakyRelu alpha 0.01, HardSigmoid 0.2/0.5, Clip -inf/+inf).
 */
#ifndef ODET_CPU_ACT_H
#define ODET_CPU_ACT_H

#include "graph/ir.h"

#include <math.h>

typedef struct cpu_act {
	int kind; /* ir_act */
	float alpha, beta;
} cpu_act;

/* Read the fused activation of node n; false when odet_act names no known activation. */
static inline bool cpu_act_from_node(const ir_node *n, cpu_act *a)
{
	a->kind = (int)ir_attr_int(n, "odet_act", IR_ACT_NONE);
	switch (a->kind) {
	case IR_ACT_LEAKYRELU:
		a->alpha = ir_attr_float(n, "odet_act_alpha", 0.01f);
		a->beta = 0;
		return true;
	case IR_ACT_CLIP:
		a->alpha = ir_attr_float(n, "odet_act_alpha", -INFINITY);
		a->beta = ir_attr_float(n, "odet_act_beta", INFINITY);
		return true;
	case IR_ACT_HARDSIGMOID:
		a->alpha = ir_attr_float(n, "odet_act_alpha", 0.2f);
		a->beta = ir_attr_float(n, "odet_act_beta", 0.5f);
		return true;
	case IR_ACT_NONE:
	case IR_ACT_RELU:
	case IR_ACT_SIGMOID:
	case IR_ACT_HARDSWISH:
		a->alpha = a->beta = 0;
		return true;
	default:
		return false;
	}
}

static inline float cpu_act_apply1(const cpu_act *a, float x)
{
	switch (a->kind) {
	case IR_ACT_RELU:
		return x > 0 ? x : 0;
	case IR_ACT_LEAKYRELU:
		return x < 0 ? a->alpha * x : x;
	case IR_ACT_CLIP:
		return x < a->alpha ? a->alpha : (x > a->beta ? a->beta : x);
	case IR_ACT_SIGMOID:
		return 1.0f / (1.0f + expf(-x));
	case IR_ACT_HARDSIGMOID: {
		float y = a->alpha * x + a->beta;
		return y < 0 ? 0 : (y > 1 ? 1 : y);
	}
	case IR_ACT_HARDSWISH: {
		float y = x * (1.0f / 6) + 0.5f;
		return x * (y < 0 ? 0 : (y > 1 ? 1 : y));
	}
	default:
		return x;
	}
}

/* y[i] = act(y[i] + bias + (res ? res[i] : 0)) over n elements; loops per kind so the
 * common cases vectorize. */
static inline void cpu_act_apply(const cpu_act *a, float *y, int64_t n, float bias, const float *res)
{
	if (res)
		for (int64_t i = 0; i < n; i++)
			y[i] += bias + res[i];
	else if (bias != 0)
		for (int64_t i = 0; i < n; i++)
			y[i] += bias;
	switch (a->kind) {
	case IR_ACT_NONE:
		return;
	case IR_ACT_RELU:
		for (int64_t i = 0; i < n; i++)
			y[i] = y[i] > 0 ? y[i] : 0;
		return;
	default:
		for (int64_t i = 0; i < n; i++)
			y[i] = cpu_act_apply1(a, y[i]);
		return;
	}
}

#ifdef ODET_HAVE_DNNL
#include <dnnl.h>

/* oneDNN eltwise post-ops computing act (the Conv and QConv primitives' epilogue) */
static inline dnnl_status_t cpu_act_dnnl_append(dnnl_post_ops_t po, const cpu_act *act)
{
	switch (act->kind) {
	case IR_ACT_RELU:
		return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0);
	case IR_ACT_LEAKYRELU:
		return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, act->alpha, 0);
	case IR_ACT_CLIP:
		return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip_v2, act->alpha, act->beta);
	case IR_ACT_SIGMOID:
		return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_logistic, 0, 0);
	case IR_ACT_HARDSIGMOID: {
		dnnl_status_t s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, act->alpha, act->beta);
		return s ? s : dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_clip_v2, 0.0f, 1.0f);
	}
	case IR_ACT_HARDSWISH:
		return dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_hardswish, 0, 0);
	default:
		return dnnl_success;
	}
}
#endif

#endif
