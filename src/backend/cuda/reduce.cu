/*
 * reduce.cu — ReduceSum, ReduceMean, ReduceMax on CUDA (opset 18 form; spec:
 *   backend/cpu/reduce.c). X: float32/float16/int8/int32/int64/uint8; axes: input 1, a
 *   constant of the graph (omitted or empty: all axes, or the identity with
 *   noop_with_empty_axes = 1); attr keepdims only shapes the output. Y has X's dtype.
 *   Sums accumulate in double (floats) or 64-bit wrapping integers; Mean of integers
 *   truncates toward zero; Max of an empty set is -inf / the dtype's minimum; Max
 *   propagates NaN. One warp per output element: lanes stride over the reduced sub-space
 *   (reduced dims merged), then a shuffle reduction.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

typedef struct reduce_geom {
	int nk, nr;
	int64_t kdims[ODET_MAX_RANK], kstr[ODET_MAX_RANK];
	int64_t rdims[ODET_MAX_RANK], rstr[ODET_MAX_RANK];
	int64_t kept, rcount;
	int op; /* 0 sum, 1 mean, 2 max */
} reduce_geom;

template <typename T> __device__ __forceinline__ T lowest();
template <> __device__ __forceinline__ float lowest<float>() { return -INFINITY; }
template <> __device__ __forceinline__ int8_t lowest<int8_t>() { return INT8_MIN; }
template <> __device__ __forceinline__ int32_t lowest<int32_t>() { return INT32_MIN; }
template <> __device__ __forceinline__ int64_t lowest<int64_t>() { return INT64_MIN; }
template <> __device__ __forceinline__ uint8_t lowest<uint8_t>() { return 0; }

template <typename A> __device__ __forceinline__ A max_nan(A m, A v)
{
	return v > m || v != v ? v : m;
}

__device__ __forceinline__ int64_t shfl64(int64_t v, int o)
{
	return (int64_t)__shfl_xor_sync(0xffffffffu, (long long)v, o);
}

template <typename T>
__global__ void reduce_kernel(reduce_geom g, const T *x, T *y)
{
	typedef cu_num<T> N;
	typedef typename N::acc A;
	const bool is_int = !N::is_float;
	const int lane = threadIdx.x & 31;
	int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	int64_t nwarps = ((int64_t)gridDim.x * blockDim.x) >> 5;
	for (int64_t o = warp; o < g.kept; o += nwarps) {
		int64_t base = 0, t = o;
		for (int d = g.nk - 1; d >= 0; d--) {
			base += (t % g.kdims[d]) * g.kstr[d];
			t /= g.kdims[d];
		}
		A m = lowest<A>();
		double fs = 0;
		int64_t is = 0;
		for (int64_t r = lane; r < g.rcount; r += 32) {
			int64_t off = 0, q = r;
			for (int d = g.nr - 1; d >= 0; d--) {
				off += (q % g.rdims[d]) * g.rstr[d];
				q /= g.rdims[d];
			}
			A v = N::ld(x[base + off]);
			if (g.op == 2)
				m = max_nan(m, v);
			else if (is_int)
				is = (int64_t)((uint64_t)is + (uint64_t)(int64_t)v);
			else
				fs += g.op == 3 ? (double)v * (double)v : (double)v;
		}
		for (int k = 16; k; k >>= 1) {
			if (g.op == 2) {
				A v = (A)__shfl_xor_sync(0xffffffffu, m, k);
				m = max_nan(m, v);
			} else if (is_int) {
				is = (int64_t)((uint64_t)is + (uint64_t)shfl64(is, k));
			} else {
				fs += __shfl_xor_sync(0xffffffffu, fs, k);
			}
		}
		if (lane)
			continue;
		if (g.op == 2)
			y[o] = N::st(m);
		else if (is_int)
			y[o] = g.op == 1 ? (A(-1) < A(0) ? (A)(is / g.rcount) : (A)((uint64_t)is / (uint64_t)g.rcount))
					 : (A)is;
		else
			y[o] = N::st((A)(g.op == 1 ? fs / (double)g.rcount : g.op == 3 ? sqrt(fs) : fs));
	}
}

bool reduce_dtype_ok(odet_dtype t)
{
	switch (t) {
#define CASE(S, T) case ODET_##S: return true;
	CU_NUM_TYPES(CASE)
#undef CASE
	default: return false;
	}
}

/* Axes of the node from the graph: n_axes = 0 when omitted or empty; false if not constant. */
bool reduce_axes(const ir_graph *g, const ir_node *n, int64_t *axes, int *n_axes)
{
	*n_axes = 0;
	if (n->n_in < 2 || n->in[1] < 0 || cu_in_absent(g, n, 1))
		return true;
	return cu_const_ints(g, n, 1, axes, ODET_MAX_RANK, n_axes);
}

odet_status reduce_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	int64_t axes[ODET_MAX_RANK];
	int na;
	if (!x || !y || !reduce_dtype_ok(x->dtype) || y->dtype != x->dtype ||
	    (n->op == IR_OP_REDUCEL2 && x->dtype != ODET_F32 && x->dtype != ODET_F16))
		return cu_refuse(ctx, n, "dtype not supported");
	if (ir_attr_get(n, "axes"))
		return cu_refuse(ctx, n, "attribute axes (want input 1)");
	if (!reduce_axes(g, n, axes, &na))
		return cu_refuse(ctx, n, "axes must be a constant of the graph");
	return ODET_OK;
}

odet_status reduce_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	cudaStream_t st = (cudaStream_t)a->stream;
	int64_t axes[ODET_MAX_RANK], str[ODET_MAX_RANK];
	bool red[ODET_MAX_RANK] = {false};
	int n_axes;
	if (!reduce_axes(a->g, nd, axes, &n_axes))
		return cu_bad(a, "axes must be a constant of the graph");
	int64_t numel = odet_tensor_numel(x), ynumel = odet_tensor_numel(y);
	if (n_axes == 0 && ir_attr_int(nd, "noop_with_empty_axes", 0)) {
		if (numel != ynumel || y->dtype != x->dtype)
			return cu_bad(a, "output shape mismatch");
		if (numel > 0 && y->data != x->data &&
		    ODET_CUDA(cudaMemcpyAsync(y->data, x->data, (size_t)numel * odet_dtype_size(x->dtype),
					      cudaMemcpyDeviceToDevice, st)))
			return cu_launched(a);
		return ODET_OK;
	}
	for (int i = 0; i < n_axes; i++) {
		int ax;
		if (!odet_norm_axis(axes[i], x->rank, &ax))
			return cu_bad(a, "axis out of range");
		red[ax] = true;
	}
	if (n_axes == 0)
		for (int d = 0; d < x->rank; d++)
			red[d] = true;
	reduce_geom g;
	memset(&g, 0, sizeof g);
	g.op = nd->op == IR_OP_REDUCESUM ? 0 : nd->op == IR_OP_REDUCEMEAN ? 1 : nd->op == IR_OP_REDUCEMAX ? 2 : 3;
	g.rcount = 1;
	g.kept = 1;
	cu_strides(x, str);
	for (int d = 0; d < x->rank; d++) {
		if (red[d]) {
			g.rcount *= x->dims[d];
			if (x->dims[d] == 1)
				continue;
			if (g.nr > 0 && red[d - 1] && g.rstr[g.nr - 1] == str[d] * x->dims[d]) {
				g.rdims[g.nr - 1] *= x->dims[d];
				g.rstr[g.nr - 1] = str[d];
				continue;
			}
			g.rdims[g.nr] = x->dims[d];
			g.rstr[g.nr++] = str[d];
		} else {
			g.kept *= x->dims[d];
			g.kdims[g.nk] = x->dims[d];
			g.kstr[g.nk++] = str[d];
		}
	}
	if (numel < 0 || g.kept != ynumel || y->dtype != x->dtype)
		return cu_bad(a, "output shape mismatch");
	if (g.kept == 0)
		return ODET_OK;
	if (g.rcount == 0)
		g.nr = 0;
	unsigned grid = cu_grid(g.kept * 32, CU_BLOCK);
	switch (x->dtype) {
#define CASE(S, T) case ODET_##S: reduce_kernel<T><<<grid, CU_BLOCK, 0, st>>>(g, (const T *)x->data, (T *)y->data); break;
	CU_NUM_TYPES(CASE)
#undef CASE
	default: return cu_bad(a, "dtype not supported");
	}
	return cu_launched(a);
}

} /* namespace */

#define KERNEL(ID) extern "C" const cuda_kernel cuda_kernel_##ID = {reduce_check, NULL, NULL, reduce_run};
KERNEL(REDUCESUM)
KERNEL(REDUCEMEAN)
KERNEL(REDUCEMAX)
KERNEL(REDUCEL2)
