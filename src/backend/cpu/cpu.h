/*
 * cpu.h — CPU backend internals: one kernel per op (one file per op in this folder),
 * dispatched through a table generated from ops.def. Tensors are host memory, row-major
 * (NCHW for images). Kernels split work with odet_parallel_for over a->pool.
 */
#ifndef ODET_CPU_H
#define ODET_CPU_H

#include "backend/backend.h"

typedef struct cpu_kernel {
	/* NULL = accept any node whose dtypes are in `dtypes` below */
	odet_status (*check)(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
	/* NULL = no state, no workspace */
	odet_status (*prepare)(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			       size_t *workspace);
	void (*release)(void *state);
	odet_status (*run)(const be_run_args *a);
} cpu_kernel;

/* Each op file defines `const cpu_kernel cpu_kernel_<ID>`; an op without one is refused. */
#define OP(id, onnx, domain) extern const cpu_kernel cpu_kernel_##id __attribute__((weak));
#include "graph/ops.def"
#undef OP

/* The letterbox hook (letterbox.c; backend.h's be_lbox_args): images and dst in host memory,
 * threaded over ctx->pool; stream is unused. The reference of every backend's letterbox. */
odet_status cpu_letterbox(odet_ctx *ctx, const be_lbox_args *a, void *stream);

#endif
