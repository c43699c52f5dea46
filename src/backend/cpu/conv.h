/* conv.h — what the CPU Conv kernel (conv.c) shows beyond cpu_kernel_CONV: for benchmarks. */
#ifndef ODET_CPU_CONV_H
#define ODET_CPU_CONV_H

#include "backend/cpu/cpu.h"

/* Name of the implementation a prepared Conv state runs: oneDNN's implementation string
 * ("jit:avx512_core", "brgconv:avx512_core", ...), "im2col+sgemm" or "direct". */
const char *cpu_conv_impl_name(const void *state);
/* Parts per image of a prepared Conv state split over the thread pool (1: one task per image),
 * 0 when it runs as one primitive or not on oneDNN. */
int cpu_conv_split(const void *state);
/* The same for a prepared QConv state: oneDNN's implementation string, or "reference". */
const char *cpu_qconv_impl_name(const void *state);
int cpu_qconv_split(const void *state);
/* Which of a QConv's tensors stay NHWC between oneDNN QConvs (bits 1 X, 2 Y, 4 residual; qconv.c) */
unsigned cpu_qconv_nhwc(const void *state);

#endif
