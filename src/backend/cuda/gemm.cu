/*
 * gemm.cu — Gemm and MatMul on CUDA through cuBLASLt.
 *
 * Row-major Y [M,N] = op(A) [M,K] x op(B) [K,N] is computed as the column-major product
 * Y^T = op(B)^T op(A)^T, so no data is transposed. fp32: CUBLAS_COMPUTE_32F (no TF32); fp16:
 * float16 data, float32 accumulation. The algorithm is cuBLASLt's first heuristic for the
 * shape, chosen at prepare time with a 32 MiB workspace cap (workspace from the exec arena).
 * Gemm: attrs alpha, beta, transA, transB; C omitted, [N] / [1,N] (beta must be 1) or [M,N]
 * (beta * C). Other C shapes are refused at build naming the node. A constant [N] C is the
 * bias epilogue, its pointer set once at prepare (to the state's own device copy: the engine
 * uploads constants after prepare); any other [N] C is copied into every row of Y first, then
 * Y = alpha * A B + Y. Runs change nothing in the state: exec contexts on several threads
 * share it.
 * MatMul: A [..., M, K], B [..., K, N]; 1-D operands promoted as in numpy; batch dims equal
 * or one operand without batch dims (broadcast through a zero batch stride).
 * cuBLASLt (loaded once per engine, cuda_handles.cu): prepare asks the engine's build-time
 * handle for the algorithm; runs use the exec context's handle (cuda_core.h says who owns which).
 */
#include "backend/cuda/cuda_core.h"

#include <stdlib.h>
#include <string.h>

#define GEMM_WS ((size_t)32 << 20)

typedef struct gemm_state {
	const cuda_lt_api *api; /* the engine's (cuda_dev_lt), which outlives this state */
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
	size_t ws;
	float alpha, beta;
	bool c_full;   /* beta * C [M,N] */
	bool c_bias;   /* bias epilogue: the constant C copied to bias_dev */
	bool c_rows;   /* [N] C not a constant: copied into Y's rows before the product */
	void *bias_dev;
} gemm_state;

/* y[i] = c[i % n] for i < total: every row of a row-major [M,N] Y set to c [N] */
template <typename T> static __global__ void bias_rows_kernel(T *y, const T *c, int64_t n, int64_t total)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = c[i % n];
}

static odet_status bias_rows(void *y, const void *c, size_t esz, int64_t m, int64_t n, cudaStream_t st)
{
	if (esz == 2)
		bias_rows_kernel<uint16_t><<<cu_grid(m * n, 256), 256, 0, st>>>((uint16_t *)y, (const uint16_t *)c, n, m * n);
	else
		bias_rows_kernel<uint32_t><<<cu_grid(m * n, 256), 256, 0, st>>>((uint32_t *)y, (const uint32_t *)c, n, m * n);
	return ODET_CUDA(cudaGetLastError());
}

typedef struct gemm_shape {
	int64_t m, n, k, batch;
	int64_t sa, sb;    /* batch strides (elements) of A and B; 0 = broadcast */
	bool ta, tb;
} gemm_shape;

static bool gemm_shape_of(const ir_graph *g, const ir_node *n, gemm_shape *s)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1);
	if (!a || !b)
		return false;
	memset(s, 0, sizeof *s);
	s->batch = 1;
	if (n->op == IR_OP_GEMM) {
		if (a->rank != 2 || b->rank != 2)
			return false;
		s->ta = ir_attr_int(n, "transA", 0) != 0;
		s->tb = ir_attr_int(n, "transB", 0) != 0;
		s->m = s->ta ? a->dims[1] : a->dims[0];
		s->k = s->ta ? a->dims[0] : a->dims[1];
		s->n = s->tb ? b->dims[0] : b->dims[1];
		return (s->tb ? b->dims[1] : b->dims[0]) == s->k;
	}
	if (a->rank < 1 || b->rank < 1)
		return false;
	s->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
	s->k = a->dims[a->rank - 1];
	s->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
	if ((b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2]) != s->k)
		return false;
	int64_t ba = 1, bb = 1;
	for (int i = 0; i < a->rank - 2; i++)
		ba *= a->dims[i];
	for (int i = 0; i < b->rank - 2; i++)
		bb *= b->dims[i];
	if (a->rank > 2 && b->rank > 2) {
		if (a->rank != b->rank)
			return false;
		for (int i = 0; i < a->rank - 2; i++)
			if (a->dims[i] != b->dims[i])
				return false;
	}
	s->batch = ba > bb ? ba : bb;
	s->sa = a->rank > 2 ? s->m * s->k : 0;
	s->sb = b->rank > 2 ? s->k * s->n : 0;
	return true;
}

static odet_status gemm_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	gemm_shape s;
	if (!a || !b || !y || (a->dtype != ODET_F32 && a->dtype != ODET_F16) || b->dtype != a->dtype ||
	    y->dtype != a->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (%s): operands must be both float32 or both float16 on CUDA", n->name,
				  ir_op_name(n->op));
	if (!gemm_shape_of(g, n, &s) || s.m > INT32_MAX || s.n > INT32_MAX || s.k > INT32_MAX || s.batch > INT32_MAX)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (%s): operand shapes not supported on CUDA (batch dims must be equal or absent)",
				  n->name, ir_op_name(n->op));
	const ir_value *c = n->op == IR_OP_GEMM ? ir_in(g, n, 2) : NULL;
	if (c) {
		int64_t cn = ir_value_numel(c);
		bool bias = cn == s.n && (c->rank == 1 || (c->rank == 2 && c->dims[0] == 1));
		bool full = c->rank == 2 && c->dims[0] == s.m && c->dims[1] == s.n;
		if (c->dtype != a->dtype || (!full && !bias) || (bias && !full && ir_attr_float(n, "beta", 1.0f) != 1.0f))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (Gemm): C must be [N] or [1,N] (with beta 1) or [M,N] of A's dtype on CUDA",
					  n->name);
	}
	return ODET_OK;
}

static void gemm_release(void *p)
{
	gemm_state *s = (gemm_state *)p;
	if (!s)
		return;
	if (s->api) {
		if (s->op) s->api->cublasLtMatmulDescDestroy(s->op);
		if (s->la) s->api->cublasLtMatrixLayoutDestroy(s->la);
		if (s->lb) s->api->cublasLtMatrixLayoutDestroy(s->lb);
		if (s->lc) s->api->cublasLtMatrixLayoutDestroy(s->lc);
	}
	if (s->bias_dev)
		cudaFree(s->bias_dev);
	free(s);
}

static odet_status layout(const cuda_lt_api *api, cublasLtMatrixLayout_t *l, cudaDataType_t t, int64_t rows, int64_t cols, int64_t ld,
			  int64_t batch, int64_t stride)
{
	if (api->cublasLtMatrixLayoutCreate(l, t, (uint64_t)rows, (uint64_t)cols, ld) != CUBLAS_STATUS_SUCCESS)
		return ODET_ERR_DEVICE;
	if (batch > 1) {
		int32_t bc = (int32_t)batch;
		api->cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &bc, sizeof bc);
		api->cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride);
	}
	return ODET_OK;
}

static odet_status gemm_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	const ir_value *a = ir_in(g, n, 0);
	const ir_value *c = n->op == IR_OP_GEMM ? ir_in(g, n, 2) : NULL;
	gemm_shape sh;
	gemm_shape_of(g, n, &sh);
	gemm_state *s = (gemm_state *)odet_calloc(ctx, 1, sizeof *s);
	if (!s)
		return ODET_ERR_NO_MEMORY;
	cudaDataType_t t = a->dtype == ODET_F16 ? CUDA_R_16F : CUDA_R_32F;
	cublasLtHandle_t lth = NULL;
	odet_status rc = cuda_dev_lt(ctx, g, n, &s->api, &lth);
	cublasLtMatmulPreference_t pref = NULL;
	const cuda_lt_api *L = s->api;
	if (rc) {
		free(s);
		return rc;
	}
	s->alpha = n->op == IR_OP_GEMM ? ir_attr_float(n, "alpha", 1.0f) : 1.0f;
	s->beta = n->op == IR_OP_GEMM ? ir_attr_float(n, "beta", 1.0f) : 1.0f;
	if (c) {
		s->c_full = c->rank == 2 && c->dims[0] == sh.m && c->dims[1] == sh.n && sh.m > 1;
		s->c_bias = !s->c_full;
		if (c->rank == 2 && c->dims[0] == sh.m && c->dims[1] == sh.n && sh.m == 1 && s->beta != 1.0f) {
			s->c_full = true;
			s->c_bias = false;
		}
		if (s->c_bias && (c->kind != IR_VALUE_CONST || !c->data)) {
			s->c_bias = false;
			s->c_rows = true;
		}
	}
	/* column-major: D^T [n, m] = opB^T [n, k] x opA^T [k, m] */
	cublasOperation_t opb = sh.tb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = sh.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
	if (L->cublasLtMatmulDescCreate(&s->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS) {
		rc = odet_error(ctx, ODET_ERR_DEVICE, "node '%s': cublasLtMatmulDescCreate failed", n->name);
		goto out_release;
	}
	L->cublasLtMatmulDescSetAttribute(s->op, CUBLASLT_MATMUL_DESC_TRANSA, &opb, sizeof opb);
	L->cublasLtMatmulDescSetAttribute(s->op, CUBLASLT_MATMUL_DESC_TRANSB, &opa, sizeof opa);
	if (s->c_bias) {
		cublasLtEpilogue_t ep = CUBLASLT_EPILOGUE_BIAS;
		if ((rc = odet_cuda_check(ctx, cudaMalloc(&s->bias_dev, c->nbytes), n, "cudaMalloc (bias)")) ||
		    (rc = odet_cuda_check(ctx, cudaMemcpy(s->bias_dev, c->data, c->nbytes, cudaMemcpyHostToDevice), n,
					  "cudaMemcpy (bias)")))
			goto out_release;
		if (L->cublasLtMatmulDescSetAttribute(s->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &ep, sizeof ep) !=
			    CUBLAS_STATUS_SUCCESS ||
		    L->cublasLtMatmulDescSetAttribute(s->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &s->bias_dev,
						      sizeof s->bias_dev) != CUBLAS_STATUS_SUCCESS) {
			rc = odet_error(ctx, ODET_ERR_DEVICE, "node '%s': cuBLASLt bias epilogue refused", n->name);
			goto out_release;
		}
	}
	/* first operand (B): stored [k, n] row-major = col-major [n, k] (ld n) unless transposed */
	if ((rc = layout(L, &s->la, t, sh.tb ? sh.k : sh.n, sh.tb ? sh.n : sh.k, sh.tb ? sh.k : sh.n, sh.batch, sh.sb)) ||
	    (rc = layout(L, &s->lb, t, sh.ta ? sh.m : sh.k, sh.ta ? sh.k : sh.m, sh.ta ? sh.m : sh.k, sh.batch, sh.sa)) ||
	    (rc = layout(L, &s->lc, t, sh.n, sh.m, sh.n, sh.batch, sh.m * sh.n))) {
		rc = odet_error(ctx, ODET_ERR_DEVICE, "node '%s': cublasLtMatrixLayoutCreate failed", n->name);
		goto out_release;
	}
	{
		size_t cap = GEMM_WS;
		L->cublasLtMatmulPreferenceCreate(&pref);
		L->cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &cap, sizeof cap);
		cublasLtMatmulHeuristicResult_t res;
		int got = 0;
		cublasStatus_t st = L->cublasLtMatmulAlgoGetHeuristic(lth, s->op, s->la, s->lb, s->lc, s->lc, pref, 1, &res, &got);
		if (st != CUBLAS_STATUS_SUCCESS || got < 1) {
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): cuBLASLt has no algorithm for %lldx%lldx%lld",
					n->name, ir_op_name(n->op), (long long)sh.m, (long long)sh.n, (long long)sh.k);
			goto out_release;
		}
		s->algo = res.algo;
		s->ws = res.workspaceSize;
	}
	L->cublasLtMatmulPreferenceDestroy(pref);
	*workspace = s->ws;
	*state = s;
	return ODET_OK;
out_release:
	if (pref)
		L->cublasLtMatmulPreferenceDestroy(pref);
	gemm_release(s);
	return rc;
}

static odet_status gemm_run(const be_run_args *a)
{
	const gemm_state *s = (const gemm_state *)a->state;
	const cuda_exec_ctx *xc = (const cuda_exec_ctx *)a->exec_ctx;
	if (!s || !xc || !xc->lt)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': no CUDA state", a->node->name);
	const void *c = a->node->op == IR_OP_GEMM && a->n_in > 2 ? a->in[2].data : NULL;
	void *y = a->out[0].data;
	cudaStream_t st = (cudaStream_t)a->stream;
	bool rows = c && s->c_rows;
	/* C operand: the [M,N] C, or Y holding the bias rows, or (beta 0) none */
	float beta = (c && s->c_full) || rows ? s->beta : 0.0f;
	const void *cm = c && s->c_full ? c : y;
	if (rows) {
		const odet_tensor *yt = &a->out[0];
		int64_t n = yt->dims[yt->rank - 1];
		if (bias_rows(y, c, odet_dtype_size(yt->dtype), odet_tensor_numel(yt) / n, n, st))
			return odet_error(a->ctx, ODET_ERR_DEVICE, "node '%s' (Gemm): bias rows launch failed",
					  a->node->name);
	}
	return odet_cublas_check(a->ctx,
				 s->api->cublasLtMatmul(xc->lt, s->op, &s->alpha, a->in[1].data, s->la, a->in[0].data, s->lb,
							&beta, cm, s->lc, y, s->lc, &s->algo, a->workspace, s->ws, st),
				 a->node, "cublasLtMatmul");
}

extern "C" const cuda_kernel cuda_kernel_GEMM = {gemm_check, gemm_prepare, gemm_release, gemm_run};
extern "C" const cuda_kernel cuda_kernel_MATMUL = {gemm_check, gemm_prepare, gemm_release, gemm_run};
