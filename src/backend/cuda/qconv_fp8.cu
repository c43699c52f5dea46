/*
 * qconv_fp8.cu — QConv (ops.def) with FP8 E4M3 x and w on CUDA (Hopper / Ada tensor cores),
 * through cuDNN's backend API only (the legacy cudnnConvolutionForward has no FP8). A[m] =
 * sx * sw / sy is one value for every m (passes/quantize.c: per-tensor scales; checked), so the
 * graphs take it as a scalar, as cuDNN's FP8 samples do. Two paths, chosen at prepare:
 *  - fused: conv(e4m3 x, e4m3 w, float32 accumulation) -> * A -> + B[m] -> + R -> act -> y in one
 *    engine (conv_graph.cu with fp8 set), y E4M3 (cuDNN converts), float16 or float32;
 *  - split, where cuDNN has no engine for the fused graph (or odet_build_opts.conv_path is
 *    legacy: tests): conv -> * A -> float32 accumulators
 *    in the workspace (the form of cuDNN's fp8 conv-scale sample), then one epilogue kernel
 *    y = act(acc + B[m] + R) converted to y's dtype (E4M3 by cvt.rn.satfinite).
 * R (float16/float32) is added with multiplier 1: the quantize pass gives a conv with a
 * residual a float output. Reached from qconv.cu (check, prepare, run) when x is float8e4m3;
 * qconv.cu keeps the state. Tuning as the int8 graph: every candidate of cuDNN's heuristics
 * timed on scratch buffers, the choice ("graph CAND ENGINE" / "split CAND ENGINE") kept in
 * the tuning cache under "cuda-qconv-fp8" (distinct from int8's "cuda-qconv") and replayed for
 * same-shape nodes and rebuilds.
 */
#include "backend/cuda/fp8.h"

#include <cuda_fp8.h>
#include <string.h>

#define QCONV_FP8_WS_CAP ((size_t)256 << 20)

static cudnnDataType_t dnn_dtype_fp8(odet_dtype t)
{
	return t == ODET_F8E4M3 ? CUDNN_DATA_FP8_E4M3 : t == ODET_F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

/* scratch data for timing: small positive E4M3 codes (0x00..0x3f: 0 to 1.875, no NaN), and for
 * float tensors bytes that make small finite values */
static __global__ void fp8_fill_kernel(unsigned char *p, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
		p[i] = (unsigned char)((i * 37u) & 0x3f);
}

template <typename T> static __device__ __forceinline__ float ldr(const T *p, int64_t i) { return (float)p[i]; }
template <> __device__ __forceinline__ float ldr<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }
template <typename T> static __device__ __forceinline__ void sty(T *p, int64_t i, float v) { p[i] = (T)v; }
template <> __device__ __forceinline__ void sty<__half>(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }
template <> __device__ __forceinline__ void sty<uint8_t>(uint8_t *p, int64_t i, float v)
{
	p[i] = (uint8_t)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
}

/* split path epilogue, NHWC (the channel of element i is i % m): y = act(acc + B[m] + R) */
template <typename R, typename Y>
static __global__ void fp8_epilogue_kernel(const float *acc, const float *bias, const R *res, Y *y, int64_t total,
					   int64_t m, int kind, float a, float b)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
	     i += (int64_t)gridDim.x * blockDim.x) {
		float v = acc[i] + (bias ? bias[i % m] : 0.0f);
		if (res)
			v += ldr(res, i);
		sty(y, i, cuda_act_apply(kind, a, b, v));
	}
}

template <typename R>
static void fp8_epilogue_r(const float *acc, const float *bias, const R *r, void *y, odet_dtype ydt, int64_t total,
			   int64_t m, const cuda_act *act, cudaStream_t st)
{
	int threads = 256;
	int64_t blocks = (total + threads - 1) / threads;
	if (blocks > 65535 * 8)
		blocks = 65535 * 8;
	if (blocks < 1)
		return;
	if (ydt == ODET_F8E4M3)
		fp8_epilogue_kernel<R, uint8_t><<<(unsigned)blocks, threads, 0, st>>>(acc, bias, r, (uint8_t *)y, total, m,
										      act->kind, act->alpha, act->beta);
	else if (ydt == ODET_F16)
		fp8_epilogue_kernel<R, __half><<<(unsigned)blocks, threads, 0, st>>>(acc, bias, r, (__half *)y, total, m,
										     act->kind, act->alpha, act->beta);
	else
		fp8_epilogue_kernel<R, float><<<(unsigned)blocks, threads, 0, st>>>(acc, bias, r, (float *)y, total, m,
										    act->kind, act->alpha, act->beta);
}

/* Launcher of the epilogue: raw pointers + stream (R float16 or float32, or none). */
static odet_status fp8_epilogue(const float *acc, const float *bias, const void *r, odet_dtype rdt, void *y,
				odet_dtype ydt, int64_t total, int64_t m, const cuda_act *act, cudaStream_t st)
{
	if (r && rdt == ODET_F16)
		fp8_epilogue_r<__half>(acc, bias, (const __half *)r, y, ydt, total, m, act, st);
	else
		fp8_epilogue_r<float>(acc, bias, (const float *)r, y, ydt, total, m, act, st);
	return cudaGetLastError() == cudaSuccess ? ODET_OK : ODET_ERR_DEVICE;
}

odet_status qconv_fp8_run_split(const be_run_args *a, const conv_graph *graph, size_t ws, const cuda_act *act)
{
	const cuda_exec_ctx *xc = (const cuda_exec_ctx *)a->exec_ctx;
	float *acc = (float *)((char *)a->workspace + ((ws + 255) & ~(size_t)255));
	const int64_t total = odet_tensor_numel(&a->out[0]), m = a->in[1].dims[0];
	odet_status rc = odet_cudnn_check(a->ctx, conv_graph_run_q(graph, xc->dnn, a->in[0].data, a->in[1].data, NULL,
								   NULL, a->in[4].data, acc, a->workspace),
					  a->node, "cudnnBackendExecute (fp8)");
	if (rc)
		return rc;
	rc = fp8_epilogue(acc, (const float *)a->in[2].data, a->in[3].data, a->in[3].data ? a->in[3].dtype : ODET_F32,
			  a->out[0].data, a->out[0].dtype, total, m, act, (cudaStream_t)a->stream);
	return rc ? odet_error(a->ctx, rc, "node '%s' (QConv): fp8 epilogue launch failed", a->node->name) : ODET_OK;
}

odet_status qconv_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *w = ir_in(g, n, 1), *r = ir_in(g, n, 3), *y = ir_out(g, n, 0);
	conv_graph_desc gd;
	memset(&gd, 0, sizeof gd);
	if (!y || (w && w->dtype != ODET_F8E4M3))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): CUDA runs NHWC 2-D FP8 convolutions only",
				  n->name);
	odet_status rc = qconv_check_shape(ctx, g, n, 16, "FP8");
	if (rc)
		return rc;
	if (!cuda_act_read(n, &gd.act) || !conv_graph_supports(&gd))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): FP8 runs as a fused cuDNN graph, which has no such activation", n->name);
	if (r && (r->dtype == ODET_F8E4M3 || ir_attr_float(n, "odet_r_scale", 1.0f) != 1.0f))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): FP8 adds a float16/float32 residual with multiplier 1 only", n->name);
	const ir_value *a = ir_in(g, n, 4);
	if (!a || !w || a->dtype != ODET_F32 || ir_value_numel(a) != w->dims[0])
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): FP8 takes one float32 scale per output channel",
				  n->name);
	return cuda_fp8_device_check(ctx, n);
}

/* Replay a cached "graph|split CAND ENGINE" or time every candidate; true when a plan is found. */
static bool tune_one(odet_ctx *ctx, const ir_node *n, const conv_graph_desc *gd, const char *cached, void *bx, void *bw,
		     void *bb, void *br, void *bs, void *by, void *bws, conv_graph **graph, size_t *ws, float *ms,
		     conv_graph_choice *chosen)
{
	conv_graph_choice c = {-1, -1};
	float gms = 0;
	size_t gws = 0;
	if (cached && sscanf(cached, "%*s %d %lld", &c.cand, &c.engine) == 2 && c.cand >= 0 &&
	    !conv_graph_tune_q(ctx, n, gd, bx, bw, gd->has_bias ? bb : NULL, br, bs, by, bws, QCONV_FP8_WS_CAP, &c, graph,
			       &gms, &gws, chosen)) {
		*ms = 0;
		*ws = gws;
		return true;
	}
	cudaGetLastError();
	if (conv_graph_tune_q(ctx, n, gd, bx, bw, gd->has_bias ? bb : NULL, br, bs, by, bws, QCONV_FP8_WS_CAP, NULL, graph,
			      &gms, &gws, chosen)) {
		cudaGetLastError();
		return false;
	}
	*ms = gms;
	*ws = gws;
	return true;
}

odet_status qconv_fp8_tune(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_graph **graph, size_t *ws,
			   size_t *acc_bytes, float *ms)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *y = ir_out(g, n, 0), *r = ir_in(g, n, 3);
	cuda_window cw;
	cuda_window_read(g, n, w->dims[1], w->dims[2], &cw);
	*graph = NULL;
	*ws = *acc_bytes = 0;
	*ms = -1;
	conv_graph_desc gd;
	memset(&gd, 0, sizeof gd);
	gd.cw = &cw;
	gd.nhwc = true;
	gd.has_bias = ir_in(g, n, 2) != NULL;
	gd.has_res = r != NULL;
	cuda_act_read(n, &gd.act);
	gd.int8 = true;
	gd.fp8 = true;
	gd.ydt = dnn_dtype_fp8(y->dtype);
	gd.rdt = r ? dnn_dtype_fp8(r->dtype) : CUDNN_DATA_FLOAT;
	gd.opts = g->build;
	gd.dev = cuda_dev_of(g);
	odet_status hrc = cuda_dev_dnn(ctx, g, n, &gd.dnn); /* the engine's build-time handle */
	if (hrc)
		return hrc;
	conv_graph_desc sd = gd; /* the split path's graph: conv * A -> float32 */
	sd.has_bias = sd.has_res = false;
	sd.act.kind = IR_ACT_NONE;
	sd.ydt = CUDNN_DATA_FLOAT;
	const int64_t m = cw.oc, total = ir_value_numel(y);
	void *bx = NULL, *bw = NULL, *by = NULL, *bs = NULL, *bb = NULL, *br = NULL, *bws = NULL;
	size_t xb = (size_t)ir_value_numel(x), wb = w->nbytes, yb = (size_t)total * 4; /* float32: the largest y */
	size_t rb = r ? (size_t)ir_value_numel(r) * odet_dtype_size(r->dtype) : 0;
	char key[512], val[128], what[64];
	conv_graph_choice chosen = {-1, -1};
	odet_status rc;
	if ((rc = odet_cuda_check(ctx, cudaMalloc(&bx, xb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&bw, wb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&by, yb), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&bs, (size_t)m * 4), n, "cudaMalloc (tuning)")) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&bb, (size_t)m * 4), n, "cudaMalloc (tuning)")) ||
	    (r && (rc = odet_cuda_check(ctx, cudaMalloc(&br, rb), n, "cudaMalloc (tuning)"))) ||
	    (rc = odet_cuda_check(ctx, cudaMalloc(&bws, QCONV_FP8_WS_CAP), n, "cudaMalloc (tuning)")))
		goto out_free;
	fp8_fill_kernel<<<256, 256>>>((unsigned char *)bx, xb);
	fp8_fill_kernel<<<256, 256>>>((unsigned char *)bw, wb);
	if (br)
		fp8_fill_kernel<<<256, 256>>>((unsigned char *)br, rb);
	cudaMemset(bs, 0, (size_t)m * 4);
	cudaMemset(bb, 0, (size_t)m * 4);
	{
		snprintf(what, sizeof what, "f8>%s r%s", odet_dtype_name(y->dtype), r ? odet_dtype_name(r->dtype) : "-");
		/* odet_build_opts.conv_path legacy (ODET_CONV_PATH, tests): the split path only */
		const bool split_only = g->build && g->build->conv_path == ODET_CONV_LEGACY;
		const bool use_cache = conv_graph_key(&gd, "cuda-qconv-fp8", what, 1, split_only ? " split" : "", key, sizeof key);
		const bool cached = use_cache && cuda_tune_get(ctx, g, key, val, sizeof val);
		const bool split_cached = split_only || (cached && !strncmp(val, "split ", 6));
		bool ok = !split_cached && tune_one(ctx, n, &gd, cached ? val : NULL, bx, bw, bb, br, bs, by, bws, graph, ws,
						   ms, &chosen);
		if (!ok) {
			char why[256];
			snprintf(why, sizeof why, "%s", odet_ctx_last_error(ctx));
			if (!split_cached)
				odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv fp8): fused graph: %s; trying conv + scale and "
					 "the epilogue kernel", n->name, why);
			ok = tune_one(ctx, n, &sd, cached && !strncmp(val, "split ", 6) ? val : NULL, bx, bw, NULL, NULL, bs, by, bws, graph, ws, ms,
				      &chosen);
			if (!ok) {
				snprintf(why, sizeof why, "%s", odet_ctx_last_error(ctx));
				rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): cuDNN has no FP8 engine for this "
						"convolution (%s); keep it in fp16 with --layer-precision %s=fp16", n->name, why,
						n->name);
				goto out_free;
			}
			*acc_bytes = (size_t)total * sizeof(float);
		}
		odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv fp8): %s %s %.3f ms", n->name,
			 *acc_bytes ? "split" : "fused", conv_graph_name(*graph), *ms);
		if (use_cache && *ms > 0) {
			snprintf(val, sizeof val, "%s %d %lld", *acc_bytes ? "split" : "graph", chosen.cand, chosen.engine);
			odet_tune_put(ctx, g->tune, key, val);
		}
	}
out_free:
	cudaFree(bx);
	cudaFree(bw);
	cudaFree(by);
	cudaFree(bs);
	cudaFree(bb);
	cudaFree(br);
	cudaFree(bws);
	return rc;
}
