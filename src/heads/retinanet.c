/*
 * retinanet.c — torchvision RetinaNet head (preset "retinanet", retinanet_resnet50_fpn):
 * outputs bbox_regression [B,N,4] and cls_logits [B,N,C] concatenated over levels P3..P7.
 *
 * Anchors (torchvision AnchorGenerator, float32): per level, cell anchors for ratios r (outer)
 * and sizes s (inner): h = sqrt(r), w = 1/h, ws = w*s, hs = h*s, base = round([-ws,-hs,ws,hs]/2)
 * (half to even); grid sizes of a ResNet-FPN backbone: ceil(H / 2^l) for l = first_level..;
 * strides H // grid (integer division, as torchvision); anchor (y*gw + x)*A + a =
 * (x*sw, y*sh, x*sw, y*sh) + base[a].
 * Decode: BoxCoder weights (1,1,1,1), bbox_xform_clip log(1000/16), clip to the image.
 * Scores: sigmoid; no background. NMS: per level top-1000 (anchor, class) pairs with score > 0.05
 * (postprocess_detections), per-class IoU 0.5, 300 per image.
 */
#include "heads/heads_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void grid(const head_spec *s, int l, int64_t H, int64_t W, int64_t *gh, int64_t *gw)
{
	int64_t d = (int64_t)1 << (s->first_level + l);
	*gh = (H + d - 1) / d;
	*gw = (W + d - 1) / d;
}

int64_t head_retinanet_count(const head_spec *s, int64_t H, int64_t W)
{
	if (H <= 0 || W <= 0 || H > (1 << 20) || W > (1 << 20))
		return -1;
	int64_t n = 0, gh, gw;
	for (int l = 0; l < s->n_levels; l++) {
		grid(s, l, H, W, &gh, &gw);
		n += gh * gw * s->n_sizes[l] * s->n_ar[0];
	}
	return n;
}

odet_status head_retinanet_anchors(odet_ctx *ctx, const head_spec *s, int64_t H, int64_t W, float **out,
				   int64_t *n, int64_t *level_sizes, int *n_levels)
{
	int64_t N = head_retinanet_count(s, H, W);
	if (N <= 0 || N > (1 << 26))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "retinanet anchors: input %lldx%lld", (long long)H, (long long)W);
	float *p = odet_calloc(ctx, (size_t)N * 4, sizeof(float));
	if (!p)
		return ODET_ERR_NO_MEMORY;
	int64_t r = 0;
	for (int l = 0; l < s->n_levels; l++) {
		int64_t gh, gw;
		grid(s, l, H, W, &gh, &gw);
		int64_t sh = H / gh, sw = W / gw;
		int A = 0;
		float base[HEAD_MAX_PER_LEVEL * HEAD_MAX_PER_LEVEL][4];
		for (int q = 0; q < s->n_ar[0]; q++) {
			float hr = sqrtf((float)s->ar[0][q]), wr = 1.0f / hr;
			for (int z = 0; z < s->n_sizes[l]; z++, A++) {
				float sc = (float)s->sizes[l][z], ws = wr * sc, hs = hr * sc;
				base[A][0] = rintf(-ws / 2), base[A][1] = rintf(-hs / 2);
				base[A][2] = rintf(ws / 2), base[A][3] = rintf(hs / 2);
			}
		}
		for (int64_t y = 0; y < gh; y++)
			for (int64_t x = 0; x < gw; x++)
				for (int a = 0; a < A; a++, r++) {
					p[4 * r + 0] = (float)(x * sw) + base[a][0];
					p[4 * r + 1] = (float)(y * sh) + base[a][1];
					p[4 * r + 2] = (float)(x * sw) + base[a][2];
					p[4 * r + 3] = (float)(y * sh) + base[a][3];
				}
		level_sizes[l] = gh * gw * A;
	}
	*n_levels = s->n_levels;
	*out = p;
	*n = N;
	return ODET_OK;
}

odet_status head_build_retinanet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes,
				 int *scores, int64_t *level_sizes, int *n_levels)
{
	odet_ctx *ctx = g->ctx;
	if (net->H <= 0 || net->W <= 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "the input size is not known (anchors depend on it)");
	float *an;
	int64_t N;
	odet_status rc = head_retinanet_anchors(ctx, s, net->H, net->W, &an, &N, level_sizes, n_levels);
	if (rc)
		return rc;
	int reg = head_find_output(g, net, N, 4, -1);
	int cls = reg >= 0 ? head_find_output(g, net, N, -1, reg) : -1;
	if (reg < 0 || cls < 0) {
		free(an);
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "no outputs [B,%lld,4] + [B,%lld,C] for a %lldx%lld input",
				  (long long)N, (long long)N, (long long)net->H, (long long)net->W);
	}
	int64_t ad[2] = {N, 4};
	int av = ir_const_add(g, "odet_head_anchors", ODET_F32, 2, ad, an);
	if (av < 0)
		return ODET_ERR_NO_MEMORY;
	int in[2] = {reg, av}, bo, so;
	int nb = head_add_node(g, IR_OP_BOX_DECODE, "odet_head_decode", 2, in, 1, &bo);
	int ns = head_add_node(g, IR_OP_CLASS_SCORES, "odet_head_scores", 1, &cls, 1, &so);
	if (nb < 0 || ns < 0)
		return ODET_ERR_NO_MEMORY;
	rc = ir_attr_set_int(g, nb, "coder", 1);
	rc = rc ? rc : ir_attr_set_floats(g, nb, "weights", s->weights, 4);
	rc = rc ? rc : ir_attr_set_float(g, nb, "xform_clip", (float)log(1000.0 / 16));
	rc = rc ? rc : ir_attr_set_float(g, nb, "clip_w", (float)net->W);
	rc = rc ? rc : ir_attr_set_float(g, nb, "clip_h", (float)net->H);
	rc = rc ? rc : ir_attr_set_int(g, ns, "activation", 2);
	*boxes = bo;
	*scores = so;
	return rc;
}
