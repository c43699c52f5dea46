/*
 * cuda_core.h — state shared by the CUDA backend core (cuda_backend.cu, cuda_handles.cu) and
 * the library-backed kernels (conv.cu, conv_graph.cu, qconv.cu, gemm.cu): who owns the cuDNN
 * and cuBLASLt handles, and status helpers for cuDNN / cuBLAS / CUDA. C++ (nvcc) only.
 */
#ifndef ODET_CUDA_CORE_H
#define ODET_CUDA_CORE_H

#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cudnn.h>

/* odet's headers are C: give their declarations C linkage before cuda.h includes them */
extern "C" {
#include "backend/backend.h"
}
#include "backend/cuda/cuda.h"
#include "backend/cuda/cuda_util.h"

/* cuBLASLt's functions (loaded with dlopen: linking the library costs every odet process
 * ~210 MB of resident memory at start-up). X(function) */
#define CUDA_LT_FNS(X) X(cublasLtCreate) X(cublasLtDestroy) X(cublasLtMatmul) X(cublasLtMatmulAlgoGetHeuristic) \
	X(cublasLtMatmulDescCreate) X(cublasLtMatmulDescDestroy) X(cublasLtMatmulDescSetAttribute)           \
	X(cublasLtMatmulPreferenceCreate) X(cublasLtMatmulPreferenceDestroy)                                 \
	X(cublasLtMatmulPreferenceSetAttribute) X(cublasLtMatrixLayoutCreate)                                \
	X(cublasLtMatrixLayoutDestroy) X(cublasLtMatrixLayoutSetAttribute)

typedef struct cuda_lt_api {
	void *lib;
#define CUDA_LT_FIELD(name) decltype(&::name) name;
	CUDA_LT_FNS(CUDA_LT_FIELD)
#undef CUDA_LT_FIELD
} cuda_lt_api;

/*
 * Who owns the library handles. A cuDNN handle is bound to one stream (cudnnSetStream) and
 * must not be used by two threads at once; an engine is shared by threads that each run
 * their own exec context (odet.h). So there are two owners, never one handle per node:
 *  - cuda_dev_state, one per engine (odet_engine.be_state; prepare finds it as g->be_state):
 *    the build-time handles, used only while the engine is built or loaded, by the one thread
 *    doing it, on the default stream: cuDNN finds, backend-API plan finalization and the
 *    timing of candidates, cuBLASLt heuristics. Made on first use (an engine without
 *    convolutions creates no cuDNN handle, one without Gemm/MatMul never loads cuBLASLt);
 *    destroyed after every node's state, so cuDNN plans finalized with `dnn` stay valid
 *    while the engine lives. Read-only once the engine is built.
 *  - cuda_exec_ctx, one per exec context (odet_exec_create): a cuDNN handle set to the exec's
 *    stream once, and a cuBLASLt handle when the engine loaded cuBLASLt. Every run uses only
 *    these (be_run_args.exec_ctx), so the hot path creates nothing and waits for nothing.
 */
/* What preparing the convolutions of one build (or plan load) cost, counted by conv.cu,
 * qconv*.cu and conv_graph.cu into the engine's state and logged in one line at info level
 * (`odet build -v`) after the last node is prepared. Times: host wall clock, ms. */
typedef struct cuda_tune_stats {
	int convs;               /* Conv and QConv nodes prepared */
	double prepare_ms;       /* their prepares, everything included */
	int cache_hits, cache_misses; /* tuned choices found / not found (engine's set, then the tuning cache) */
	int tunings, replays;    /* fused-graph calls: every candidate / one cached choice */
	int shared;              /* fused graphs taken from an identical convolution of the engine */
	int finalized, duplicates; /* plans finalized (a runtime-compiled engine compiles here); candidates
				    * skipped as the same engine and knobs as an earlier one */
	double finalize_ms, warmup_ms;
	int timed, untimed;      /* candidates timed (5 calls) / left untimed (warm-up too slow) */
	double timed_ms;
	float first_cost_ms;     /* largest warm-up minus mean timed call: one-time costs of a first call */
	float ratio_lo, ratio_hi; /* warm-up / mean timed call, over the timed candidates */
	int finds;               /* cudnnFind calls of the legacy API (each times every algorithm) */
	double find_ms;
} cuda_tune_stats;

struct conv_graph;

typedef struct cuda_dev_state {
	cudnnHandle_t dnn;     /* NULL until the first convolution is prepared */
	cuda_lt_api lt;        /* lt.lib NULL until the first Gemm/MatMul is prepared */
	cublasLtHandle_t lth;
	cuda_tune_stats stats;
	/* the fused graphs made for this engine, shared by convolutions of one description
	 * (conv_graph.cu); each holds a reference, released before `dnn` is destroyed */
	struct conv_graph **graphs;
	int n_graphs, cap_graphs;
} cuda_dev_state;

typedef struct cuda_exec_ctx {
	cudnnHandle_t dnn;
	cublasLtHandle_t lt;   /* NULL when the engine has no Gemm/MatMul */
	const cuda_lt_api *lt_api; /* the engine's (an engine outlives its exec contexts) */
	cudaStream_t stream;
} cuda_exec_ctx;

/* The backend hooks (backend.h) of cuda_handles.cu. */
odet_status cuda_dev_state_create(odet_ctx *ctx, void **out);
void cuda_dev_state_destroy(void *state);
/* after the last prepare: logs the tuning line of cuda_tune_stats (when a convolution was prepared) */
void cuda_dev_state_prepared(odet_ctx *ctx, void *state);
odet_status cuda_exec_ctx_create(odet_ctx *ctx, void *dev_state, void *stream, void **out);
void cuda_exec_ctx_destroy(void *exec_ctx);
/* For prepare: the engine's build-time cuDNN handle, or its cuBLASLt function table and
 * handle (valid while the engine lives), made on first use. ODET_ERR_INTERNAL naming the
 * node when n is prepared outside an engine (g->be_state NULL); the library's error when the
 * handle cannot be made or cuBLASLt cannot be loaded (ODET_ERR_UNSUPPORTED). */
odet_status cuda_dev_dnn(odet_ctx *ctx, const ir_graph *g, const ir_node *n, cudnnHandle_t *h);
odet_status cuda_dev_lt(odet_ctx *ctx, const ir_graph *g, const ir_node *n, const cuda_lt_api **api,
			cublasLtHandle_t *h);
/* The engine's device state of a prepare (g->be_state), its tuning counters; NULL outside an engine. */
cuda_dev_state *cuda_dev_of(const ir_graph *g);
cuda_tune_stats *cuda_dev_stats(const ir_graph *g);
/* odet_tune_get on the engine's set (g->tune) and the tuning cache, counted as a hit or a miss */
bool cuda_tune_get(odet_ctx *ctx, const ir_graph *g, const char *key, char *val, size_t cap);

static inline odet_status odet_cudnn_check(odet_ctx *ctx, cudnnStatus_t s, const ir_node *n, const char *what)
{
	if (s == CUDNN_STATUS_SUCCESS)
		return ODET_OK;
	return odet_error(ctx, ODET_ERR_DEVICE, "node '%s' (%s): %s failed: %s", n ? n->name : "?",
			  n ? ir_op_name(n->op) : "?", what, cudnnGetErrorString(s));
}

static inline odet_status odet_cublas_check(odet_ctx *ctx, cublasStatus_t s, const ir_node *n, const char *what)
{
	if (s == CUBLAS_STATUS_SUCCESS)
		return ODET_OK;
	return odet_error(ctx, ODET_ERR_DEVICE, "node '%s' (%s): %s failed: cuBLAS status %d", n ? n->name : "?",
			  n ? ir_op_name(n->op) : "?", what, (int)s);
}

static inline odet_status odet_cuda_check(odet_ctx *ctx, cudaError_t e, const ir_node *n, const char *what)
{
	if (e == cudaSuccess)
		return ODET_OK;
	return odet_error(ctx, ODET_ERR_DEVICE, "node '%s' (%s): %s failed: %s", n ? n->name : "?",
			  n ? ir_op_name(n->op) : "?", what, cudaGetErrorString(e));
}

static inline cudnnDataType_t odet_cudnn_dtype(odet_dtype t)
{
	return t == ODET_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

#endif
