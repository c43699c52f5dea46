/*
 * qdq.c — explicitly quantized (QDQ) models, as quantization-aware training tools export them:
 * the model carries its own scales in QuantizeLinear / DequantizeLinear nodes.
 *
 * pass_qdq_count: the model's QuantizeLinear + DequantizeLinear nodes (0: not a QDQ model).
 * pass_qdq_strip (INT8 builds, before the other passes): every activation pair
 *   x -> QuantizeLinear(s, zp 0, int8) -> DequantizeLinear(s, zp 0) -> readers
 * becomes x -> readers, and amax(x) = 127 s goes into the table pass_quantize reads (the model's
 * scales instead of a calibration: INT8 convolutions then quantize x exactly as the pair did).
 * Weights' DequantizeLinear (constant int8 codes) are left to constant folding, which turns them
 * into the float weights pass_quantize quantizes per output channel again: the model's own
 * scales whenever each channel's largest code is +-127, as symmetric per-channel quantizers
 * produce (a channel whose codes stay below 127 gets a finer scale, never a coarser one).
 * Refused, naming the node (odet's INT8 is symmetric, one scale per activation tensor):
 * uint8 or non-zero zero points, per-axis activation scales, a QuantizeLinear read by anything
 * but DequantizeLinear nodes of the same scale, a graph output between the two.
 */
#include "passes/pass_util.h"
#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int pass_qdq_count(const ir_graph *g)
{
	int n = 0;
	for (int i = 0; i < g->n_nodes; i++)
		n += !g->nodes[i].dead &&
		     (g->nodes[i].op == IR_OP_QUANTIZE_LINEAR || g->nodes[i].op == IR_OP_DEQUANTIZE_LINEAR);
	return n;
}

odet_status pass_qdq_check(const ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead || (n->op != IR_OP_QUANTIZE_LINEAR && n->op != IR_OP_DEQUANTIZE_LINEAR) || n->n_in < 2 ||
		    n->in[1] < 0)
			continue;
		const ir_value *s = &g->values[n->in[1]];
		if (s->kind != IR_VALUE_CONST || s->dtype != ODET_F32 || !s->data)
			continue; /* a computed scale: the kernel checks it when it runs */
		for (int64_t k = 0; k < ir_value_numel(s); k++) {
			float v = ((const float *)s->data)[k];
			if (!(v > 0) || !isfinite(v))
				return odet_error(g->ctx, ODET_ERR_BAD_INPUT,
						  "node '%s' (%s): scale %g (element %lld of '%s') must be positive and finite",
						  n->name, ir_op_name(n->op), (double)v, (long long)k, s->name);
		}
	}
	return ODET_OK;
}

/* A constant float32 scalar (one element), or NaN. */
static double const_scalar_f32(const ir_graph *g, int v)
{
	if (v < 0 || g->values[v].kind != IR_VALUE_CONST || g->values[v].dtype != ODET_F32 ||
	    ir_value_numel(&g->values[v]) != 1 || !g->values[v].data)
		return NAN;
	return *(const float *)g->values[v].data;
}

/* Zero point input k of node n: absent, or constant int8 zeros. */
static bool zero_point_ok(const ir_graph *g, const ir_node *n, int k)
{
	if (n->n_in <= k || n->in[k] < 0)
		return true;
	const ir_value *z = &g->values[n->in[k]];
	if (z->kind != IR_VALUE_CONST || z->dtype != ODET_I8 || !z->data)
		return false;
	for (int64_t i = 0; i < ir_value_numel(z); i++)
		if (((const int8_t *)z->data)[i] != 0)
			return false;
	return true;
}

static odet_status refuse(ir_graph *g, const ir_node *n, const char *why)
{
	return odet_error(g->ctx, ODET_ERR_UNSUPPORTED,
			  "node '%s' (%s): %s; odet's INT8 takes symmetric int8 quantization (zero point 0) with one "
			  "scale per activation tensor",
			  n->name, ir_op_name(n->op), why);
}

/* Weight codes: a DequantizeLinear of a constant, symmetric (int32 biases pass). */
static odet_status check_weight_dq(ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (x->dtype == ODET_I32)
		return ODET_OK;
	if (x->dtype != ODET_I8)
		return refuse(g, n, "uint8 weight codes");
	if (!zero_point_ok(g, n, 2))
		return refuse(g, n, "weight codes with a non-zero zero point");
	return ODET_OK;
}

static odet_status strip_pair(ir_graph *g, int qi, quant_table *t, int *n_pairs)
{
	ir_node *q = &g->nodes[qi];
	const int x = q->in[0], y = q->out[0];
	double s = const_scalar_f32(g, q->n_in > 1 ? q->in[1] : -1);
	if (!(s > 0) || !isfinite(s))
		return refuse(g, q, "a per-axis or non-constant activation scale");
	if (!zero_point_ok(g, q, 2) || q->n_in < 3 || q->in[2] < 0)
		return refuse(g, q, "uint8 (no zero point) or a non-zero zero point");
	if (g->values[y].is_output)
		return refuse(g, q, "its int8 output is a graph output");
	/* every reader: a DequantizeLinear of the same scale */
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *d = &g->nodes[i];
		bool reads = false;
		for (int k = 0; k < d->n_in && !d->dead; k++)
			reads |= d->in[k] == y;
		if (!reads)
			continue;
		if (d->op != IR_OP_DEQUANTIZE_LINEAR || d->in[0] != y)
			return refuse(g, q, "read by a node other than DequantizeLinear");
		double sd = const_scalar_f32(g, d->n_in > 1 ? d->in[1] : -1);
		if (!(sd == s) || !zero_point_ok(g, d, 2))
			return refuse(g, &g->nodes[i], "a scale or zero point other than its QuantizeLinear's");
	}
	/* amax for x: the same from every pair on x, else the largest (finer scales are never forced) */
	const char *name = g->values[x].name;
	double amax = 127.0 * s, have = -1;
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name)) {
			have = t->amax[i];
			if (amax > have)
				t->amax[i] = amax;
		}
	odet_status rc;
	if (have < 0 && (rc = quant_table_add(g->ctx, t, name, amax)))
		return rc;
	if (have >= 0 && fabs(have - amax) > 1e-6 * amax)
		odet_log(g->ctx, ODET_LOG_WARN, "'%s' is quantized with two scales (%g, %g): INT8 uses the larger", name,
			 have / 127.0, s);
	/* the DequantizeLinear nodes become Identity of x; pass_eliminate_dead drops them */
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *d = &g->nodes[i];
		if (d->dead || d->op != IR_OP_DEQUANTIZE_LINEAR || d->n_in < 1 || d->in[0] != y)
			continue;
		d->op = IR_OP_IDENTITY;
		d->in[0] = x;
		d->n_in = 1;
	}
	pass_node_kill(g, qi);
	(*n_pairs)++;
	return ODET_OK;
}

odet_status pass_qdq_strip(ir_graph *g, quant_table *t, int *n_pairs)
{
	*n_pairs = 0;
	odet_status rc = ODET_OK;
	for (int i = 0; i < g->n_nodes && !rc; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead || n->n_in < 1 || n->in[0] < 0)
			continue;
		bool konst = g->values[n->in[0]].kind == IR_VALUE_CONST;
		if (n->op == IR_OP_DEQUANTIZE_LINEAR && konst)
			rc = check_weight_dq(g, n);
		else if (n->op == IR_OP_QUANTIZE_LINEAR && !konst)
			rc = strip_pair(g, i, t, n_pairs);
	}
	if (rc)
		return rc;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (!n->dead && n->op == IR_OP_DEQUANTIZE_LINEAR && n->in[0] >= 0 &&
		    g->values[n->in[0]].kind != IR_VALUE_CONST)
			return refuse(g, n, "dequantizes a tensor no QuantizeLinear of the model made");
	}
	quant_table_sort(t);
	odet_log(g->ctx, ODET_LOG_DEBUG, "qdq: %d QuantizeLinear/DequantizeLinear pairs taken as INT8 scales", *n_pairs);
	return pass_eliminate_dead(g);
}
