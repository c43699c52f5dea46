/*
 * nms.h (cuda) — launchers of the CUDA head kernels (nms.cu, decode.cu). Raw device pointers
 * and a cudaStream_t passed as void*; every call is asynchronous on that stream, never
 * synchronizes with the host and never allocates: the NMS's workspace size comes from its plan.
 * NMS semantics are exactly those of backend/nms_params.h (the CPU kernel's, same struct).
 */
#ifndef ODET_CUDA_NMS_H
#define ODET_CUDA_NMS_H

#ifdef __cplusplus
extern "C" {
#endif

#include "backend/nms_params.h"

/* One BatchedNms call, planned once for its parameters and shapes (boxes [B,N,4], scores or
 * logits with N anchors and C classes): workspace layout and launch configuration. The launch
 * then does no host work beyond checking the shapes against the plan, raising kernels'
 * shared-memory limits where the plan needs more than 48 KiB, and enqueuing the kernels.
 * pipeline: CUDA_NMS_FAST (default, shared-memory segment sorts) or CUDA_NMS_CUB (CUB
 * segmented sorts, kept for A/B checks; same results bit for bit).
 * Create: ODET_ERR_LIMIT when the sizes overflow the kernels' 32-bit indexing (B*N*C >= 2^31);
 * ODET_ERR_UNSUPPORTED for fused class scores (p->activation / p->layout set) with
 * C > CUDA_NMS_FUSED_MAX_C classes or more than 65535 images; ODET_ERR_INVALID_ARG for
 * invalid parameters. */
#define CUDA_NMS_FUSED_MAX_C 6144
enum { CUDA_NMS_FAST = 0, CUDA_NMS_CUB = 1 };
typedef struct cuda_nms_plan cuda_nms_plan;
odet_status cuda_nms_plan_create(const nms_params *p, int64_t B, int64_t N, int64_t C, int pipeline,
				 cuda_nms_plan **out);
void cuda_nms_plan_destroy(cuda_nms_plan *plan);
/* bytes of device workspace the launch needs */
size_t cuda_nms_plan_workspace(const cuda_nms_plan *plan);
/* Boxes and scores (or, fused, logits) of ODET_F32 or ODET_F16, dtypes given separately;
 * score_dims: input 1's dims ([B,N,C], or [B,C,N] with layout 1), which must be the plan's
 * (ODET_ERR_INVALID_ARG otherwise, or for a workspace too small). */
odet_status cuda_nms_plan_launch(const cuda_nms_plan *plan, const int64_t *score_dims, odet_dtype box_dtype,
				 const void *boxes, odet_dtype score_dtype, const void *scores, void *workspace,
				 size_t workspace_size, int32_t *det_count, float *det_boxes, float *det_scores,
				 int32_t *det_classes, void *stream);

typedef struct cuda_box_decode_params {
	int coder, layout;
	float scale_xy, scale_wh, weights[4], xform_clip, out_scale_x, out_scale_y, clip_w, clip_h;
} cuda_box_decode_params;

/* BoxDecode (ops.def): deltas [B,N,4] or [B,4,N], anchors [N,4] -> out [B,N,4] f32. */
odet_status cuda_box_decode_launch(const cuda_box_decode_params *p, int64_t B, int64_t N, odet_dtype dtype,
				   const void *deltas, const void *anchors, float *out, void *stream);
/* ClassScores: logits [B,N,C] (layout 0) or [B,C,N] -> scores [B,N,C] f32; act 0/1 softmax/2 sigmoid. */
odet_status cuda_class_scores_launch(int layout, int activation, int64_t B, int64_t N, int64_t C, odet_dtype dtype,
				     const void *logits, float *out, void *stream);

#ifdef __cplusplus
}
#endif
#endif
