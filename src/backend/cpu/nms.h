/*
 * nms.h — the host implementation of odet's class-aware batched NMS (op BatchedNms), with the
 * semantics and parameters of backend/nms_params.h.
 */
#ifndef ODET_CPU_NMS_H
#define ODET_CPU_NMS_H

#include "backend/nms_params.h"

/* Host NMS. boxes/scores dtype ODET_F32 or ODET_F16. Workspace from cpu_nms_workspace_size with
 * the same n_threads; pool may have fewer threads than n_threads (never more). With fused
 * class scores the workspace also holds the [B,N,C] f32 scores. */
odet_status cpu_nms_workspace_size(const nms_params *p, int64_t B, int64_t N, int64_t C, int n_threads,
				   size_t *bytes);
odet_status cpu_nms_run(odet_ctx *ctx, odet_threadpool *pool, int n_threads, const nms_params *p,
			int64_t B, int64_t N, int64_t C, odet_dtype dtype, const void *boxes,
			const void *scores, void *workspace, size_t workspace_size, int32_t *det_count,
			float *det_boxes, float *det_scores, int32_t *det_classes);
/* The same with the dtypes of boxes and scores (or logits) given separately. */
odet_status cpu_nms_run_dtypes(odet_ctx *ctx, odet_threadpool *pool, int n_threads, const nms_params *p,
			       int64_t B, int64_t N, int64_t C, odet_dtype box_dtype, const void *boxes,
			       odet_dtype score_dtype, const void *scores, void *workspace, size_t workspace_size,
			       int32_t *det_count, float *det_boxes, float *det_scores, int32_t *det_classes);

/* ClassScores on the host for rows r = b*N + i in [begin, end): logits x (dtype dt, [B,N,C] or
 * [B,C,N] with layout 1) -> out [B,N,C] f32; activation 0 none, 1 softmax over C, 2 sigmoid.
 * The CPU ClassScores kernel's own row code (decode.c), shared with the fused scores of
 * BatchedNms so that both give the same bits. */
void cpu_class_scores_rows(const void *x, odet_dtype dt, int layout, int activation, int64_t N, int64_t C,
			   int64_t begin, int64_t end, float *out);

#endif
