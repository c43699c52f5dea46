/*
 * quantize_linear.cu — QuantizeLinear (ops.def) on CUDA: float32/float16 X -> int8,
 * y = saturate(rint(x / scale) + zp) to [-128, 127] (rint: round half to even, as the CPU's
 * nearbyintf); NaN -> zp. Scale and zero point are read on the device (constants), so the
 * launch needs no host value. Elementwise: any layout. To float8e4m3: quantize_fp8.cu.
 */
#include "backend/cuda/cuda_core.h"
#include "backend/cuda/fp8.h"

template <typename T> static __device__ __forceinline__ float ldf(const T *p, int64_t i) { return (float)p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

template <typename T>
static __global__ void quantize_kernel(const T *x, const float *scale, const int8_t *zp, int8_t *y, int64_t n)
{
	const float s = *scale;
	const float z = zp ? (float)*zp : 0.0f;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
		float r = rintf(__fdiv_rn(ldf(x, i), s)) + z;
		r = r != r ? z : r;
		y[i] = (int8_t)fminf(fmaxf(r, -128.0f), 127.0f);
	}
}

/* Launcher: raw device pointers and a stream. */
static odet_status quantize_launch(const void *x, odet_dtype dt, const float *scale, const int8_t *zp, int8_t *y,
				   int64_t n, cudaStream_t s)
{
	const int threads = 256;
	if (n < 1)
		return ODET_OK;
	const unsigned blocks = cu_grid(n, threads);
	if (dt == ODET_F16)
		quantize_kernel<__half><<<blocks, threads, 0, s>>>((const __half *)x, scale, zp, y, n);
	else
		quantize_kernel<float><<<blocks, threads, 0, s>>>((const float *)x, scale, zp, y, n);
	return cudaGetLastError() == cudaSuccess ? ODET_OK : ODET_ERR_DEVICE;
}

static odet_status quantize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *z = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (y && y->dtype == ODET_F8E4M3)
		return quantize_fp8_check(ctx, g, n);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    ir_value_numel(s) != 1 || y->dtype != ODET_I8 || (z && z->dtype != ODET_I8))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): CUDA quantizes float32/float16 to int8 with one float32 scale only",
				  n->name);
	return ODET_OK;
}

static odet_status quantize_run(const be_run_args *a)
{
	if (a->out[0].dtype == ODET_F8E4M3)
		return quantize_fp8_run(a);
	odet_status rc = quantize_launch(a->in[0].data, a->in[0].dtype, (const float *)a->in[1].data,
					 a->n_in > 2 ? (const int8_t *)a->in[2].data : NULL, (int8_t *)a->out[0].data,
					 odet_tensor_numel(&a->out[0]), (cudaStream_t)a->stream);
	return rc ? odet_error(a->ctx, rc, "node '%s' (QuantizeLinear): launch failed", a->node->name) : ODET_OK;
}

extern "C" const cuda_kernel cuda_kernel_QUANTIZE_LINEAR = {quantize_check, NULL, NULL, quantize_run};
