/*
 * cuda.h — CUDA backend internals: one kernel per op (one .cu per op or op family in this
 * folder), dispatched through a table generated from ops.def, exactly like the CPU backend.
 *
 * Tensors handed to kernels (be_run_args) are device memory, dense row-major in the order of
 * their IR dims (a layout change is a Transpose node in the graph, never implicit). Float
 * tensors are float32 or float16 (the engine's precision pass decides per value); kernels
 * compute in float32. Kernels enqueue on a->stream only: no allocation, no host sync, no
 * host copies. Workspace comes from the exec arena (size declared in prepare).
 * Each .cu has three layers (DESIGN.md rule 5): a static __global__ kernel; a launcher taking
 * raw pointers + stream and returning odet_status; the adapter below from node to launcher.
 * This header is C and C++ (nvcc) compatible.
 */
#ifndef ODET_CUDA_H
#define ODET_CUDA_H

#include "backend/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cuda_kernel {
	/* NULL = accept; else ODET_ERR_UNSUPPORTED naming node, op, reason */
	odet_status (*check)(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
	/* NULL = no state, no workspace; may upload constants (runs once per engine) */
	odet_status (*prepare)(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			       size_t *workspace);
	void (*release)(void *state);
	odet_status (*run)(const be_run_args *a);
} cuda_kernel;

/* Each op file defines `const cuda_kernel cuda_kernel_<ID>`; an op without one is refused. */
#define OP(id, onnx, domain) extern const cuda_kernel cuda_kernel_##id __attribute__((weak));
#include "graph/ops.def"
#undef OP

/* Image pipelines (preprocess.cu): the letterbox of be_lbox_args (backend.h) on the device.
 * The launcher takes a cudaStream_t (declared here as the struct pointer it is, so this
 * header stays free of CUDA's headers) and returns ODET_ERR_INVALID_ARG for invalid args
 * without a message; cu_letterbox is the backend hook, which names the reason. */
struct CUstream_st;
odet_status cuda_letterbox_launch(const be_lbox_args *a, struct CUstream_st *stream);
odet_status cu_letterbox(odet_ctx *ctx, const be_lbox_args *a, void *stream);
/* Video (preprocess_nv12.cu): NV12 frames → RGB → letterbox of be_nv12_args, likewise. */
odet_status cuda_letterbox_nv12_launch(const be_nv12_args *a, struct CUstream_st *stream);
odet_status cu_letterbox_nv12(odet_ctx *ctx, const be_nv12_args *a, void *stream);

#ifdef __cplusplus
}
#endif
#endif
