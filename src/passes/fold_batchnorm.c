/*
 * fold_batchnorm.c — fold per-channel affine ops that follow a Conv into its weights/bias.
 *
 *   Conv → BatchNormalization(γ, β, μ, σ², epsilon):  a = γ/√(σ²+ε)
 *       W'[m] = W[m]·a[m],  B'[m] = (B[m] − μ[m])·a[m] + β[m]
 *   Conv → Mul / Div by a per-channel constant c:  W'[m] = W[m]·c[m], B'[m] = B[m]·c[m]
 *   Conv → Add / Sub of a per-channel constant c:  B'[m] = B[m] ± c[m]
 *       (torchvision's FrozenBatchNorm2d exports as Conv → Mul → Add; both fold)
 * A constant is per-channel when, aligned to the Conv output's trailing dims, every dim is 1
 * except the channel dim (1 or M): [1,M,1,1], [M,1,1], [1], scalar.
 * Conditions: the Conv output has no other use and is not a graph output; W (and B) are
 * float32 constants; the Conv carries no fused activation or residual. A Conv without bias
 * gets one; weights shared with another node are copied first (copy-on-write). The folded
 * node's output value becomes the Conv's output (graph output names are kept).
 */
#include "passes/pass_util.h"

#include <math.h>
#include <stdlib.h>

static bool const_f32(const ir_value *v)
{
	int64_t numel = ir_value_numel(v);
	return v->kind == IR_VALUE_CONST && v->dtype == ODET_F32 && v->data && numel >= 0 &&
	       v->nbytes == (size_t)numel * sizeof(float);
}

/* Output channels of a Conv whose weights can be rewritten, or -1. */
static int64_t conv_foldable(const ir_graph *g, int ci)
{
	const ir_node *n = &g->nodes[ci];
	if (n->dead || n->op != IR_OP_CONV || n->n_in < 2 || (n->n_in > 3 && n->in[3] >= 0) ||
	    ir_attr_int(n, "odet_act", IR_ACT_NONE) != IR_ACT_NONE)
		return -1;
	const ir_value *w = ir_in(g, n, 1), *b = ir_in(g, n, 2);
	if (!w || !const_f32(w) || w->rank < 3 || w->dims[0] <= 0)
		return -1;
	if (b && (!const_f32(b) || ir_value_numel(b) != w->dims[0]))
		return -1;
	return w->dims[0];
}

/* Per-channel values of constant c against Conv output y (m channels) into out[m]. */
static bool per_channel(const ir_value *c, const ir_value *y, int64_t m, double *out)
{
	if (!const_f32(c) || y->rank < 2 || c->rank > y->rank)
		return false;
	int64_t numel = ir_value_numel(c);
	for (int j = 0; j < c->rank; j++) {
		int axis = y->rank - c->rank + j;
		int64_t d = c->dims[j];
		if (d != 1 && !(axis == 1 && d == m))
			return false;
	}
	const float *f = c->data;
	for (int64_t k = 0; k < m; k++)
		out[k] = f[numel == 1 ? 0 : k];
	return true;
}

/* W[m] *= mul[m]; B[m] = B[m]*mul[m] + add[m] (bias created when needed). */
static odet_status conv_apply(ir_graph *g, int ci, int64_t m, const double *mul, const double *add)
{
	ir_node *n = &g->nodes[ci];
	bool need_bias = false;
	for (int64_t k = 0; k < m; k++)
		need_bias |= add[k] != 0;
	int wv = n->in[1], bv = n->n_in > 2 ? n->in[2] : -1;
	if (ir_value_use_count(g, wv) > 1) {
		const ir_value *w = &g->values[wv];
		int nw = pass_const_f32(g, n->name, "_W_folded", w->rank, w->dims, w->data);
		if (nw < 0)
			return ODET_ERR_NO_MEMORY;
		g->nodes[ci].in[1] = wv = nw;
	}
	if (bv < 0 && need_bias) {
		int nb = pass_const_f32(g, g->nodes[ci].name, "_B_folded", 1, &m, NULL);
		if (nb < 0 || pass_node_set_input(g, ci, 2, nb))
			return ODET_ERR_NO_MEMORY;
		bv = nb;
	} else if (bv >= 0 && ir_value_use_count(g, bv) > 1) {
		const ir_value *b = &g->values[bv];
		int nb = pass_const_f32(g, g->nodes[ci].name, "_B_folded", 1, &m, b->data);
		if (nb < 0)
			return ODET_ERR_NO_MEMORY;
		g->nodes[ci].in[2] = bv = nb;
	}
	ir_value *w = &g->values[wv];
	float *wd = w->data, *bd = bv >= 0 ? g->values[bv].data : NULL;
	int64_t per = ir_value_numel(w) / m;
	for (int64_t k = 0; k < m; k++) {
		for (int64_t j = 0; j < per; j++)
			wd[k * per + j] = (float)(wd[k * per + j] * mul[k]);
		if (bd)
			bd[k] = (float)(bd[k] * mul[k] + add[k]);
	}
	return ODET_OK;
}

/* Which input of node n comes from a foldable Conv; -1 if none. */
static int conv_input(const ir_graph *g, int ni, int *ci, int64_t *m)
{
	const ir_node *n = &g->nodes[ni];
	int slots = n->op == IR_OP_MUL || n->op == IR_OP_ADD ? 2 : 1;
	if (n->n_in < 1 || ((n->op != IR_OP_BATCHNORM) && n->n_in != 2))
		return -1;
	for (int s = 0; s < slots; s++) {
		int v = n->in[s];
		if (v < 0 || g->values[v].producer < 0 || g->values[v].kind != IR_VALUE_INTERMEDIATE)
			continue;
		int p = g->values[v].producer;
		if (g->nodes[p].out[0] != v || (*m = conv_foldable(g, p)) < 0 || pass_sole_consumer(g, v) != ni)
			continue;
		*ci = p;
		return s;
	}
	return -1;
}

static bool bn_params(const ir_graph *g, const ir_node *n, int64_t m, double *mul, double *add)
{
	const ir_value *p[4];
	for (int k = 0; k < 4; k++) {
		p[k] = ir_in(g, n, 1 + k);
		if (!p[k] || !const_f32(p[k]) || ir_value_numel(p[k]) != m)
			return false;
	}
	for (int k = 1; k < n->n_out; k++)
		if (n->out[k] >= 0 && ir_value_use_count(g, n->out[k]) > 0)
			return false;
	double eps = ir_attr_float(n, "epsilon", 1e-5f);
	const float *gamma = p[0]->data, *beta = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
	for (int64_t k = 0; k < m; k++) {
		double v = (double)var[k] + eps;
		if (!(v > 0))
			return false;
		mul[k] = gamma[k] / sqrt(v);
		add[k] = beta[k] - mean[k] * mul[k];
	}
	return true;
}

odet_status pass_fold_batchnorm(ir_graph *g)
{
	int folded = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		if (n->dead || (n->op != IR_OP_BATCHNORM && n->op != IR_OP_MUL && n->op != IR_OP_ADD &&
				n->op != IR_OP_SUB && n->op != IR_OP_DIV))
			continue;
		int ci;
		int64_t m;
		int slot = conv_input(g, i, &ci, &m);
		if (slot < 0)
			continue;
		double *mul = odet_calloc(g->ctx, (size_t)m * 2, sizeof(double));
		if (!mul)
			return ODET_ERR_NO_MEMORY;
		double *add = mul + m;
		const ir_value *y = &g->values[n->in[slot]];
		const ir_value *c = n->op == IR_OP_BATCHNORM ? NULL : ir_in(g, n, 1 - slot);
		bool ok;
		if (n->op == IR_OP_BATCHNORM) {
			ok = bn_params(g, n, m, mul, add);
		} else {
			ok = c && per_channel(c, y, m, n->op == IR_OP_MUL || n->op == IR_OP_DIV ? mul : add);
			for (int64_t k = 0; ok && k < m; k++) {
				switch (n->op) {
				case IR_OP_MUL: break;
				case IR_OP_DIV:
					ok = mul[k] != 0;
					mul[k] = ok ? 1.0 / mul[k] : 0;
					break;
				case IR_OP_SUB: add[k] = -add[k]; /* fall through */
				default: mul[k] = 1; break;
				}
			}
		}
		odet_status rc = ok ? conv_apply(g, ci, m, mul, add) : ODET_OK;
		free(mul);
		if (rc)
			return rc;
		if (!ok)
			continue;
		n = &g->nodes[i];
		int old = g->nodes[ci].out[0];
		g->nodes[ci].out[0] = n->out[0];
		g->values[n->out[0]].producer = ci;
		g->values[old].producer = -1;
		n->dead = true;
		folded++;
	}
	odet_log(g->ctx, ODET_LOG_DEBUG, "fold_batchnorm: %d nodes folded into convolutions", folded);
	return ODET_OK;
}
