/*
 * nms_shim.c — a flat C surface over odet's head kernels for bench/nms_check.py and
 * bench/nms_bench.py (ctypes). Built by bench/nms_build.sh into libodet_nms.so together
 * with the CPU kernels (backend/cpu/{nms,decode}.c) and the CUDA launchers
 * (backend/cuda/{nms,decode}.cu). CPU entry points take host pointers; CUDA entry points take
 * device pointers and a cudaStream_t (as from torch.cuda.current_stream().cuda_stream).
 * Returns an odet_status (0 = ok); the last CPU error message via shim_last_error().
 */
#include "backend/backend.h"
#include "backend/cpu/nms.h"
#include "backend/cuda/nms.h"

#include <stdlib.h>
#include <string.h>

static char last_error[1024];

const char *shim_last_error(void)
{
	return last_error;
}

static nms_params params(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels,
			 long long K, long long bg, int ge, float osx, float osy)
{
	nms_params p = nms_params_default();
	p.score_threshold = thr;
	p.iou_threshold = iou;
	p.topk = topk;
	p.topk_mode = mode;
	p.n_levels = n_levels > NMS_MAX_LEVELS ? NMS_MAX_LEVELS : n_levels;
	for (int l = 0; l < p.n_levels; l++)
		p.level_sizes[l] = levels[l];
	p.max_detections = K;
	p.background = bg;
	p.iou_ge = ge;
	p.out_scale_x = osx;
	p.out_scale_y = osy;
	return p;
}

static odet_ctx *ctx_new(void)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	o.log_level = ODET_LOG_ERROR;
	odet_ctx *c = NULL;
	odet_ctx_create(&o, &c);
	return c;
}

static void ctx_done(odet_ctx *c)
{
	snprintf(last_error, sizeof last_error, "%s", odet_ctx_last_error(c));
	odet_ctx_destroy(c);
}

/* BatchedNms with fused class scores (act / layout as ClassScores' attributes; 0, 0 = scores used
 * as they are) and the dtypes of boxes and scores (logits) given separately */
int shim_cpu_nms_fused(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels,
		       long long K, long long bg, int ge, float osx, float osy, long long B, long long N, long long C,
		       int act, int layout, int box_f16, int logit_f16, const void *boxes, const void *logits,
		       int32_t *count, float *ob, float *os, int32_t *oc)
{
	nms_params p = params(thr, iou, topk, mode, n_levels, levels, K, bg, ge, osx, osy);
	p.activation = act;
	p.layout = layout;
	odet_ctx *c = ctx_new();
	if (!c)
		return ODET_ERR_NO_MEMORY;
	int nt = odet_threadpool_size(c->pool);
	size_t ws_size;
	odet_status rc = cpu_nms_workspace_size(&p, B, N, C, nt, &ws_size);
	void *ws = rc ? NULL : malloc(ws_size + 1);
	if (!rc && !ws)
		rc = ODET_ERR_NO_MEMORY;
	if (!rc)
		rc = cpu_nms_run_dtypes(c, c->pool, nt, &p, B, N, C, box_f16 ? ODET_F16 : ODET_F32, boxes,
					logit_f16 ? ODET_F16 : ODET_F32, logits, ws, ws_size, count, ob, os, oc);
	free(ws);
	ctx_done(c);
	return rc;
}

/* ODET_NMS_SORT=cub selects the CUB pipeline (as the CUDA backend reads it at prepare) */
static odet_status cuda_plan(const nms_params *p, long long B, long long N, long long C, cuda_nms_plan **pl)
{
	const char *env = getenv("ODET_NMS_SORT");
	return cuda_nms_plan_create(p, B, N, C, env && !strcmp(env, "cub") ? CUDA_NMS_CUB : CUDA_NMS_FAST, pl);
}

long long shim_cuda_nms_ws_fused(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels,
				 long long K, long long bg, int ge, long long B, long long N, long long C, int act,
				 int layout)
{
	nms_params p = params(thr, iou, topk, mode, n_levels, levels, K, bg, ge, 1, 1);
	p.activation = act;
	p.layout = layout;
	cuda_nms_plan *pl;
	if (cuda_plan(&p, B, N, C, &pl))
		return -1;
	long long n = (long long)cuda_nms_plan_workspace(pl);
	cuda_nms_plan_destroy(pl);
	return n;
}

/* plans the call each time (host work only; the check and bench scripts time the kernels) */
int shim_cuda_nms_fused(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels,
			long long K, long long bg, int ge, float osx, float osy, long long B, long long N, long long C,
			int act, int layout, int box_f16, int logit_f16, const void *boxes, const void *logits, void *ws,
			long long ws_size, int32_t *count, float *ob, float *os, int32_t *oc, void *stream)
{
	nms_params p = params(thr, iou, topk, mode, n_levels, levels, K, bg, ge, osx, osy);
	p.activation = act;
	p.layout = layout;
	cuda_nms_plan *pl;
	odet_status rc = cuda_plan(&p, B, N, C, &pl);
	if (rc)
		return rc;
	const int64_t dims[3] = {B, layout ? C : N, layout ? N : C};
	rc = cuda_nms_plan_launch(pl, dims, box_f16 ? ODET_F16 : ODET_F32, boxes, logit_f16 ? ODET_F16 : ODET_F32, logits,
				  ws, (size_t)ws_size, count, ob, os, oc, stream);
	cuda_nms_plan_destroy(pl);
	return rc;
}

/* the unfused calls: scores used as they are, boxes and scores of one dtype */
int shim_cpu_nms(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels, long long K,
		 long long bg, int ge, float osx, float osy, long long B, long long N, long long C, int f16,
		 const void *boxes, const void *scores, int32_t *count, float *ob, float *os, int32_t *oc)
{
	return shim_cpu_nms_fused(thr, iou, topk, mode, n_levels, levels, K, bg, ge, osx, osy, B, N, C, 0, 0, f16, f16,
				  boxes, scores, count, ob, os, oc);
}

long long shim_cuda_nms_ws(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels,
			   long long K, long long bg, int ge, long long B, long long N, long long C)
{
	return shim_cuda_nms_ws_fused(thr, iou, topk, mode, n_levels, levels, K, bg, ge, B, N, C, 0, 0);
}

int shim_cuda_nms(float thr, float iou, long long topk, int mode, int n_levels, const long long *levels, long long K,
		  long long bg, int ge, float osx, float osy, long long B, long long N, long long C, int f16,
		  const void *boxes, const void *scores, void *ws, long long ws_size, int32_t *count, float *ob,
		  float *os, int32_t *oc, void *stream)
{
	return shim_cuda_nms_fused(thr, iou, topk, mode, n_levels, levels, K, bg, ge, osx, osy, B, N, C, 0, 0, f16, f16,
				   boxes, scores, ws, ws_size, count, ob, os, oc, stream);
}

/* CPU decode ops through a one-node graph and the CPU backend (be_eval_node) */
static int run_one(ir_op op, int n_in, odet_tensor *in, odet_tensor *out, const cuda_box_decode_params *bp, int layout,
		   int act)
{
	odet_ctx *c = ctx_new();
	ir_graph *g = NULL;
	if (!c || ir_graph_create(c, &g))
		return ODET_ERR_NO_MEMORY;
	int iv[2], ov;
	for (int k = 0; k < n_in; k++)
		iv[k] = ir_value_add(g, NULL, in[k].dtype, in[k].rank, in[k].dims);
	ov = ir_value_add(g, NULL, out->dtype, out->rank, out->dims);
	int n = ir_node_add(g, op, "shim", n_in, iv, 1, &ov);
	if (bp) {
		ir_attr_set_int(g, n, "coder", bp->coder);
		ir_attr_set_int(g, n, "layout", bp->layout);
		ir_attr_set_float(g, n, "scale_xy", bp->scale_xy);
		ir_attr_set_float(g, n, "scale_wh", bp->scale_wh);
		ir_attr_set_floats(g, n, "weights", bp->weights, 4);
		ir_attr_set_float(g, n, "xform_clip", bp->xform_clip);
		ir_attr_set_float(g, n, "out_scale_x", bp->out_scale_x);
		ir_attr_set_float(g, n, "out_scale_y", bp->out_scale_y);
		ir_attr_set_float(g, n, "clip_w", bp->clip_w);
		ir_attr_set_float(g, n, "clip_h", bp->clip_h);
	} else {
		ir_attr_set_int(g, n, "layout", layout);
		ir_attr_set_int(g, n, "activation", act);
	}
	odet_status rc = be_eval_node(odet_backend_cpu(), c, g, &g->nodes[n], in, out);
	ir_graph_free(g);
	ctx_done(c);
	return rc;
}

static odet_tensor tensor(odet_dtype dt, int rank, long long d0, long long d1, long long d2, const void *data)
{
	odet_tensor t;
	memset(&t, 0, sizeof t);
	t.dtype = dt, t.rank = rank, t.dims[0] = d0, t.dims[1] = d1, t.dims[2] = d2, t.data = (void *)data, t.device = -1;
	return t;
}

static cuda_box_decode_params box_params(int coder, int layout, float sxy, float swh, const float *w, float xclip,
					 float osx, float osy, float cw, float ch)
{
	cuda_box_decode_params p = {coder, layout, sxy, swh, {w[0], w[1], w[2], w[3]}, xclip, osx, osy, cw, ch};
	return p;
}

int shim_cpu_box_decode(int coder, int layout, float sxy, float swh, const float *w, float xclip, float osx, float osy,
			float cw, float ch, long long B, long long N, const float *deltas, const float *anchors, float *out)
{
	cuda_box_decode_params p = box_params(coder, layout, sxy, swh, w, xclip, osx, osy, cw, ch);
	odet_tensor in[2] = {layout ? tensor(ODET_F32, 3, B, 4, N, deltas) : tensor(ODET_F32, 3, B, N, 4, deltas),
			     tensor(ODET_F32, 2, N, 4, 0, anchors)};
	odet_tensor o = tensor(ODET_F32, 3, B, N, 4, out);
	return run_one(IR_OP_BOX_DECODE, 2, in, &o, &p, 0, 0);
}

int shim_cuda_box_decode(int coder, int layout, float sxy, float swh, const float *w, float xclip, float osx,
			 float osy, float cw, float ch, long long B, long long N, const void *deltas,
			 const void *anchors, float *out, void *stream)
{
	cuda_box_decode_params p = box_params(coder, layout, sxy, swh, w, xclip, osx, osy, cw, ch);
	return cuda_box_decode_launch(&p, B, N, ODET_F32, deltas, anchors, out, stream);
}

int shim_cpu_scores(int layout, int act, long long B, long long N, long long C, const float *x, float *out)
{
	odet_tensor in = layout ? tensor(ODET_F32, 3, B, C, N, x) : tensor(ODET_F32, 3, B, N, C, x);
	odet_tensor o = tensor(ODET_F32, 3, B, N, C, out);
	return run_one(IR_OP_CLASS_SCORES, 1, &in, &o, NULL, layout, act);
}

int shim_cuda_scores(int layout, int act, long long B, long long N, long long C, int f16, const void *x,
		     float *out, void *stream)
{
	return cuda_class_scores_launch(layout, act, B, N, C, f16 ? ODET_F16 : ODET_F32, x, out, stream);
}
