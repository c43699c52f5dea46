/*
 * ssd.c — SSD heads: priors, decode, softmax scores (background class skipped by NMS).
 *
 * Style 0, NVIDIA DeepLearningExamples SSD300 (preset "ssd300-nvidia"):
 *   DefaultBoxes(fig_size, feat_size, steps, scales in pixels, aspect_ratios): per level k,
 *   sizes (s1,s1), (s3,s3) with s1 = scales[k]/fig, s3 = sqrt(s1 * scales[k+1]/fig), then
 *   (s1 sqrt a, s1 / sqrt a) and its transpose per aspect ratio a; for each size, for each cell
 *   (i row, j col): cx = (j+0.5)/fk, cy = (i+0.5)/fk, fk = fig/steps[k]; computed in double,
 *   stored float32, clamped to [0,1]. Priors are (cx,cy,w,h), size-major. Decode multiplies by
 *   scale_xy / scale_wh (Encoder.scale_back_batch); NMS runs on normalized boxes with IoU >=
 *   criteria suppressing (decode_single's "iou < criteria" keeps) and boxes are scaled to pixels.
 * Style 1, torchvision ssd300_vgg16 (preset "ssd300-vgg16"):
 *   DefaultBoxGenerator(aspect_ratios, scales as fractions, steps, clip=True): per level, per
 *   cell (y, x) (position-major), pairs (s_k,s_k), (s'_k,s'_k), (s_k sqrt a, s_k / sqrt a),
 *   transpose; centres float32((i+0.5)) / float32(W/steps[k]); anchors x1y1x2y2 =
 *   (c - 0.5 wh) * [W,H] in float32. Decode: BoxCoder(weights) with bbox_xform_clip, then
 *   clip_boxes_to_image.
 * Outputs: loc [B,4,N] or [B,N,4] and logits [B,C,N] or [B,N,C] (layout from the shapes).
 */
#include "heads/heads_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t head_ssd_count(const head_spec *s)
{
	int64_t n = 0;
	for (int k = 0; k < s->n_levels; k++)
		n += s->feat[k] * s->feat[k] * (2 + 2 * s->n_ar[k]);
	return n;
}

static float clamp01(float v)
{
	return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
}

odet_status head_ssd_priors(odet_ctx *ctx, const head_spec *s, int64_t H, int64_t W, float **out, int64_t *n)
{
	int64_t N = head_ssd_count(s);
	float *p = N > 0 && N < (1 << 26) ? odet_calloc(ctx, (size_t)N * 4, sizeof(float)) : NULL;
	if (!p)
		return odet_error(ctx, N > 0 ? ODET_ERR_NO_MEMORY : ODET_ERR_BAD_INPUT, "ssd priors: %lld boxes",
				  (long long)N);
	int64_t r = 0;
	for (int k = 0; k < s->n_levels; k++) {
		int64_t f = s->feat[k];
		int np = 2 + 2 * s->n_ar[k];
		double wh[2 * (2 + 2 * HEAD_MAX_PER_LEVEL)];
		double s1, s3;
		if (s->ssd_style == 0) {
			s1 = s->scales[k] / s->fig_size;
			s3 = sqrt(s1 * (s->scales[k + 1] / s->fig_size));
		} else {
			s1 = s->scales[k];
			s3 = sqrt(s->scales[k] * s->scales[k + 1]);
		}
		wh[0] = wh[1] = s1;
		wh[2] = wh[3] = s3;
		for (int a = 0; a < s->n_ar[k]; a++) {
			double sq = sqrt(s->ar[k][a]);
			double w = s1 * sq, h = s1 / sq;
			wh[4 + 4 * a + 0] = w, wh[4 + 4 * a + 1] = h;
			wh[4 + 4 * a + 2] = h, wh[4 + 4 * a + 3] = w;
		}
		if (s->ssd_style == 0) {
			double fk = (double)s->fig_size / s->steps[k];
			for (int q = 0; q < np; q++)
				for (int64_t i = 0; i < f; i++)
					for (int64_t j = 0; j < f; j++, r++) {
						p[4 * r + 0] = clamp01((float)((j + 0.5) / fk));
						p[4 * r + 1] = clamp01((float)((i + 0.5) / fk));
						p[4 * r + 2] = clamp01((float)wh[2 * q]);
						p[4 * r + 3] = clamp01((float)wh[2 * q + 1]);
					}
		} else {
			float xf = (float)((double)W / s->steps[k]), yf = (float)((double)H / s->steps[k]);
			for (int64_t i = 0; i < f; i++)
				for (int64_t j = 0; j < f; j++)
					for (int q = 0; q < np; q++, r++) {
						float cx = (float)(j + 0.5) / xf, cy = (float)(i + 0.5) / yf;
						float w = clamp01((float)wh[2 * q]), h = clamp01((float)wh[2 * q + 1]);
						p[4 * r + 0] = (cx - 0.5f * w) * (float)W;
						p[4 * r + 1] = (cy - 0.5f * h) * (float)H;
						p[4 * r + 2] = (cx + 0.5f * w) * (float)W;
						p[4 * r + 3] = (cy + 0.5f * h) * (float)H;
					}
		}
	}
	*out = p;
	*n = N;
	return ODET_OK;
}

odet_status head_build_ssd(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores,
			   float out_scale[2])
{
	odet_ctx *ctx = g->ctx;
	int64_t N = head_ssd_count(s);
	int layout = 1;
	int loc = head_find_output(g, net, 4, N, -1), conf = -1;
	if (loc >= 0)
		conf = head_find_output(g, net, -1, N, loc);
	if (conf < 0) {
		layout = 0;
		loc = head_find_output(g, net, N, 4, -1);
		conf = loc >= 0 ? head_find_output(g, net, N, -1, loc) : -1;
	}
	if (loc < 0 || conf < 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "no outputs [B,4,%lld]+[B,C,%lld] or [B,%lld,4]+[B,%lld,C]",
				  (long long)N, (long long)N, (long long)N, (long long)N);
	int64_t H = net->H > 0 ? net->H : s->fig_size, W = net->W > 0 ? net->W : s->fig_size;
	float *pri;
	int64_t np;
	odet_status rc = head_ssd_priors(ctx, s, H, W, &pri, &np);
	if (rc)
		return rc;
	int64_t pd[2] = {np, 4};
	int pv = ir_const_add(g, "odet_head_priors", ODET_F32, 2, pd, pri);
	if (pv < 0)
		return ODET_ERR_NO_MEMORY;
	int in[2] = {loc, pv}, bo, so;
	int nb = head_add_node(g, IR_OP_BOX_DECODE, "odet_head_decode", 2, in, 1, &bo);
	int ns = head_add_node(g, IR_OP_CLASS_SCORES, "odet_head_scores", 1, &conf, 1, &so);
	if (nb < 0 || ns < 0)
		return ODET_ERR_NO_MEMORY;
	rc = ir_attr_set_int(g, nb, "layout", layout);
	rc = rc ? rc : ir_attr_set_int(g, nb, "coder", s->ssd_style == 0 ? 0 : 1);
	if (s->ssd_style == 0) {
		rc = rc ? rc : ir_attr_set_float(g, nb, "scale_xy", (float)s->scale_xy);
		rc = rc ? rc : ir_attr_set_float(g, nb, "scale_wh", (float)s->scale_wh);
		out_scale[0] = (float)W;
		out_scale[1] = (float)H;
	} else {
		rc = rc ? rc : ir_attr_set_floats(g, nb, "weights", s->weights, 4);
		rc = rc ? rc : ir_attr_set_float(g, nb, "xform_clip", (float)log(1000.0 / 16));
		rc = rc ? rc : ir_attr_set_float(g, nb, "clip_w", (float)W);
		rc = rc ? rc : ir_attr_set_float(g, nb, "clip_h", (float)H);
	}
	rc = rc ? rc : ir_attr_set_int(g, ns, "layout", layout);
	rc = rc ? rc : ir_attr_set_int(g, ns, "activation", 1);
	*boxes = bo;
	*scores = so;
	return rc;
}
