/*
 * batchnorm.cu — BatchNormalization (inference) on CUDA, for the BatchNorms that the fold
 * pass could not merge into a Conv.
 *
 * X [N,C,...] f32/f16; scale, B, mean, var [C] (constants or device tensors of X's dtype or
 * float32); attr epsilon (default 1e-5). Y = (X - mean) / sqrt(var + eps) * scale + B, computed
 * in float32, one thread per element (grid-stride). Training-mode outputs are refused.
 */
#include "backend/cuda/cuda_core.h"

template <typename T> static __device__ __forceinline__ float ldf(const T *p, int64_t i) { return (float)p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

template <typename T, typename P>
static __global__ void bn_kernel(const T *x, T *y, const P *sc, const P *b, const P *mean, const P *var,
				 float eps, int64_t total, int64_t plane, int64_t c)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
	     i += (int64_t)gridDim.x * blockDim.x) {
		int64_t ch = (i / plane) % c;
		float v = ldf(x, i);
		float k = ldf(sc, ch) * rsqrtf(ldf(var, ch) + eps);
		y[i] = (T)((v - ldf(mean, ch)) * k + ldf(b, ch));
	}
}

static odet_status bn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || x->rank < 2 || (x->dtype != ODET_F32 && x->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (BatchNormalization): float32/float16 input of rank >= 2 needed on CUDA", n->name);
	if (n->n_in < 5)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (BatchNormalization): 5 inputs needed", n->name);
	for (int i = 1; i < 5; i++) {
		const ir_value *p = ir_in(g, n, i);
		if (!p || p->dtype != ir_in(g, n, 1)->dtype || (p->dtype != ODET_F32 && p->dtype != ODET_F16) ||
		    ir_value_numel(p) != x->dims[1])
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (BatchNormalization): parameter %d must be float32/float16 [C] like the others",
					  n->name, i);
	}
	for (int i = 1; i < n->n_out; i++)
		if (n->out[i] >= 0)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (BatchNormalization): training-mode outputs are not supported", n->name);
	return ODET_OK;
}

static odet_status bn_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int64_t total = odet_tensor_numel(x), c = x->dims[1], plane = total / (x->dims[0] * c);
	float eps = ir_attr_float(a->node, "epsilon", 1e-5f);
	const unsigned nb = cu_grid(total, 256);
	cudaStream_t s = (cudaStream_t)a->stream;
	bool xh = x->dtype == ODET_F16, ph = a->in[1].dtype == ODET_F16;
#define BN(T, P) bn_kernel<T, P><<<nb, 256, 0, s>>>((const T *)x->data, (T *)a->out[0].data, \
	(const P *)a->in[1].data, (const P *)a->in[2].data, (const P *)a->in[3].data, (const P *)a->in[4].data, \
	eps, total, plane, c)
	if (xh && ph) BN(__half, __half);
	else if (xh) BN(__half, float);
	else if (ph) BN(float, __half);
	else BN(float, float);
#undef BN
	return odet_cuda_check(a->ctx, cudaGetLastError(), a->node, "BatchNormalization launch");
}

extern "C" const cuda_kernel cuda_kernel_BATCHNORM = {bn_check, NULL, NULL, bn_run};
