/*
 * fp8.h — FP8 E4M3 on CUDA (C++ / nvcc only): the FP8 forms of QConv (qconv_fp8.cu) and of
 * QuantizeLinear (quantize_fp8.cu), reached from qconv.cu and quantize_linear.cu when the
 * node's tensors are ODET_F8E4M3 (ops.def; passes/quantize.c's pass_quantize_fp8). E4M3 needs
 * tensor cores of compute capability 8.9 or newer (Ada, Hopper).
 */
#ifndef ODET_CUDA_FP8_H
#define ODET_CUDA_FP8_H

#include "backend/cuda/conv_graph.h"

/* The device can run FP8 (8.9+); otherwise an error naming node, device and capability. */
odet_status cuda_fp8_device_check(odet_ctx *ctx, const ir_node *n);

/* QConv's layout checks for INT8 and FP8 alike (qconv.cu): NHWC 2-D, input and output channels
 * multiples of mult (cuDNN's rows), symmetric pads; errors name the node and kind ("INT8"). */
odet_status qconv_check_shape(odet_ctx *ctx, const ir_graph *g, const ir_node *n, int mult, const char *kind);
/* QConv with E4M3 x and w: what the fused cuDNN graph runs (NHWC, C and M % 16, symmetric pads,
 * an activation the graph expresses, residual multiplier 1). */
odet_status qconv_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
/* Tune (tuning cache key "cuda-qconv-fp8 ..."; a cached choice is replayed): *graph the plan,
 * *ws its workspace, *ms its time (0 when replayed). *acc_bytes 0: the fused graph (conv_graph_run_q
 * runs it); else the split path: the graph computes conv * A into float32 accumulators of
 * *acc_bytes placed in the workspace after *ws (256-aligned), qconv_fp8_run_split runs it. */
odet_status qconv_fp8_tune(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_graph **graph, size_t *ws,
			   size_t *acc_bytes, float *ms);
/* The split path's run: graph (ws bytes of cuDNN workspace first), then the epilogue kernel
 * y = act(acc + B[m] + R) to y's dtype (E4M3 rounded to nearest even and saturated). */
odet_status qconv_fp8_run_split(const be_run_args *a, const conv_graph *graph, size_t ws, const cuda_act *act);

/* QuantizeLinear float32/float16 -> E4M3 (zero point 0): check and run. */
odet_status quantize_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
odet_status quantize_fp8_run(const be_run_args *a);
/* Launcher: y[i] = e4m3(x[i] / *scale) (round to nearest even, saturated to +-448, NaN -> 0x7f). */
odet_status cuda_quantize_fp8_launch(const void *x, odet_dtype dt, const float *scale, uint8_t *y, int64_t n,
				     cudaStream_t s);

#endif
