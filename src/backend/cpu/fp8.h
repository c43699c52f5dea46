/*
 * fp8.h — the CPU backend's FP8 E4M3 kernels (precision fp8): the reference of the CUDA FP8
 * engines, exact and slow. QConv and QuantizeLinear dispatch to them by dtype (qconv.c, which
 * runs FP8 QConvs in its reference loops; quantize_linear.c).
 */
#ifndef ODET_CPU_FP8_H
#define ODET_CPU_FP8_H

#include "backend/backend.h"

odet_status cpu_qconv_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
odet_status cpu_quantize_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
odet_status cpu_quantize_fp8_run(const be_run_args *a);

#endif
