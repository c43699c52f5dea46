/*
 * cast.cu — Cast(X) to attr `to` on CUDA (spec: backend/cpu/cast.c): between float32,
 *   float16, bfloat16, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool.
 *   Floats go through double, integers/bool through int64 (64-bit values stay exact).
 *   float -> int: truncation toward zero through int64, then wrapping to the target width;
 *   NaN, +-inf and values outside int64 become INT64_MIN. -> bool: x != 0 (NaN is true).
 *   -> float16: round to nearest even; -> bfloat16: truncation of the float32 bits.
 * One thread per element; the dtype switch is uniform over the grid.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

bool castable(odet_dtype t)
{
	switch (t) {
	case ODET_F32: case ODET_F16: case ODET_BF16: case ODET_F64:
	case ODET_I8: case ODET_I16: case ODET_I32: case ODET_I64:
	case ODET_U8: case ODET_U16: case ODET_U32: case ODET_U64: case ODET_BOOL:
		return true;
	default:
		return false;
	}
}

__host__ __device__ bool is_float(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F64 || t == ODET_F16 || t == ODET_BF16;
}

__device__ double load_f(odet_dtype t, const void *p, int64_t i)
{
	switch (t) {
	case ODET_F32: return ((const float *)p)[i];
	case ODET_F64: return ((const double *)p)[i];
	case ODET_F16: return __half2float(((const __half *)p)[i]);
	case ODET_BF16: return __uint_as_float((uint32_t)((const uint16_t *)p)[i] << 16);
	case ODET_I8: return ((const int8_t *)p)[i];
	case ODET_I16: return ((const int16_t *)p)[i];
	case ODET_I32: return ((const int32_t *)p)[i];
	case ODET_I64: return (double)((const int64_t *)p)[i];
	case ODET_U8: case ODET_BOOL: return ((const uint8_t *)p)[i];
	case ODET_U16: return ((const uint16_t *)p)[i];
	case ODET_U32: return ((const uint32_t *)p)[i];
	case ODET_U64: return (double)((const uint64_t *)p)[i];
	default: return 0;
	}
}

__device__ int64_t load_i(odet_dtype t, const void *p, int64_t i)
{
	switch (t) {
	case ODET_I8: return ((const int8_t *)p)[i];
	case ODET_I16: return ((const int16_t *)p)[i];
	case ODET_I32: return ((const int32_t *)p)[i];
	case ODET_I64: return ((const int64_t *)p)[i];
	case ODET_U8: case ODET_BOOL: return ((const uint8_t *)p)[i];
	case ODET_U16: return ((const uint16_t *)p)[i];
	case ODET_U32: return ((const uint32_t *)p)[i];
	case ODET_U64: return (int64_t)((const uint64_t *)p)[i];
	default: return 0;
	}
}

__device__ void store_i(odet_dtype t, void *p, int64_t i, int64_t v)
{
	switch (t) {
	case ODET_I8: ((int8_t *)p)[i] = (int8_t)v; break;
	case ODET_I16: ((int16_t *)p)[i] = (int16_t)v; break;
	case ODET_I32: ((int32_t *)p)[i] = (int32_t)v; break;
	case ODET_I64: ((int64_t *)p)[i] = v; break;
	case ODET_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
	case ODET_BOOL: ((uint8_t *)p)[i] = v != 0; break;
	case ODET_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
	case ODET_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
	case ODET_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
	default: break;
	}
}

__device__ int64_t f2i(double d)
{
	if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
		return INT64_MIN;
	return (int64_t)d;
}

__device__ uint16_t f32_to_bf16(float f)
{
	uint32_t x = __float_as_uint(f);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
	return (uint16_t)(x >> 16);
}

__device__ void store_f(odet_dtype t, void *p, int64_t i, double v)
{
	switch (t) {
	case ODET_F32: ((float *)p)[i] = (float)v; return;
	case ODET_F64: ((double *)p)[i] = v; return;
	case ODET_F16: ((__half *)p)[i] = __float2half_rn((float)v); return;
	case ODET_BF16: ((uint16_t *)p)[i] = f32_to_bf16((float)v); return;
	default: break;
	}
	int64_t iv = t == ODET_BOOL ? v != 0 : f2i(v);
	if (t == ODET_U64 && v >= 9223372036854775808.0 && v < 18446744073709551616.0)
		iv = (int64_t)(uint64_t)v; /* the upper half of uint64 */
	store_i(t, p, i, iv);
}

__global__ void cast_kernel(odet_dtype from, odet_dtype to, const void *x, void *y, int64_t n)
{
	bool via_int = !is_float(from) && !is_float(to);
	CU_FOR(i, n) {
		if (via_int)
			store_i(to, y, i, load_i(from, x, i));
		else
			store_f(to, y, i, load_f(from, x, i));
	}
}

__global__ void cast_f32_f16_kernel(const float *x, __half *y, int64_t n)
{
	CU_FOR(i, n)
		y[i] = __float2half_rn(x[i]);
}

__global__ void cast_f16_f32_kernel(const __half *x, float *y, int64_t n)
{
	CU_FOR(i, n)
		y[i] = __half2float(x[i]);
}

odet_status cast_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return cu_refuse(ctx, n, "needs one input");
	if (!castable(x->dtype) || !castable(y->dtype) || ir_attr_int(n, "to", 0) != y->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Cast on CUDA from %s to %s is not supported",
				  n->name, odet_dtype_name(x->dtype), odet_dtype_name(y->dtype));
	return ODET_OK;
}

odet_status cast_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	cudaStream_t st = (cudaStream_t)a->stream;
	int64_t n = odet_tensor_numel(x);
	if (n < 0 || n != odet_tensor_numel(y) || !castable(x->dtype) || !castable(y->dtype))
		return cu_bad(a, "bad tensors");
	if (n == 0)
		return ODET_OK;
	if (x->dtype == y->dtype) {
		if (y->data == x->data)
			return ODET_OK;
		return ODET_CUDA(cudaMemcpyAsync(y->data, x->data, (size_t)n * odet_dtype_size(x->dtype),
						 cudaMemcpyDeviceToDevice, st)) ? cu_launched(a) : ODET_OK;
	}
	unsigned grid = cu_grid(n, CU_BLOCK);
	if (x->dtype == ODET_F32 && y->dtype == ODET_F16)
		cast_f32_f16_kernel<<<grid, CU_BLOCK, 0, st>>>((const float *)x->data, (__half *)y->data, n);
	else if (x->dtype == ODET_F16 && y->dtype == ODET_F32)
		cast_f16_f32_kernel<<<grid, CU_BLOCK, 0, st>>>((const __half *)x->data, (float *)y->data, n);
	else
		cast_kernel<<<grid, CU_BLOCK, 0, st>>>(x->dtype, y->dtype, x->data, y->data, n);
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_CAST = {cast_check, NULL, NULL, cast_run};
