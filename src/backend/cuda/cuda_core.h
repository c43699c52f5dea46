/*
 * cuda_core.h — state shared by the CUDA backend core (cuda_backend.cu) and the library-
 * backed kernels (conv.cu, gemm.cu, pool.cu, batchnorm.cu): the per-exec context handed to
 * kernels as be_run_args.exec_ctx (a cuDNN handle bound to the exec's stream; cuBLASLt is
 * loaded on demand by gemm.cu), and status helpers for cuDNN / cuBLAS. C++ (nvcc) only.
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

typedef struct cuda_exec_ctx {
	cudnnHandle_t dnn;
	cudaStream_t stream;
} cuda_exec_ctx;

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
