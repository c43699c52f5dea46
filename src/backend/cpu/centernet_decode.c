/*
 * centernet_decode.c — CenterNetDecode (ops.def): peak extraction + top-k + box decode.
 *   in:  heat [B,H,W,C] (layout 1) or [B,C,H,W] (layout 0) f32; sizes (same layout, 4 channels:
 *        distances left, top, right, bottom in input pixels)
 *   out: boxes [B,K,4] f32, scores [B,K,C] f32 (peak score in its class column, 0 elsewhere)
 *   attrs: k (100), stride (4), pool (3)
 * A cell is a peak when it equals the maximum over its pool x pool window clipped to the map
 * (TF MaxPool SAME ignores padding); NaN cells are never peaks and never a neighbour's maximum.
 * The K largest peaks are kept, ties broken by the lower index in (y, x, c) order, which is TF's
 * TopKV2 order on the NHWC heat map.
 * Algorithm: each image's rows are split into bands, one per lane (a pool thread's share; a
 * batch of B >= lanes images runs one image per task instead). A band walks its rows in (x, c)
 * order: the row's horizontal pool-max (NaN as -inf) into a ring of `pool` rows, the vertical
 * max over the ring, a cell equal to it is a peak, offered to the band's K-entry min-heap
 * (most cells fail the heap's threshold at one compare). The bands' heaps are merged, sorted
 * (value down, index up) and the first K decoded. Same peaks and order as a full sort of every
 * peak. Workspace: per lane, pool + 2 rows of W * C floats and K candidates.
 */
#include "backend/cpu/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cn_cand {
	float v;
	int64_t idx; /* (y*W + x)*C + c */
} cn_cand;

typedef struct cn_job {
	const be_run_args *a;
	int nhwc;
	int64_t H, W, C, K, pool;
	float stride;
	int64_t b;          /* the image, when its rows are split over lanes */
	int lanes;          /* bands of the image (rows split over lanes) */
	char *ws;           /* lanes' scratch */
	size_t lane_bytes;
	int64_t *n_heap;    /* per lane: candidates in its heap */
} cn_job;

static int cand_cmp(const void *pa, const void *pb)
{
	const cn_cand *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* a ranks below b (smaller value, or equal value and larger index) */
static inline bool cand_worse(const cn_cand *a, const cn_cand *b)
{
	return a->v < b->v || (a->v == b->v && a->idx > b->idx);
}

/* K-entry heap whose root is its worst candidate */
static void heap_offer(cn_cand *h, int64_t *n, int64_t K, float v, int64_t idx)
{
	cn_cand c = {v, idx};
	int64_t i;
	if (*n < K) {
		i = (*n)++;
		while (i > 0 && cand_worse(&c, &h[(i - 1) / 2])) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = c;
		return;
	}
	if (!cand_worse(&h[0], &c))
		return;
	i = 0;
	for (;;) {
		int64_t l = 2 * i + 1, w = i;
		const cn_cand *cw = &c;
		if (l < K && cand_worse(&h[l], cw))
			w = l, cw = &h[l];
		if (l + 1 < K && cand_worse(&h[l + 1], cw))
			w = l + 1, cw = &h[l + 1];
		if (w == i)
			break;
		h[i] = h[w];
		i = w;
	}
	h[i] = c;
}

static inline float vmax(float a, float b)
{
	return a > b ? a : b;
}

/* row y of the heat map in (x, c) order: a pointer into it (NHWC) or gathered into buf */
static const float *heat_row(const cn_job *j, const float *heat, int64_t y, float *buf)
{
	int64_t W = j->W, C = j->C;
	if (j->nhwc)
		return heat + y * W * C;
	for (int64_t c = 0; c < C; c++) {
		const float *p = heat + (c * j->H + y) * W;
		for (int64_t x = 0; x < W; x++)
			buf[x * C + c] = p[x];
	}
	return buf;
}

/* horizontal pool-max of row y (NaN as -inf) into dst[W*C]; tmp: W*C floats */
static void hmax_row(const cn_job *j, const float *heat, int64_t y, float *dst, float *tmp)
{
	int64_t W = j->W, C = j->C, r = j->pool / 2, n = W * C;
	const float *row = heat_row(j, heat, y, tmp);
	for (int64_t i = 0; i < n; i++) {
		float v = row[i];
		tmp[i] = v == v ? v : -INFINITY;
	}
	for (int64_t x = 0; x < W; x++) {
		float *d = dst + x * C;
		memcpy(d, tmp + x * C, sizeof(float) * (size_t)C);
		for (int64_t k = 1; k <= r; k++) {
			if (x - k >= 0) {
				const float *s = tmp + (x - k) * C;
				for (int64_t c = 0; c < C; c++)
					d[c] = vmax(d[c], s[c]);
			}
			if (x + k < W) {
				const float *s = tmp + (x + k) * C;
				for (int64_t c = 0; c < C; c++)
					d[c] = vmax(d[c], s[c]);
			}
		}
	}
}

/* The peaks of rows [y0, y1) of image b into heap h (*n entries). */
static void cn_band(const cn_job *j, int64_t b, int64_t y0, int64_t y1, char *lane, cn_cand *h, int64_t *n)
{
	const be_run_args *a = j->a;
	int64_t H = j->H, W = j->W, C = j->C, K = j->K, P = j->pool, r = P / 2, WC = W * C;
	const float *heat = (const float *)a->in[0].data + b * H * WC;
	float *ring = (float *)lane, *tmp = ring + P * WC, *vm = tmp + WC;
	int64_t next = y0 - r < 0 ? 0 : y0 - r; /* next row whose horizontal max is due */
	for (int64_t y = y0; y < y1; y++) {
		int64_t lo = y - r < 0 ? 0 : y - r, hi = y + r >= H ? H - 1 : y + r;
		for (; next <= hi; next++)
			hmax_row(j, heat, next, ring + (next % P) * WC, tmp);
		memcpy(vm, ring + (lo % P) * WC, sizeof(float) * (size_t)WC);
		for (int64_t yy = lo + 1; yy <= hi; yy++) {
			const float *s = ring + (yy % P) * WC;
			for (int64_t i = 0; i < WC; i++)
				vm[i] = vmax(vm[i], s[i]);
		}
		const float *row = heat_row(j, heat, y, tmp);
		/* below the full heap's worst: not kept (exact ties go to heap_offer) */
		float thr = *n == K ? h[0].v : -INFINITY;
		for (int64_t i = 0; i < WC; i++) {
			float v = row[i];
			if (v < thr || v != vm[i])
				continue;
			heap_offer(h, n, K, v, y * WC + i);
			if (*n == K)
				thr = h[0].v;
		}
	}
}

/* the 4-channel size map has the heat map's layout */
static inline float size_at(const float *p, const cn_job *j, int64_t y, int64_t x, int64_t c)
{
	return j->nhwc ? p[(y * j->W + x) * 4 + c] : p[(c * j->H + y) * j->W + x];
}

/* Merge heaps h[0..lanes) (n[l] entries each, K apart), write image b's K outputs. */
static void cn_emit(const cn_job *j, int64_t b, cn_cand *all, int64_t n_all)
{
	const be_run_args *a = j->a;
	int64_t H = j->H, W = j->W, C = j->C, K = j->K;
	const float *sz = (const float *)a->in[1].data + b * H * W * 4;
	float *boxes = (float *)a->out[0].data + b * K * 4;
	float *scores = (float *)a->out[1].data + b * K * C;
	qsort(all, (size_t)n_all, sizeof *all, cand_cmp);
	memset(boxes, 0, sizeof(float) * (size_t)(K * 4));
	memset(scores, 0, sizeof(float) * (size_t)(K * C));
	for (int64_t k = 0; k < K && k < n_all; k++) {
		int64_t c = all[k].idx % C, cell = all[k].idx / C;
		int64_t x = cell % W, y = cell / W;
		float cx = (float)x * j->stride, cy = (float)y * j->stride;
		float l = size_at(sz, j, y, x, 0), t = size_at(sz, j, y, x, 1);
		float rr = size_at(sz, j, y, x, 2), bb = size_at(sz, j, y, x, 3);
		boxes[k * 4 + 0] = cx - l;
		boxes[k * 4 + 1] = cy - t;
		boxes[k * 4 + 2] = cx + rr;
		boxes[k * 4 + 3] = cy + bb;
		scores[k * C + c] = all[k].v;
	}
}

static size_t lane_floats(int64_t W, int64_t C, int64_t pool)
{
	return (size_t)(pool + 2) * (size_t)W * (size_t)C;
}

static cn_cand *lane_heap(const cn_job *j, int l)
{
	/* the candidates 64-byte aligned after the rows (lane_size's slack) */
	size_t off = (lane_floats(j->W, j->C, j->pool) * sizeof(float) + 63) & ~(size_t)63;
	return (cn_cand *)(j->ws + (size_t)l * j->lane_bytes + off);
}

/* tasks [t0, t1): lane t scans its band of image j->b */
static void cn_bands(void *arg, int64_t t0, int64_t t1, int thread)
{
	const cn_job *j = arg;
	(void)thread;
	for (int64_t t = t0; t < t1; t++) {
		int64_t y0 = j->H * t / j->lanes, y1 = j->H * (t + 1) / j->lanes;
		j->n_heap[t] = 0;
		cn_band(j, j->b, y0, y1, j->ws + (size_t)t * j->lane_bytes, lane_heap(j, (int)t), &j->n_heap[t]);
	}
}

/* tasks [b0, b1): whole images, each on lane `thread` (lanes >= pool threads) */
static void cn_images(void *arg, int64_t b0, int64_t b1, int thread)
{
	const cn_job *j = arg;
	cn_cand *h = lane_heap(j, thread);
	for (int64_t b = b0; b < b1; b++) {
		int64_t n = 0;
		cn_band(j, b, 0, j->H, j->ws + (size_t)thread * j->lane_bytes, h, &n);
		cn_emit(j, b, h, n);
	}
}

static odet_status cn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *h = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	if (!h || !s || h->dtype != ODET_F32 || s->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (CenterNetDecode): inputs must be float32", n->name);
	int64_t p = ir_attr_int(n, "pool", 3);
	if (p < 1 || p > 15 || !(p & 1))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (CenterNetDecode): pool %lld (odd, 1..15)",
				  n->name, (long long)p);
	return ODET_OK;
}

/* bytes of one lane, a multiple of 64: pool + 2 rows of W*C floats, then K candidates at the next
 * 64-byte boundary (0: sizes unknown or too large) */
static size_t lane_size(int64_t W, int64_t C, int64_t pool, int64_t K)
{
	int64_t f, k;
	if (W <= 0 || C <= 0 || K < 0 || !odet_mul_i64(W, C, &f) || !odet_mul_i64(f, pool + 2, &f) ||
	    !odet_mul_i64(f, (int64_t)sizeof(float), &f) || !odet_mul_i64(K, (int64_t)sizeof(cn_cand), &k) ||
	    !odet_add_i64(f, k + 64, &f))
		return 0;
	return ((size_t)f + 63) & ~(size_t)63;
}

static odet_status cn_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *ws)
{
	const ir_value *h = ir_in(g, n, 0), *o = n->n_out > 0 ? &g->values[n->out[0]] : NULL;
	int nhwc = ir_attr_int(n, "layout", 1) != 0;
	*state = NULL;
	*ws = 0;
	if (!h || h->rank != 4 || !o || o->rank < 2)
		return ODET_OK;
	size_t lb = lane_size(nhwc ? h->dims[2] : h->dims[3], nhwc ? h->dims[3] : h->dims[1],
			      ir_attr_int(n, "pool", 3), o->dims[1]);
	int lanes = ctx && ctx->opts.n_threads > 0 ? ctx->opts.n_threads : 1;
	if (lb && lb <= SIZE_MAX / (size_t)lanes)
		*ws = lb * (size_t)lanes;
	return ODET_OK;
}

static odet_status cn_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *h = &a->in[0];
	cn_job j = {.a = a, .nhwc = ir_attr_int(n, "layout", 1) != 0};
	int64_t B = h->dims[0];
	j.H = j.nhwc ? h->dims[1] : h->dims[2];
	j.W = j.nhwc ? h->dims[2] : h->dims[3];
	j.C = j.nhwc ? h->dims[3] : h->dims[1];
	j.K = a->out[0].dims[1];
	j.pool = ir_attr_int(n, "pool", 3);
	j.stride = ir_attr_float(n, "stride", 4.0f);
	if (B <= 0 || j.H <= 0 || j.W <= 0 || j.C <= 0 || j.K <= 0)
		return ODET_OK;
	j.lane_bytes = lane_size(j.W, j.C, j.pool, j.K);
	if (!j.lane_bytes)
		return odet_error(a->ctx, ODET_ERR_LIMIT, "node '%s' (CenterNetDecode): heat map too large", n->name);
	int threads = odet_threadpool_size(a->pool);
	int lanes = (int)(a->workspace_size / j.lane_bytes);
	void *own = NULL;
	j.ws = a->workspace;
	if (lanes < threads) { /* a workspace planned for fewer threads (or none): this run's own */
		lanes = threads;
		if (!(own = malloc(j.lane_bytes * (size_t)lanes)))
			return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "node '%s' (CenterNetDecode): no memory for %d lanes",
					  n->name, lanes);
		j.ws = own;
	}
	if (B >= threads || threads == 1) {
		odet_parallel_for(a->pool, B, 1, cn_images, &j);
		free(own);
		return ODET_OK;
	}
	/* fewer images than threads: each image's rows split over the lanes, heaps merged */
	j.lanes = (int)(j.H < threads ? j.H : threads);
	int64_t n_heap[256];
	if (j.lanes > 256)
		j.lanes = 256;
	j.n_heap = n_heap;
	cn_cand *all = malloc(sizeof *all * (size_t)(j.K * j.lanes + 1));
	if (!all) {
		free(own);
		return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "node '%s' (CenterNetDecode): no memory", n->name);
	}
	for (int64_t b = 0; b < B; b++) {
		j.b = b;
		odet_parallel_for(a->pool, j.lanes, 1, cn_bands, &j);
		int64_t n_all = 0;
		for (int l = 0; l < j.lanes; l++) {
			memcpy(all + n_all, lane_heap(&j, l), sizeof *all * (size_t)n_heap[l]);
			n_all += n_heap[l];
		}
		cn_emit(&j, b, all, n_all);
	}
	free(all);
	free(own);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CENTERNET_DECODE = {.check = cn_check, .prepare = cn_prepare, .run = cn_run};
