/*
 * fuse_conv.c — merge a Conv with what follows it into one Conv node (ir_act in ir.h):
 *
 *   Conv → Add(other)            other has exactly the Conv output's (known) shape and
 *                                dtype: becomes the residual, Conv input 3
 *   Conv[→ Add] → activation     Relu, LeakyRelu (alpha), Clip (constant min/max, or
 *                                ±FLT_MAX when absent), Sigmoid, HardSigmoid (alpha, beta),
 *                                HardSwish: attrs odet_act, odet_act_alpha, odet_act_beta
 * so ResNet's y = relu(conv(x) + identity) is one node. Each step requires that the value
 * between the two nodes has no other use and is not a graph output. The fused Conv takes
 * the place of the last node it absorbed (so a residual computed after the Conv is ready)
 * and produces that node's output value.
 */
#include "passes/pass_util.h"

#include <float.h>
#include <string.h>

/* Scalar float32 constant input i of n into *out; true when present and constant. */
static bool scalar_const(const ir_graph *g, const ir_node *n, int i, float *out)
{
	const ir_value *v = ir_in(g, n, i);
	if (!v || v->kind != IR_VALUE_CONST || v->dtype != ODET_F32 || ir_value_numel(v) != 1 ||
	    v->nbytes != sizeof(float))
		return false;
	*out = *(const float *)v->data;
	return true;
}

/* Activation of node k as (act, alpha, beta); IR_ACT_NONE if not fusable. */
static ir_act act_of(const ir_graph *g, const ir_node *k, float *alpha, float *beta)
{
	*alpha = 0;
	*beta = 0;
	switch (k->op) {
	case IR_OP_RELU:
		return IR_ACT_RELU;
	case IR_OP_LEAKYRELU:
		*alpha = ir_attr_float(k, "alpha", 0.01f);
		return IR_ACT_LEAKYRELU;
	case IR_OP_SIGMOID:
		return IR_ACT_SIGMOID;
	case IR_OP_HARDSIGMOID:
		*alpha = ir_attr_float(k, "alpha", 0.2f);
		*beta = ir_attr_float(k, "beta", 0.5f);
		return IR_ACT_HARDSIGMOID;
	case IR_OP_HARDSWISH:
		return IR_ACT_HARDSWISH;
	case IR_OP_CLIP:
		*alpha = -FLT_MAX;
		*beta = FLT_MAX;
		if (ir_in(g, k, 1) && !scalar_const(g, k, 1, alpha))
			return IR_ACT_NONE;
		if (ir_in(g, k, 2) && !scalar_const(g, k, 2, beta))
			return IR_ACT_NONE;
		return IR_ACT_CLIP;
	default:
		return IR_ACT_NONE;
	}
}

static bool same_shape(const ir_value *a, const ir_value *b)
{
	if (!ir_value_shape_known(a) || !ir_value_shape_known(b) || a->rank != b->rank || a->dtype != b->dtype)
		return false;
	return memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank) == 0;
}

/* Move Conv ci into consumer ki's slot, producing ki's output; ki becomes dead. */
static void absorb(ir_graph *g, int ci, int ki)
{
	ir_node tmp = g->nodes[ki];
	g->nodes[ki] = g->nodes[ci];
	g->nodes[ci] = tmp;
	ir_node *conv = &g->nodes[ki], *gone = &g->nodes[ci];
	int old = conv->out[0];
	conv->out[0] = gone->out[0];
	gone->out[0] = old; /* the dead node keeps the intermediate, nobody reads it */
	g->values[conv->out[0]].producer = ki;
	g->values[old].producer = -1;
	gone->dead = true;
	for (int k = 1; k < conv->n_out; k++)
		if (conv->out[k] >= 0)
			g->values[conv->out[k]].producer = ki;
}

odet_status pass_fuse_conv(ir_graph *g)
{
	int fused = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		int ci = i;
		ir_node *c = &g->nodes[ci];
		if (c->dead || c->op != IR_OP_CONV || c->n_out != 1)
			continue;
		for (;;) {
			c = &g->nodes[ci];
			if (ir_attr_int(c, "odet_act", IR_ACT_NONE) != IR_ACT_NONE)
				break;
			int y = c->out[0];
			int ki = pass_sole_consumer(g, y);
			if (ki < 0)
				break;
			ir_node *k = &g->nodes[ki];
			bool has_res = c->n_in > 3 && c->in[3] >= 0;
			if (k->op == IR_OP_ADD && !has_res && k->n_in == 2 && k->n_out == 1) {
				int other = k->in[0] == y ? k->in[1] : k->in[0];
				if (other < 0 || other == y || !same_shape(&g->values[other], &g->values[y]) ||
				    !same_shape(&g->values[k->out[0]], &g->values[y]))
					break;
				odet_status rc = pass_node_set_input(g, ci, 3, other);
				if (rc)
					return rc;
				absorb(g, ci, ki);
				ci = ki;
				fused++;
				continue;
			}
			float alpha, beta;
			ir_act act = act_of(g, k, &alpha, &beta);
			if (act == IR_ACT_NONE || k->n_out != 1 || k->in[0] != y)
				break;
			odet_status rc = ir_attr_set_int(g, ci, "odet_act", act);
			if (!rc)
				rc = ir_attr_set_float(g, ci, "odet_act_alpha", alpha);
			if (!rc)
				rc = ir_attr_set_float(g, ci, "odet_act_beta", beta);
			if (rc)
				return rc;
			absorb(g, ci, ki);
			ci = ki;
			fused++;
			break;
		}
	}
	odet_log(g->ctx, ODET_LOG_DEBUG, "fuse_conv: %d nodes fused into convolutions", fused);
	return ODET_OK;
}
