/*
 * test_cpu_centernet.c — the CPU CenterNetDecode (row bands, running max, K-entry heaps) against
 * a direct model of its definition: every cell compared with its clipped pool x pool window
 * (NaN never a peak nor a maximum), all peaks sorted by value down and (y, x, c) index up, the
 * first K decoded. Heat maps hit the awkward cases: plateaus of equal values (ties across bands
 * and at the K-th place), NaN, +-inf, -0 next to +0, fewer peaks than K; NHWC and NCHW, pool 1,
 * 3 and 5, batch 1 to 3 (rows split over lanes, or one image per thread), on 1, 2 and 3 threads.
 * Outputs equal bit for bit.
 */
#include "backend/backend.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_cand {
	float v;
	int64_t idx;
} ref_cand;

static int ref_cmp(const void *pa, const void *pb)
{
	const ref_cand *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

typedef struct geo {
	int64_t B, H, W, C, K, pool;
	int nhwc;
} geo;

static float heat_at(const geo *q, const float *h, int64_t y, int64_t x, int64_t c)
{
	return q->nhwc ? h[(y * q->W + x) * q->C + c] : h[(c * q->H + y) * q->W + x];
}

static float size_at(const geo *q, const float *s, int64_t y, int64_t x, int64_t c)
{
	return q->nhwc ? s[(y * q->W + x) * 4 + c] : s[(c * q->H + y) * q->W + x];
}

static void reference(const geo *q, const float *heat, const float *sizes, float stride, float *boxes, float *scores)
{
	int64_t H = q->H, W = q->W, C = q->C, K = q->K, r = q->pool / 2;
	ref_cand *cand = malloc(sizeof *cand * (size_t)(H * W * C));
	for (int64_t b = 0; b < q->B; b++) {
		const float *h = heat + b * H * W * C, *s = sizes + b * H * W * 4;
		int64_t n = 0;
		for (int64_t y = 0; y < H; y++)
			for (int64_t x = 0; x < W; x++)
				for (int64_t c = 0; c < C; c++) {
					float v = heat_at(q, h, y, x, c);
					bool peak = v == v;
					for (int64_t yy = y - r; peak && yy <= y + r; yy++)
						for (int64_t xx = x - r; xx <= x + r; xx++)
							if (yy >= 0 && yy < H && xx >= 0 && xx < W && heat_at(q, h, yy, xx, c) > v)
								peak = false;
					if (peak)
						cand[n++] = (ref_cand){v, (y * W + x) * C + c};
				}
		qsort(cand, (size_t)n, sizeof *cand, ref_cmp);
		float *bo = boxes + b * K * 4, *sc = scores + b * K * C;
		memset(bo, 0, sizeof(float) * (size_t)(K * 4));
		memset(sc, 0, sizeof(float) * (size_t)(K * C));
		for (int64_t k = 0; k < K && k < n; k++) {
			int64_t c = cand[k].idx % C, x = cand[k].idx / C % W, y = cand[k].idx / C / W;
			float cx = (float)x * stride, cy = (float)y * stride;
			bo[k * 4 + 0] = cx - size_at(q, s, y, x, 0);
			bo[k * 4 + 1] = cy - size_at(q, s, y, x, 1);
			bo[k * 4 + 2] = cx + size_at(q, s, y, x, 2);
			bo[k * 4 + 3] = cy + size_at(q, s, y, x, 3);
			sc[k * C + c] = cand[k].v;
		}
	}
	free(cand);
}

static unsigned seed = 11;

/* heat value i: coarse levels (plateaus and ties), with NaN, +-inf and signed zeros sprinkled */
static float heat_value(int64_t i, int kind)
{
	int u = rand_r(&seed);
	if (kind == 1 && u % 53 == 0)
		return NAN;
	if (kind == 1 && u % 61 == 0)
		return u % 2 ? INFINITY : -INFINITY;
	if (u % 29 == 0)
		return u % 2 ? 0.0f : -0.0f;
	if (kind == 2) /* few levels: long plateaus, many ties at the K-th place */
		return (float)(u % 4) * 0.25f;
	(void)i;
	return (float)(u % 1000) / 1000.0f;
}

/* one case on ctx; returns the number of differing output elements (-1: the kernel failed) */
static int64_t run_case(odet_ctx *ctx, geo q, int kind, float stride)
{
	int64_t hd[4], sd[4], bd[3] = {q.B, q.K, 4}, scd[3] = {q.B, q.K, q.C};
	if (q.nhwc) {
		memcpy(hd, (int64_t[]){q.B, q.H, q.W, q.C}, sizeof hd);
		memcpy(sd, (int64_t[]){q.B, q.H, q.W, 4}, sizeof sd);
	} else {
		memcpy(hd, (int64_t[]){q.B, q.C, q.H, q.W}, sizeof hd);
		memcpy(sd, (int64_t[]){q.B, 4, q.H, q.W}, sizeof sd);
	}
	int64_t nh = q.B * q.H * q.W * q.C, ns = q.B * q.H * q.W * 4, nb = q.B * q.K * 4, nsc = q.B * q.K * q.C;
	float *heat = malloc(sizeof(float) * (size_t)nh), *sizes = malloc(sizeof(float) * (size_t)ns);
	float *boxes = malloc(sizeof(float) * (size_t)nb), *scores = malloc(sizeof(float) * (size_t)nsc);
	float *rb = malloc(sizeof(float) * (size_t)nb), *rs = malloc(sizeof(float) * (size_t)nsc);
	for (int64_t i = 0; i < nh; i++)
		heat[i] = heat_value(i, kind);
	for (int64_t i = 0; i < ns; i++)
		sizes[i] = (float)(rand_r(&seed) % 3000) / 100.0f;
	memset(boxes, 0x7f, sizeof(float) * (size_t)nb);
	memset(scores, 0x7f, sizeof(float) * (size_t)nsc);
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int in[2] = {ir_value_add(g, "heat", ODET_F32, 4, hd), ir_value_add(g, "sizes", ODET_F32, 4, sd)};
	int out[2] = {ir_value_add(g, "boxes", ODET_F32, 3, bd), ir_value_add(g, "scores", ODET_F32, 3, scd)};
	int node = ir_node_add(g, IR_OP_CENTERNET_DECODE, "cn", 2, in, 2, out);
	ir_attr_set_int(g, node, "k", q.K);
	ir_attr_set_int(g, node, "layout", q.nhwc);
	ir_attr_set_int(g, node, "pool", q.pool);
	ir_attr_set_float(g, node, "stride", stride);
	ir_node *n = &g->nodes[node];
	odet_tensor ti[2] = {{ODET_F32, 4, {0}, heat, -1}, {ODET_F32, 4, {0}, sizes, -1}};
	odet_tensor to[2] = {{ODET_F32, 3, {0}, boxes, -1}, {ODET_F32, 3, {0}, scores, -1}};
	memcpy(ti[0].dims, hd, sizeof hd);
	memcpy(ti[1].dims, sd, sizeof sd);
	memcpy(to[0].dims, bd, sizeof bd);
	memcpy(to[1].dims, scd, sizeof scd);
	odet_status rc = be_eval_node(odet_backend_cpu(), ctx, g, n, ti, to);
	CHECK_MSG(!rc, "CenterNetDecode: %s", odet_ctx_last_error(ctx));
	reference(&q, heat, sizes, stride, rb, rs);
	int64_t bad = 0;
	for (int64_t i = 0; !rc && i < nb; i++)
		if (memcmp(&boxes[i], &rb[i], sizeof(float)) && bad++ < 5)
			printf("  boxes[%lld]: got %g, want %g\n", (long long)i, (double)boxes[i], (double)rb[i]);
	for (int64_t i = 0; !rc && i < nsc; i++)
		if (memcmp(&scores[i], &rs[i], sizeof(float)) && bad++ < 5)
			printf("  scores[%lld]: got %g, want %g\n", (long long)i, (double)scores[i], (double)rs[i]);
	ir_graph_free(g);
	free(heat);
	free(sizes);
	free(boxes);
	free(scores);
	free(rb);
	free(rs);
	return rc ? -1 : bad;
}

int main(void)
{
	odet_ctx *ctx[3];
	for (int t = 0; t < 3; t++) {
		odet_ctx_opts o = odet_ctx_opts_default();
		o.n_threads = t + 1;
		CHECK(!odet_ctx_create(&o, &ctx[t]));
	}
	static const struct {
		geo q;
		int kind;
	} cases[] = {
		{{1, 32, 32, 80, 100, 3, 1}, 0}, {{1, 31, 17, 5, 100, 3, 1}, 1}, {{1, 40, 24, 3, 50, 3, 1}, 2},
		{{2, 12, 13, 3, 20, 3, 1}, 0},   {{3, 9, 10, 4, 300, 5, 0}, 1},  {{1, 9, 10, 4, 30, 5, 0}, 2},
		{{2, 7, 5, 6, 40, 1, 1}, 2},     {{1, 1, 1, 1, 5, 3, 1}, 0},     {{1, 2, 64, 7, 1, 3, 0}, 2},
		{{3, 20, 21, 2, 10, 3, 1}, 1},
	};
	for (int t = 0; t < 3; t++)
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			geo q = cases[k].q;
			int64_t bad = run_case(ctx[t], q, cases[k].kind, 4.0f);
			CHECK_MSG(bad == 0, "[B %lld, %lldx%lld, C %lld] K %lld pool %lld %s kind %d on %d threads: %lld values differ",
				  (long long)q.B, (long long)q.H, (long long)q.W, (long long)q.C, (long long)q.K,
				  (long long)q.pool, q.nhwc ? "NHWC" : "NCHW", cases[k].kind, t + 1, (long long)bad);
		}
	for (int t = 0; t < 3; t++)
		odet_ctx_destroy(ctx[t]);
	return test_summary("cpu_centernet");
}
