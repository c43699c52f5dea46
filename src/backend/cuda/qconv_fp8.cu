/*
 * qconv_fp8.cu — QConv (ops.def) with FP8 E4M3 x and w on CUDA (Hopper / Ada tensor cores),
 * through cuDNN's backend API only (the legacy cudnnConvolutionForward has no FP8):
 *   conv(e4m3 x, e4m3 w, float32 accumulation) -> * A[m] -> + B[m] -> + R -> act -> y
 * fused in one engine (conv_graph.cu with fp8 set): y E4M3 (cuDNN converts: rounded to
 * nearest, saturated), float16 or float32. A[m] = sx * sw / sy (passes/quantize.c: one weight
 * scale per tensor, so A is constant over m, but the graph takes the vector as for int8).
 * R (float16/float32) is added with multiplier 1: the quantize pass gives a conv with a
 * residual a float output. Reached from qconv.cu (check, prepare) when x is float8e4m3;
 * qconv.cu's state and run serve both (conv_graph_run_q).
 * Tuning as the int8 graph: every candidate of cuDNN's heuristics timed on scratch buffers,
 * the choice kept in the tuning cache under "cuda-qconv-fp8" (distinct from int8's
 * "cuda-qconv") and replayed for same-shape nodes and rebuilds.
 */
#include "backend/cuda/fp8.h"

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

odet_status qconv_fp8_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *r = ir_in(g, n, 3), *y = ir_out(g, n, 0);
	cuda_window cw;
	conv_graph_desc gd;
	memset(&gd, 0, sizeof gd);
	if (!x || !w || !y || x->rank != 4 || w->rank != 4 || !ir_attr_int(n, "odet_nhwc", 0) || w->dtype != ODET_F8E4M3)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): CUDA runs NHWC 2-D FP8 convolutions only",
				  n->name);
	if (x->dims[3] % 16 || w->dims[0] % 16)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): cuDNN's FP8 convolutions need channels in multiples of 16 (%lld -> %lld)",
				  n->name, (long long)x->dims[3], (long long)w->dims[0]);
	if (!cuda_window_read(g, n, w->dims[1], w->dims[2], &cw) || cw.pt != cw.pb || cw.pl != cw.pr)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): asymmetric pads on CUDA", n->name);
	if (!cuda_act_read(n, &gd.act) || !conv_graph_supports(&gd))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): FP8 runs as a fused cuDNN graph, which has no such activation", n->name);
	if (r && (r->dtype == ODET_F8E4M3 || ir_attr_float(n, "odet_r_scale", 1.0f) != 1.0f))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QConv): FP8 adds a float16/float32 residual with multiplier 1 only", n->name);
	return cuda_fp8_device_check(ctx, n);
}

odet_status qconv_fp8_tune(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_graph **graph, size_t *ws,
			   float *ms)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *y = ir_out(g, n, 0), *r = ir_in(g, n, 3);
	cuda_window cw;
	cuda_window_read(g, n, w->dims[1], w->dims[2], &cw);
	*graph = NULL;
	*ws = 0;
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
	const int64_t m = cw.oc;
	void *bx = NULL, *bw = NULL, *by = NULL, *bs = NULL, *bb = NULL, *br = NULL, *bws = NULL;
	size_t xb = (size_t)ir_value_numel(x), wb = w->nbytes;
	size_t yb = (size_t)ir_value_numel(y) * odet_dtype_size(y->dtype);
	size_t rb = r ? (size_t)ir_value_numel(r) * odet_dtype_size(r->dtype) : 0;
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
		char key[512], val[128], what[64];
		snprintf(what, sizeof what, "f8>%s r%s", odet_dtype_name(y->dtype), r ? odet_dtype_name(r->dtype) : "-");
		const bool use_cache = conv_graph_key(&gd, "cuda-qconv-fp8", what, 1, "", key, sizeof key);
		conv_graph_choice chosen = {-1, -1}, c = {-1, -1};
		float gms = 0;
		size_t gws = 0;
		if (use_cache && odet_tune_get(ctx, g->tune, key, val, sizeof val) &&
		    sscanf(val, "graph %d %lld", &c.cand, &c.engine) == 2 && c.cand >= 0 &&
		    !conv_graph_tune_q(ctx, n, &gd, bx, bw, gd.has_bias ? bb : NULL, br, bs, by, bws, QCONV_FP8_WS_CAP, &c,
				       graph, &gms, &gws, &chosen)) {
			*ms = 0;
			*ws = gws;
			odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv fp8): cached choice '%s'", n->name, val);
			goto out_free;
		}
		cudaGetLastError();
		rc = conv_graph_tune_q(ctx, n, &gd, bx, bw, gd.has_bias ? bb : NULL, br, bs, by, bws, QCONV_FP8_WS_CAP, NULL,
				       graph, &gms, &gws, &chosen);
		if (rc) {
			char why[256];
			snprintf(why, sizeof why, "%s", odet_ctx_last_error(ctx));
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): cuDNN has no FP8 engine for this "
					"convolution (%s); keep it in fp16 with --layer-precision %s=fp16", n->name, why, n->name);
			goto out_free;
		}
		*ms = gms;
		*ws = gws;
		odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv fp8): %s %.3f ms", n->name, conv_graph_name(*graph), gms);
		if (use_cache) {
			snprintf(val, sizeof val, "graph %d %lld", chosen.cand, chosen.engine);
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
