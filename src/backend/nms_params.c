/*
 * nms_params.c — BatchedNms parameters (nms_params.h): defaults, checks, and reading them from a
 * node's attributes; shared by every backend.
 */
#include "backend/nms_params.h"

#include <stdio.h>
#include <string.h>

nms_params nms_params_default(void)
{
	nms_params p;
	memset(&p, 0, sizeof p);
	p.score_threshold = 0.05f;
	p.iou_threshold = 0.5f;
	p.topk = 0;
	p.max_detections = 100;
	p.background = -1;
	p.out_scale_x = p.out_scale_y = 1.0f;
	return p;
}

odet_status nms_params_check(odet_ctx *ctx, const nms_params *p, int64_t N, int64_t C, const char *who)
{
	if (p->max_detections < 1 || p->max_detections > (1 << 24))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: max_detections %lld out of range [1, 2^24]", who,
				  (long long)p->max_detections);
	if (N < 0 || N > INT32_MAX || C < 1 || C > INT32_MAX)
		return odet_error(ctx, ODET_ERR_LIMIT, "%s: %lld anchors x %lld classes out of range", who,
				  (long long)N, (long long)C);
	if (p->topk_mode != 0 && p->topk_mode != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: topk_mode %d (0 per class, 1 per level)", who,
				  p->topk_mode);
	if (!(p->iou_threshold == p->iou_threshold))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: iou_threshold is NaN", who);
	if (p->activation < 0 || p->activation > 2)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: activation %d (0 none, 1 softmax, 2 sigmoid)", who,
				  p->activation);
	if (p->layout != 0 && p->layout != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: layout %d (0 [B,N,C], 1 [B,C,N])", who, p->layout);
	if (p->topk_mode == 1) {
		int64_t sum = 0;
		if (p->n_levels < 1 || p->n_levels > NMS_MAX_LEVELS)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %d levels (1..%d)", who, p->n_levels,
					  NMS_MAX_LEVELS);
		for (int l = 0; l < p->n_levels; l++) {
			if (p->level_sizes[l] < 0 || !odet_add_i64(sum, p->level_sizes[l], &sum))
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: bad level size", who);
		}
		if (sum != N)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: level sizes sum to %lld, boxes have %lld anchors",
					  who, (long long)sum, (long long)N);
	}
	return ODET_OK;
}

odet_status nms_params_from_node(odet_ctx *ctx, const ir_graph *g, const ir_node *n, nms_params *p)
{
	*p = nms_params_default();
	p->score_threshold = ir_attr_float(n, "score_threshold", p->score_threshold);
	p->iou_threshold = ir_attr_float(n, "iou_threshold", p->iou_threshold);
	p->topk = ir_attr_int(n, "topk", 0);
	p->topk_mode = (int)ir_attr_int(n, "topk_mode", 0);
	p->max_detections = ir_attr_int(n, "max_detections", p->max_detections);
	p->background = ir_attr_int(n, "background", -1);
	p->iou_ge = ir_attr_int(n, "iou_ge", 0) != 0;
	p->out_scale_x = ir_attr_float(n, "out_scale_x", 1.0f);
	p->out_scale_y = ir_attr_float(n, "out_scale_y", 1.0f);
	p->max_per_class = ir_attr_int(n, "max_per_class", 0);
	int64_t act = ir_attr_int(n, "activation", 0), layout = ir_attr_int(n, "layout", 0);
	if (act < 0 || act > 2)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s' (BatchedNms): activation %lld (0 none, 1 softmax, 2 sigmoid)", n->name,
				  (long long)act);
	if (layout != 0 && layout != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s' (BatchedNms): layout %lld (0 [B,N,C], 1 [B,C,N])",
				  n->name, (long long)layout);
	p->activation = (int)act;
	p->layout = (int)layout;
	const int64_t *ls;
	int nl = ir_attr_ints(n, "level_sizes", &ls);
	if (nl > NMS_MAX_LEVELS)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s' (BatchedNms): %d levels, limit %d", n->name,
				  nl, NMS_MAX_LEVELS);
	p->n_levels = nl;
	for (int l = 0; l < nl; l++)
		p->level_sizes[l] = ls[l];
	const ir_value *bx = ir_in(g, n, 0), *sc = ir_in(g, n, 1);
	if (!bx || !sc || bx->rank != 3 || sc->rank != 3)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s' (BatchedNms): needs boxes [B,N,4] and scores [B,N,C] (logits [B,C,N] with layout 1)",
				  n->name);
	char who[300];
	int64_t N, C;
	nms_input_nc(p, sc->dims, &N, &C);
	snprintf(who, sizeof who, "node '%s' (BatchedNms)", n->name);
	return nms_params_check(ctx, p, N, C, who);
}
