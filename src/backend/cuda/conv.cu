/*
 * conv.cu — Conv on CUDA through cuDNN (legacy API, present in cuDNN 9.14).
 *
 * Inputs: X [N,C,H,W] (or [N,C,W]), W [M,C/group,kh,kw] constant, optional B [M], optional
 * residual R of Y's shape (odet's fused Conv, ir.h); Y [N,M,oh,ow]. Dtypes: all float32 or
 * all float16 (fp16 computes in float32 on tensor cores). Attributes: strides, dilations,
 * pads / auto_pad, group, odet_act (+ alpha/beta).
 * Algorithm: symmetric pads only (cuDNN); asymmetric pads are refused at build naming the
 * node. At prepare time two paths are timed on scratch buffers, each for the whole node
 * (conv + bias + residual + activation), and the faster is kept:
 *  - legacy API: every forward algorithm (cudnnFindConvolutionForwardAlgorithmEx, fastest that
 *    fits the workspace cap; fp32: FMA math only, no TF32, so results match the CPU reference;
 *    fp16: tensor-op math); ReLU/none through cudnnConvolutionBiasActivationForward
 *    (y = act(conv + R + B)) when the algorithm allows it (identity activation requires
 *    IMPLICIT_PRECOMP_GEMM), else cudnnConvolutionForward + a fused epilogue kernel;
 *  - fp16 NHWC, group 1: the backend-API operation graph conv -> +B -> +R -> act with
 *    every engine configuration of cuDNN's heuristics timed (conv_graph.cu), so the
 *    epilogue is fused in the engine that also picks Hopper's kernels.
 * ODET_CONV_PATH=legacy|graph forces one path where it applies (tests, A/B timing).
 * Layout: NCHW, or NHWC with weights KRSC when the node has odet_nhwc = 1 (passes/layout.c;
 * fp16 engines: cuDNN's tensor-core kernels run NHWC natively).
 */
#include "backend/cuda/conv_direct.h"
#include "backend/cuda/conv_graph.h"
#include "backend/cuda/cuda_core.h"
#include "backend/cuda/window.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONV_WS_CAP ((size_t)512 << 20)

typedef struct conv_state {
	cudnnTensorDescriptor_t xd, yd, bd;
	cudnnFilterDescriptor_t wd;
	cudnnConvolutionDescriptor_t cd;
	cudnnActivationDescriptor_t ad;
	cudnnConvolutionFwdAlgo_t algo;
	bool fused;          /* cudnnConvolutionBiasActivationForward */
	bool has_res;        /* residual input present */
	cuda_act act;
	void *zero_bias;     /* device zeros [M] when B is omitted (fused path) */
	size_t ws;
	int64_t m, plane;    /* output channels, oh*ow */
	int64_t n;
	float ms;            /* tuned time (whole node: conv + bias + residual + activation) */
	conv_graph *graph;   /* fp16 NHWC: cuDNN backend-API fused graph, when timed faster */
	bool direct;         /* odet's own kernel (conv_direct.cu), when timed faster */
	conv_direct dk;
} conv_state;

/* ---- epilogue: y = act(y + b[c] + r) over [n, m, plane] */
template <typename T>
static __device__ __forceinline__ float ld(const T *p, int64_t i) { return (float)p[i]; }
template <>
__device__ __forceinline__ float ld<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

template <typename T>
static __global__ void epilogue_kernel(T *y, const T *bias, const T *res, int64_t total, int64_t plane,
				       int64_t m, int kind, float a, float b)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
	     i += (int64_t)gridDim.x * blockDim.x) {
		float v = ld(y, i);
		if (bias)
			v += ld(bias, (i / plane) % m);
		if (res)
			v += ld(res, i);
		v = cuda_act_apply(kind, a, b, v);
		y[i] = (T)v;
	}
}

static odet_status epilogue(void *y, const void *bias, const void *res, odet_dtype dt, int64_t total,
			    int64_t plane, int64_t m, const cuda_act *act, cudaStream_t s)
{
	const int threads = 256;
	const unsigned blocks = cu_grid(total, threads);
	if (dt == ODET_F16)
		epilogue_kernel<__half><<<blocks, threads, 0, s>>>(
			(__half *)y, (const __half *)bias, (const __half *)res, total, plane, m, act->kind,
			act->alpha, act->beta);
	else
		epilogue_kernel<float><<<blocks, threads, 0, s>>>(
			(float *)y, (const float *)bias, (const float *)res, total, plane, m, act->kind,
			act->alpha, act->beta);
	return ODET_CUDA(cudaGetLastError());
}

/* ---- node adapter */

static odet_status conv_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !w || !y || w->kind != IR_VALUE_CONST || w->rank != x->rank)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (Conv): the CUDA backend needs a constant weight of the input's rank",
				  n->name);
	if (x->dtype != ODET_F32 && x->dtype != ODET_F16)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Conv): dtype %s on CUDA", n->name,
				  odet_dtype_name(x->dtype));
	for (int i = 1; i < n->n_in; i++) {
		const ir_value *v = ir_in(g, n, i);
		if (v && v->dtype != x->dtype)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (Conv): input %d is %s, input 0 is %s (the precision pass must make them agree)",
					  n->name, i, odet_dtype_name(v->dtype), odet_dtype_name(x->dtype));
	}
	cuda_window cw;
	bool nhwc = ir_attr_int(n, "odet_nhwc", 0) != 0;
	if (!cuda_window_read(g, n, x->rank == 4 ? w->dims[nhwc ? 1 : 2] : 1, w->dims[w->rank - (nhwc ? 2 : 1)], &cw))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (Conv): only 1-D and 2-D convolutions run on CUDA", n->name);
	if (cw.pt != cw.pb || cw.pl != cw.pr)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (Conv): asymmetric pads (%lld,%lld,%lld,%lld) are not supported by the CUDA backend (cuDNN)",
				  n->name, (long long)cw.pt, (long long)cw.pl, (long long)cw.pb, (long long)cw.pr);
	cuda_act a;
	if (!cuda_act_read(n, &a))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Conv): unknown fused activation %d",
				  n->name, a.kind);
	return ODET_OK;
}

static void conv_release(void *p)
{
	conv_state *s = (conv_state *)p;
	if (!s)
		return;
	if (s->xd) cudnnDestroyTensorDescriptor(s->xd);
	if (s->yd) cudnnDestroyTensorDescriptor(s->yd);
	if (s->bd) cudnnDestroyTensorDescriptor(s->bd);
	if (s->wd) cudnnDestroyFilterDescriptor(s->wd);
	if (s->cd) cudnnDestroyConvolutionDescriptor(s->cd);
	if (s->ad) cudnnDestroyActivationDescriptor(s->ad);
	if (s->zero_bias) cudaFree(s->zero_bias);
	conv_graph_free(s->graph);
	free(s);
}

/* Fill a scratch buffer with small non-zero values (timing only). */
static __global__ void fill_kernel(unsigned char *p, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
		p[i] = (unsigned char)(0x3c ^ (i & 0x1));
}

/* The legacy-API path: fused cudnnConvolutionBiasActivationForward, or cudnnConvolutionForward
 * followed by the epilogue kernel. */
static odet_status legacy_launch(odet_ctx *ctx, const ir_node *n, const conv_state *s, cudnnHandle_t h,
				 cudaStream_t stream, const void *x, const void *w, const void *b, const void *r,
				 void *y, void *ws, odet_dtype dt, int64_t total)
{
	float one = 1.0f, zero = 0.0f;
	if (s->fused)
		return odet_cudnn_check(ctx,
					cudnnConvolutionBiasActivationForward(h, &one, s->xd, x, s->wd, w, s->cd, s->algo, ws,
									      s->ws, r ? &one : &zero, s->yd, r ? r : y,
									      s->bd, b ? b : s->zero_bias, s->ad, s->yd, y),
					n, "cudnnConvolutionBiasActivationForward");
	odet_status rc = odet_cudnn_check(
		ctx, cudnnConvolutionForward(h, &one, s->xd, x, s->wd, w, s->cd, s->algo, ws, s->ws, &zero, s->yd, y), n,
		"cudnnConvolutionForward");
	if (rc || (!b && !r && s->act.kind == IR_ACT_NONE))
		return rc;
	rc = epilogue(y, b, r, dt, total, s->plane, s->m, &s->act, stream);
	return rc ? odet_cuda_check(ctx, cudaGetLastError(), n, "epilogue launch") : ODET_OK;
}

/* Which paths conv_tune may choose: odet_build_opts.conv_path (ODET_CONV_PATH), for tests and
 * A/B timing (direct: odet's own kernel where one covers the shape, else as auto); default:
 * the fastest as timed. */
typedef enum { PATH_AUTO, PATH_LEGACY, PATH_GRAPH, PATH_DIRECT } conv_path;

static conv_path conv_path_wanted(const odet_build_opts *o)
{
	odet_conv_path p = o ? o->conv_path : ODET_CONV_AUTO;
	return p == ODET_CONV_LEGACY ? PATH_LEGACY : p == ODET_CONV_GRAPH ? PATH_GRAPH
	       : p == ODET_CONV_DIRECT ? PATH_DIRECT : PATH_AUTO;
}

/* Mean time of 5 calls of launch() after a warm-up one, on the default stream; -1 when a call
 * or the events fail. */
template <typename F> static float time_calls(F launch)
{
	cudaEvent_t e0, e1;
	float t = -1;
	if (cudaEventCreate(&e0) != cudaSuccess)
		return -1;
	if (cudaEventCreate(&e1) != cudaSuccess) {
		cudaEventDestroy(e0);
		return -1;
	}
	odet_status rc = launch();
	cudaEventRecord(e0, 0);
	for (int i = 0; i < 5 && !rc; i++)
		rc = launch();
	cudaEventRecord(e1, 0);
	if (!rc && cudaEventSynchronize(e1) == cudaSuccess && cudaEventElapsedTime(&t, e0, e1) == cudaSuccess)
		t /= 5;
	else
		t = -1;
	cudaGetLastError();
	cudaEventDestroy(e0);
	cudaEventDestroy(e1);
	return t;
}

static cudnnMathType_t perf_math(cudnnConvolutionDescriptor_t cd)
{
	cudnnMathType_t m = CUDNN_DEFAULT_MATH;
	cudnnGetConvolutionMathType(cd, &m);
	return m;
}

/* Tuning-cache key: device, cuDNN version and everything that shapes the choice. */
static bool conv_key(const conv_graph_desc *gd, int group, odet_dtype dt, char *key, size_t cap, bool direct)
{
	char what[64];
	snprintf(what, sizeof what, "%s %s", dt == ODET_F16 ? "f16" : "f32", gd->nhwc ? "nhwc" : "nchw");
	return conv_graph_key(gd, "cuda-conv", what, group, direct ? " dk1" : "", key, cap);
}

/* Algorithms whose arithmetic differs from direct convolution (transforms): never for fp32,
 * whose results must match the CPU reference within 1e-4. */
static bool transform_algo(cudnnConvolutionFwdAlgo_t a)
{
	return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
	       a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}

/* h: the engine's build-time handle (cuda_dev_dnn), also gd->dnn. */
static odet_status conv_tune(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_state *s,
			     const conv_graph_desc *gd, int group, size_t xb, size_t wb, size_t yb, odet_dtype dt,
			     int64_t total)
{
	cudnnHandle_t h = gd->dnn;
	void *x = NULL, *w = NULL, *y = NULL, *ws = NULL, *bias = NULL, *res = NULL;
	size_t wsb = CONV_WS_CAP;
	conv_path want = conv_path_wanted(gd->opts);
	char key[512], val[128];
	int c_algo = -1, c_math = 0;
	conv_graph_choice c_graph = {-1, -1}, chosen = {-1, -1};
	bool use_cache = false, cached_legacy = false;
	/* shapes a direct kernel covers have one more candidate (and their own cache keys) */
	const bool direct_ok = want != PATH_LEGACY && want != PATH_GRAPH && conv_direct_supports(gd, dt, group);
	odet_status rc;
	if ((rc = odet_cuda_check(ctx, cudaMalloc(&x, xb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&w, wb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&y, yb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&bias, (size_t)s->m * 4), n, "cudaMalloc (tuning)")) ||
	    (s->has_res && (rc = odet_cuda_check(ctx, cudaMalloc(&res, yb), n, "cudaMalloc (tuning)"))))
		goto out_free;
	while (cudaMalloc(&ws, wsb) != cudaSuccess && wsb > ((size_t)1 << 20)) {
		cudaGetLastError();
		ws = NULL;
		wsb /= 4;
	}
	if (!ws)
		wsb = 0;
	fill_kernel<<<256, 256>>>((unsigned char *)x, xb);
	fill_kernel<<<256, 256>>>((unsigned char *)w, wb);
	if (res)
		fill_kernel<<<256, 256>>>((unsigned char *)res, yb);
	cudaMemset(bias, 0, (size_t)s->m * 4);
	/* a cached choice (same device, cuDNN and shape) replaces the timing */
	if (direct_ok)
		conv_direct_init(gd, &s->dk);
	use_cache = want == PATH_AUTO && conv_key(gd, group, dt, key, sizeof key, direct_ok);
	if (use_cache && cuda_tune_get(ctx, g, key, val, sizeof val)) {
		if (direct_ok && !strcmp(val, "direct") && !conv_direct_launch(&s->dk, x, w, bias, y, NULL) &&
		    cudaDeviceSynchronize() == cudaSuccess) {
			s->direct = true;
			s->ws = 0;
			s->ms = 0;
			odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): cached choice %s", n->name, val);
			goto out_free;
		}
		cudaGetLastError();
		if (sscanf(val, "graph %d %lld", &c_graph.cand, &c_graph.engine) == 2 && c_graph.cand >= 0 &&
		    gd->nhwc && dt == ODET_F16 && conv_graph_supports(gd)) {
			float gms;
			size_t gws;
			if (!conv_graph_tune(ctx, n, gd, x, w, gd->has_bias ? bias : NULL, res, y, ws, wsb, &c_graph,
					     &s->graph, &gms, &gws, &chosen)) {
				s->ws = gws;
				s->ms = 0;
				odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): cached choice %s", n->name, val);
				goto out_free;
			}
			odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): cached choice '%s' no longer applies: %s",
				 n->name, val, odet_ctx_last_error(ctx));
		} else if (sscanf(val, "legacy %d %d", &c_algo, &c_math) == 2 && c_algo >= 0 &&
			   c_algo < CUDNN_CONVOLUTION_FWD_ALGO_COUNT) {
			size_t need = 0;
			cudnnSetConvolutionMathType(s->cd, (cudnnMathType_t)c_math);
			if (cudnnGetConvolutionForwardWorkspaceSize(h, s->xd, s->wd, s->cd, s->yd,
								    (cudnnConvolutionFwdAlgo_t)c_algo,
								    &need) == CUDNN_STATUS_SUCCESS &&
			    need <= wsb) {
				s->algo = (cudnnConvolutionFwdAlgo_t)c_algo;
				s->ws = need;
				s->ms = 0;
				cached_legacy = true;
				odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): cached choice %s", n->name, val);
			}
		}
	}
	if (!cached_legacy) {
		cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
		int got = 0;
		const double t0 = odet_now_s();
		cuda_tune_stats *ts = cuda_dev_stats(g);
		rc = odet_cudnn_check(ctx,
				      cudnnFindConvolutionForwardAlgorithmEx(h, s->xd, x, s->wd, w, s->cd, s->yd, y,
									     CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
									     &got, perf, ws, wsb),
				      n, "cudnnFindConvolutionForwardAlgorithmEx");
		if (ts) {
			ts->finds++;
			ts->find_ms += (odet_now_s() - t0) * 1e3;
		}
		if (rc)
			goto out_free;
		int best = -1;
		for (int i = 0; i < got; i++)
			if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= wsb &&
			    !(dt == ODET_F32 && transform_algo(perf[i].algo))) {
				best = i;
				break; /* sorted by time */
			}
		if (best < 0) {
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Conv): cuDNN has no algorithm for this shape",
					n->name);
			goto out_free;
		}
		s->algo = perf[best].algo;
		s->ws = perf[best].memory;
		s->ms = perf[best].time;
		cudnnSetConvolutionMathType(s->cd, perf[best].mathType);
	}
	if (s->fused && s->act.kind == IR_ACT_NONE && s->algo != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)
		s->fused = false;
	/* the fused call is not available for every algorithm / layout: try it once here so
	 * that a refusal falls back to conv + epilogue at build time, never at run time */
	if (s->fused) {
		/* the same launch the run makes (legacy_launch), on the scratch buffers */
		odet_status frc = legacy_launch(ctx, n, s, h, 0, x, w, bias, res, y, ws, dt, total);
		if (!frc && cudaDeviceSynchronize() == cudaSuccess) {
			odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): fused bias+activation available", n->name);
		} else {
			cudaGetLastError();
			odet_log(ctx, ODET_LOG_INFO, "node '%s' (Conv): cuDNN refuses the fused call for algo %d (%s): conv + epilogue",
				 n->name, (int)s->algo, frc ? odet_ctx_last_error(ctx) : "launch failed");
			s->fused = false;
		}
	}
	if (cached_legacy)
		goto out_free;
	{
		/* the whole node as it will run (the fused call needs a bias: zeros here) */
		const void *tb = (gd->has_bias || s->fused) ? bias : NULL;
		float t = time_calls([&] { return legacy_launch(ctx, n, s, h, 0, x, w, tb, res, y, ws, dt, total); });
		if (t >= 0)
			s->ms = t;
	}
	if (gd->nhwc && dt == ODET_F16 && want != PATH_LEGACY && conv_graph_supports(gd)) {
		conv_graph *cg = NULL;
		float gms = 0;
		size_t gws = 0;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		odet_status grc = conv_graph_tune(ctx, n, gd, x, w, gd->has_bias ? bias : NULL, res, y, ws, wsb, NULL, &cg,
						  &gms, &gws, &chosen);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): graph tuning took %.0f ms", n->name,
			 (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (grc) {
			odet_log(ctx, ODET_LOG_DEBUG, "%s", odet_ctx_last_error(ctx));
		} else if (want == PATH_GRAPH || gms < s->ms) {
			odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): %s %.3f ms vs legacy algo %d %.3f ms", n->name,
				 conv_graph_name(cg), gms, (int)s->algo, s->ms);
			s->graph = cg;
			s->ms = gms;
			s->ws = gws;
		} else {
			conv_graph_free(cg);
		}
	}
	if (direct_ok) {
		const void *db = gd->has_bias ? bias : NULL;
		float t = time_calls([&] { return conv_direct_launch(&s->dk, x, w, db, y, NULL); });
		odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): direct kernel %.3f ms vs %.3f ms", n->name, t, s->ms);
		if (t >= 0 && (want == PATH_DIRECT || t < s->ms)) {
			conv_graph_free(s->graph);
			s->graph = NULL;
			s->direct = true;
			s->ms = t;
			s->ws = 0;
		}
	}
	if (use_cache) {
		if (s->direct)
			snprintf(val, sizeof val, "direct");
		else if (s->graph)
			snprintf(val, sizeof val, "graph %d %lld", chosen.cand, chosen.engine);
		else
			snprintf(val, sizeof val, "legacy %d %d", (int)s->algo, (int)perf_math(s->cd));
		odet_tune_put(ctx, g->tune, key, val);
	}
out_free:
	cudaFree(x);
	cudaFree(w);
	cudaFree(y);
	cudaFree(bias);
	cudaFree(res);
	cudaFree(ws);
	return rc;
}

static odet_status conv_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	const double t_start = odet_now_s();
	cuda_tune_stats *const gd_stats = cuda_dev_stats(g);
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	cuda_window cw;
	bool nhwc = ir_attr_int(n, "odet_nhwc", 0) != 0;
	cudnnTensorFormat_t fmt = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
	cuda_window_read(g, n, x->rank == 4 ? w->dims[nhwc ? 1 : 2] : 1, w->dims[w->rank - (nhwc ? 2 : 1)], &cw);
	conv_state *s = (conv_state *)odet_calloc(ctx, 1, sizeof *s);
	if (!s)
		return ODET_ERR_NO_MEMORY;
	odet_status rc;
	cudnnDataType_t dt = odet_cudnn_dtype(x->dtype);
	int group = (int)ir_attr_int(n, "group", 1);
	cuda_act_read(n, &s->act);
	s->m = cw.oc;
	s->n = cw.n;
	s->plane = nhwc ? 1 : cw.oh * cw.ow; /* channel of element i: (i / plane) % m */
	if ((rc = odet_cudnn_check(ctx, cudnnCreateTensorDescriptor(&s->xd), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnCreateTensorDescriptor(&s->yd), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnCreateTensorDescriptor(&s->bd), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnCreateFilterDescriptor(&s->wd), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnCreateConvolutionDescriptor(&s->cd), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnCreateActivationDescriptor(&s->ad), n, "descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetTensor4dDescriptor(s->xd, fmt, dt,
					(int)cw.n, (int)cw.c, (int)cw.h, (int)cw.w),
				   n, "input descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetTensor4dDescriptor(s->yd, fmt, dt,
					(int)cw.n, (int)cw.oc, (int)cw.oh, (int)cw.ow),
				   n, "output descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetTensor4dDescriptor(s->bd, CUDNN_TENSOR_NCHW, dt,
					1, (int)cw.oc, 1, 1),
				   n, "bias descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetFilter4dDescriptor(s->wd, dt, fmt,
					(int)w->dims[0], (int)(nhwc ? w->dims[3] : w->dims[1]), (int)cw.kh, (int)cw.kw),
				   n, "filter descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetConvolution2dDescriptor(s->cd, (int)cw.pt, (int)cw.pl, (int)cw.sh,
					(int)cw.sw, (int)cw.dh, (int)cw.dw, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
				   n, "convolution descriptor")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx, cudnnSetConvolutionGroupCount(s->cd, group), n, "group count")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetConvolutionMathType(s->cd,
					x->dtype == ODET_F16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH),
				   n, "math type")))
		goto out_release;
	if ((rc = odet_cudnn_check(ctx,
				   cudnnSetActivationDescriptor(s->ad, s->act.kind == IR_ACT_RELU ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
						CUDNN_NOT_PROPAGATE_NAN, 0.0),
				   n, "activation descriptor")))
		goto out_release;
	{
		int on, oc, oh, ow;
		rc = odet_cudnn_check(ctx, cudnnGetConvolution2dForwardOutputDim(s->cd, s->xd, s->wd, &on, &oc, &oh, &ow),
				      n, "output size");
		if (rc)
			goto out_release;
		if (on != cw.n || oc != cw.oc || oh != cw.oh || ow != cw.ow) {
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED,
					"node '%s' (Conv): cuDNN computes output %dx%dx%dx%d, the graph says %lldx%lldx%lldx%lld",
					n->name, on, oc, oh, ow, (long long)cw.n, (long long)cw.oc, (long long)cw.oh,
					(long long)cw.ow);
			goto out_release;
		}
	}
	s->has_res = ir_in(g, n, 3) != NULL;
	{
		size_t es = odet_dtype_size(x->dtype);
		size_t xb = (size_t)ir_value_numel(x) * es, yb = (size_t)ir_value_numel(y) * es, wb = w->nbytes;
		/* fused when the activation is ReLU, or none with the one algorithm cuDNN fuses an
		 * identity activation with (decided after tuning; conv_tune tries the call) */
		s->fused = s->act.kind == IR_ACT_RELU || s->act.kind == IR_ACT_NONE;
		conv_graph_desc gd;
		memset(&gd, 0, sizeof gd);
		gd.cw = &cw;
		gd.nhwc = nhwc;
		gd.has_bias = ir_in(g, n, 2) != NULL;
		gd.has_res = s->has_res;
		gd.act = s->act;
		gd.opts = g->build;
		gd.dev = cuda_dev_of(g);
		if ((rc = cuda_dev_dnn(ctx, g, n, &gd.dnn)))
			goto out_release;
		if (group != 1)
			gd.act.kind = -1; /* grouped convolutions stay on the legacy path */
		if ((rc = conv_tune(ctx, g, n, s, &gd, group, xb, wb, yb, x->dtype, ir_value_numel(y))))
			goto out_release;
	}
	if (!s->graph && !s->direct && s->fused && !ir_in(g, n, 2)) {
		size_t bb = (size_t)cw.oc * odet_dtype_size(x->dtype);
		if ((rc = odet_cuda_check(ctx, cudaMalloc(&s->zero_bias, bb), n, "cudaMalloc")) ||
		    (rc = odet_cuda_check(ctx, cudaMemset(s->zero_bias, 0, bb), n, "cudaMemset")))
			goto out_release;
	}
	odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (Conv): %s, workspace %zu, %.3f ms", n->name,
		 s->direct  ? "direct 3x3 c4 kernel"
		 : s->graph ? conv_graph_name(s->graph)
		 : s->fused ? "legacy fused bias+act"
			    : "legacy conv+epilogue",
		 s->ws,
		 s->ms);
	if (gd_stats) {
		gd_stats->convs++;
		gd_stats->prepare_ms += (odet_now_s() - t_start) * 1e3;
	}
	*workspace = s->ws;
	*state = s;
	return ODET_OK;
out_release:
	conv_release(s);
	return rc;
}

static odet_status conv_run(const be_run_args *a)
{
	const conv_state *s = (const conv_state *)a->state;
	const cuda_exec_ctx *xc = (const cuda_exec_ctx *)a->exec_ctx;
	if (!s || !xc)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (Conv): no CUDA state", a->node->name);
	const void *x = a->in[0].data, *w = a->in[1].data;
	const void *b = a->n_in > 2 ? a->in[2].data : NULL;
	const void *r = a->n_in > 3 ? a->in[3].data : NULL;
	if (s->direct) {
		odet_status rc = conv_direct_launch(&s->dk, x, w, b, a->out[0].data, a->stream);
		return rc ? odet_error(a->ctx, rc, "node '%s' (Conv): direct kernel launch: %s", a->node->name,
				       cudaGetErrorString(cudaGetLastError()))
			  : ODET_OK;
	}
	if (s->graph)
		return odet_cudnn_check(a->ctx, conv_graph_run(s->graph, xc->dnn, x, w, b, r, a->out[0].data, a->workspace),
					a->node, "cudnnBackendExecute");
	return legacy_launch(a->ctx, a->node, s, xc->dnn, (cudaStream_t)a->stream, x, w, b, r, a->out[0].data,
			     a->workspace, a->out[0].dtype, odet_tensor_numel(&a->out[0]));
}

extern "C" const cuda_kernel cuda_kernel_CONV = {conv_check, conv_prepare, conv_release, conv_run};
