/*
 * fp8.h — OCP 8-bit floating point E4M3 ("OFP8 E4M3", ONNX FLOAT8E4M3FN, CUDA __nv_fp8_e4m3):
 * sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinities; S.1111.111 (0x7f, 0xff) is
 * NaN, so the largest finite value is S.1111.110 = 448; the smallest normal 2^-6, the smallest
 * subnormal 2^-9. The CPU reference of the FP8 arithmetic of CUDA fp8 engines
 * (docs/quantization.md): the quantize pass encodes weights with it, the tests check the CUDA
 * kernels against it.
 */
#ifndef ODET_QUANT_FP8_H
#define ODET_QUANT_FP8_H

#include <stdint.h>

#define QUANT_FP8_MAX 448.0 /* largest finite E4M3 value: scale = amax / QUANT_FP8_MAX */
#define QUANT_FP8_NAN 0x7f  /* the NaN encoding produced (CUDA's canonical one) */

/* float -> E4M3, round to nearest, ties to even (on the exact value, no double rounding),
 * saturating: finite |x| that rounds above 448 and +-inf give +-448; NaN gives 0x7f
 * (CUDA's __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3)); -0 stays 0x80. */
uint8_t quant_fp8_from_float(float x);
/* E4M3 -> float (exact; 0x7f and 0xff give NaN). */
float quant_fp8_to_float(uint8_t c);

#endif
