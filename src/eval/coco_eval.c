/*
 * coco_eval.c — pycocotools' COCOeval (iouType "bbox", useCats 1) evaluate + accumulate +
 * summarize, transcribed for exact agreement, and its printed and JSON output.
 *
 * Parameters (Params.setDetParams): iouThrs = linspace(.5, .95, 10); recThrs = linspace(0, 1,
 * 101); maxDets = 1, 10, 100; areaRng all [0, 1e5^2], small [0, 32^2], medium [32^2, 96^2],
 * large [96^2, 1e5^2] (bounds inclusive on both sides).
 *
 * _prepare: ground truth of the sorted image ids x sorted category ids, grouped per (image,
 *   category) in pycocotools' order (images ascending, file order; an annotation id repeated
 *   in the file resolves to the last record with that id, as loadAnns does); ignore := iscrowd.
 * computeIoU / evaluateImg per (image, category) with ground truth or detections:
 *   detections sorted by descending score (stable), the first 100 kept; IoU as maskUtils.bbIou
 *   (crowd: intersection over detection area); per area range gt _ignore = ignore or area out
 *   of range, gt stably sorted ignored-last; per IoU threshold, per detection the greedy match
 *   of pycocotools (skip matched non-crowd gt, stop at ignored gt once a regular one matched,
 *   best IoU >= threshold, later gt on ties); dtIgnore = gtIgnore of the match, or (dtm == 0 and
 *   the detection's area w*h out of range). dtm holds the gt id, so a match to a gt with id 0
 *   counts as unmatched, as in pycocotools.
 * accumulate per (category, area, maxDet): the first maxDet detections of each image,
 *   concatenated in image order, stably sorted by descending score; tp/fp cumulative sums
 *   (ignored detections count in neither); rc = tp/npig, pr = tp/(fp+tp+spacing(1)); the
 *   precision envelope; q[r] = pr[searchsorted(rc, recThrs[r], 'left')] or 0 past the end;
 *   recall = rc[-1] (0 without detections); -1 where npig == 0.
 * summarize: means over the entries > -1, summed as np.mean does since numpy 2.3 (one pairwise
 *   summation over the whole contiguous array; numpy before 2.3 summed blocks of 8192 elements
 *   in order, which can change the last bit of a figure over more than 8192 entries, e.g. AP
 *   with 9 or more categories) in numpy's element order (t, r, k), so that the figures agree
 *   bit for bit.
 */
#include "eval/coco_internal.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define N_T 10
#define N_R 101
#define N_A 4
#define N_M 3
#define MAX_DET 100

static const int max_dets[N_M] = {1, 10, 100};
static const double area_lo[N_A] = {0.0, 0.0, 1024.0, 9216.0};
static const double area_hi[N_A] = {1e10, 1024.0, 9216.0, 1e10};
static const char *const area_lbl[N_A] = {"all", "small", "medium", "large"};

/* numpy.linspace(start, stop, num): i * step + start, the last element exactly stop. */
static void linspace(double start, double stop, int num, double *y)
{
	double step = (stop - start) / (num - 1);
	for (int i = 0; i < num; i++) {
		double v = (double)i * step;
		y[i] = v + start;
	}
	y[num - 1] = stop;
}

/* numpy's pairwise summation (umath/loops_utils.h.src: below 8 elements in order from -0.0, up to
 * PW_BLOCKSIZE 128 with 8 accumulators added as ((0+1)+(2+3))+((4+5)+(6+7)) then the rest, above
 * that split at n/2 rounded down to a multiple of 8). */
static double pairwise_sum(const double *a, int64_t n)
{
	if (n < 8) {
		double res = -0.0;
		for (int64_t i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		double r[8], res;
		int64_t i;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

double coco_np_mean(const double *a, int64_t m)
{
	/* np.add.reduce: the identity 0 plus the inner loop's pairwise sum; since numpy 2.3 the
	 * iterator hands a contiguous array that needs no buffering to the loop whole ("growinner"
	 * honored for reductions, numpy gh-27883) */
	double sum = 0.0;
	sum += pairwise_sum(a, m);
	return sum / (double)m;
}

/* np.mean(s[s > -1]) or -1 when empty; buf has room for n values. */
static double mean_valid(const double *s, int64_t n, int64_t stride, double *buf)
{
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (s[i * stride] > -1)
			buf[m++] = s[i * stride];
	return m == 0 ? -1 : coco_np_mean(buf, m);
}

/* ---------------------------------------------------------------- stable sort */

typedef struct scored {
	double score;
	int64_t idx;
} scored;

/* Stable sort by descending score (equal scores keep their order): numpy's
 * argsort(-score, kind='mergesort'). */
static void sort_desc_stable(scored *a, scored *tmp, int64_t n)
{
	const int64_t run = 16;
	for (int64_t b = 0; b < n; b += run) {
		int64_t e = b + run < n ? b + run : n;
		for (int64_t i = b + 1; i < e; i++) {
			scored x = a[i];
			int64_t j = i;
			while (j > b && a[j - 1].score < x.score) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = x;
		}
	}
	scored *src = a, *dst = tmp;
	for (int64_t w = run; w < n; w *= 2) {
		for (int64_t lo = 0; lo < n; lo += 2 * w) {
			int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			int64_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				dst[o++] = src[j].score > src[i].score ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		scored *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, (size_t)n * sizeof *a);
}

/* Stable counting sort of perm[0..n) by key[perm[i]] in [0, nkeys). */
static void counting_sort(const int32_t *key, int32_t nkeys, int64_t *perm, int64_t *tmp, int64_t n,
			  int64_t *count)
{
	memset(count, 0, ((size_t)nkeys + 1) * sizeof *count);
	for (int64_t i = 0; i < n; i++)
		count[key[perm[i]] + 1]++;
	for (int32_t k = 0; k < nkeys; k++)
		count[k + 1] += count[k];
	for (int64_t i = 0; i < n; i++)
		tmp[count[key[perm[i]]]++] = perm[i];
	memcpy(perm, tmp, (size_t)n * sizeof *perm);
}

/* ---------------------------------------------------------------- evaluation state */

typedef struct prep {
	const coco_gt_ann **gt; /* ground truth per (category, image), pycocotools' order */
	int32_t *gt_img;
	int64_t *gt_start;      /* [n_cat + 1] */
	int64_t *dt;            /* detection indices per (category, image), file order */
	int64_t *dt_start;      /* [n_cat + 1] */
	double iou_thr[N_T], rec_thr[N_R];
	double *prec;   /* [N_A][N_T][N_R][K] at maxDets 100 */
	double *recall; /* [N_T][K][N_A][N_M] */
} prep;

typedef struct scratch {
	scored *sc, *sc_tmp;
	int64_t cap_sc;
	double *ious;
	int64_t cap_ious;
	uint8_t *gt_ig, *gt_crowd, *gt_used;
	int32_t *gt_ind;
	int64_t cap_g;
	/* per category: one entry per kept detection */
	double *score;
	uint8_t *rank;
	uint16_t *mt, *ig; /* [entry][N_A]: bit t = matched (truthy dtm) / ignored at threshold t */
	int64_t *list;
	double *rc, *pr;
	int64_t cap_k;
	int64_t np[N_A];
} scratch;

static void scratch_free(scratch *s)
{
	free(s->sc);
	free(s->sc_tmp);
	free(s->ious);
	free(s->gt_ig);
	free(s->gt_crowd);
	free(s->gt_used);
	free(s->gt_ind);
	free(s->score);
	free(s->rank);
	free(s->mt);
	free(s->ig);
	free(s->list);
	free(s->rc);
	free(s->pr);
}

static odet_status scratch_reserve(odet_ctx *ctx, scratch *s, int64_t n_sc, int64_t n_ious, int64_t n_g,
				   int64_t n_k)
{
	if (n_sc > s->cap_sc) {
		free(s->sc);
		free(s->sc_tmp);
		s->sc = odet_calloc(ctx, (size_t)n_sc, sizeof *s->sc);
		s->sc_tmp = odet_calloc(ctx, (size_t)n_sc, sizeof *s->sc_tmp);
		s->cap_sc = n_sc;
		if (!s->sc || !s->sc_tmp)
			goto fail;
	}
	if (n_ious > s->cap_ious) {
		free(s->ious);
		s->ious = odet_calloc(ctx, (size_t)n_ious, sizeof *s->ious);
		s->cap_ious = n_ious;
		if (!s->ious)
			goto fail;
	}
	if (n_g > s->cap_g) {
		free(s->gt_ig);
		free(s->gt_crowd);
		free(s->gt_used);
		free(s->gt_ind);
		s->gt_ig = odet_calloc(ctx, (size_t)n_g, 1);
		s->gt_crowd = odet_calloc(ctx, (size_t)n_g, 1);
		s->gt_used = odet_calloc(ctx, (size_t)n_g, 1);
		s->gt_ind = odet_calloc(ctx, (size_t)n_g, sizeof *s->gt_ind);
		s->cap_g = n_g;
		if (!s->gt_ig || !s->gt_crowd || !s->gt_used || !s->gt_ind)
			goto fail;
	}
	if (n_k > s->cap_k) {
		free(s->score);
		free(s->rank);
		free(s->mt);
		free(s->ig);
		free(s->list);
		free(s->rc);
		free(s->pr);
		s->score = odet_calloc(ctx, (size_t)n_k, sizeof *s->score);
		s->rank = odet_calloc(ctx, (size_t)n_k, 1);
		s->mt = odet_calloc(ctx, (size_t)n_k * N_A, sizeof *s->mt);
		s->ig = odet_calloc(ctx, (size_t)n_k * N_A, sizeof *s->ig);
		s->list = odet_calloc(ctx, (size_t)n_k, sizeof *s->list);
		s->rc = odet_calloc(ctx, (size_t)n_k, sizeof *s->rc);
		s->pr = odet_calloc(ctx, (size_t)n_k, sizeof *s->pr);
		s->cap_k = n_k;
		if (!s->score || !s->rank || !s->mt || !s->ig || !s->list || !s->rc || !s->pr)
			goto fail;
	}
	return ODET_OK;
fail:
	scratch_free(s);
	memset(s, 0, sizeof *s);
	return ODET_ERR_NO_MEMORY;
}

/* maskUtils.bbIou for one pair. */
static inline double bb_iou(const double *d, const double *g, int crowd)
{
	double w = fmin(d[2] + d[0], g[2] + g[0]) - fmax(d[0], g[0]);
	if (w <= 0)
		return 0;
	double h = fmin(d[3] + d[1], g[3] + g[1]) - fmax(d[1], g[1]);
	if (h <= 0)
		return 0;
	double i = w * h;
	double da = d[2] * d[3];
	double u = crowd ? da : da + g[2] * g[3] - i;
	return i / u;
}

/* computeIoU + evaluateImg for the 4 area ranges of one (image, category); appends the kept
 * detections to the category's entries at s->... [*nk]. */
static void eval_group(const odet_coco_eval *e, const prep *p, scratch *s, const coco_gt_ann *const *gt,
		       int64_t G, const int64_t *dt, int64_t D, int64_t *nk)
{
	for (int64_t i = 0; i < D; i++)
		s->sc[i] = (scored){e->dets[dt[i]].score, dt[i]};
	sort_desc_stable(s->sc, s->sc_tmp, D);
	if (D > MAX_DET)
		D = MAX_DET;
	for (int64_t g = 0; g < G; g++)
		s->gt_crowd[g] = gt[g]->iscrowd != 0;
	for (int64_t d = 0; d < D; d++)
		for (int64_t g = 0; g < G; g++)
			s->ious[d * G + g] = bb_iou(e->dets[s->sc[d].idx].bbox, gt[g]->bbox, s->gt_crowd[g]);

	int64_t base = *nk;
	for (int64_t d = 0; d < D; d++) {
		s->score[base + d] = s->sc[d].score;
		s->rank[base + d] = (uint8_t)d;
	}
	for (int a = 0; a < N_A; a++) {
		int64_t n_reg = 0;
		for (int64_t g = 0; g < G; g++) {
			s->gt_ig[g] = s->gt_crowd[g] || gt[g]->area < area_lo[a] || gt[g]->area > area_hi[a];
			if (!s->gt_ig[g])
				s->gt_ind[n_reg++] = (int32_t)g;
		}
		s->np[a] += n_reg;
		for (int64_t g = 0, j = n_reg; g < G; g++)
			if (s->gt_ig[g])
				s->gt_ind[j++] = (int32_t)g;
		for (int64_t d = 0; d < D; d++) {
			s->mt[(base + d) * N_A + a] = 0;
			s->ig[(base + d) * N_A + a] = 0;
		}
		for (int t = 0; t < N_T && G > 0; t++) {
			memset(s->gt_used, 0, (size_t)G);
			for (int64_t d = 0; d < D; d++) {
				double iou = p->iou_thr[t] < 1 - 1e-10 ? p->iou_thr[t] : 1 - 1e-10;
				int64_t m = -1;
				const double *row = s->ious + d * G;
				for (int64_t j = 0; j < G; j++) {
					int32_t g = s->gt_ind[j];
					if (s->gt_used[g] && !s->gt_crowd[g])
						continue;
					if (m > -1 && !s->gt_ig[m] && s->gt_ig[g])
						break;
					if (row[g] < iou)
						continue;
					iou = row[g];
					m = g;
				}
				if (m == -1)
					continue;
				if (s->gt_ig[m])
					s->ig[(base + d) * N_A + a] |= (uint16_t)(1u << t);
				if (gt[m]->id != 0)
					s->mt[(base + d) * N_A + a] |= (uint16_t)(1u << t);
				s->gt_used[m] = 1;
			}
		}
		/* unmatched (dtm == 0) detections outside the area range are ignored */
		for (int64_t d = 0; d < D; d++) {
			const double *bb = e->dets[s->sc[d].idx].bbox;
			double area = bb[2] * bb[3];
			if (area < area_lo[a] || area > area_hi[a])
				s->ig[(base + d) * N_A + a] |= (uint16_t)(~s->mt[(base + d) * N_A + a] & ((1u << N_T) - 1));
		}
	}
	*nk = base + D;
}

/* evaluate + accumulate of one category. */
static odet_status eval_category(const odet_coco_eval *e, prep *p, scratch *s, int32_t k)
{
	odet_status rc;
	const int32_t K = e->n_cat;
	int64_t gp = p->gt_start[k], ge = p->gt_start[k + 1];
	int64_t dp = p->dt_start[k], de = p->dt_start[k + 1];
	int64_t nk = 0;
	memset(s->np, 0, sizeof s->np);

	/* entries: at most 100 per image */
	int64_t cap = 0;
	for (int64_t i = dp; i < de;) {
		int32_t img = e->dets[p->dt[i]].img;
		int64_t j = i;
		while (j < de && e->dets[p->dt[j]].img == img)
			j++;
		cap += j - i < MAX_DET ? j - i : MAX_DET;
		i = j;
	}
	rc = scratch_reserve(e->ctx, s, cap + 1, 0, 0, cap + 1);
	if (rc)
		return rc;

	while (gp < ge || dp < de) {
		int32_t ig = gp < ge ? p->gt_img[gp] : INT32_MAX;
		int32_t id = dp < de ? e->dets[p->dt[dp]].img : INT32_MAX;
		int32_t img = ig < id ? ig : id;
		int64_t g0 = gp, d0 = dp;
		while (gp < ge && p->gt_img[gp] == img)
			gp++;
		while (dp < de && e->dets[p->dt[dp]].img == img)
			dp++;
		int64_t G = gp - g0, D = dp - d0, Dk = D < MAX_DET ? D : MAX_DET;
		rc = scratch_reserve(e->ctx, s, D + 1, Dk * G + 1, G + 1, 0);
		if (rc)
			return rc;
		eval_group(e, p, s, p->gt + g0, G, p->dt + d0, D, &nk);
	}

	/* one stable order by descending score over the concatenation (images ascending, then
	 * rank); the selection per maxDet keeps that relative order */
	for (int64_t i = 0; i < nk; i++)
		s->sc[i] = (scored){s->score[i], i};
	sort_desc_stable(s->sc, s->sc_tmp, nk);

	for (int m = 0; m < N_M; m++) {
		int64_t nd = 0;
		for (int64_t i = 0; i < nk; i++)
			if (s->rank[s->sc[i].idx] < max_dets[m])
				s->list[nd++] = s->sc[i].idx;
		for (int a = 0; a < N_A; a++) {
			if (s->np[a] == 0)
				continue;
			double npig = (double)s->np[a];
			for (int t = 0; t < N_T; t++) {
				double *rec = &p->recall[(((int64_t)t * K + k) * N_A + a) * N_M + m];
				int64_t tp = 0, fp = 0;
				if (m != N_M - 1) {
					for (int64_t j = 0; j < nd; j++) {
						int64_t x = s->list[j] * N_A + a;
						if (!((s->ig[x] >> t) & 1))
							tp += (s->mt[x] >> t) & 1;
					}
					*rec = nd ? (double)tp / npig : 0;
					continue;
				}
				/* ignored detections only repeat the previous rc/pr (0/0 and 0/eps at
				 * the start): dropping them changes neither rc[-1], nor the envelope's
				 * suffix maxima, nor the value searchsorted picks */
				int64_t n = 0;
				for (int64_t j = 0; j < nd; j++) {
					int64_t x = s->list[j] * N_A + a;
					if ((s->ig[x] >> t) & 1)
						continue;
					if ((s->mt[x] >> t) & 1)
						tp++;
					else
						fp++;
					s->rc[n] = (double)tp / npig;
					s->pr[n] = (double)tp / ((double)fp + (double)tp + DBL_EPSILON);
					n++;
				}
				*rec = n ? s->rc[n - 1] : 0;
				for (int64_t j = n - 1; j > 0; j--)
					if (s->pr[j] > s->pr[j - 1])
						s->pr[j - 1] = s->pr[j];
				int64_t ptr = 0;
				for (int r = 0; r < N_R; r++) {
					while (ptr < n && s->rc[ptr] < p->rec_thr[r])
						ptr++;
					p->prec[(((int64_t)a * N_T + t) * N_R + r) * K + k] = ptr < n ? s->pr[ptr] : 0;
				}
			}
		}
	}
	return ODET_OK;
}

typedef struct par_job {
	const odet_coco_eval *e;
	prep *p;
	scratch *s; /* one per thread */
	odet_status *rc;
	_Atomic int32_t next; /* categories are taken one at a time: their sizes vary */
} par_job;

static void eval_range(void *arg, int64_t begin, int64_t end, int thread)
{
	par_job *j = arg;
	for (;;) {
		int32_t k = atomic_fetch_add(&j->next, 1);
		if (k >= j->e->n_cat || j->rc[thread])
			break;
		j->rc[thread] = eval_category(j->e, j->p, &j->s[thread], k);
	}
}

/* Ground truth and detections in pycocotools' order, grouped by (category, image). */
static odet_status prepare(odet_coco_eval *e, prep *p)
{
	odet_status rc = ODET_OK;
	odet_ctx *ctx = e->ctx;
	const int32_t I = e->n_img, K = e->n_cat;
	int64_t n = e->n_anns > e->n_dets ? e->n_anns : e->n_dets;
	int64_t nb = (I > K ? I : K) + 1;
	int64_t *perm = odet_malloc(ctx, (size_t)(n + 1) * sizeof *perm);
	int64_t *tmp = odet_malloc(ctx, (size_t)(n + 1) * sizeof *tmp);
	int64_t *count = odet_malloc(ctx, (size_t)(nb + 1) * sizeof *count);
	int32_t *src_img = odet_malloc(ctx, (size_t)(e->n_anns + 1) * sizeof *src_img);
	int32_t *tgt_img = odet_malloc(ctx, (size_t)(e->n_anns + 1) * sizeof *tgt_img);
	int32_t *tgt_cat = odet_malloc(ctx, (size_t)(e->n_anns + 1) * sizeof *tgt_cat);
	int32_t *key = odet_malloc(ctx, (size_t)(e->n_dets + 1) * sizeof *key);
	coco_id_map ann_map = {0};
	if (!perm || !tmp || !count || !src_img || !tgt_img || !tgt_cat || !key) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	rc = coco_id_map_init(ctx, &ann_map, (size_t)e->n_anns);
	if (rc)
		goto out_free;
	/* loadAnns: an id maps to the last annotation with that id */
	for (int64_t i = 0; i < e->n_anns; i++)
		coco_id_map_put(&ann_map, e->anns[i].id, (int32_t)i);
	int64_t ng = 0;
	for (int64_t i = 0; i < e->n_anns; i++) {
		const coco_gt_ann *a = &e->anns[i];
		int32_t si = coco_id_map_get(&e->img_map, a->image_id);
		if (si < 0 || coco_id_map_get(&e->cat_map, a->category_id) < 0)
			continue; /* getAnnIds(imgIds, catIds) filters on the record itself */
		const coco_gt_ann *t = &e->anns[coco_id_map_get(&ann_map, a->id)];
		int32_t ti = coco_id_map_get(&e->img_map, t->image_id);
		int32_t tc = coco_id_map_get(&e->cat_map, t->category_id);
		if (ti < 0 || tc < 0)
			continue; /* grouped under a key evaluate() never visits */
		src_img[i] = si;
		tgt_img[i] = ti;
		tgt_cat[i] = tc;
		perm[ng++] = i;
	}
	/* order of the gts list: image ascending then file order; then group (category, image) */
	counting_sort(src_img, I, perm, tmp, ng, count);
	counting_sort(tgt_img, I, perm, tmp, ng, count);
	counting_sort(tgt_cat, K, perm, tmp, ng, count);
	p->gt = odet_malloc(ctx, (size_t)(ng + 1) * sizeof *p->gt);
	p->gt_img = odet_malloc(ctx, (size_t)(ng + 1) * sizeof *p->gt_img);
	p->gt_start = odet_calloc(ctx, (size_t)K + 2, sizeof *p->gt_start);
	if (!p->gt || !p->gt_img || !p->gt_start) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int64_t i = 0; i < ng; i++) {
		int64_t a = perm[i];
		p->gt[i] = &e->anns[coco_id_map_get(&ann_map, e->anns[a].id)];
		p->gt_img[i] = tgt_img[a];
		p->gt_start[tgt_cat[a] + 1]++;
	}
	for (int32_t k = 0; k < K; k++)
		p->gt_start[k + 1] += p->gt_start[k];

	/* detections: file order, grouped by (category, image) */
	p->dt = odet_malloc(ctx, (size_t)(e->n_dets + 1) * sizeof *p->dt);
	p->dt_start = odet_calloc(ctx, (size_t)K + 2, sizeof *p->dt_start);
	if (!p->dt || !p->dt_start) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int64_t i = 0; i < e->n_dets; i++) {
		p->dt[i] = i;
		key[i] = e->dets[i].img;
	}
	counting_sort(key, I, p->dt, tmp, e->n_dets, count);
	for (int64_t i = 0; i < e->n_dets; i++) {
		key[i] = e->dets[i].cat;
		p->dt_start[key[i] + 1]++;
	}
	counting_sort(key, K, p->dt, tmp, e->n_dets, count);
	for (int32_t k = 0; k < K; k++)
		p->dt_start[k + 1] += p->dt_start[k];
out_free:
	coco_id_map_free(&ann_map);
	free(perm);
	free(tmp);
	free(count);
	free(src_img);
	free(tgt_img);
	free(tgt_cat);
	free(key);
	return rc;
}

odet_status odet_coco_eval_evaluate(odet_coco_eval *e)
{
	odet_status rc;
	odet_ctx *ctx = e->ctx;
	const int32_t K = e->n_cat;
	prep p;
	memset(&p, 0, sizeof p);
	linspace(.5, 0.95, (int)round((0.95 - .5) / .05) + 1, p.iou_thr);
	linspace(.0, 1.00, (int)round((1.00 - .0) / .01) + 1, p.rec_thr);
	e->evaluated = 0;
	free(e->class_ap);
	e->class_ap = NULL;

	int n_threads = ctx && ctx->pool ? odet_threadpool_size(ctx->pool) : 1;
	if (n_threads < 1)
		n_threads = 1;
	scratch *s = odet_calloc(ctx, (size_t)n_threads, sizeof *s);
	odet_status *trc = odet_calloc(ctx, (size_t)n_threads, sizeof *trc);
	size_t n_prec = (size_t)N_A * N_T * N_R * (size_t)K, n_rec = (size_t)N_T * K * N_A * N_M;
	p.prec = odet_malloc(ctx, (n_prec + 1) * sizeof *p.prec);
	p.recall = odet_malloc(ctx, (n_rec + 1) * sizeof *p.recall);
	double *buf = odet_malloc(ctx, ((size_t)N_T * N_R * K + 1) * sizeof *buf);
	e->class_ap = odet_malloc(ctx, ((size_t)K * 3 + 1) * sizeof *e->class_ap);
	if (!s || !trc || !p.prec || !p.recall || !buf || !e->class_ap) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (size_t i = 0; i < n_prec; i++)
		p.prec[i] = -1;
	for (size_t i = 0; i < n_rec; i++)
		p.recall[i] = -1;
	rc = prepare(e, &p);
	if (rc)
		goto out_free;

	par_job job = {e, &p, s, trc, 0};
	odet_parallel_for(ctx ? ctx->pool : NULL, n_threads, 1, eval_range, &job);
	for (int i = 0; i < n_threads; i++)
		if (trc[i]) {
			rc = trc[i];
			goto out_free;
		}

	/* summarize: precision[T,R,K,A,M] and recall[T,K,A,M] flattened in numpy's order */
	int t50 = -1, t75 = -1;
	for (int t = 0; t < N_T; t++) {
		if (p.iou_thr[t] == .5)
			t50 = t;
		if (p.iou_thr[t] == .75)
			t75 = t;
	}
	const int64_t TRK = (int64_t)N_T * N_R * K, RK = (int64_t)N_R * K;
	e->stats[ODET_COCO_AP] = mean_valid(p.prec, TRK, 1, buf);
	e->stats[ODET_COCO_AP50] = t50 < 0 ? -1 : mean_valid(p.prec + t50 * RK, RK, 1, buf);
	e->stats[ODET_COCO_AP75] = t75 < 0 ? -1 : mean_valid(p.prec + t75 * RK, RK, 1, buf);
	for (int a = 1; a < N_A; a++)
		e->stats[ODET_COCO_AP + 2 + a] = mean_valid(p.prec + a * TRK, TRK, 1, buf);
	for (int m = 0; m < N_M; m++)
		e->stats[ODET_COCO_AR1 + m] = mean_valid(p.recall + m, (int64_t)N_T * K, N_A * N_M, buf);
	for (int a = 1; a < N_A; a++)
		e->stats[ODET_COCO_AR100 + a] = mean_valid(p.recall + a * N_M + 2, (int64_t)N_T * K, N_A * N_M, buf);
	/* per class, area all, maxDets 100: mean over (t, r) */
	for (int32_t k = 0; k < K; k++) {
		e->class_ap[k * 3 + 0] = mean_valid(p.prec + k, (int64_t)N_T * N_R, K, buf);
		e->class_ap[k * 3 + 1] = t50 < 0 ? -1 : mean_valid(p.prec + t50 * RK + k, N_R, K, buf);
		e->class_ap[k * 3 + 2] = t75 < 0 ? -1 : mean_valid(p.prec + t75 * RK + k, N_R, K, buf);
	}
	e->evaluated = 1;
out_free:
	if (s)
		for (int i = 0; i < n_threads; i++)
			scratch_free(&s[i]);
	free(s);
	free(trc);
	free(p.prec);
	free(p.recall);
	free(buf);
	free(p.gt);
	free(p.gt_img);
	free(p.gt_start);
	free(p.dt);
	free(p.dt_start);
	if (rc) {
		free(e->class_ap);
		e->class_ap = NULL;
	}
	return rc;
}

const double *odet_coco_eval_stats(const odet_coco_eval *e)
{
	return e->evaluated ? e->stats : NULL;
}

double odet_coco_eval_class_ap(const odet_coco_eval *e, int k, int which)
{
	if (!e->evaluated || k < 0 || k >= e->n_cat || which < 0 || which > 2)
		return -1;
	return e->class_ap[k * 3 + which];
}

/* ---------------------------------------------------------------- output */

static const struct {
	int ap;
	const char *iou;
	int area;
	int max_det;
	const char *key;
} summary_lines[ODET_COCO_NUM_STATS] = {
	{1, "0.50:0.95", 0, 100, "AP"},   {1, "0.50", 0, 100, "AP50"},      {1, "0.75", 0, 100, "AP75"},
	{1, "0.50:0.95", 1, 100, "APs"},  {1, "0.50:0.95", 2, 100, "APm"},  {1, "0.50:0.95", 3, 100, "APl"},
	{0, "0.50:0.95", 0, 1, "AR1"},    {0, "0.50:0.95", 0, 10, "AR10"},  {0, "0.50:0.95", 0, 100, "AR100"},
	{0, "0.50:0.95", 1, 100, "ARs"},  {0, "0.50:0.95", 2, 100, "ARm"},  {0, "0.50:0.95", 3, 100, "ARl"},
};

void odet_coco_eval_print_summary(const odet_coco_eval *e, FILE *f)
{
	if (!e->evaluated)
		return;
	for (int i = 0; i < ODET_COCO_NUM_STATS; i++)
		fprintf(f, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
			summary_lines[i].ap ? "Average Precision" : "Average Recall",
			summary_lines[i].ap ? "(AP)" : "(AR)", summary_lines[i].iou,
			area_lbl[summary_lines[i].area], summary_lines[i].max_det, e->stats[i]);
}

void odet_coco_eval_print_per_class(const odet_coco_eval *e, FILE *f)
{
	if (!e->evaluated)
		return;
	fprintf(f, "%8s  %-24s %7s %7s %7s\n", "id", "category", "AP", "AP50", "AP75");
	for (int32_t k = 0; k < e->n_cat; k++) {
		fprintf(f, "%8lld  %-24.24s", (long long)e->cat_ids[k], odet_coco_eval_category_name(e, k));
		for (int w = 0; w < 3; w++) {
			double v = e->class_ap[k * 3 + w];
			if (v < 0)
				fprintf(f, " %7s", "-");
			else
				fprintf(f, " %7.3f", 100 * v);
		}
		fprintf(f, "\n");
	}
}

typedef struct strbuf {
	char *p;
	size_t len, cap;
	int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

static void sb_json_string(strbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

odet_status odet_coco_eval_write_json(const odet_coco_eval *e, const char *path)
{
	if (!e->evaluated)
		return odet_error(e->ctx, ODET_ERR_INVALID_ARG, "%s: nothing evaluated", path);
	strbuf b = {0};
	sb_printf(&b, "{\n  \"stats\": [");
	for (int i = 0; i < ODET_COCO_NUM_STATS; i++)
		sb_printf(&b, "%s%.17g", i ? ", " : "", e->stats[i]);
	sb_printf(&b, "],\n");
	for (int i = 0; i < ODET_COCO_NUM_STATS; i++)
		sb_printf(&b, "  \"%s\": %.17g,\n", summary_lines[i].key, e->stats[i]);
	sb_printf(&b, "  \"images\": %lld,\n  \"categories\": %d,\n  \"detections\": %lld,\n"
		      "  \"detections_unknown_category\": %lld,\n  \"per_class\": [",
		  (long long)e->n_img, e->n_cat, (long long)e->n_dets_seen, (long long)e->n_unknown_cat);
	for (int32_t k = 0; k < e->n_cat; k++) {
		sb_printf(&b, "%s\n    {\"id\": %lld, \"name\": ", k ? "," : "", (long long)e->cat_ids[k]);
		sb_json_string(&b, odet_coco_eval_category_name(e, k));
		sb_printf(&b, ", \"AP\": %.17g, \"AP50\": %.17g, \"AP75\": %.17g}", e->class_ap[k * 3],
			  e->class_ap[k * 3 + 1], e->class_ap[k * 3 + 2]);
	}
	sb_printf(&b, "\n  ]\n}\n");
	if (b.oom) {
		free(b.p);
		return odet_error(e->ctx, ODET_ERR_NO_MEMORY, "%s: out of memory", path);
	}
	odet_status rc = odet_file_write_atomic(e->ctx, path, b.p, b.len);
	free(b.p);
	return rc;
}
