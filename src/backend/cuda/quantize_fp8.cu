/*
 * quantize_fp8.cu — QuantizeLinear (ops.def) to FP8 E4M3 on CUDA: float32/float16 X, one
 * float32 scale, zero point 0 -> y = e4m3(x / scale): the quotient rounded once in float32
 * (__fdiv_rn), then to E4M3 by cvt.rn.satfinite (round to nearest even, +-448 for anything
 * larger including +-inf, NaN -> 0x7f) — quant/fp8.c's quant_fp8_from_float on the CPU.
 * The scale is read on the device. Elementwise: any layout.
 */
#include "backend/cuda/fp8.h"

#include <cuda_fp8.h>

template <typename T> static __device__ __forceinline__ float ldf(const T *p, int64_t i) { return (float)p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

static __device__ __forceinline__ uint32_t q8(float x, float s)
{
	return (uint32_t)(uint8_t)__nv_cvt_float_to_fp8(__fdiv_rn(x, s), __NV_SATFINITE, __NV_E4M3);
}

template <typename T>
static __global__ void quantize_fp8_kernel(const T *x, const float *scale, uint8_t *y, int64_t n)
{
	const float s = *scale;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = (uint8_t)q8(ldf(x, i), s);
}

/* 8 values a thread: 16- or 32-byte loads, one 8-byte store (the scalar kernel's byte stores
 * and 2-byte loads held it near half the memory bandwidth) */
static __device__ __forceinline__ void ld8(const __half *p, float *v)
{
	uint4 u = *(const uint4 *)p;
	const __half2 *h = (const __half2 *)&u;
	for (int k = 0; k < 4; k++) {
		float2 f = __half22float2(h[k]);
		v[2 * k] = f.x;
		v[2 * k + 1] = f.y;
	}
}
static __device__ __forceinline__ void ld8(const float *p, float *v)
{
	float4 a = ((const float4 *)p)[0], b = ((const float4 *)p)[1];
	v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}

template <typename T>
static __global__ void quantize_fp8_vec8_kernel(const T *x, const float *scale, uint2 *y, int64_t n8)
{
	const float s = *scale;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n8; i += (int64_t)gridDim.x * blockDim.x) {
		float v[8];
		ld8(x + i * 8, v);
		uint32_t lo = 0, hi = 0;
		for (int k = 0; k < 4; k++) {
			lo |= q8(v[k], s) << (8 * k);
			hi |= q8(v[k + 4], s) << (8 * k);
		}
		y[i] = make_uint2(lo, hi);
	}
}

static unsigned fp8_blocks(int64_t n, int threads)
{
	int64_t b = (n + threads - 1) / threads;
	return (unsigned)(b > 65535 * 8 ? 65535 * 8 : b);
}

template <typename T>
static void quantize_fp8_t(const T *x, const float *scale, uint8_t *y, int64_t n, cudaStream_t s)
{
	const int threads = 256;
	int64_t n8 = ((uintptr_t)x % 16 == 0 && (uintptr_t)y % 8 == 0) ? n / 8 : 0;
	if (n8 > 0)
		quantize_fp8_vec8_kernel<T><<<fp8_blocks(n8, threads), threads, 0, s>>>(x, scale, (uint2 *)y, n8);
	if (n - n8 * 8 > 0)
		quantize_fp8_kernel<T><<<fp8_blocks(n - n8 * 8, threads), threads, 0, s>>>(x + n8 * 8, scale, y + n8 * 8,
											    n - n8 * 8);
}

odet_status cuda_quantize_fp8_launch(const void *x, odet_dtype dt, const float *scale, uint8_t *y, int64_t n,
				     cudaStream_t s)
{
	if (n < 1)
		return ODET_OK;
	if (dt == ODET_F16)
		quantize_fp8_t((const __half *)x, scale, y, n, s);
	else
		quantize_fp8_t((const float *)x, scale, y, n, s);
	return cudaGetLastError() == cudaSuccess ? ODET_OK : ODET_ERR_DEVICE;
}

odet_status cuda_fp8_device_check(odet_ctx *ctx, const ir_node *n)
{
	int dev = 0, major = 0, minor = 0;
	if (cudaGetDevice(&dev) != cudaSuccess ||
	    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
	    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
		cudaGetLastError();
		return odet_error(ctx, ODET_ERR_DEVICE, "node '%s' (%s): cannot read the CUDA device's compute capability",
				  n->name, ir_op_name(n->op));
	}
	if (major * 10 + minor >= 89)
		return ODET_OK;
	cudaDeviceProp p;
	if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
		cudaGetLastError();
		snprintf(p.name, sizeof p.name, "GPU %d", dev);
	}
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "node '%s' (%s): FP8 needs a GPU of compute capability 8.9 or newer (Ada, Hopper); %s is %d.%d "
			  "(build int8 or fp16)", n->name, ir_op_name(n->op), p.name, major, minor);
}

odet_status quantize_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *z = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    ir_value_numel(s) != 1 || y->dtype != ODET_F8E4M3 ||
	    (z && (z->dtype != ODET_F8E4M3 || z->kind != IR_VALUE_CONST || (z->data && (*(const uint8_t *)z->data & 0x7f)))))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): CUDA quantizes to float8e4m3 from float32/float16 with one "
				  "float32 scale and a zero point of 0 only", n->name);
	return cuda_fp8_device_check(ctx, n);
}

odet_status quantize_fp8_run(const be_run_args *a)
{
	odet_status rc = cuda_quantize_fp8_launch(a->in[0].data, a->in[0].dtype, (const float *)a->in[1].data,
						  (uint8_t *)a->out[0].data, odet_tensor_numel(&a->out[0]),
						  (cudaStream_t)a->stream);
	return rc ? odet_error(a->ctx, rc, "node '%s' (QuantizeLinear): launch failed", a->node->name) : ODET_OK;
}
