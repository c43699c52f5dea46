/*
 * nms.c — op BatchedNms on the CPU: class-aware batched NMS + top-k (semantics in nms.h).
 *
 * Inputs  boxes [B,N,4] f32|f16 (x1 y1 x2 y2), scores [B,N,C] f32|f16 (the boxes' dtype), or
 *         with activation/layout set logits [B,N,C] | [B,C,N] f32|f16 (either with either boxes dtype).
 * Outputs det_count [B] i32, det_boxes [B,K,4] f32, det_scores [B,K] f32, det_classes [B,K] i32.
 * Attributes score_threshold, iou_threshold, topk, topk_mode, level_sizes (ints), max_detections,
 * background, iou_ge, out_scale_x, out_scale_y, max_per_class (kept per class, 0 = no limit),
 * activation (0 none, 1 softmax, 2 sigmoid), layout (0 [B,N,C], 1 [B,C,N]) of input 1.
 * Fused scores: ClassScores' own row code (cpu_class_scores_rows, decode.c) writes the [B,N,C]
 * f32 scores into the workspace first (threaded over rows), then the NMS below reads them.
 * Algorithm: topk_mode 0 runs one task per (image, class) — bounded heap for the top-k, sort,
 * greedy NMS that stops after K kept — then one task per image merges the kept lists.
 * topk_mode 1 runs one task per image (per-level heaps, grouping by class, greedy per class).
 * Workspace: per (image,class) kept lists plus per-thread scratch, sized at prepare.
 */
#include "backend/cpu/nms.h"
#include "backend/cpu/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
	float s;
	int32_t i; /* anchor */
	int32_t c; /* class */
} cand;

/* a ranks before b: higher score, then lower anchor, then lower class */
static inline int cand_before(const cand *a, const cand *b)
{
	if (a->s != b->s)
		return a->s > b->s;
	if (a->i != b->i)
		return a->i < b->i;
	return a->c < b->c;
}

static int cand_cmp(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	return cand_before(a, b) ? -1 : cand_before(b, a) ? 1 : 0;
}

static int cand_cmp_class(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	if (a->c != b->c)
		return a->c < b->c ? -1 : 1;
	return cand_cmp(pa, pb);
}

/* Min-heap on rank (root = worst kept): keeps the best `cap` candidates pushed. */
static void heap_sift_down(cand *h, int64_t n, int64_t k)
{
	for (;;) {
		int64_t l = 2 * k + 1, r = l + 1, w = k;
		if (l < n && cand_before(&h[w], &h[l]))
			w = l;
		if (r < n && cand_before(&h[w], &h[r]))
			w = r;
		if (w == k)
			return;
		cand t = h[k];
		h[k] = h[w];
		h[w] = t;
		k = w;
	}
}

static void heap_push(cand *h, int64_t *n, int64_t cap, cand c)
{
	if (*n < cap) {
		int64_t k = (*n)++;
		h[k] = c;
		while (k > 0) {
			int64_t p = (k - 1) / 2;
			if (!cand_before(&h[p], &h[k]))
				break;
			cand t = h[k];
			h[k] = h[p];
			h[p] = t;
			k = p;
		}
	} else if (cap > 0 && cand_before(&c, &h[0])) {
		h[0] = c;
		heap_sift_down(h, *n, 0);
	}
}

static inline float ld(const void *p, odet_dtype dt, int64_t i)
{
	return dt == ODET_F16 ? odet_f16_to_f32(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

static inline float fmax_t(float a, float b) { return a < b ? b : a; } /* std::max */
static inline float fmin_t(float a, float b) { return b < a ? b : a; } /* std::min */

/* torchvision's nms_kernel_impl test for box j against kept box i */
static inline int suppresses(const float *bi, float ai, const float *bj, float aj, float thr, int ge)
{
	float xx1 = fmax_t(bi[0], bj[0]), yy1 = fmax_t(bi[1], bj[1]);
	float xx2 = fmin_t(bi[2], bj[2]), yy2 = fmin_t(bi[3], bj[3]);
	float w = fmax_t(0.0f, xx2 - xx1), h = fmax_t(0.0f, yy2 - yy1);
	float inter = w * h;
	float ovr = inter / (ai + aj - inter);
	return ge ? ovr >= thr : ovr > thr;
}

/* Greedy NMS over n candidates sorted best first, all of one class. Fills box/area scratch,
 * writes kept positions into keep (at most cap). Returns the count kept. */
static int64_t greedy(const cand *cs, int64_t n, const void *boxes, odet_dtype dt, float thr, int ge,
		      float *bx, float *area, uint8_t *supp, int64_t cap, int64_t *keep)
{
	for (int64_t k = 0; k < n; k++) {
		for (int j = 0; j < 4; j++)
			bx[4 * k + j] = ld(boxes, dt, (int64_t)cs[k].i * 4 + j);
		area[k] = (bx[4 * k + 2] - bx[4 * k + 0]) * (bx[4 * k + 3] - bx[4 * k + 1]);
		supp[k] = 0;
	}
	int64_t nk = 0;
	for (int64_t k = 0; k < n && nk < cap; k++) {
		if (supp[k])
			continue;
		keep[nk++] = k;
		for (int64_t j = k + 1; j < n; j++)
			if (!supp[j] && suppresses(&bx[4 * k], area[k], &bx[4 * j], area[j], thr, ge))
				supp[j] = 1;
	}
	return nk;
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

typedef struct plan {
	int64_t B, N, C, K;
	int64_t kc;          /* mode 0: kept entries per (image, class) */
	int64_t m;           /* candidates per task (scratch rows) */
	size_t kept_off, cnt_off, scratch_off, scratch_size;
	size_t scores_off;   /* fused class scores: [B,N,C] f32 */
	size_t total;
} plan;

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

static odet_status make_plan(const nms_params *p, int64_t B, int64_t N, int64_t C, int n_threads, plan *pl)
{
	memset(pl, 0, sizeof *pl);
	pl->B = B, pl->N = N, pl->C = C, pl->K = p->max_detections;
	int64_t topk = p->topk > 0 ? p->topk : INT64_MAX;
	int64_t m;
	if (p->topk_mode == 0) {
		pl->kc = min64(min64(topk, N), pl->K);
		if (p->max_per_class > 0)
			pl->kc = min64(pl->kc, p->max_per_class);
		m = N;
		int64_t merge;
		if (!odet_mul_i64(C, pl->kc, &merge))
			return ODET_ERR_LIMIT;
		if (merge > m)
			m = merge;
	} else {
		m = 0;
		for (int l = 0; l < p->n_levels; l++) {
			int64_t pairs;
			if (!odet_mul_i64(p->level_sizes[l], C, &pairs) || !odet_add_i64(m, min64(topk, pairs), &m))
				return ODET_ERR_LIMIT;
		}
	}
	if (m < 1)
		m = 1;
	pl->m = m;
	/* scratch per thread: 2 cand arrays, 4+1 floats, 1 byte, 1 int64 per row */
	size_t row = 2 * sizeof(cand) + 5 * sizeof(float) + 1 + sizeof(int64_t), s, t;
	if (!odet_mul_size((size_t)m, row, &s))
		return ODET_ERR_LIMIT;
	pl->scratch_size = align64(s + 5 * 64);
	size_t kept = 0, cnt = 0;
	if (p->topk_mode == 0) {
		if (!odet_mul_size((size_t)B * (size_t)C, (size_t)pl->kc * sizeof(cand), &kept))
			return ODET_ERR_LIMIT;
		cnt = (size_t)B * (size_t)C * sizeof(int64_t);
	}
	pl->kept_off = 0;
	pl->cnt_off = align64(kept);
	pl->scratch_off = pl->cnt_off + align64(cnt);
	if (!odet_mul_size(pl->scratch_size, (size_t)(n_threads < 1 ? 1 : n_threads), &t) ||
	    !odet_add_size(pl->scratch_off, t, &pl->total))
		return ODET_ERR_LIMIT;
	pl->scores_off = align64(pl->total);
	if (nms_fused_scores(p)) {
		int64_t items;
		size_t sb;
		if (!odet_mul_i64(B, N, &items) || !odet_mul_i64(items, C, &items) ||
		    !odet_mul_size((size_t)items, sizeof(float), &sb) || pl->scores_off < pl->total ||
		    !odet_add_size(pl->scores_off, sb, &pl->total))
			return ODET_ERR_LIMIT;
	}
	return ODET_OK;
}

typedef struct scratch {
	cand *a, *b;
	float *bx, *area;
	uint8_t *supp;
	int64_t *keep;
} scratch;

static scratch scratch_of(const plan *pl, void *ws, int thread)
{
	uint8_t *base = (uint8_t *)ws + pl->scratch_off + (size_t)thread * pl->scratch_size;
	size_t m = (size_t)pl->m, off = 0;
	scratch s;
	s.a = (cand *)(base + off), off = align64(off + m * sizeof(cand));
	s.b = (cand *)(base + off), off = align64(off + m * sizeof(cand));
	s.keep = (int64_t *)(base + off), off = align64(off + m * sizeof(int64_t));
	s.bx = (float *)(base + off), off = align64(off + m * 4 * sizeof(float));
	s.area = (float *)(base + off), off = align64(off + m * sizeof(float));
	s.supp = base + off;
	return s;
}

typedef struct job {
	const nms_params *p;
	plan pl;
	odet_dtype bdt, sdt;         /* boxes, scores */
	const void *boxes, *scores;
	odet_dtype ldt;              /* fused: logits */
	const void *logits;
	void *ws;
	int32_t *count;
	float *oboxes, *oscores;
	int32_t *oclasses;
} job;

static inline int cand_ok(float s, float thr)
{
	return isfinite(s) && s > thr;
}

/* fused class scores: rows (image, anchor) of the logits into the workspace's [B,N,C] f32 */
static void task_scores(void *arg, int64_t begin, int64_t end, int thread)
{
	const job *j = arg;
	cpu_class_scores_rows(j->logits, j->ldt, j->p->layout, j->p->activation, j->pl.N, j->pl.C, begin, end,
			      (float *)((uint8_t *)j->ws + j->pl.scores_off));
}

/* mode 0, one (image, class): top-k, greedy, kept list into the workspace */
static void task_class(void *arg, int64_t begin, int64_t end, int thread)
{
	job *j = arg;
	const plan *pl = &j->pl;
	scratch s = scratch_of(pl, j->ws, thread);
	cand *kept_all = (cand *)((uint8_t *)j->ws + pl->kept_off);
	int64_t *cnt = (int64_t *)((uint8_t *)j->ws + pl->cnt_off);
	int64_t topk = j->p->topk > 0 ? min64(j->p->topk, pl->N) : pl->N;
	for (int64_t t = begin; t < end; t++) {
		int64_t b = t / pl->C, c = t % pl->C;
		cnt[t] = 0;
		if (c == j->p->background)
			continue;
		int64_t n = 0;
		for (int64_t i = 0; i < pl->N; i++) {
			float sc = ld(j->scores, j->sdt, (b * pl->N + i) * pl->C + c);
			if (cand_ok(sc, j->p->score_threshold))
				heap_push(s.a, &n, topk, (cand){sc, (int32_t)i, (int32_t)c});
		}
		if (!n)
			continue;
		qsort(s.a, (size_t)n, sizeof(cand), cand_cmp);
		const void *bb = (const uint8_t *)j->boxes + (size_t)(b * pl->N * 4) * odet_dtype_size(j->bdt);
		int64_t nk = greedy(s.a, n, bb, j->bdt, j->p->iou_threshold, j->p->iou_ge, s.bx, s.area, s.supp,
				    pl->kc, s.keep);
		cand *kept = kept_all + t * pl->kc;
		for (int64_t k = 0; k < nk; k++)
			kept[k] = s.a[s.keep[k]];
		cnt[t] = nk;
	}
}

static void write_image(const job *j, int64_t b, const cand *sorted, int64_t n)
{
	const plan *pl = &j->pl;
	int64_t K = pl->K, w = min64(n, K);
	const void *bb = (const uint8_t *)j->boxes + (size_t)(b * pl->N * 4) * odet_dtype_size(j->bdt);
	float *ob = j->oboxes + b * K * 4;
	for (int64_t k = 0; k < w; k++) {
		const cand *c = &sorted[k];
		ob[4 * k + 0] = ld(bb, j->bdt, (int64_t)c->i * 4 + 0) * j->p->out_scale_x;
		ob[4 * k + 1] = ld(bb, j->bdt, (int64_t)c->i * 4 + 1) * j->p->out_scale_y;
		ob[4 * k + 2] = ld(bb, j->bdt, (int64_t)c->i * 4 + 2) * j->p->out_scale_x;
		ob[4 * k + 3] = ld(bb, j->bdt, (int64_t)c->i * 4 + 3) * j->p->out_scale_y;
		j->oscores[b * K + k] = c->s;
		j->oclasses[b * K + k] = c->c;
	}
	memset(ob + 4 * w, 0, sizeof(float) * (size_t)(4 * (K - w)));
	memset(j->oscores + b * K + w, 0, sizeof(float) * (size_t)(K - w));
	memset(j->oclasses + b * K + w, 0, sizeof(int32_t) * (size_t)(K - w));
	j->count[b] = (int32_t)w;
}

/* mode 0, one image: merge the per-class kept lists */
static void task_merge(void *arg, int64_t begin, int64_t end, int thread)
{
	job *j = arg;
	const plan *pl = &j->pl;
	scratch s = scratch_of(pl, j->ws, thread);
	const cand *kept_all = (const cand *)((const uint8_t *)j->ws + pl->kept_off);
	const int64_t *cnt = (const int64_t *)((const uint8_t *)j->ws + pl->cnt_off);
	for (int64_t b = begin; b < end; b++) {
		int64_t n = 0;
		for (int64_t c = 0; c < pl->C; c++) {
			const cand *kept = kept_all + (b * pl->C + c) * pl->kc;
			for (int64_t k = 0; k < cnt[b * pl->C + c]; k++)
				s.a[n++] = kept[k];
		}
		qsort(s.a, (size_t)n, sizeof(cand), cand_cmp);
		write_image(j, b, s.a, n);
	}
}

/* mode 1, one image: per-level top-k over (anchor, class), then per-class greedy */
static void task_level(void *arg, int64_t begin, int64_t end, int thread)
{
	job *j = arg;
	const plan *pl = &j->pl;
	const nms_params *p = j->p;
	scratch s = scratch_of(pl, j->ws, thread);
	for (int64_t b = begin; b < end; b++) {
		int64_t n = 0, a0 = 0;
		for (int l = 0; l < p->n_levels; l++) {
			int64_t nl = 0, cap = p->topk > 0 ? p->topk : INT64_MAX;
			cand *h = s.a + n;
			for (int64_t i = a0; i < a0 + p->level_sizes[l]; i++)
				for (int64_t c = 0; c < pl->C; c++) {
					float sc = ld(j->scores, j->sdt, (b * pl->N + i) * pl->C + c);
					if (c != p->background && cand_ok(sc, p->score_threshold))
						heap_push(h, &nl, cap, (cand){sc, (int32_t)i, (int32_t)c});
				}
			n += nl;
			a0 += p->level_sizes[l];
		}
		qsort(s.a, (size_t)n, sizeof(cand), cand_cmp_class);
		const void *bb = (const uint8_t *)j->boxes + (size_t)(b * pl->N * 4) * odet_dtype_size(j->bdt);
		int64_t nk = 0;
		for (int64_t g0 = 0; g0 < n;) {
			int64_t g1 = g0;
			while (g1 < n && s.a[g1].c == s.a[g0].c)
				g1++;
			int64_t cap = p->max_per_class > 0 ? min64(pl->K, p->max_per_class) : pl->K;
			int64_t k = greedy(s.a + g0, g1 - g0, bb, j->bdt, p->iou_threshold, p->iou_ge, s.bx, s.area,
					   s.supp, cap, s.keep);
			for (int64_t q = 0; q < k; q++)
				s.b[nk++] = s.a[g0 + s.keep[q]];
			g0 = g1;
		}
		qsort(s.b, (size_t)nk, sizeof(cand), cand_cmp);
		write_image(j, b, s.b, nk);
	}
}

odet_status cpu_nms_workspace_size(const nms_params *p, int64_t B, int64_t N, int64_t C, int n_threads,
				   size_t *bytes)
{
	plan pl;
	odet_status rc = make_plan(p, B, N, C, n_threads, &pl);
	*bytes = rc ? 0 : pl.total;
	return rc;
}

odet_status cpu_nms_run_dtypes(odet_ctx *ctx, odet_threadpool *pool, int n_threads, const nms_params *p,
			       int64_t B, int64_t N, int64_t C, odet_dtype box_dtype, const void *boxes,
			       odet_dtype score_dtype, const void *scores, void *workspace, size_t workspace_size,
			       int32_t *det_count, float *det_boxes, float *det_scores, int32_t *det_classes)
{
	job j = {.p = p, .bdt = box_dtype, .sdt = score_dtype, .boxes = boxes, .scores = scores, .ws = workspace,
		 .count = det_count, .oboxes = det_boxes, .oscores = det_scores, .oclasses = det_classes};
	if ((box_dtype != ODET_F32 && box_dtype != ODET_F16) || (score_dtype != ODET_F32 && score_dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "BatchedNms: boxes %s, scores %s (f32 or f16)",
				  odet_dtype_name(box_dtype), odet_dtype_name(score_dtype));
	odet_status rc = nms_params_check(ctx, p, N, C, "BatchedNms");
	if (rc)
		return rc;
	if (make_plan(p, B, N, C, n_threads, &j.pl) || j.pl.total > workspace_size)
		return odet_error(ctx, ODET_ERR_INTERNAL, "BatchedNms: workspace of %zu bytes is too small", workspace_size);
	if (pool && odet_threadpool_size(pool) > n_threads)
		pool = NULL; /* scratch is per thread: never more threads than planned */
	if (nms_fused_scores(p)) { /* rows in chunks of 256, as ClassScores' run */
		j.ldt = score_dtype;
		j.logits = scores;
		odet_parallel_for(pool, B * N, 256, task_scores, &j);
		j.sdt = ODET_F32;
		j.scores = (const uint8_t *)workspace + j.pl.scores_off;
	}
	if (p->topk_mode == 0) {
		odet_parallel_for(pool, B * C, 1, task_class, &j);
		odet_parallel_for(pool, B, 1, task_merge, &j);
	} else {
		odet_parallel_for(pool, B, 1, task_level, &j);
	}
	return ODET_OK;
}

odet_status cpu_nms_run(odet_ctx *ctx, odet_threadpool *pool, int n_threads, const nms_params *p,
			int64_t B, int64_t N, int64_t C, odet_dtype dtype, const void *boxes,
			const void *scores, void *workspace, size_t workspace_size, int32_t *det_count,
			float *det_boxes, float *det_scores, int32_t *det_classes)
{
	return cpu_nms_run_dtypes(ctx, pool, n_threads, p, B, N, C, dtype, boxes, dtype, scores, workspace,
				  workspace_size, det_count, det_boxes, det_scores, det_classes);
}

/* ---- the op */

static int threads_of(odet_ctx *ctx)
{
	int n = ctx && ctx->pool ? odet_threadpool_size(ctx->pool) : 1;
	return n < 1 ? 1 : n;
}

static bool is_f32_f16(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F16;
}

static odet_status nms_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	nms_params p;
	odet_status rc = nms_params_from_node(ctx, g, n, &p);
	if (rc)
		return rc;
	const ir_value *bx = ir_in(g, n, 0), *sc = ir_in(g, n, 1);
	if (nms_fused_scores(&p)) {
		if (!is_f32_f16(bx->dtype) || !is_f32_f16(sc->dtype))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (BatchedNms): boxes %s, logits %s (each f32 or f16; activation %d, layout %d)",
					  n->name, odet_dtype_name(bx->dtype), odet_dtype_name(sc->dtype), p.activation,
					  p.layout);
	} else if (!is_f32_f16(bx->dtype) || sc->dtype != bx->dtype) {
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (BatchedNms): boxes %s, scores %s (both f32 or both f16)",
				  n->name, odet_dtype_name(bx->dtype), odet_dtype_name(sc->dtype));
	}
	return ODET_OK;
}

static odet_status nms_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *ws)
{
	nms_params p;
	odet_status rc = nms_params_from_node(ctx, g, n, &p);
	if (rc)
		return rc;
	const ir_value *sc = ir_in(g, n, 1);
	int64_t N, C;
	nms_input_nc(&p, sc->dims, &N, &C);
	if (cpu_nms_workspace_size(&p, sc->dims[0], N, C, threads_of(ctx), ws))
		return odet_error(ctx, ODET_ERR_LIMIT, "node '%s' (BatchedNms): workspace size overflows", n->name);
	return ODET_OK;
}

static odet_status nms_run(const be_run_args *a)
{
	nms_params p;
	odet_status rc = nms_params_from_node(a->ctx, a->g, a->node, &p);
	if (rc)
		return rc;
	const odet_tensor *sc = &a->in[1];
	int64_t N, C;
	nms_input_nc(&p, sc->dims, &N, &C);
	return cpu_nms_run_dtypes(a->ctx, a->pool, threads_of(a->ctx), &p, sc->dims[0], N, C, a->in[0].dtype,
				  a->in[0].data, sc->dtype, sc->data, a->workspace, a->workspace_size, a->out[0].data,
				  a->out[1].data, a->out[2].data, a->out[3].data);
}

const cpu_kernel cpu_kernel_BATCHED_NMS = {
	.check = nms_check,
	.prepare = nms_prepare,
	.run = nms_run,
};
