/*
 * pool.cu — MaxPool, AveragePool and GlobalAveragePool on CUDA (own kernels: cuDNN pooling
 * knows neither ceil_mode nor asymmetric pads).
 *
 * MaxPool / AveragePool: X [N,C,H,W] (or [N,C,W]) f32/f16 -> Y [N,C,oh,ow] (output size from
 * shape inference, ceil_mode included); attrs kernel_shape, strides, dilations (MaxPool),
 * pads / auto_pad, count_include_pad (AveragePool: divide by the window clipped to the
 * padded input when 1, by the valid elements when 0). One thread per output element,
 * float32 accumulation. MaxPool's optional indices output is refused. odet_nhwc = 1
 * (passes/layout.c): X and Y are [N,H,W,C] (consecutive threads read consecutive channels);
 * float16 NHWC with C % 8 == 0 takes pool8_kernel: one thread per (pixel, 8 channels), 16-byte
 * loads and stores, 32-bit index math — the same comparisons and summation order per channel
 * as pool_kernel, so the same results (the generic kernel's 64-bit divisions made it ~5x
 * slower than a copy on SSD300's stem pool).
 * GlobalAveragePool: X [N,C,spatial...] -> [N,C,1...]: one warp per (n, c), float32 sum.
 */
#include "backend/cuda/cuda_core.h"
#include "backend/cuda/window.h"

#include <float.h>
#include <stdlib.h>

typedef struct pool_geo {
	int n, c, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
	int ph_end, pw_end; /* h + pb, w + pr: extent of the padded input */
	int include_pad;
	int nhwc;
} pool_geo;

template <typename T> static __device__ __forceinline__ float ldf(const T *p, int64_t i) { return (float)p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

/* visit(yy, xx) for each window position of output (oy, ox) inside the input, top to bottom,
 * left to right (the summation order both kernels keep); returns how many there were */
template <typename F>
static __device__ __forceinline__ int pool_window(const pool_geo &g, int y0, int x0, F visit)
{
	int cnt = 0;
	for (int ky = 0; ky < g.kh; ky++) {
		int yy = y0 + ky * g.dh;
		if (yy < 0 || yy >= g.h)
			continue;
		for (int kx = 0; kx < g.kw; kx++) {
			int xx = x0 + kx * g.dw;
			if (xx < 0 || xx >= g.w)
				continue;
			visit(yy, xx);
			cnt++;
		}
	}
	return cnt;
}

/* AveragePool's divisor: the window clipped to the padded input (count_include_pad) or the
 * cnt valid elements */
static __device__ __forceinline__ int pool_divisor(const pool_geo &g, int y0, int x0, int cnt)
{
	if (!g.include_pad)
		return cnt;
	int ye = min(y0 + g.kh, g.ph_end), xe = min(x0 + g.kw, g.pw_end);
	return (ye - y0) * (xe - x0);
}

template <typename T, bool MAX>
static __global__ void pool_kernel(const T *x, T *y, pool_geo g)
{
	int64_t total = (int64_t)g.n * g.c * g.oh * g.ow;
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
	     i += (int64_t)gridDim.x * blockDim.x) {
		int ox, oy;
		const T *p;
		int64_t step; /* element stride between horizontally adjacent pixels */
		if (g.nhwc) {
			int c = (int)(i % g.c);
			ox = (int)((i / g.c) % g.ow);
			oy = (int)((i / ((int64_t)g.c * g.ow)) % g.oh);
			int64_t nn = i / ((int64_t)g.c * g.ow * g.oh);
			p = x + nn * g.h * g.w * g.c + c;
			step = g.c;
		} else {
			ox = (int)(i % g.ow);
			oy = (int)((i / g.ow) % g.oh);
			int64_t nc = i / ((int64_t)g.ow * g.oh);
			p = x + nc * g.h * g.w;
			step = 1;
		}
		int y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
		float acc = MAX ? -FLT_MAX : 0.0f;
		int cnt = pool_window(g, y0, x0, [&](int yy, int xx) {
			float v = ldf(p, ((int64_t)yy * g.w + xx) * step);
			if (MAX)
				acc = v > acc ? v : acc;
			else
				acc += v;
		});
		if (!MAX) {
			int div = pool_divisor(g, y0, x0, cnt);
			acc = div > 0 ? acc / (float)div : 0.0f;
		}
		y[i] = (T)acc;
	}
}

/* float16 NHWC, C % 8 == 0: thread = (n, oy, ox, channel group of 8) */
template <bool MAX>
static __global__ void pool8_kernel(const uint4 *__restrict__ x, uint4 *__restrict__ y, pool_geo g, int total)
{
	int cg = g.c >> 3;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int c8 = i % cg, r = i / cg;
		int ox = r % g.ow;
		r /= g.ow;
		int oy = r % g.oh, nn = r / g.oh;
		const uint4 *p = x + (size_t)nn * g.h * g.w * cg + c8;
		int y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
		float acc[8];
		for (int k = 0; k < 8; k++)
			acc[k] = MAX ? -FLT_MAX : 0.0f;
		int cnt = pool_window(g, y0, x0, [&](int yy, int xx) {
			uint4 u = __ldg(p + ((size_t)yy * g.w + xx) * cg);
			const __half2 *h2 = (const __half2 *)&u;
			for (int k = 0; k < 4; k++) {
				float2 f = __half22float2(h2[k]);
				if (MAX) {
					acc[2 * k] = f.x > acc[2 * k] ? f.x : acc[2 * k];
					acc[2 * k + 1] = f.y > acc[2 * k + 1] ? f.y : acc[2 * k + 1];
				} else {
					acc[2 * k] += f.x;
					acc[2 * k + 1] += f.y;
				}
			}
		});
		if (!MAX) {
			int div = pool_divisor(g, y0, x0, cnt);
			for (int k = 0; k < 8; k++)
				acc[k] = div > 0 ? acc[k] / (float)div : 0.0f;
		}
		uint4 o;
		__half2 *o2 = (__half2 *)&o;
		for (int k = 0; k < 4; k++)
			o2[k] = __floats2half2_rn(acc[2 * k], acc[2 * k + 1]);
		y[i] = o;
	}
}

static odet_status pool_check_common(odet_ctx *ctx, const ir_graph *g, const ir_node *n, pool_geo *pg)
{
	const ir_value *x = ir_in(g, n, 0);
	const int64_t *k;
	int nk = ir_attr_ints(n, "kernel_shape", &k);
	if (!x || (x->dtype != ODET_F32 && x->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): float32/float16 input needed on CUDA",
				  n->name, ir_op_name(n->op));
	if (n->n_out > 1 && n->out[1] >= 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (MaxPool): the indices output is not supported on CUDA",
				  n->name);
	cuda_window w;
	if (nk != x->rank - 2 || !cuda_window_read(g, n, x->rank == 4 ? k[0] : 1, k[nk - 1], &w) ||
	    w.c > INT32_MAX ||
	    w.oh > INT32_MAX || w.ow > INT32_MAX || w.kh > 65536 || w.kw > 65536 || w.sh > 65536 ||
	    w.sw > 65536 || w.dh > 65536 || w.dw > 65536 || w.pt > 65536 || w.pl > 65536 || w.pb > 65536 ||
	    w.pr > 65536)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): only 1-D and 2-D pooling runs on CUDA",
				  n->name, ir_op_name(n->op));
	if (pg) {
		pool_geo p = {(int)w.n, (int)w.c, (int)w.h, (int)w.w, (int)w.oh, (int)w.ow, (int)w.kh, (int)w.kw,
			      (int)w.sh, (int)w.sw, (int)w.dh, (int)w.dw, (int)w.pt, (int)w.pl,
			      (int)(w.h + w.pb), (int)(w.w + w.pr), (int)ir_attr_int(n, "count_include_pad", 0),
			      (int)ir_attr_int(n, "odet_nhwc", 0)};
		*pg = p;
	}
	return ODET_OK;
}

static odet_status pool_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	return pool_check_common(ctx, g, n, NULL);
}

static odet_status pool_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	pool_geo *p = (pool_geo *)odet_calloc(ctx, 1, sizeof *p);
	if (!p)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = pool_check_common(ctx, g, n, p);
	if (rc) {
		free(p);
		return rc;
	}
	*state = p;
	return ODET_OK;
}

static void pool_release(void *s)
{
	free(s);
}

static odet_status pool_run(const be_run_args *a)
{
	const pool_geo *p = (const pool_geo *)a->state;
	cudaStream_t s = (cudaStream_t)a->stream;
	int64_t total = (int64_t)p->n * p->c * p->oh * p->ow;
	bool mx = a->node->op == IR_OP_MAXPOOL;
	bool h = a->in[0].dtype == ODET_F16;
	if (h && p->nhwc && p->c % 8 == 0 && total / 8 <= INT32_MAX && ((uintptr_t)a->in[0].data & 15) == 0 &&
	    ((uintptr_t)a->out[0].data & 15) == 0) {
		int t8 = (int)(total / 8);
		if (mx)
			pool8_kernel<true><<<cu_grid(t8, 256), 256, 0, s>>>((const uint4 *)a->in[0].data, (uint4 *)a->out[0].data, *p, t8);
		else
			pool8_kernel<false><<<cu_grid(t8, 256), 256, 0, s>>>((const uint4 *)a->in[0].data, (uint4 *)a->out[0].data, *p, t8);
	} else if (mx && h)
		pool_kernel<__half, true><<<cu_grid(total, 256), 256, 0, s>>>((const __half *)a->in[0].data, (__half *)a->out[0].data, *p);
	else if (mx)
		pool_kernel<float, true><<<cu_grid(total, 256), 256, 0, s>>>((const float *)a->in[0].data, (float *)a->out[0].data, *p);
	else if (h)
		pool_kernel<__half, false><<<cu_grid(total, 256), 256, 0, s>>>((const __half *)a->in[0].data, (__half *)a->out[0].data, *p);
	else
		pool_kernel<float, false><<<cu_grid(total, 256), 256, 0, s>>>((const float *)a->in[0].data, (float *)a->out[0].data, *p);
	return odet_cuda_check(a->ctx, cudaGetLastError(), a->node, "pool kernel launch");
}

/* ---- GlobalAveragePool */

template <typename T>
static __global__ void gap_kernel(const T *x, T *y, int64_t rows, int64_t plane)
{
	int64_t row = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32;
	int lane = threadIdx.x & 31;
	if (row >= rows)
		return;
	const T *p = x + row * plane;
	float s = 0;
	for (int64_t i = lane; i < plane; i += 32)
		s += ldf(p, i);
	for (int o = 16; o; o >>= 1)
		s += __shfl_down_sync(0xffffffffu, s, o);
	if (lane == 0)
		y[row] = (T)(s / (float)plane);
}

static odet_status gap_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || x->rank < 3 || (x->dtype != ODET_F32 && x->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (GlobalAveragePool): float32/float16 input of rank >= 3 needed on CUDA", n->name);
	return ODET_OK;
}

static odet_status gap_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int64_t rows = x->dims[0] * x->dims[1], plane = 1;
	for (int k = 2; k < x->rank; k++)
		plane *= x->dims[k];
	cudaStream_t s = (cudaStream_t)a->stream;
	int64_t threads = rows * 32;
	unsigned blocks = (unsigned)((threads + 255) / 256);
	if (x->dtype == ODET_F16)
		gap_kernel<__half><<<blocks, 256, 0, s>>>((const __half *)x->data, (__half *)a->out[0].data, rows, plane);
	else
		gap_kernel<float><<<blocks, 256, 0, s>>>((const float *)x->data, (float *)a->out[0].data, rows, plane);
	return odet_cuda_check(a->ctx, cudaGetLastError(), a->node, "GlobalAveragePool launch");
}

extern "C" const cuda_kernel cuda_kernel_MAXPOOL = {pool_check, pool_prepare, pool_release, pool_run};
extern "C" const cuda_kernel cuda_kernel_AVGPOOL = {pool_check, pool_prepare, pool_release, pool_run};
extern "C" const cuda_kernel cuda_kernel_GLOBALAVGPOOL = {gap_check, NULL, NULL, gap_run};
