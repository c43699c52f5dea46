/*
 * nms_params.h — the parameters of odet's class-aware batched NMS (op BatchedNms, ops.def),
 * backend-neutral: the CPU kernel (backend/cpu/nms.h), the CUDA launcher (backend/cuda/nms.h)
 * and the tests/bench harnesses share the struct and these semantics.
 *
 * Semantics, per image b (boxes [B,N,4] x1y1x2y2, scores [B,N,C]):
 *  1. candidates: pairs (anchor i, class c), c != background, score finite and > score_threshold;
 *  2. top-k: topk_mode 0 keeps the topk best per class; topk_mode 1 keeps the topk best (anchor,
 *     class) pairs per level (levels = consecutive anchor ranges of level_sizes) — torchvision
 *     RetinaNet. "Best" = higher score, ties by lower anchor index, then lower class. topk <= 0: all;
 *  3. per class, greedy NMS in that order: a candidate is suppressed by an earlier kept one of the
 *     same class when IoU > iou_threshold (>= with iou_ge = 1, NVIDIA SSD's rule). IoU exactly as
 *     torchvision: inter / (area_a + area_b - inter), areas (x2-x1)*(y2-y1), no +1, float32;
 *     the greedy pass stops once max_per_class (attr, > 0) candidates of the class are kept;
 *  4. all kept candidates of the image ordered by the same key; the first max_detections are
 *     written (boxes * out_scale), rows past det_count are zero.
 * Fused class scores (activation or layout set, pass_fuse_scores_nms): input 1 holds logits,
 * [B,N,C] (layout 0) or [B,C,N] (layout 1), f32 or f16 whatever the boxes' dtype; they are
 * turned into scores exactly as ClassScores with the same activation and layout (same kernel
 * code on each backend, so the same bits) before step 1.
 */
#ifndef ODET_NMS_PARAMS_H
#define ODET_NMS_PARAMS_H

#include "graph/ir.h"

#define NMS_MAX_LEVELS 16

typedef struct nms_params {
	float score_threshold;
	float iou_threshold;
	int64_t topk;                /* <= 0: no limit */
	int topk_mode;               /* 0 per class, 1 per level */
	int n_levels;
	int64_t level_sizes[NMS_MAX_LEVELS];
	int64_t max_detections;      /* K, > 0 */
	int64_t background;          /* class skipped, -1 none */
	int iou_ge;
	float out_scale_x, out_scale_y;
	int64_t max_per_class;       /* kept per (image, class) after NMS, <= 0: no limit (ONNX
				      * NonMaxSuppression's max_output_boxes_per_class) */
	int activation;              /* input 1 is logits: 0 none (scores as they are), 1 softmax
				      * over C, 2 sigmoid (as ClassScores) */
	int layout;                  /* input 1 is [B,N,C] (0) or [B,C,N] (1) */
} nms_params;

/* Whether input 1 holds logits that the NMS turns into scores itself. */
static inline int nms_fused_scores(const nms_params *p)
{
	return p->activation != 0 || p->layout != 0;
}

/* Anchors N and classes C of input 1 with dims d ([B,N,C], or [B,C,N] with layout 1). */
static inline void nms_input_nc(const nms_params *p, const int64_t *d, int64_t *N, int64_t *C)
{
	*N = p->layout ? d[2] : d[1];
	*C = p->layout ? d[1] : d[2];
}

nms_params nms_params_default(void);
/* Read the attributes of a BatchedNms node; validates them (message names the node). */
odet_status nms_params_from_node(odet_ctx *ctx, const ir_graph *g, const ir_node *n, nms_params *p);
/* Validate p against N anchors and C classes. */
odet_status nms_params_check(odet_ctx *ctx, const nms_params *p, int64_t N, int64_t C, const char *who);

#endif
