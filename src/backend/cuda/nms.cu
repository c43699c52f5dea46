/*
 * nms.cu — BatchedNms on CUDA: the whole batch in one pass, no host synchronization, no
 * per-image launch loop, no allocation (workspace from cuda_nms_workspace_size). Semantics
 * identical to backend/cpu/nms.c (nms.h); keys make every order total, so results are
 * deterministic and equal to the CPU's bit for bit on the same inputs.
 *
 * Two pipelines, chosen when the call is planned (cuda_nms_plan_create, once per node at
 * prepare): the default one (CUDA_NMS_FAST) sorts each segment in shared memory, one block per
 * segment (nms_fast.cuh: SSD300 b64 0.14 ms, b1 0.024 ms as a CUDA graph on an H100);
 * CUDA_NMS_CUB (ODET_NMS_SORT=cub when the engine is built or loaded) selects the CUB pipeline
 * (nms_cub.cuh; kept for A/B; 1.6 / 0.35 ms).
 *
 * The parts, one translation unit (kernels and launchers stay internal to it):
 *   nms_keys.cuh  keys (score bits, anchor, class) and the device parameters
 *   nms_cub.cuh   the CUB pipeline's kernels (filter, select, sort helpers, bitmask, greedy
 *                 scan, merge and gather)
 *   nms_fast.cuh  the fast path's kernels, and the filter of either pipeline for fused class
 *                 scores (logits)
 *   nms_plan.cuh  the plan: choices and workspace layout
 *   nms.cu        the launchers of both pipelines and the C interface (nms.h)
 */
#include <cub/cub.cuh>
#include <cuda_fp16.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/cuda_util.h"
#include "backend/cuda/nms.h"
#include "backend/cuda/scores.cuh"
#include "backend/cuda/nms_keys.cuh"
#include "backend/cuda/nms_cub.cuh"
#include "backend/cuda/nms_fast.cuh"
#include "backend/cuda/nms_plan.cuh"

namespace {

static odet_status smem_attr(const void *fn, size_t bytes)
{
	if (bytes <= 48 * 1024)
		return ODET_OK;
	return ODET_CUDA(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

/* F1/1 with fused class scores: the logits' filter (either pipeline) */
template <typename TS>
odet_status launch_filter_logits(const plan &pl, const TS *logits, u64 *keys, int *seg_count, cudaStream_t st)
{
	const dev_params &d = pl.d;
	odet_status rc = smem_attr((const void *)filter_logits_kernel<TS>, pl.fsmem);
	if (rc)
		return rc;
	dim3 grid((unsigned)((d.N + pl.fta - 1) / pl.fta), (unsigned)d.B);
	filter_logits_kernel<TS><<<grid, CS_THREADS, pl.fsmem, st>>>(d, pl.fta, logits, keys, seg_count);
	return ODET_OK;
}

/* The workspace's regions as typed pointers (offsets from the plan), for both pipelines. */
struct ws_view {
	u64 *keysA, *keysB, *keysC, *keysD, *mask, *removed, *kept, *mk_in, *mk_out;
	int *cnt1, *beg1, *end1, *cnt2, *beg2, *end2, *nseg, *kcount, *mv_in, *mv_out, *moff, *imgc, *hist, *need, *ncnt;
	long long *lstart, *tiles, *words, *tiles_incl, *words_incl;
	unsigned *prefix;
	void *temp; /* CUB's temporary storage, temp_bytes */
};

static ws_view ws_view_of(const plan &pl, unsigned char *ws)
{
	ws_view w;
	w.keysA = (u64 *)(ws + pl.off_keysA);
	w.keysB = (u64 *)(ws + pl.off_keysB);
	w.keysC = (u64 *)(ws + pl.off_keysC);
	w.keysD = (u64 *)(ws + pl.off_keysD);
	w.mask = (u64 *)(ws + pl.off_mask);
	w.removed = (u64 *)(ws + pl.off_removed);
	w.kept = (u64 *)(ws + pl.off_kept);
	w.mk_in = (u64 *)(ws + pl.off_mk_in);
	w.mk_out = (u64 *)(ws + pl.off_mk_out);
	w.cnt1 = (int *)(ws + pl.off_cnt1);
	w.beg1 = (int *)(ws + pl.off_beg1);
	w.end1 = (int *)(ws + pl.off_end1);
	w.cnt2 = (int *)(ws + pl.off_cnt2);
	w.beg2 = (int *)(ws + pl.off_beg2);
	w.end2 = (int *)(ws + pl.off_end2);
	w.nseg = (int *)(ws + pl.off_n);
	w.kcount = (int *)(ws + pl.off_kcount);
	w.mv_in = (int *)(ws + pl.off_mv_in);
	w.mv_out = (int *)(ws + pl.off_mv_out);
	w.moff = (int *)(ws + pl.off_moff);
	w.imgc = (int *)(ws + pl.off_imgc);
	w.hist = (int *)(ws + pl.off_hist);
	w.need = (int *)(ws + pl.off_need);
	w.ncnt = (int *)(ws + pl.off_ncnt);
	w.lstart = (long long *)(ws + pl.off_lstart);
	w.tiles = (long long *)(ws + pl.off_tiles);
	w.words = (long long *)(ws + pl.off_words);
	w.tiles_incl = (long long *)(ws + pl.off_tiles_incl);
	w.words_incl = (long long *)(ws + pl.off_words_incl);
	w.prefix = (unsigned *)(ws + pl.off_prefix);
	w.temp = ws + pl.off_temp;
	return w;
}

/* The merge of both launch paths when it does not fit one block per image: every image's kept
 * entries sorted by CUB (keys composite = 1 when the fast path built them), then gathered. */
template <typename TB>
odet_status merge_sort_gather(const plan &pl, const ws_view &w, const TB *boxes, int composite, int32_t *det_count,
			      float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	size_t tb = pl.temp_bytes;
	merge_fill_kernel<<<(unsigned)((pl.mitems + 255) / 256), 256, 0, st>>>(d, w.kept, w.kcount, w.mk_in, w.mv_in);
	image_offsets_kernel<<<(d.B + 1 + 255) / 256, 256, 0, st>>>(d, w.kcount, w.moff, w.imgc);
	odet_status rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortPairs(
		w.temp, tb, w.mk_in, w.mk_out, w.mv_in, w.mv_out, pl.mitems, d.B, w.moff, w.moff + 1, 0, 64, st));
	if (rc)
		return rc;
	long long ng = (long long)d.B * d.K;
	gather_kernel<TB><<<(unsigned)((ng + 255) / 256), 256, 0, st>>>(d, boxes, w.mk_out, w.mv_out, w.imgc, composite,
									 det_count, det_boxes, det_scores, det_classes);
	return ODET_CUDA(cudaGetLastError());
}

/* TB: boxes' element type, TS: scores' (or the logits') */
template <typename TB, typename TS>
odet_status launch_cub(const plan &pl, const TB *boxes, const TS *scores, unsigned char *ws, int32_t *det_count,
		   float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	const ws_view w = ws_view_of(pl, ws);
	size_t tb = pl.temp_bytes;
	const int S1 = (int)pl.S1, S = (int)pl.S;
	odet_status rc;
	rc = ODET_CUDA(cudaMemsetAsync(w.cnt1, 0, (size_t)S1 * 4, st));
	if (rc)
		return rc;
	/* 1. filter */
	if (d.N > 0 && pl.logits) {
		if ((rc = launch_filter_logits<TS>(pl, scores, w.keysA, w.cnt1, st)))
			return rc;
	} else if (d.N > 0) {
		const int tile_a = d.C >= 256 ? 1 : (256 * 4 + d.C - 1) / d.C;
		const int nloc = d.mode == 0 ? d.C : d.L;
		size_t smem = (size_t)nloc * 2 * sizeof(int);
		if (smem > 48 * 1024)
			return ODET_ERR_UNSUPPORTED; /* refused at build time by the adapter's check */
		dim3 grid((unsigned)((d.N + tile_a - 1) / tile_a), (unsigned)d.B);
		filter_kernel<TS><<<grid, 256, smem, st>>>(d, scores, w.keysA, w.cnt1, tile_a);
	}
	/* 2. sort per filter segment */
	if (d.mode == 1)
		level_starts_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, w.lstart);
	offsets_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.mode == 1 ? w.lstart : NULL, d.region, w.beg1, w.end1);
	u64 *k_in = w.keysA, *k_out = w.keysB; /* the select moves the candidates to keysB: roles swap */
	if (pl.select) {
		if ((rc = ODET_CUDA(cudaMemsetAsync(w.hist, 0, (size_t)S1 * SEL_BINS * 4, st))) ||
		    (rc = ODET_CUDA(cudaMemsetAsync(w.ncnt, 0, (size_t)S1 * 4, st))))
			return rc;
		sel_init_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.topk, w.prefix, w.need);
		dim3 g((unsigned)pl.sel_blocks, (unsigned)S1);
		for (int pass = 0; pass < 3; pass++) {
			sel_hist_kernel<<<g, 256, 0, st>>>(w.keysA, w.beg1, w.cnt1, w.prefix, w.need, pass, w.hist);
			sel_pick_kernel<<<(unsigned)S1, 256, 0, st>>>(pass, w.hist, w.prefix, w.need);
		}
		sel_compact_kernel<<<g, 256, 0, st>>>(w.keysA, w.keysB, w.beg1, w.cnt1, w.prefix, w.need, w.ncnt);
		sel_finish_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.need, w.ncnt, w.beg1, w.cnt1, w.end1);
		k_in = w.keysB;
		k_out = w.keysA;
	}
	rc = ODET_CUDA(
		cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, k_in, k_out, pl.items, S1, w.beg1, w.end1, 0, 64, st));
	if (rc)
		return rc;
	const u64 *sorted = k_out;
	const int *cbeg = w.beg1, *ccnt = w.cnt1;
	if (d.mode == 1) {
		rc = ODET_CUDA(cudaMemsetAsync(w.cnt2, 0, (size_t)S * 4, st));
		if (rc)
			return rc;
		long long nt = pl.S1 * d.topk;
		scatter_kernel<<<(unsigned)((nt + 255) / 256), 256, 0, st>>>(d, k_out, w.beg1, w.cnt1, k_in, w.cnt2);
		offsets_kernel<<<(S + 255) / 256, 256, 0, st>>>(S, w.cnt2, NULL, d.region, w.beg2, w.end2);
		rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, k_in, k_out, pl.S * d.region, S, w.beg2,
								  w.end2, 0, 64, st));
		if (rc)
			return rc;
		cbeg = w.beg2;
		ccnt = w.cnt2;
	}
	/* 3. bitmask */
	seg_setup_kernel<<<(S + 255) / 256, 256, 0, st>>>(d, ccnt, w.nseg, w.tiles, w.words);
	rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.tiles, w.tiles_incl, S, st));
	if (!rc)
		rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.words, w.words_incl, S, st));
	if (rc)
		return rc;
	mask_kernel<TB><<<132 * 16, 64, 0, st>>>(d, boxes, sorted, cbeg, 0, w.nseg, w.tiles_incl, w.words_incl, w.mask);
	/* 4. greedy scan */
	scan_kernel<<<(unsigned)((S * 32LL + 127) / 128), 128, 0, st>>>(d, sorted, cbeg, w.nseg, w.words_incl, w.mask,
								       w.removed, w.kept, w.kcount);
	/* 5. merge + gather */
	return merge_sort_gather<TB>(pl, w, boxes, 0, det_count, det_boxes, det_scores, det_classes, st);
}

template <typename TB, typename TS>
odet_status launch_fast(const plan &pl, const TB *boxes, const TS *scores, unsigned char *ws, int32_t *det_count,
			float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	const ws_view w = ws_view_of(pl, ws);
	size_t tb = pl.temp_bytes;
	const int S1 = (int)pl.S1, S = (int)pl.S;
	odet_status rc;
	if ((rc = ODET_CUDA(cudaMemsetAsync(w.cnt1, 0, (size_t)S1 * 4, st))))
		return rc;
	if (d.mode == 1 && (rc = ODET_CUDA(cudaMemsetAsync(w.cnt2, 0, (size_t)S * 4, st))))
		return rc;
	/* F1. filter */
	if (d.N > 0 && pl.logits) {
		if ((rc = launch_filter_logits<TS>(pl, scores, w.keysA, w.cnt1, st)))
			return rc;
	} else if (d.N > 0) {
		const int nloc = d.mode == 0 ? d.C : d.L;
		size_t smem = (size_t)nloc * 2 * sizeof(int);
		if (smem > 48 * 1024)
			return ODET_ERR_UNSUPPORTED; /* refused at build time by the adapter's check */
		long long nc = (long long)d.N * d.C;
		dim3 grid((unsigned)((nc + 2047) / 2048), (unsigned)d.B);
		filter2_kernel<TS><<<grid, 256, smem, st>>>(d, scores, w.keysA, w.cnt1);
	}
	/* F2. multi-block select (huge segments), CUB for segments above the capacity */
	const u64 *in = w.keysA, *pre = NULL;
	if (pl.select) {
		if ((rc = ODET_CUDA(cudaMemsetAsync(w.hist, 0, (size_t)S1 * SEL_BINS * 4, st))) ||
		    (rc = ODET_CUDA(cudaMemsetAsync(w.ncnt, 0, (size_t)S1 * 4, st))))
			return rc;
		bounds_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, S1, d.mode, w.cnt1, -1, w.beg1, w.end1);
		sel_init_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.topk, w.prefix, w.need);
		dim3 g((unsigned)pl.sel_blocks, (unsigned)S1);
		for (int pass = 0; pass < 3; pass++) {
			sel_hist_kernel<<<g, 256, 0, st>>>(w.keysA, w.beg1, w.cnt1, w.prefix, w.need, pass, w.hist);
			sel_pick_kernel<<<(unsigned)S1, 256, 0, st>>>(pass, w.hist, w.prefix, w.need);
		}
		sel_compact_kernel<<<g, 256, 0, st>>>(w.keysA, w.keysB, w.beg1, w.cnt1, w.prefix, w.need, w.ncnt);
		sel_finish_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.need, w.ncnt, w.beg1, w.cnt1, w.end1);
		in = w.keysB;
	}
	if (pl.cub1) {
		u64 *out = in == w.keysA ? w.keysB : w.keysA;
		bounds_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, S1, d.mode, w.cnt1, pl.cap1, w.beg1, w.end1);
		rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, in, out, pl.items, S1, w.beg1, w.end1, 0, 64, st));
		if (rc)
			return rc;
		pre = out;
	}
	/* F3. per-segment sort (+ scatter / bitmask / greedy) */
	seg_args a;
	memset(&a, 0, sizeof a);
	a.in = in, a.pre = pre, a.cnt = w.cnt1, a.k = d.topk, a.cap = pl.cap1, a.level = d.mode;
	a.nseg = w.nseg, a.tiles = w.tiles, a.words = w.words, a.kept = w.kept, a.kcount = w.kcount;
	const u64 *sorted = pre ? pre : in; /* out 0: in place (or in the CUB output) */
	if (d.mode == 0) {
		a.out = pl.fused ? 2 : 0;
		a.sorted = (u64 *)sorted;
		if ((rc = smem_attr((const void *)seg_kernel<TB>, pl.smem1)))
			return rc;
		seg_kernel<TB><<<(unsigned)S1, BLK, pl.smem1, st>>>(d, a, boxes);
	} else {
		a.out = 1;
		a.ckeys = w.keysC, a.ccount = w.cnt2;
		if ((rc = smem_attr((const void *)seg_kernel<TB>, pl.smem1 > pl.smem2 ? pl.smem1 : pl.smem2)))
			return rc;
		seg_kernel<TB><<<(unsigned)S1, BLK, pl.smem1, st>>>(d, a, boxes);
		memset(&a, 0, sizeof a);
		a.in = w.keysC, a.cnt = w.cnt2, a.k = d.T, a.cap = pl.cap2, a.level = 0;
		a.nseg = w.nseg, a.tiles = w.tiles, a.words = w.words, a.kept = w.kept, a.kcount = w.kcount;
		sorted = w.keysC;
		if (pl.cub2) {
			bounds_kernel<<<(S + 255) / 256, 256, 0, st>>>(d, S, 0, w.cnt2, pl.cap2, w.beg2, w.end2);
			rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, w.keysC, w.keysD, pl.S * d.region, S, w.beg2,
									  w.end2, 0, 64, st));
			if (rc)
				return rc;
			a.pre = w.keysD;
			sorted = w.keysD;
		}
		a.out = pl.fused ? 2 : 0;
		a.sorted = (u64 *)sorted;
		seg_kernel<TB><<<(unsigned)S, BLK, pl.smem2, st>>>(d, a, boxes);
	}
	/* 3./4. bitmask and greedy scan in global memory for segments of more than FUSE_MAX rows */
	if (!pl.fused) {
		rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.tiles, w.tiles_incl, S, st));
		if (!rc)
			rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.words, w.words_incl, S, st));
		if (rc)
			return rc;
		mask_kernel<TB><<<132 * 16, 64, 0, st>>>(d, boxes, sorted, NULL, d.region, w.nseg, w.tiles_incl, w.words_incl,
							w.mask);
		scan2_kernel<<<(unsigned)((S * 32LL + 127) / 128), 128, pl.smem_scan, st>>>(
			d, sorted, w.nseg, w.words_incl, w.mask, w.removed, pl.smem_scan > 0, w.kept, w.kcount);
	}
	/* F4. per-image merge + gather */
	if (pl.mblock) {
		if ((rc = smem_attr((const void *)merge_kernel<TB>, pl.smemm)))
			return rc;
		merge_kernel<TB><<<(unsigned)d.B, BLK, pl.smemm, st>>>(d, w.kept, w.kcount, w.mk_in, pl.capm, pl.coff, boxes,
									det_count, det_boxes, det_scores, det_classes);
		return ODET_CUDA(cudaGetLastError());
	}
	return merge_sort_gather<TB>(pl, w, boxes, 1, det_count, det_boxes, det_scores, det_classes, st);
}

/* TB: boxes' element type, TS: scores' (or the logits') */
template <typename TB, typename TS>
odet_status launch(const plan &pl, const void *boxes, const void *scores, unsigned char *ws, int32_t *det_count,
		   float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const TB *bx = (const TB *)boxes;
	const TS *sc = (const TS *)scores;
	return pl.fast ? launch_fast<TB, TS>(pl, bx, sc, ws, det_count, det_boxes, det_scores, det_classes, st)
		       : launch_cub<TB, TS>(pl, bx, sc, ws, det_count, det_boxes, det_scores, det_classes, st);
}

} /* namespace */

struct cuda_nms_plan {
	plan pl;
};

extern "C" odet_status cuda_nms_plan_create(const nms_params *p, int64_t B, int64_t N, int64_t C, int pipeline,
					    cuda_nms_plan **out)
{
	*out = NULL;
	if (pipeline != CUDA_NMS_FAST && pipeline != CUDA_NMS_CUB)
		return ODET_ERR_INVALID_ARG;
	cuda_nms_plan *h = (cuda_nms_plan *)calloc(1, sizeof *h);
	if (!h)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = make_plan(p, B, N, C, pipeline == CUDA_NMS_FAST, &h->pl);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return ODET_OK;
}

extern "C" void cuda_nms_plan_destroy(cuda_nms_plan *h)
{
	free(h);
}

extern "C" size_t cuda_nms_plan_workspace(const cuda_nms_plan *h)
{
	return h->pl.total;
}

extern "C" odet_status cuda_nms_plan_launch(const cuda_nms_plan *h, const int64_t *score_dims,
					    odet_dtype box_dtype, const void *boxes, odet_dtype score_dtype,
					    const void *scores, void *workspace, size_t workspace_size,
					    int32_t *det_count, float *det_boxes, float *det_scores,
					    int32_t *det_classes, void *stream)
{
	const plan &pl = h->pl;
	const int64_t N = pl.d.layout ? score_dims[2] : score_dims[1], C = pl.d.layout ? score_dims[1] : score_dims[2];
	if (score_dims[0] != pl.B || N != pl.N || C != pl.C || workspace_size < pl.total)
		return ODET_ERR_INVALID_ARG;
	const bool b16 = box_dtype == ODET_F16, s16 = score_dtype == ODET_F16;
	if ((!b16 && box_dtype != ODET_F32) || (!s16 && score_dtype != ODET_F32))
		return ODET_ERR_UNSUPPORTED;
	cudaStream_t st = (cudaStream_t)stream;
	unsigned char *ws = (unsigned char *)workspace;
	if (b16)
		return s16 ? launch<__half, __half>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st)
			   : launch<__half, float>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st);
	return s16 ? launch<float, __half>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st)
		   : launch<float, float>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st);
}

