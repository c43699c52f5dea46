/*
 * nms.h (cuda) — launchers of the CUDA head kernels (nms.cu, decode.cu). Raw device pointers
 * and a cudaStream_t passed as void*; every call is asynchronous on that stream, never
 * synchronizes with the host and never allocates: workspace sizes come from *_workspace_size.
 * NMS semantics are exactly those of backend/cpu/nms.h (same parameter struct).
 */
#ifndef ODET_CUDA_NMS_H
#define ODET_CUDA_NMS_H

#ifdef __cplusplus
extern "C" {
#endif

#include "backend/cpu/nms.h"

/* Bytes of device workspace for cuda_nms_launch with these parameters and shapes;
 * ODET_ERR_LIMIT when the sizes overflow the kernels' 32-bit indexing (B*N*C >= 2^31);
 * ODET_ERR_UNSUPPORTED for fused class scores (p->activation / p->layout set) with
 * C > CUDA_NMS_FUSED_MAX_C classes or more than 65535 images. */
#define CUDA_NMS_FUSED_MAX_C 6144
odet_status cuda_nms_workspace_size(const nms_params *p, int64_t B, int64_t N, int64_t C, size_t *bytes);
/* boxes and scores of one dtype (ODET_F32 or ODET_F16) */
odet_status cuda_nms_launch(const nms_params *p, int64_t B, int64_t N, int64_t C, odet_dtype dtype,
			    const void *boxes, const void *scores, void *workspace, size_t workspace_size,
			    int32_t *det_count, float *det_boxes, float *det_scores, int32_t *det_classes,
			    void *stream);
/* The same with the dtypes of boxes and scores (or, fused, logits) given separately. */
odet_status cuda_nms_launch_dtypes(const nms_params *p, int64_t B, int64_t N, int64_t C, odet_dtype box_dtype,
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
