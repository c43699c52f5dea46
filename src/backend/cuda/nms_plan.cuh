/*
 * nms_plan.cuh — the plan of a BatchedNms call on CUDA (part of nms.cu's translation unit):
 * from the parameters and shapes only (never from counts), once per node at prepare, the
 * pipeline's choices (select, shared-memory capacities, fused bitmask, per-image merge) and
 * the workspace's layout, CUB's temporary storage included.
 */
#ifndef ODET_CUDA_NMS_PLAN_CUH
#define ODET_CUDA_NMS_PLAN_CUH

#include <cub/cub.cuh>
#include <string.h>

#include "backend/cuda/cuda_util.h"
#include "backend/cuda/nms_fast.cuh"

namespace {

/* ---- workspace plan */
struct plan {
	int64_t B, N, C;     /* the shapes it was made for */
	dev_params d;
	long long S1;        /* filter segments */
	long long items;     /* B*N*C */
	long long S;         /* class segments B*C */
	long long mitems;    /* B*C*kc */
	long long mask_words;
	size_t off_keysA, off_keysB, off_cnt1, off_beg1, off_end1, off_lstart, off_cnt2, off_beg2, off_end2, off_n,
		off_tiles, off_words, off_tiles_incl, off_words_incl, off_mask, off_removed, off_kept, off_kcount,
		off_mk_in, off_mk_out, off_mv_in, off_mv_out, off_moff, off_imgc, off_temp;
	size_t off_hist, off_prefix, off_need, off_ncnt;
	bool select;         /* top-k select before the first sort (2a) */
	int sel_blocks;      /* blocks per segment for the select passes */
	size_t temp_bytes, total;
	/* fast path */
	bool fast;           /* else the CUB pipeline (CUDA_NMS_CUB) */
	int cap1, cap2;      /* shared-memory sort capacity: first-stage segments, mode-1 class segments */
	bool cub1, cub2;     /* segments above the capacity sorted by CUB first */
	bool fused;          /* bitmask + greedy inside seg_kernel (T <= FUSE_MAX) */
	bool mblock;         /* per-image merge in merge_kernel (K <= SORT_MAX), else the CUB merge */
	int capm, coff;
	size_t smem1, smem2, smemm, smem_scan;
	size_t off_keysC, off_keysD;
	/* fused class scores (input 1 is logits): filter_logits_kernel's anchors per block, smem */
	bool logits;
	int fta;
	size_t fsmem;
};

/* shared-memory sort capacity for segments of at most nmax keys of which the first k count:
 * 0 when k exceeds SORT_MAX (larger segments then go through CUB, the block takes 4096) */
static int choose_cap(long long nmax, long long k)
{
	long long need = nmax <= SORT_MAX ? nmax : k <= SORT_MAX ? k : 0;
	int cap = 64;
	if (!need)
		return 4096;
	while (cap < need)
		cap <<= 1;
	if (nmax > cap && cap < 2048)
		cap = 2048; /* block select: its histogram (8 KiB) lives in the buffer */
	return cap;
}

static size_t seg_smem(int cap, long long nmax, bool fused, long long T)
{
	size_t b = (size_t)cap * 8, o1, o2, o3, o4, f;
	if (nmax > cap && b < 8192)
		b = 8192;
	if (fused) {
		fuse_layout(T, &o1, &o2, &o3, &o4, &f);
		if (f > b)
			b = f;
	}
	return b;
}

odet_status make_plan(const nms_params *np, int64_t B, int64_t N, int64_t C, bool fast, plan *pl)
{
	memset(pl, 0, sizeof *pl);
	pl->B = B, pl->N = N, pl->C = C;
	dev_params &d = pl->d;
	if (B < 1 || N < 0 || C < 1 || np->max_detections < 1 || np->n_levels > NMS_MAX_LEVELS)
		return ODET_ERR_INVALID_ARG;
	long long items;
	if (__builtin_mul_overflow((long long)B * N, (long long)C, &items) || items >= (1ll << 31) ||
	    B * C >= (1ll << 31))
		return ODET_ERR_LIMIT;
	d.thr = np->score_threshold;
	d.iou = np->iou_threshold;
	d.mode = np->topk_mode;
	d.ge = np->iou_ge;
	d.B = (int)B, d.N = (int)N, d.C = (int)C;
	d.bg = np->background;
	d.K = np->max_detections;
	d.osx = np->out_scale_x, d.osy = np->out_scale_y;
	d.act = np->activation, d.layout = np->layout;
	pl->logits = nms_fused_scores(np);
	if (pl->logits) {
		if (d.act < 0 || d.act > 2 || (d.layout != 0 && d.layout != 1))
			return ODET_ERR_INVALID_ARG;
		if (C > FL_MAX_C || B > 65535)
			return ODET_ERR_UNSUPPORTED; /* a row in shared memory; images in gridDim.y */
		pl->fta = class_scores_tile(C);
		const long long nloc = d.mode == 0 ? C : np->n_levels;
		pl->fsmem = ((size_t)pl->fta * (size_t)(C | 1) + 2 * (size_t)nloc) * 4;
	}
	d.L = d.mode == 1 ? np->n_levels : 0;
	d.level_start[0] = 0;
	long long maxlevel = 0;
	for (int l = 0; l < d.L; l++) {
		d.level_start[l + 1] = d.level_start[l] + (int)np->level_sizes[l];
		if (np->level_sizes[l] > maxlevel)
			maxlevel = np->level_sizes[l];
	}
	long long Nn = N > 0 ? N : 1;
	if (d.mode == 0) {
		d.topk = np->topk > 0 && np->topk < Nn ? np->topk : Nn;
		d.T = d.topk;
		d.region = Nn;
		pl->S1 = B * C;
	} else {
		long long lk = maxlevel * C > 0 ? maxlevel * C : 1;
		d.topk = np->topk > 0 && np->topk < lk ? np->topk : lk;
		long long per_img = d.topk * d.L;
		d.T = per_img < Nn ? per_img : Nn;
		d.region = d.T;
		pl->S1 = B * d.L;
	}
	d.kc = d.K < d.T ? d.K : d.T;
	if (np->max_per_class > 0 && d.kc > np->max_per_class)
		d.kc = np->max_per_class; /* ONNX max_output_boxes_per_class */
	if (d.kc < 1)
		d.kc = 1;
	d.cbmax = (int)((d.T + 63) / 64);
	pl->items = items > 0 ? items : 1;
	pl->S = B * C;
	pl->mitems = pl->S * d.kc;
	/* bitmask words: per image, sum n_c * ceil(n_c / 64) with n_c <= T and sum n_c <= M */
	long long M = d.mode == 0 ? C * d.T : d.T * 1; /* mode 1: all candidates of an image <= L*topk */
	if (d.mode == 1)
		M = d.topk * d.L;
	long long w1 = C * d.T * (long long)d.cbmax, w2 = M * ((M + 63) / 64);
	pl->mask_words = B * (w1 < w2 ? w1 : w2);
	if (pl->mask_words < 1)
		pl->mask_words = 1;
	/* cub temporary storage: the largest of the sorts and scans */
	size_t tb = 0, t;
	u64 *kn = NULL;
	int *in = NULL;
	long long *ln = NULL;
	if (cub::DeviceSegmentedRadixSort::SortKeys(NULL, t, kn, kn, pl->items, pl->S1, in, in))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	if (d.mode == 1) {
		if (cub::DeviceSegmentedRadixSort::SortKeys(NULL, t, kn, kn, pl->S * d.region, pl->S, in, in))
			return ODET_ERR_DEVICE;
		tb = t > tb ? t : tb;
	}
	if (cub::DeviceScan::InclusiveSum(NULL, t, ln, ln, (int)pl->S))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	if (cub::DeviceSegmentedRadixSort::SortPairs(NULL, t, kn, kn, in, in, pl->mitems, B, in, in))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	pl->temp_bytes = tb;
	pl->fast = fast;
	{
		long long seg_max = d.mode == 0 ? Nn : maxlevel * C; /* largest first-sort segment */
		pl->select = pl->S1 <= 65535 && d.topk < seg_max;
		long long nb = (seg_max + 2047) / 2048;
		pl->sel_blocks = (int)(nb < 1 ? 1 : nb > 512 ? 512 : nb);
		if (pl->fast) {
			/* at most ~8192 blocks per select pass over all segments (most blocks of a segment
			 * sized for seg_max find nothing; grid-stride loops cover any count) */
			long long per = 8192 / pl->S1;
			if (pl->sel_blocks > per)
				pl->sel_blocks = (int)(per < 8 ? 8 : per);
			pl->cap1 = choose_cap(seg_max, d.topk);
			pl->cub1 = d.topk > pl->cap1;
			pl->select = pl->select && (seg_max > BSEL_MAX || pl->cub1);
			pl->fused = d.T <= FUSE_MAX;
			pl->smem1 = seg_smem(pl->cap1, seg_max, d.mode == 0 && pl->fused, d.T);
			if (d.mode == 1) {
				pl->cap2 = choose_cap(d.T, d.T);
				pl->cub2 = d.T > pl->cap2;
				pl->smem2 = seg_smem(pl->cap2, d.T, pl->fused, d.T);
			}
			pl->mblock = d.K <= SORT_MAX;
			pl->capm = 2048;
			while (pl->capm < d.K)
				pl->capm <<= 1;
			pl->coff = C <= 8192; /* class offsets in shared memory */
			pl->smemm = (size_t)pl->capm * 8 + (pl->coff ? (size_t)(C + 1) * 4 : 0);
			pl->smem_scan = (size_t)4 * d.cbmax * 8;
			if (pl->smem_scan > 48 * 1024)
				pl->smem_scan = 0; /* removed words in global memory */
		}
	}
	size_t o = 0;
#define SLICE(field, bytes) (pl->field = o, o += odet_cuda_align((size_t)(bytes)))
	long long S1 = pl->S1, S = pl->S;
	const bool f = pl->fast, needB = !f || pl->select || pl->cub1, gmask = !f || !pl->fused;
	const bool cmerge = !f || !pl->mblock;
	SLICE(off_keysA, pl->items * 8);
	SLICE(off_keysB, needB ? pl->items * 8 : 0);
	SLICE(off_keysC, f && d.mode == 1 ? pl->S * d.region * 8 : 0);
	SLICE(off_keysD, f && d.mode == 1 && pl->cub2 ? pl->S * d.region * 8 : 0);
	SLICE(off_cnt1, S1 * 4);
	SLICE(off_beg1, S1 * 4);
	SLICE(off_end1, S1 * 4);
	SLICE(off_lstart, S1 * 8);
	SLICE(off_cnt2, S * 4);
	SLICE(off_beg2, S * 4);
	SLICE(off_end2, S * 4);
	SLICE(off_n, S * 4);
	SLICE(off_tiles, S * 8);
	SLICE(off_words, S * 8);
	SLICE(off_tiles_incl, S * 8);
	SLICE(off_words_incl, S * 8);
	SLICE(off_mask, gmask ? pl->mask_words * 8 : 0);
	SLICE(off_removed, gmask ? S * (long long)d.cbmax * 8 + 8 : 0);
	SLICE(off_kept, pl->mitems * 8);
	SLICE(off_kcount, S * 4);
	SLICE(off_mk_in, pl->mitems * 8);
	SLICE(off_mk_out, cmerge ? pl->mitems * 8 : 0);
	SLICE(off_mv_in, cmerge ? pl->mitems * 4 : 0);
	SLICE(off_mv_out, cmerge ? pl->mitems * 4 : 0);
	SLICE(off_moff, (B + 1) * 4);
	SLICE(off_imgc, B * 4);
	SLICE(off_temp, tb);
	SLICE(off_hist, pl->select ? S1 * SEL_BINS * 4 : 0);
	SLICE(off_prefix, pl->select ? S1 * 4 : 0);
	SLICE(off_need, pl->select ? S1 * 4 : 0);
	SLICE(off_ncnt, pl->select ? S1 * 4 : 0);
#undef SLICE
	pl->total = o;
	return ODET_OK;
}

} /* namespace */

#endif
