/*
 * centernet_decode.c — CenterNetDecode (ops.def): peak extraction + top-k + box decode.
 *   in:  heat [B,H,W,C] (layout 1) or [B,C,H,W] (layout 0) f32; sizes (same layout, 4 channels:
 *        distances left, top, right, bottom in input pixels)
 *   out: boxes [B,K,4] f32, scores [B,K,C] f32 (peak score in its class column, 0 elsewhere)
 *   attrs: k (100), stride (4), pool (3)
 * A cell is a peak when it equals the maximum over its pool x pool window clipped to the map
 * (TF MaxPool SAME ignores padding). The K largest peaks are kept, ties broken by the lower
 * index in (y, x, c) order, which is TF's TopKV2 order on the NHWC heat map. One image per task.
 */
#include "backend/cpu/cpu.h"

#include <stdlib.h>
#include <string.h>

typedef struct cn_job {
	const be_run_args *a;
	int nhwc;
	int64_t H, W, C, K, pool;
	float stride;
} cn_job;

typedef struct cn_cand {
	float v;
	int64_t idx; /* (y*W + x)*C + c */
} cn_cand;

static int cand_cmp(const void *pa, const void *pb)
{
	const cn_cand *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static inline float at(const float *p, const cn_job *j, int64_t y, int64_t x, int64_t c)
{
	return j->nhwc ? p[(y * j->W + x) * j->C + c] : p[(c * j->H + y) * j->W + x];
}

/* the 4-channel size map has the heat map's layout */
static inline float size_at(const float *p, const cn_job *j, int64_t y, int64_t x, int64_t c)
{
	return j->nhwc ? p[(y * j->W + x) * 4 + c] : p[(c * j->H + y) * j->W + x];
}

static void cn_images(void *arg, int64_t b0, int64_t b1, int thread)
{
	const cn_job *j = arg;
	const be_run_args *a = j->a;
	int64_t H = j->H, W = j->W, C = j->C, K = j->K, r = j->pool / 2;
	size_t cap = 1024;
	cn_cand *cand = malloc(sizeof *cand * cap);
	for (int64_t b = b0; b < b1; b++) {
		const float *heat = (const float *)a->in[0].data + b * H * W * C;
		const float *sz = (const float *)a->in[1].data + b * H * W * 4;
		float *boxes = (float *)a->out[0].data + b * K * 4;
		float *scores = (float *)a->out[1].data + b * K * C;
		size_t n = 0;
		for (int64_t y = 0; y < H; y++)
			for (int64_t x = 0; x < W; x++)
				for (int64_t c = 0; c < C; c++) {
					float v = at(heat, j, y, x, c), m = v;
					for (int64_t dy = -r; dy <= r && m <= v; dy++)
						for (int64_t dx = -r; dx <= r; dx++) {
							int64_t yy = y + dy, xx = x + dx;
							if (yy < 0 || yy >= H || xx < 0 || xx >= W)
								continue;
							float u = at(heat, j, yy, xx, c);
							m = u > m ? u : m;
						}
					if (m != v || !(v == v))
						continue;
					if (n == cap) {
						cn_cand *nc = cand ? realloc(cand, sizeof *cand * cap * 2) : NULL;
						if (!nc)
							continue; /* out of memory: keep the candidates so far */
						cand = nc;
						cap *= 2;
					}
					if (cand) {
						cand[n].v = v;
						cand[n].idx = (y * W + x) * C + c;
						n++;
					}
				}
		if (cand)
			qsort(cand, n, sizeof *cand, cand_cmp);
		memset(boxes, 0, sizeof(float) * (size_t)(K * 4));
		memset(scores, 0, sizeof(float) * (size_t)(K * C));
		for (int64_t k = 0; k < K && (size_t)k < n; k++) {
			int64_t c = cand[k].idx % C, cell = cand[k].idx / C;
			int64_t x = cell % W, y = cell / W;
			float cx = (float)x * j->stride, cy = (float)y * j->stride;
			float l = size_at(sz, j, y, x, 0), t = size_at(sz, j, y, x, 1);
			float rr = size_at(sz, j, y, x, 2), bb = size_at(sz, j, y, x, 3);
			boxes[k * 4 + 0] = cx - l;
			boxes[k * 4 + 1] = cy - t;
			boxes[k * 4 + 2] = cx + rr;
			boxes[k * 4 + 3] = cy + bb;
			scores[k * C + c] = cand[k].v;
		}
	}
	free(cand);
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

static odet_status cn_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *h = &a->in[0];
	cn_job j = {.a = a, .nhwc = ir_attr_int(n, "layout", 1) != 0};
	j.H = j.nhwc ? h->dims[1] : h->dims[2];
	j.W = j.nhwc ? h->dims[2] : h->dims[3];
	j.C = j.nhwc ? h->dims[3] : h->dims[1];
	j.K = a->out[0].dims[1];
	j.pool = ir_attr_int(n, "pool", 3);
	j.stride = ir_attr_float(n, "stride", 4.0f);
	odet_parallel_for(a->pool, h->dims[0], 1, cn_images, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CENTERNET_DECODE = {.check = cn_check, .run = cn_run};
