/*
 * test_heads.c — detection heads and batched NMS on the CPU.
 *
 * Without arguments: unit tests — BatchedNms against a brute-force greedy reference written
 * here (random and adversarial cases, both top-k modes, f16, threads), head recognition,
 * attach/describe, config files (good and bad).
 * With a mode argument it is the helper of ref_heads.py (numpy references):
 *   test_heads priors <preset> <H> <W> <out.f32>           priors/anchors as stored in the graph
 *   test_heads e2e <preset|auto|config> <B> <H> <W> <prefix> <a.f32> <d0,d1,d2> <b.f32> <d0,d1,d2>
 *       builds a graph whose outputs are the two tensors, attaches the head, runs every node on
 *       the CPU backend and writes <prefix>{count,boxes,scores,classes,decoded}.bin and
 *       <prefix>describe.txt.
 */
#include "backend/backend.h"
#include "backend/cpu/nms.h"
#include "heads/heads_internal.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- random */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}
static float frand(void) { return (float)(rnd() & 0xffffff) / (float)0x1000000; }

/* ---------------------------------------------------------------- brute-force reference */

typedef struct ref_c {
	float s;
	int i, c;
	int dead;
} ref_c;

static int ref_better(const ref_c *a, const ref_c *b)
{
	return a->s > b->s || (a->s == b->s && (a->i < b->i || (a->i == b->i && a->c < b->c)));
}

/* selection sort by rank, O(n^2) on purpose: independent of the heap/qsort in nms.c */
static void ref_sort(ref_c *v, int n)
{
	for (int a = 0; a < n; a++) {
		int best = a;
		for (int b = a + 1; b < n; b++)
			if (ref_better(&v[b], &v[best]))
				best = b;
		ref_c t = v[a];
		v[a] = v[best];
		v[best] = t;
	}
}

static float ref_iou(const float *p, const float *q)
{
	/* torchvision: inter / (area_p + area_q - inter) */
	float ap = (p[2] - p[0]) * (p[3] - p[1]), aq = (q[2] - q[0]) * (q[3] - q[1]);
	float l = p[0] > q[0] ? p[0] : q[0], t = p[1] > q[1] ? p[1] : q[1];
	float r = p[2] < q[2] ? p[2] : q[2], b = p[3] < q[3] ? p[3] : q[3];
	float w = r - l > 0 ? r - l : 0, h = b - t > 0 ? b - t : 0;
	float inter = w * h;
	return inter / (ap + aq - inter);
}

/* Reference NMS of one image: boxes [N,4], scores [N,C] (already f32). Writes up to K rows. */
static int ref_nms(const nms_params *p, int N, int C, const float *boxes, const float *scores, int K, float *ob,
		   float *os, int *oc)
{
	ref_c *all = calloc((size_t)N * C + 1, sizeof *all), *sel = calloc((size_t)N * C + 1, sizeof *sel);
	int ns = 0;
	if (p->topk_mode == 0) {
		for (int c = 0; c < C; c++) {
			if (c == p->background)
				continue;
			int n = 0;
			for (int i = 0; i < N; i++) {
				float s = scores[i * C + c];
				if (isfinite(s) && s > p->score_threshold)
					all[n++] = (ref_c){s, i, c, 0};
			}
			ref_sort(all, n);
			int k = p->topk > 0 && p->topk < n ? (int)p->topk : n;
			memcpy(sel + ns, all, sizeof *all * (size_t)k);
			ns += k;
		}
	} else {
		int a0 = 0;
		for (int l = 0; l < p->n_levels; l++) {
			int n = 0;
			for (int i = a0; i < a0 + (int)p->level_sizes[l]; i++)
				for (int c = 0; c < C; c++) {
					float s = scores[i * C + c];
					if (c != p->background && isfinite(s) && s > p->score_threshold)
						all[n++] = (ref_c){s, i, c, 0};
				}
			ref_sort(all, n);
			int k = p->topk > 0 && p->topk < n ? (int)p->topk : n;
			memcpy(sel + ns, all, sizeof *all * (size_t)k);
			ns += k;
			a0 += (int)p->level_sizes[l];
		}
	}
	ref_sort(sel, ns);
	/* greedy over the whole sorted list; only same-class pairs interact */
	int nk = 0;
	ref_c *kept = all;
	for (int a = 0; a < ns; a++) {
		if (sel[a].dead)
			continue;
		kept[nk++] = sel[a];
		for (int b = a + 1; b < ns; b++) {
			if (sel[b].dead || sel[b].c != sel[a].c)
				continue;
			float iou = ref_iou(&boxes[4 * sel[a].i], &boxes[4 * sel[b].i]);
			if (p->iou_ge ? iou >= p->iou_threshold : iou > p->iou_threshold)
				sel[b].dead = 1;
		}
	}
	int w = nk < K ? nk : K;
	for (int k = 0; k < w; k++) {
		for (int j = 0; j < 4; j++)
			ob[4 * k + j] = boxes[4 * kept[k].i + j] * (j % 2 ? p->out_scale_y : p->out_scale_x);
		os[k] = kept[k].s;
		oc[k] = kept[k].c;
	}
	free(all);
	free(sel);
	return w;
}

/* ---------------------------------------------------------------- NMS cases */

static odet_ctx *g_ctx;

static void to_f16_and_back(float *v, size_t n, uint16_t *h)
{
	for (size_t i = 0; i < n; i++) {
		h[i] = odet_f32_to_f16(v[i]);
		v[i] = odet_f16_to_f32(h[i]);
	}
}

/* runs cpu_nms_run and the reference on B images; returns 1 when identical */
static int run_case(const char *what, const nms_params *p, int B, int N, int C, float *boxes, float *scores,
		    int f16)
{
	int K = (int)p->max_detections, ok = 1;
	int nt = odet_threadpool_size(g_ctx->pool);
	size_t ws_size;
	uint16_t *hb = NULL, *hs = NULL;
	if (f16) {
		hb = malloc(sizeof *hb * (size_t)B * N * 4 + 2);
		hs = malloc(sizeof *hs * (size_t)B * N * C + 2);
		to_f16_and_back(boxes, (size_t)B * N * 4, hb);
		to_f16_and_back(scores, (size_t)B * N * C, hs);
	}
	if (cpu_nms_workspace_size(p, B, N, C, nt, &ws_size)) {
		CHECK_MSG(0, "%s: workspace size", what);
		return 0;
	}
	void *ws = malloc(ws_size + 1);
	int32_t *cnt = calloc((size_t)B, 4), *cls = calloc((size_t)B * K, 4);
	float *ob = calloc((size_t)B * K * 4, 4), *os = calloc((size_t)B * K, 4);
	float *rb = calloc((size_t)K * 4, 4), *rs = calloc((size_t)K, 4);
	int *rc = calloc((size_t)K, sizeof(int));
	/* poison outputs: rows past count must be written as zeros */
	memset(ob, 0x7f, (size_t)B * K * 16);
	odet_status st = cpu_nms_run(g_ctx, g_ctx->pool, nt, p, B, N, C, f16 ? ODET_F16 : ODET_F32,
				     f16 ? (void *)hb : (void *)boxes, f16 ? (void *)hs : (void *)scores, ws, ws_size,
				     cnt, ob, os, cls);
	CHECK_MSG(st == ODET_OK, "%s: %s", what, odet_ctx_last_error(g_ctx));
	for (int b = 0; b < B && ok; b++) {
		int n = ref_nms(p, N, C, boxes + (size_t)b * N * 4, scores + (size_t)b * N * C, K, rb, rs, rc);
		if (cnt[b] != n) {
			fprintf(stderr, "%s: image %d: %d kept, reference %d\n", what, b, cnt[b], n);
			ok = 0;
			break;
		}
		for (int k = 0; k < n && ok; k++)
			if (cls[b * K + k] != rc[k] || os[b * K + k] != rs[k] ||
			    memcmp(&ob[((size_t)b * K + k) * 4], &rb[4 * k], 16)) {
				fprintf(stderr, "%s: image %d row %d differs (class %d/%d score %g/%g)\n", what, b, k,
					cls[b * K + k], rc[k], os[b * K + k], rs[k]);
				ok = 0;
			}
		for (int k = n; k < K && ok; k++)
			if (cls[b * K + k] || os[b * K + k] || ob[((size_t)b * K + k) * 4] || ob[((size_t)b * K + k) * 4 + 3])
				ok = 0;
	}
	CHECK_MSG(ok, "%s", what);
	free(ws), free(cnt), free(cls), free(ob), free(os), free(rb), free(rs), free(rc), free(hb), free(hs);
	return ok;
}

static void random_boxes(float *b, int n, float extent, float maxwh)
{
	for (int i = 0; i < n; i++) {
		float x = frand() * extent, y = frand() * extent;
		b[4 * i] = x, b[4 * i + 1] = y;
		b[4 * i + 2] = x + frand() * maxwh, b[4 * i + 3] = y + frand() * maxwh;
	}
}

static void test_nms(void)
{
	enum { B = 3, N = 600, C = 5 };
	float *boxes = malloc(sizeof(float) * B * N * 4), *scores = malloc(sizeof(float) * B * N * C);
	nms_params p = nms_params_default();
	for (int trial = 0; trial < 6; trial++) {
		random_boxes(boxes, B * N, 100, 40);
		for (int i = 0; i < B * N * C; i++)
			scores[i] = frand();
		p.score_threshold = trial * 0.1f;
		p.iou_threshold = 0.3f + 0.1f * trial;
		p.topk = trial % 2 ? 50 : 0;
		p.max_detections = trial % 3 ? 100 : 2000;
		p.background = trial % 2 ? 0 : -1;
		p.iou_ge = trial == 3;
		run_case("random", &p, B, N, C, boxes, scores, 0);
		run_case("random f16", &p, B, N, C, boxes, scores, 1);
		p.topk_mode = 1;
		p.n_levels = 3;
		p.level_sizes[0] = 400, p.level_sizes[1] = 150, p.level_sizes[2] = 50;
		run_case("random per-level", &p, B, N, C, boxes, scores, 0);
		p.topk_mode = 0;
		p.out_scale_x = 2, p.out_scale_y = 3;
	}
	p = nms_params_default();
	p.score_threshold = 0;
	p.iou_threshold = 0.5f;
	p.max_detections = 1000;
	/* identical boxes: one survivor per class */
	for (int i = 0; i < B * N; i++)
		boxes[4 * i] = 1, boxes[4 * i + 1] = 2, boxes[4 * i + 2] = 30, boxes[4 * i + 3] = 40;
	for (int i = 0; i < B * N * C; i++)
		scores[i] = frand();
	run_case("identical boxes", &p, B, N, C, boxes, scores, 0);
	/* identical scores: ties by lower index */
	random_boxes(boxes, B * N, 100, 40);
	for (int i = 0; i < B * N * C; i++)
		scores[i] = 0.5f;
	run_case("identical scores", &p, B, N, C, boxes, scores, 0);
	p.topk = 7;
	run_case("identical scores top-k", &p, B, N, C, boxes, scores, 0);
	p.topk = 0;
	/* identical boxes and scores */
	for (int i = 0; i < B * N; i++)
		boxes[4 * i] = 1, boxes[4 * i + 1] = 2, boxes[4 * i + 2] = 30, boxes[4 * i + 3] = 40;
	run_case("identical boxes and scores", &p, B, N, C, boxes, scores, 0);
	/* zero-area boxes (0/0 IoU never suppresses), mixed with normal ones */
	random_boxes(boxes, B * N, 100, 40);
	for (int i = 0; i < B * N; i += 2)
		boxes[4 * i + 2] = boxes[4 * i], boxes[4 * i + 3] = boxes[4 * i + 1] + (i % 4 ? 5 : 0);
	for (int i = 0; i < B * N; i += 8)
		memcpy(&boxes[4 * i], &boxes[0], 16);
	for (int i = 0; i < B * N * C; i++)
		scores[i] = frand();
	run_case("zero-area boxes", &p, B, N, C, boxes, scores, 0);
	/* NaN and Inf scores are never selected */
	random_boxes(boxes, B * N, 100, 40);
	for (int i = 0; i < B * N * C; i++)
		scores[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? (i % 2 ? INFINITY : -INFINITY) : frand();
	run_case("NaN/Inf scores", &p, B, N, C, boxes, scores, 0);
	{
		int32_t cnt[B], cls[B * 1000];
		float ob[B * 1000 * 4], os[B * 1000];
		size_t wsz;
		int nt = odet_threadpool_size(g_ctx->pool);
		cpu_nms_workspace_size(&p, B, N, C, nt, &wsz);
		void *ws = malloc(wsz);
		cpu_nms_run(g_ctx, g_ctx->pool, nt, &p, B, N, C, ODET_F32, boxes, scores, ws, wsz, cnt, ob, os, cls);
		int bad = 0;
		for (int b = 0; b < B; b++)
			for (int k = 0; k < cnt[b]; k++)
				bad += !isfinite(os[b * 1000 + k]);
		CHECK(bad == 0);
		free(ws);
	}
	/* IoU exactly at the threshold: pairs [x,0,x+2,1] / [x,0,x+1,1] have IoU 0.5 */
	for (int i = 0; i < B * N; i++) {
		float x = 10.0f * (float)((i % N) / 2);
		boxes[4 * i] = x, boxes[4 * i + 1] = 0, boxes[4 * i + 2] = x + (i % 2 ? 1 : 2), boxes[4 * i + 3] = 1;
	}
	for (int i = 0; i < B * N * C; i++)
		scores[i] = frand();
	for (int ge = 0; ge < 2; ge++) {
		p.iou_ge = ge;
		run_case(ge ? "IoU == threshold (>=)" : "IoU == threshold (>)", &p, B, N, C, boxes, scores, 0);
	}
	p.iou_ge = 0;
	/* zero candidates */
	for (int i = 0; i < B * N * C; i++)
		scores[i] = -1;
	run_case("zero candidates", &p, B, N, C, boxes, scores, 0);
	run_case("zero anchors", &p, B, 0, C, boxes, scores, 0);
	free(boxes);
	free(scores);

	/* 10,000 candidates of one class, top-k 10,000, no caps */
	enum { NB = 10000 };
	boxes = malloc(sizeof(float) * NB * 4);
	scores = malloc(sizeof(float) * NB);
	random_boxes(boxes, NB, 2000, 30);
	for (int i = 0; i < NB; i++)
		scores[i] = frand();
	p = nms_params_default();
	p.score_threshold = -1;
	p.iou_threshold = 0.5f;
	p.topk = 10000;
	p.max_detections = 10000;
	if (run_case("10000 candidates", &p, 1, NB, 1, boxes, scores, 0)) {
		/* the case must really keep thousands */
		int32_t cnt;
		size_t wsz;
		cpu_nms_workspace_size(&p, 1, NB, 1, odet_threadpool_size(g_ctx->pool), &wsz);
		void *ws = malloc(wsz);
		float *ob = malloc(sizeof(float) * NB * 4), *os = malloc(sizeof(float) * NB);
		int32_t *oc = malloc(sizeof(int32_t) * NB);
		cpu_nms_run(g_ctx, g_ctx->pool, odet_threadpool_size(g_ctx->pool), &p, 1, NB, 1, ODET_F32, boxes, scores,
			    ws, wsz, &cnt, ob, os, oc);
		CHECK_MSG(cnt > 5000, "kept %d of 10000", cnt);
		free(ws), free(ob), free(os), free(oc);
	}
	free(boxes);
	free(scores);

	/* bad parameters are refused with a message */
	p = nms_params_default();
	p.max_detections = 0;
	CHECK(nms_params_check(g_ctx, &p, 10, 2, "t") == ODET_ERR_BAD_INPUT);
	p = nms_params_default();
	p.topk_mode = 1;
	p.n_levels = 1;
	p.level_sizes[0] = 9;
	CHECK(nms_params_check(g_ctx, &p, 10, 2, "t") == ODET_ERR_BAD_INPUT);
}

/* ---------------------------------------------------------------- graphs */

/* graph: input image [B,3,H,W]; outputs = n tensors that are graph inputs too */
static ir_graph *make_graph(int64_t B, int64_t H, int64_t W, int n, const int64_t dims[][3])
{
	ir_graph *g;
	if (ir_graph_create(g_ctx, &g))
		return NULL;
	int64_t id[4] = {B, 3, H, W};
	int img = ir_value_add(g, "image", ODET_F32, 4, id);
	g->inputs = calloc((size_t)n + 1, sizeof(int));
	g->outputs = calloc((size_t)n, sizeof(int));
	g->inputs[g->n_inputs++] = img;
	g->values[img].kind = IR_VALUE_INPUT;
	for (int k = 0; k < n; k++) {
		char name[16];
		snprintf(name, sizeof name, "out%d", k);
		int v = ir_value_add(g, name, ODET_F32, 3, dims[k]);
		g->values[v].kind = IR_VALUE_INPUT;
		g->values[v].is_output = true;
		g->inputs[g->n_inputs++] = v;
		g->outputs[g->n_outputs++] = v;
	}
	return g;
}

/* Run every node of g on the CPU backend; feeds[k] is the data of graph input k+1.
 * Returns per-value buffers (caller frees each and the array). */
static void **run_graph(ir_graph *g, void **feeds)
{
	void **buf = calloc((size_t)g->n_values, sizeof(void *));
	for (int k = 1; k < g->n_inputs; k++)
		buf[g->inputs[k]] = feeds[k - 1];
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		odet_tensor in[IR_MAX_IO], out[IR_MAX_IO];
		memset(in, 0, sizeof in);
		memset(out, 0, sizeof out);
		for (int k = 0; k < n->n_in; k++) {
			ir_value *v = &g->values[n->in[k]];
			in[k].dtype = v->dtype, in[k].rank = v->rank, in[k].device = -1;
			memcpy(in[k].dims, v->dims, sizeof v->dims);
			in[k].data = v->kind == IR_VALUE_CONST ? v->data : buf[n->in[k]];
		}
		for (int k = 0; k < n->n_out; k++) {
			ir_value *v = &g->values[n->out[k]];
			out[k].dtype = v->dtype, out[k].rank = v->rank, out[k].device = -1;
			memcpy(out[k].dims, v->dims, sizeof v->dims);
			out[k].data = buf[n->out[k]] = calloc((size_t)ir_value_numel(v) + 1, odet_dtype_size(v->dtype));
		}
		odet_status rc = be_eval_node(odet_backend_cpu(), g_ctx, g, n, in, out);
		if (rc) {
			fprintf(stderr, "node %s: %s\n", n->name, odet_ctx_last_error(g_ctx));
			for (int v = 0; v < g->n_values; v++)
				if (g->values[v].producer >= 0)
					free(buf[v]);
			free(buf);
			return NULL;
		}
	}
	return buf;
}

static void free_run(ir_graph *g, void **buf)
{
	for (int v = 0; buf && v < g->n_values; v++)
		if (g->values[v].producer >= 0)
			free(buf[v]);
	free(buf);
}

static void test_attach(void)
{
	/* recognition */
	const int64_t nv[2][3] = {{2, 4, 8732}, {2, 81, 8732}};
	ir_graph *g = make_graph(2, 300, 300, 2, nv);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK);
	const char *d = odet_head_describe(g);
	CHECK(d && strstr(d, "ssd300-nvidia") && strstr(d, "recognized"));
	CHECK(g->n_outputs == 4);
	if (g->n_outputs == 4) {
		const ir_value *c = &g->values[g->outputs[0]], *b = &g->values[g->outputs[1]];
		const ir_value *s = &g->values[g->outputs[2]], *k = &g->values[g->outputs[3]];
		CHECK(!strcmp(c->name, "det_count") && c->dtype == ODET_I32 && c->rank == 1 && c->dims[0] == 2);
		CHECK(!strcmp(b->name, "det_boxes") && b->rank == 3 && b->dims[1] == 200 && b->dims[2] == 4);
		CHECK(!strcmp(s->name, "det_scores") && s->dtype == ODET_F32 && s->dims[1] == 200);
		CHECK(!strcmp(k->name, "det_classes") && k->dtype == ODET_I32 && k->dims[1] == 200);
	}
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_ERR_INVALID_ARG);
	ir_graph_free(g);

	const int64_t tv[2][3] = {{1, 8732, 4}, {1, 8732, 91}};
	g = make_graph(1, 300, 300, 2, tv);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK && odet_head_describe(g) &&
	      strstr(odet_head_describe(g), "ssd300-vgg16"));
	ir_graph_free(g);

	const int64_t rv[2][3] = {{1, 120087, 4}, {1, 120087, 91}};
	g = make_graph(1, 800, 800, 2, rv);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK && odet_head_describe(g) &&
	      strstr(odet_head_describe(g), "retinanet"));
	ir_graph_free(g);

	const int64_t y5[1][3] = {{1, 25200, 85}}, y8[1][3] = {{1, 84, 8400}};
	g = make_graph(1, 640, 640, 1, y5);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK && odet_head_describe(g) &&
	      strstr(odet_head_describe(g), "yolov5"));
	ir_graph_free(g);
	g = make_graph(1, 640, 640, 1, y8);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK && odet_head_describe(g) &&
	      strstr(odet_head_describe(g), "yolov8"));
	ir_graph_free(g);

	/* unknown layout: unchanged */
	const int64_t uv[2][3] = {{1, 7, 5}, {1, 7, 3}};
	g = make_graph(1, 64, 64, 2, uv);
	CHECK(odet_head_attach(g_ctx, g, NULL) == ODET_OK && !odet_head_describe(g) && g->n_outputs == 2);
	/* explicit preset that does not fit: error, graph unchanged */
	int nn = g->n_nodes, nv0 = g->n_values;
	CHECK(odet_head_attach(g_ctx, g, "ssd300-nvidia") == ODET_ERR_BAD_INPUT);
	CHECK(g->n_nodes == nn && g->n_outputs == 2 && !g->head);
	(void)nv0;
	CHECK(odet_head_attach(g_ctx, g, "/nonexistent/head.cfg") != ODET_OK);
	ir_graph_free(g);

	/* yolov5 exported end to end: one box, score = obj * cls */
	g = make_graph(1, 640, 640, 1, y5);
	CHECK(odet_head_attach(g_ctx, g, "yolov5") == ODET_OK);
	float *y = calloc(25200 * 85, sizeof(float));
	float row[7] = {100, 200, 50, 80, 0.9f, 0.1f, 0.8f};
	memcpy(&y[85 * 7], row, sizeof row);
	memcpy(&y[85 * 9], row, sizeof row);
	y[85 * 9 + 4] = 0.5f; /* duplicate box, lower score: suppressed */
	void *feeds[1] = {y};
	void **buf = run_graph(g, feeds);
	CHECK(buf != NULL);
	if (buf) {
		int32_t *cnt = buf[g->outputs[0]], *cls = buf[g->outputs[3]];
		float *bx = buf[g->outputs[1]], *sc = buf[g->outputs[2]];
		CHECK(cnt[0] == 1 && cls[0] == 1 && fabsf(sc[0] - 0.72f) < 1e-6f);
		CHECK(bx[0] == 75 && bx[1] == 160 && bx[2] == 125 && bx[3] == 240);
	}
	free_run(g, buf);
	free(y);
	ir_graph_free(g);
}

/* raw YOLO heads (one level, from config files): all logits 0, so every sigmoid is 0.5 and
 * every DFL bin weight 1/4; expected boxes worked out by hand from the ultralytics formulas */
static void test_yolo_raw(void)
{
	const char *path = "test_heads_yolo.cfg";
	for (int v = 5; v <= 8; v += 3) {
		FILE *f = fopen(path, "w");
		if (v == 5)
			fprintf(f, "type = yolov5\ndecoded = 0\nsteps = 8\nanchors = 10 13\nscore_threshold = 0.1\n");
		else
			fprintf(f, "type = yolov8\ndecoded = 0\nsteps = 8\nreg_max = 4\n");
		fclose(f);
		/* v5: [1, 1*(5+2), 1, 1]; v8: [1, 4*4+2, 1, 1] */
		ir_graph *g;
		ir_graph_create(g_ctx, &g);
		int64_t id[4] = {1, 3, 8, 8}, od[4] = {1, v == 5 ? 7 : 18, 1, 1};
		int img = ir_value_add(g, "image", ODET_F32, 4, id), o = ir_value_add(g, "p3", ODET_F32, 4, od);
		g->values[img].kind = g->values[o].kind = IR_VALUE_INPUT;
		g->values[o].is_output = true;
		g->inputs = calloc(2, sizeof(int));
		g->outputs = calloc(1, sizeof(int));
		g->inputs[0] = img, g->inputs[1] = o, g->n_inputs = 2;
		g->outputs[0] = o, g->n_outputs = 1;
		odet_status rc = odet_head_attach(g_ctx, g, path);
		CHECK_MSG(rc == ODET_OK, "yolov%d raw attach: %s", v, odet_ctx_last_error(g_ctx));
		float x[18] = {0};
		void *feeds[1] = {x};
		void **buf = rc ? NULL : run_graph(g, feeds);
		if (buf) {
			int32_t *cnt = buf[g->outputs[0]], *cls = buf[g->outputs[3]];
			float *bx = buf[g->outputs[1]], *sc = buf[g->outputs[2]];
			CHECK(cnt[0] == 2 && cls[0] == 0 && cls[1] == 1); /* one box per class, equal scores */
			if (v == 5) { /* cx = (2*0.5 - 0.5 + 0)*8 = 4, w = (2*0.5)^2*10 = 10, h = 13 */
				CHECK(sc[0] == 0.25f && bx[0] == -1 && bx[1] == -2.5f && bx[2] == 9 && bx[3] == 10.5f);
			} else { /* distances = 1.5 each side around the centre 0.5 cell: (-1, -1, 2, 2) * 8 */
				CHECK(sc[0] == 0.5f && bx[0] == -8 && bx[1] == -8 && bx[2] == 16 && bx[3] == 16);
			}
		}
		free_run(g, buf);
		ir_graph_free(g);
	}
	remove(path);
}

static void test_config(void)
{
	const char *path = "test_heads_custom.cfg";
	FILE *f = fopen(path, "w");
	fprintf(f, "# custom SSD: two levels\nbase = ssd300-nvidia\nname = tiny-ssd\nfeature_maps = 4 2\n"
		   "steps = 16 32\nscales = 10, 20, 40\naspect_ratios = 2; 2 3\nfig_size = 64\n"
		   "score_threshold = 0.2\nmax_detections = 7");
	fclose(f);
	head_spec s;
	CHECK(head_config_load(g_ctx, path, &s) == ODET_OK);
	CHECK(!strcmp(s.name, "tiny-ssd") && s.n_levels == 2 && s.n_ar[1] == 2 && s.max_detections == 7);
	CHECK(head_ssd_count(&s) == 4 * 4 * 4 + 2 * 2 * 6);
	const int64_t dv[2][3] = {{1, 4, 88}, {1, 3, 88}};
	ir_graph *g = make_graph(1, 64, 64, 2, dv);
	CHECK(odet_head_attach(g_ctx, g, path) == ODET_OK);
	CHECK(odet_head_describe(g) && strstr(odet_head_describe(g), "tiny-ssd"));
	ir_graph_free(g);
	static const char *bad[] = {"type = ssd\nfeature_maps = 4\n", "base = nope\n", "iou_threshold = 2\n",
				    "type = ssd\nfeature_maps = 1e9\n", "no equals sign\n", "weights = 1 2 3\n",
				    "type = retinanet\nanchor_sizes = 32; 64\n",
				    /* integers are whole decimal numbers (issue 18) */
				    "max_detections = 3.5\n", "topk = 0x10\n", "type = ssd\nfeature_maps = 4.5 2\n",
				    "decoded = 2\n", "score_threshold = 0x1p-2\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		odet_status rc = head_config_load(g_ctx, path, &s);
		CHECK_MSG(rc == ODET_ERR_BAD_INPUT, "bad config %zu accepted", i);
		CHECK(strstr(odet_ctx_last_error(g_ctx), path) != NULL);
	}
	remove(path);
	/* neither a preset nor a file: a bad option (exit 2), not a run-time failure */
	CHECK(head_config_load(g_ctx, "no-such-preset", &s) == ODET_ERR_BAD_INPUT &&
	      strstr(odet_ctx_last_error(g_ctx), "neither a preset"));
}

/* ---------------------------------------------------------------- helper modes */

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) != 0;
}

static int mode_priors(char **argv)
{
	head_spec s;
	if (head_preset(argv[2], &s))
		return 2;
	int64_t H = atoll(argv[3]), W = atoll(argv[4]), n, ls[HEAD_MAX_LEVELS];
	int nl;
	float *p;
	odet_status rc = s.type == HEAD_SSD ? head_ssd_priors(g_ctx, &s, H, W, &p, &n)
					    : head_retinanet_anchors(g_ctx, &s, H, W, &p, &n, ls, &nl);
	if (rc)
		return 1;
	int e = write_file(argv[5], p, (size_t)n * 16);
	free(p);
	return e;
}

static int mode_e2e(int argc, char **argv)
{
	if (argc < 11)
		return 2;
	int64_t B = atoll(argv[3]), H = atoll(argv[4]), W = atoll(argv[5]);
	const char *prefix = argv[6];
	int64_t dims[2][3];
	void *feeds[2];
	for (int k = 0; k < 2; k++) {
		if (sscanf(argv[8 + 2 * k], "%lld,%lld,%lld", (long long *)&dims[k][0], (long long *)&dims[k][1],
			   (long long *)&dims[k][2]) != 3)
			return 2;
		size_t sz;
		if (odet_file_read(g_ctx, argv[7 + 2 * k], (size_t)1 << 31, &feeds[k], &sz))
			return 2;
	}
	ir_graph *g = make_graph(B, H, W, 2, dims);
	odet_status rc = odet_head_attach(g_ctx, g, strcmp(argv[2], "auto") ? argv[2] : NULL);
	if (rc || !g->head) {
		fprintf(stderr, "attach: %s\n", odet_ctx_last_error(g_ctx));
		return 1;
	}
	void **buf = run_graph(g, feeds);
	if (!buf)
		return 1;
	static const char *names[4] = {"count", "boxes", "scores", "classes"};
	char path[1024];
	int e = 0;
	for (int k = 0; k < 4; k++) {
		const ir_value *v = &g->values[g->outputs[k]];
		snprintf(path, sizeof path, "%s%s.bin", prefix, names[k]);
		e |= write_file(path, buf[g->outputs[k]], (size_t)ir_value_numel(v) * odet_dtype_size(v->dtype));
	}
	int dv = ir_value_find(g, "odet_head_decode_out0");
	if (dv >= 0) {
		snprintf(path, sizeof path, "%sdecoded.bin", prefix);
		e |= write_file(path, buf[dv], (size_t)ir_value_numel(&g->values[dv]) * 4);
	}
	snprintf(path, sizeof path, "%sdescribe.txt", prefix);
	e |= write_file(path, odet_head_describe(g), strlen(odet_head_describe(g)));
	free_run(g, buf);
	free(feeds[0]);
	free(feeds[1]);
	ir_graph_free(g);
	return e;
}

int main(int argc, char **argv)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 2;
	o.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&o, &g_ctx))
		return 1;
	int rc;
	if (argc >= 6 && !strcmp(argv[1], "priors")) {
		rc = mode_priors(argv);
	} else if (argc >= 2 && !strcmp(argv[1], "e2e")) {
		rc = mode_e2e(argc, argv);
	} else {
		test_nms();
		test_attach();
		test_config();
		test_yolo_raw();
		rc = test_summary("heads");
	}
	odet_ctx_destroy(g_ctx);
	return rc;
}
