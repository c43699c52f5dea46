/*
 * cuda_ops.h — helpers shared by the CUDA kernels of the elementwise, reduction and
 * data-movement ops (C++ / nvcc only):
 *   - dtype lists for macro-generated variants (one list, never a copy per type) and
 *     cu_num<T>: load to the compute type (float for f32/f16, T for integers) and store back;
 *   - cu_bcast_off: operand offsets of the shared broadcast walk (be_bcast, backend/bcast.h:
 *     up to BE_BCAST_MAX operands over up to 8 dims, passed to kernels by value);
 *   - grid-stride loops (CU_FOR; cu_grid is in cuda_util.h), element-size dispatch, reading constant integer
 *     inputs from the graph at check/run time (the CUDA kernels never read device tensors on
 *     the host), and the common check messages.
 */
#ifndef ODET_CUDA_OPS_H
#define ODET_CUDA_OPS_H

#include <cuda_fp16.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern "C" {
#include "backend/bcast.h"
#include "backend/cuda/cuda.h"
}
#include "backend/cuda/cuda_util.h"

/* the integer variants are generic over signedness: "x < 0" is false for unsigned types */
#pragma nv_diag_suppress 186

#define CU_BLOCK 256

/* X(DTYPE_SUFFIX, c_type) */
#define CU_FLOAT_TYPES(X) X(F32, float) X(F16, __half)
#define CU_INT_TYPES(X) X(I8, int8_t) X(I32, int32_t) X(I64, int64_t) X(U8, uint8_t)
#define CU_NUM_TYPES(X) CU_FLOAT_TYPES(X) CU_INT_TYPES(X)

/* Compute type: float for float16/float32, the type itself for integers. */
template <typename T> struct cu_num {
	typedef T acc;
	static const bool is_float = false;
	static __device__ __forceinline__ T ld(T x) { return x; }
	static __device__ __forceinline__ T st(T x) { return x; }
};
template <> struct cu_num<float> {
	typedef float acc;
	static const bool is_float = true;
	static __device__ __forceinline__ float ld(float x) { return x; }
	static __device__ __forceinline__ float st(float x) { return x; }
};
template <> struct cu_num<__half> {
	typedef float acc;
	static const bool is_float = true;
	static __device__ __forceinline__ float ld(__half x) { return __half2float(x); }
	static __device__ __forceinline__ __half st(float x) { return __float2half_rn(x); }
};

#define CU_FOR(i, n) \
	for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

/* ---------------------------------------------------------------- broadcasting */
/* Element offsets of every operand for output element i. */
template <int N>
static __device__ __forceinline__ void cu_bcast_off(const be_bcast &b, int64_t i, int64_t *off)
{
#pragma unroll
	for (int k = 0; k < N; k++)
		off[k] = 0;
	for (int d = b.rank - 1; d > 0; d--) {
		int64_t c = i % b.dims[d];
		i /= b.dims[d];
#pragma unroll
		for (int k = 0; k < N; k++)
			off[k] += c * b.s[k][d];
	}
#pragma unroll
	for (int k = 0; k < N; k++)
		off[k] += i * b.s[k][0];
}

/* ---------------------------------------------------------------- element-size dispatch */
/* Unsigned integer type of an element size (1, 2, 4, 8); copies move bits only. */
template <int S> struct cu_bits;
template <> struct cu_bits<1> { typedef uint8_t t; };
template <> struct cu_bits<2> { typedef uint16_t t; };
template <> struct cu_bits<4> { typedef uint32_t t; };
template <> struct cu_bits<8> { typedef uint64_t t; };

static inline bool cu_esz_ok(size_t esz)
{
	return esz == 1 || esz == 2 || esz == 4 || esz == 8;
}

/* Runs CALL(T) with T the bit type of esz (1, 2, 4 or 8); otherwise rc = UNSUPPORTED. */
#define CU_BY_SIZE(esz, rc, CALL)                                                    \
	do {                                                                         \
		switch (esz) {                                                       \
		case 1: { typedef uint8_t T; CALL; break; }                          \
		case 2: { typedef uint16_t T; CALL; break; }                         \
		case 4: { typedef uint32_t T; CALL; break; }                         \
		case 8: { typedef uint64_t T; CALL; break; }                         \
		default: rc = ODET_ERR_UNSUPPORTED; break;                           \
		}                                                                    \
	} while (0)

/* ---------------------------------------------------------------- graph helpers */
/* true when input i is omitted or an empty tensor */
static inline bool cu_in_absent(const ir_graph *g, const ir_node *n, int i)
{
	const ir_value *v = ir_in(g, n, i);
	return !v || (v->rank >= 0 && ir_value_shape_known(v) && ir_value_numel(v) == 0);
}

/* Input i as host integers from the graph (a CONST int32/int64 value of at most max
 * elements). False when the input is not a constant of that kind. */
static inline bool cu_const_ints(const ir_graph *g, const ir_node *n, int i, int64_t *out, int max, int *count)
{
	const ir_value *v = ir_in(g, n, i);
	if (!v || v->kind != IR_VALUE_CONST || !v->data || (v->dtype != ODET_I64 && v->dtype != ODET_I32))
		return false;
	int64_t ne = ir_value_numel(v);
	if (ne < 0 || ne > max)
		return false;
	for (int64_t k = 0; k < ne; k++)
		out[k] = ir_const_i64(v, k);
	*count = (int)ne;
	return true;
}

/* Input i as host doubles from the graph (a CONST f32/f16/f64 value). */
static inline bool cu_const_floats(const ir_graph *g, const ir_node *n, int i, double *out, int max, int *count)
{
	const ir_value *v = ir_in(g, n, i);
	if (!v || v->kind != IR_VALUE_CONST || (!v->data && v->nbytes))
		return false;
	int64_t ne = ir_value_numel(v);
	if (ne < 0 || ne > max)
		return false;
	for (int64_t k = 0; k < ne; k++) {
		switch (v->dtype) {
		case ODET_F32: out[k] = ((const float *)v->data)[k]; break;
		case ODET_F64: out[k] = ((const double *)v->data)[k]; break;
		case ODET_F16: out[k] = odet_f16_to_f32(((const uint16_t *)v->data)[k]); break;
		default: return false;
		}
	}
	*count = (int)ne;
	return true;
}

static inline odet_status cu_refuse(odet_ctx *ctx, const ir_node *n, const char *why)
{
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s on CUDA: %s", n->name, ir_op_name(n->op), why);
}

static inline odet_status cu_bad(const be_run_args *a, const char *why)
{
	return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s, CUDA): %s", a->node->name,
			  ir_op_name(a->node->op), why);
}

/* Status of the last launch, with an error naming the node. */
static inline odet_status cu_launched(const be_run_args *a)
{
	cudaError_t e = cudaGetLastError();
	if (e == cudaSuccess)
		return ODET_OK;
	return odet_error(a->ctx, ODET_ERR_DEVICE, "node '%s' (%s, CUDA): launch failed: %s", a->node->name,
			  ir_op_name(a->node->op), cudaGetErrorString(e));
}

static inline bool cu_is_float(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F16;
}

/* Row strides (elements) of a dense tensor. */
static inline void cu_strides(const odet_tensor *t, int64_t *s)
{
	int64_t st = 1;
	for (int d = t->rank - 1; d >= 0; d--) {
		s[d] = st;
		st *= t->dims[d];
	}
}

/* [outer, n, inner] view around axis of dims */
static inline void cu_split_axis(const odet_tensor *t, int axis, int64_t *outer, int64_t *n, int64_t *inner)
{
	*n = t->rank ? t->dims[axis] : 1;
	odet_dims_split(t->dims, t->rank, axis, outer, inner);
}

#endif
