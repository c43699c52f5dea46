/*
 * cost.c — per-node FLOPs and parameter counts (odet inspect, odet_graph_print).
 *   Conv          2·MACs (MACs = numel(Y)·C/group·prod(k)) + numel(Y) each for bias,
 *                 residual and fused activation
 *   Gemm, MatMul  2·M·N·K per matrix (+ M·N for Gemm's C)
 *   BatchNorm     2·numel;  pools numel(Y)·prod(kernel);  GlobalAveragePool numel(X)
 *   Softmax       3·numel;  reductions, ArgMax, TopK numel(X)
 *   elementwise   numel(Y);  Resize numel(Y);  data movement and shape ops 0
 * params: element count of the constant inputs of Conv, Gemm, MatMul, BatchNormalization.
 * Unknown shapes count as 0 FLOPs; arithmetic saturates at INT64_MAX.
 */
#include "graph/ir.h"

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	if (a < 0 || b < 0)
		return 0;
	return odet_mul_i64(a, b, &r) ? r : INT64_MAX;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return odet_add_i64(a, b, &r) ? r : INT64_MAX;
}

static int64_t numel_or0(const ir_value *v)
{
	int64_t n = v ? ir_value_numel(v) : -1;
	return n < 0 ? 0 : n;
}

static int64_t conv_flops(const ir_graph *g, const ir_node *n)
{
	const ir_value *w = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	int64_t ny = numel_or0(y), wn = numel_or0(w);
	if (!ny || !wn || w->dims[0] <= 0)
		return 0;
	/* MACs per output element = numel(W) / M = C/group * prod(k) */
	int64_t f = sat_mul(sat_mul(ny, wn / w->dims[0]), 2);
	if (ir_in(g, n, 2))
		f = sat_add(f, ny);
	if (ir_in(g, n, 3))
		f = sat_add(f, ny);
	if (ir_attr_int(n, "odet_act", IR_ACT_NONE) != IR_ACT_NONE)
		f = sat_add(f, ny);
	return f;
}

ir_cost ir_node_cost(const ir_graph *g, const ir_node *n)
{
	ir_cost c = {0, 0};
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	int64_t ny = numel_or0(y), nx = numel_or0(x);
	const int64_t *ks;
	int nk;
	switch (n->op) {
	case IR_OP_CONV:
		c.flops = conv_flops(g, n);
		break;
	case IR_OP_GEMM: {
		const ir_value *a = x;
		if (a && a->rank == 2 && a->dims[0] >= 0 && a->dims[1] >= 0) {
			int64_t k = a->dims[ir_attr_int(n, "transA", 0) ? 0 : 1];
			c.flops = sat_add(sat_mul(sat_mul(ny, k), 2), ir_in(g, n, 2) ? ny : 0);
		}
		break;
	}
	case IR_OP_MATMUL:
		if (x && x->rank >= 1 && x->dims[x->rank - 1] >= 0)
			c.flops = sat_mul(sat_mul(ny, x->dims[x->rank - 1]), 2);
		break;
	case IR_OP_BATCHNORM:
		c.flops = sat_mul(ny, 2);
		break;
	case IR_OP_MAXPOOL:
	case IR_OP_AVGPOOL:
		nk = ir_attr_ints(n, "kernel_shape", &ks);
		c.flops = ny;
		for (int i = 0; i < nk; i++)
			c.flops = sat_mul(c.flops, ks[i]);
		break;
	case IR_OP_GLOBALAVGPOOL:
	case IR_OP_REDUCEMEAN:
	case IR_OP_REDUCESUM:
	case IR_OP_REDUCEMAX:
	case IR_OP_REDUCEL2:
	case IR_OP_ARGMAX:
	case IR_OP_TOPK:
		c.flops = nx;
		break;
	case IR_OP_SOFTMAX:
		c.flops = sat_mul(ny, 3);
		break;
	case IR_OP_RELU: case IR_OP_LEAKYRELU: case IR_OP_CLIP: case IR_OP_SIGMOID:
	case IR_OP_HARDSIGMOID: case IR_OP_HARDSWISH: case IR_OP_TANH: case IR_OP_EXP:
	case IR_OP_LOG: case IR_OP_SQRT: case IR_OP_NEG: case IR_OP_ABS: case IR_OP_FLOOR:
	case IR_OP_CEIL: case IR_OP_NOT: case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL:
	case IR_OP_DIV: case IR_OP_POW: case IR_OP_MAX: case IR_OP_MIN: case IR_OP_EQUAL:
	case IR_OP_LESS: case IR_OP_GREATER: case IR_OP_WHERE: case IR_OP_RESIZE:
		c.flops = ny;
		break;
	default:
		break;
	}
	if (n->op == IR_OP_CONV || n->op == IR_OP_GEMM || n->op == IR_OP_MATMUL || n->op == IR_OP_BATCHNORM) {
		for (int i = 0; i < n->n_in; i++) {
			const ir_value *v = ir_in(g, n, i);
			if (v && v->kind == IR_VALUE_CONST)
				c.params = sat_add(c.params, numel_or0(v));
		}
	}
	return c;
}
