/*
 * gemm.c — Gemm (ONNX opset 11-13): Y[M][N] = alpha * op(A) * op(B) + beta * C.
 * A [M][K] (transA: [K][M]), B [K][N] (transB: [N][K]) f32; optional C unidirectionally
 * broadcastable to [M][N] (scalar, [N], [1][N], [M][1], [M][N]). Attributes alpha, beta
 * (default 1), transA, transB (default 0). Y is first filled with beta * C (broadcast),
 * then sgemm.c accumulates alpha * op(A) op(B) on the thread pool.
 */
#include "backend/cpu/cpu.h"
#include "backend/cpu/sgemm.h"

static odet_status gemm_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *c = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (!a || !b || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Gemm needs A, B and Y", n->name);
	const ir_value *all[4] = {a, b, c, y};
	for (int i = 0; i < 4; i++)
		if (all[i] && all[i]->dtype != ODET_F32)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Gemm on %s (only float32 on CPU)",
					  n->name, odet_dtype_name(all[i]->dtype));
	if (!ir_value_shape_known(a) || !ir_value_shape_known(b) || !ir_value_shape_known(y) ||
	    (c && !ir_value_shape_known(c)))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Gemm with unknown shapes", n->name);
	if (a->rank != 2 || b->rank != 2 || y->rank != 2)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Gemm A, B must be 2-D", n->name);
	bool ta = ir_attr_int(n, "transA", 0), tb = ir_attr_int(n, "transB", 0);
	int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
	int64_t kb = tb ? b->dims[1] : b->dims[0], nn = tb ? b->dims[0] : b->dims[1];
	if (k != kb || y->dims[0] != m || y->dims[1] != nn)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Gemm shapes do not match", n->name);
	if (c) {
		bool ok = c->rank <= 2;
		int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
		ok = ok && (cm == 1 || cm == m) && (cn == 1 || cn == nn);
		if (!ok)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Gemm C does not broadcast to [M][N]",
					  n->name);
	}
	return ODET_OK;
}

static odet_status gemm_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	*workspace = cpu_sgemm_workspace(ctx->opts.n_threads);
	return ODET_OK;
}

static odet_status gemm_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	bool ta = ir_attr_int(n, "transA", 0), tb = ir_attr_int(n, "transB", 0);
	float alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
	const odet_tensor *A = &a->in[0], *B = &a->in[1];
	const odet_tensor *C = a->n_in > 2 && a->in[2].data ? &a->in[2] : NULL;
	float *y = a->out[0].data;
	int64_t m = a->out[0].dims[0], nn = a->out[0].dims[1];
	cpu_sgemm_args g = {
		.trans_a = ta, .trans_b = tb, .m = m, .n = nn, .k = ta ? A->dims[0] : A->dims[1],
		.alpha = alpha, .beta = 0, .a = A->data, .lda = A->dims[1], .b = B->data, .ldb = B->dims[1],
		.c = y, .ldc = nn,
	};
	if (C && beta != 0) {
		const float *c = C->data;
		int64_t cm = C->rank == 2 ? C->dims[0] : 1, cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < nn; j++)
				y[i * nn + j] = beta * c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
		g.beta = 1;
	}
	cpu_sgemm(a->pool, &g, a->workspace);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_GEMM = {
	.check = gemm_check,
	.prepare = gemm_prepare,
	.run = gemm_run,
};
