/* test_fuse_scores_nms.c — pass_fuse_scores_nms and BatchedNms with fused class scores on the CPU.
 *
 * Hand-built heads: logits -> ClassScores -> BatchedNms (boxes a graph input): softmax over
 * [B,C,N] logits with per-class top-k and a background class (SSD), sigmoid over [B,N,C] with
 * per-level top-k (RetinaNet), float16 logits, no activation with layout 1, odd class counts.
 * Each graph is built by a CPU engine twice: with the passes (the ClassScores must be folded
 * into the BatchedNms: activation / layout set, input 1 the logits) and without (the graph as
 * given: ClassScores then BatchedNms); the four detection outputs must be equal bit for bit.
 * The pass must leave a ClassScores alone when its scores are a graph output or have another
 * reader, and when (activation 0, layout 0) it would change the dtype the NMS reads. Bad
 * activation / layout attributes on a BatchedNms are refused with a message naming them. */
#include "backend/backend.h"
#include "engine/engine.h"
#include "passes/passes.h"
#include "graph_build.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx;

typedef struct head_case {
	const char *what;
	int act, layout;            /* ClassScores */
	odet_dtype logit_dt;
	int64_t B, N, C;
	int mode;                   /* BatchedNms topk_mode */
	int64_t levels[3];          /* mode 1 */
	int64_t background, topk, K;
	float thr;
	bool scores_output;         /* the scores are also a graph output */
	bool second_reader;         /* a second BatchedNms reads the scores */
} head_case;

static void add_nms(ir_graph *g, const head_case *hc, const char *name, int boxes, int scores, float iou)
{
	char on[4][64];
	int out[4];
	static const char *const suffix[4] = {"count", "boxes", "scores", "classes"};
	for (int k = 0; k < 4; k++) {
		snprintf(on[k], sizeof on[k], "%s_%s", name, suffix[k]);
		out[k] = test_graph_value(g, on[k]);
	}
	int n = ir_node_add(g, IR_OP_BATCHED_NMS, name, 2, (int[]){boxes, scores}, 4, out);
	ir_attr_set_float(g, n, "score_threshold", hc->thr);
	ir_attr_set_float(g, n, "iou_threshold", iou);
	ir_attr_set_int(g, n, "topk", hc->topk);
	ir_attr_set_int(g, n, "topk_mode", hc->mode);
	ir_attr_set_int(g, n, "max_detections", hc->K);
	ir_attr_set_int(g, n, "background", hc->background);
	ir_attr_set_float(g, n, "out_scale_x", 300.0f);
	ir_attr_set_float(g, n, "out_scale_y", 200.0f);
	if (hc->mode == 1)
		ir_attr_set_ints(g, n, "level_sizes", hc->levels, 3);
	for (int k = 0; k < 4; k++)
		test_graph_output(g, out[k]);
}

static ir_graph *head_graph(const head_case *hc)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t db[3] = {hc->B, hc->N, 4};
	int64_t dl[3] = {hc->B, hc->layout ? hc->C : hc->N, hc->layout ? hc->N : hc->C};
	int boxes = test_graph_input(g, "boxes", ODET_F32, 3, db);
	int logits = test_graph_input(g, "logits", hc->logit_dt, 3, dl);
	int probs = test_graph_value(g, "probs");
	int s = ir_node_add(g, IR_OP_CLASS_SCORES, "scores", 1, &logits, 1, &probs);
	ir_attr_set_int(g, s, "activation", hc->act);
	ir_attr_set_int(g, s, "layout", hc->layout);
	add_nms(g, hc, "nms", boxes, probs, 0.5f);
	if (hc->second_reader)
		add_nms(g, hc, "nms2", boxes, probs, 0.3f);
	if (hc->scores_output)
		test_graph_output(g, probs);
	return g;
}

static int count_op(const ir_graph *g, ir_op op)
{
	int n = 0;
	for (int i = 0; i < g->n_nodes; i++)
		n += !g->nodes[i].dead && g->nodes[i].op == op;
	return n;
}

static const ir_node *find_node(const ir_graph *g, const char *name)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && !strcmp(g->nodes[i].name, name))
			return &g->nodes[i];
	return NULL;
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static float uniform(uint32_t *s)
{
	return (float)(lcg(s) & 0xffffff) / 16777216.0f;
}

/* boxes in clusters (NMS suppresses inside a cluster); logits mostly low, raised for one class
 * per cluster, a few non-finite values */
static void fill_inputs(const head_case *hc, float *boxes, void *logits)
{
	uint32_t s = 12345u + (uint32_t)hc->C;
	int64_t B = hc->B, N = hc->N, C = hc->C;
	for (int64_t r = 0; r < B * N; r++) {
		int64_t cl = (r % N) / 8;
		float cx = (float)((cl * 37) % 100) / 100.0f + 0.02f * uniform(&s);
		float cy = (float)((cl * 53) % 100) / 100.0f + 0.02f * uniform(&s);
		float w = 0.05f + 0.2f * uniform(&s), h = 0.05f + 0.2f * uniform(&s);
		boxes[4 * r + 0] = cx - w / 2, boxes[4 * r + 1] = cy - h / 2;
		boxes[4 * r + 2] = cx + w / 2, boxes[4 * r + 3] = cy + h / 2;
	}
	for (int64_t b = 0; b < B; b++)
		for (int64_t i = 0; i < N; i++)
			for (int64_t c = 0; c < C; c++) {
				float v = 6.0f * uniform(&s) - 5.0f;
				if (c == (i / 8) % C)
					v += 4.0f * uniform(&s) + 1.0f;
				if (c == 0 && hc->background == 0)
					v += 3.0f;
				if (lcg(&s) % 997 == 0)
					v = (lcg(&s) & 1) ? INFINITY : NAN;
				int64_t k = hc->layout ? (b * C + c) * N + i : (b * N + i) * C + c;
				if (hc->logit_dt == ODET_F16)
					((uint16_t *)logits)[k] = odet_f32_to_f16(v);
				else
					((float *)logits)[k] = v;
			}
}

/* runs e on the inputs; outputs malloc'ed into out (n_out of them) */
static odet_status run_engine(odet_engine *e, float *boxes, void *logits, odet_tensor *out, int n_out)
{
	odet_exec *x = NULL;
	odet_status rc = odet_exec_create(e, &x);
	if (rc)
		return rc;
	odet_tensor in[2];
	for (int i = 0; i < 2; i++) {
		const char *name;
		odet_engine_input_info(e, i, &name, &in[i]);
		in[i].data = !strcmp(name, "boxes") ? (void *)boxes : logits;
	}
	for (int i = 0; i < n_out; i++) {
		odet_engine_output_info(e, i, NULL, &out[i]);
		out[i].data = malloc(odet_dtype_size(out[i].dtype) * (size_t)odet_tensor_numel(&out[i]));
		memset(out[i].data, 0xa5, odet_dtype_size(out[i].dtype) * (size_t)odet_tensor_numel(&out[i]));
	}
	rc = odet_exec_infer(x, in, 2, out, n_out);
	odet_exec_destroy(x);
	return rc;
}

/* Build with and without the passes, check the fused graph and compare the outputs bit for bit. */
static void check_case(const head_case *hc, bool want_fused)
{
	ir_graph *g = head_graph(hc);
	CHECK_MSG(pass_infer_shapes(g) == ODET_OK, "%s: shapes: %s", hc->what, odet_ctx_last_error(ctx));
	size_t nl = (size_t)(hc->B * hc->N * hc->C);
	float *boxes = malloc(sizeof(float) * (size_t)(hc->B * hc->N * 4));
	void *logits = malloc(nl * odet_dtype_size(hc->logit_dt));
	fill_inputs(hc, boxes, logits);
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	o.batch = (int)hc->B;
	odet_engine *ef = NULL, *eu = NULL;
	odet_status rc = odet_engine_build(ctx, g, &o, &ef);
	CHECK_MSG(rc == ODET_OK, "%s: build with passes: %s", hc->what, odet_ctx_last_error(ctx));
	odet_status ru = engine_build_with(ctx, g, &o, odet_backend_cpu(), false, &eu);
	CHECK_MSG(ru == ODET_OK, "%s: build without passes: %s", hc->what, odet_ctx_last_error(ctx));
	int n_out = g->n_outputs, equal = 0;
	if (!rc && !ru) {
		const ir_graph *fg = ef->g;
		const ir_node *nms = find_node(fg, "nms");
		int ncs = count_op(fg, IR_OP_CLASS_SCORES);
		CHECK_MSG(ncs == (want_fused ? 0 : 1), "%s: %d ClassScores nodes after the passes (want %d)", hc->what,
			  ncs, want_fused ? 0 : 1);
		CHECK(count_op(eu->g, IR_OP_CLASS_SCORES) == 1);
		CHECK(nms != NULL);
		if (nms && want_fused) {
			const ir_value *in1 = ir_in(fg, nms, 1);
			CHECK_MSG(ir_attr_int(nms, "activation", -1) == hc->act && ir_attr_int(nms, "layout", -1) == hc->layout,
				  "%s: fused attributes activation %lld layout %lld", hc->what,
				  (long long)ir_attr_int(nms, "activation", -1), (long long)ir_attr_int(nms, "layout", -1));
			CHECK_MSG(in1 && !strcmp(in1->name, "logits") && in1->dtype == hc->logit_dt,
				  "%s: BatchedNms input 1 is '%s'", hc->what, in1 ? in1->name : "(none)");
		} else if (nms) {
			CHECK(ir_attr_int(nms, "activation", 0) == 0 && ir_attr_int(nms, "layout", 0) == 0);
		}
		odet_tensor of[16], ou[16];
		memset(of, 0, sizeof of);
		memset(ou, 0, sizeof ou);
		rc = run_engine(ef, boxes, logits, of, n_out);
		CHECK_MSG(rc == ODET_OK, "%s: run fused: %s", hc->what, odet_ctx_last_error(ctx));
		ru = run_engine(eu, boxes, logits, ou, n_out);
		CHECK_MSG(ru == ODET_OK, "%s: run unfused: %s", hc->what, odet_ctx_last_error(ctx));
		long long dets = 0;
		for (int i = 0; !rc && !ru && i < n_out; i++) {
			size_t bytes = odet_dtype_size(of[i].dtype) * (size_t)odet_tensor_numel(&of[i]);
			bool same = of[i].dtype == ou[i].dtype && odet_tensor_numel(&of[i]) == odet_tensor_numel(&ou[i]) &&
				    !memcmp(of[i].data, ou[i].data, bytes);
			CHECK_MSG(same, "%s: output %d differs", hc->what, i);
			equal += same;
		}
		if (!rc && !ru)
			for (int64_t b = 0; b < hc->B; b++)
				dets += ((const int32_t *)of[0].data)[b];
		CHECK_MSG(dets > 0, "%s: no detections (the case tests nothing)", hc->what);
		printf("  %-44s %s, %d/%d outputs equal, %lld detections\n", hc->what, want_fused ? "fused  " : "unfused",
		       equal, n_out, dets);
		for (int i = 0; i < n_out; i++) {
			free(of[i].data);
			free(ou[i].data);
		}
	}
	odet_engine_destroy(ef);
	odet_engine_destroy(eu);
	free(boxes);
	free(logits);
	ir_graph_free(g);
}

/* The pass on its own: what it folds, what it leaves. */
static void check_pass(void)
{
	head_case hc = {"pass", 1, 1, ODET_F32, 1, 40, 5, 0, {0}, 0, 10, 10, 0.1f, false, false};
	ir_graph *g = head_graph(&hc);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	const ir_node *n = find_node(g, "nms");
	CHECK(count_op(g, IR_OP_CLASS_SCORES) == 0 && n && ir_in(g, n, 1) && !strcmp(ir_in(g, n, 1)->name, "logits"));
	CHECK(ir_value_find(g, "probs") < 0); /* the scores value is gone */
	/* the BatchedNms' shapes follow the [B,C,N] logits */
	CHECK(n && ir_out(g, n, 1)->dims[0] == 1 && ir_out(g, n, 1)->dims[1] == 10 && ir_out(g, n, 1)->dims[2] == 4);
	/* a second run finds nothing to do */
	CHECK(pass_fuse_scores_nms(g) == ODET_OK && count_op(g, IR_OP_BATCHED_NMS) == 1);
	ir_graph_free(g);

	hc.scores_output = true;
	g = head_graph(&hc);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_CLASS_SCORES) == 1);
	ir_graph_free(g);

	hc.scores_output = false;
	hc.second_reader = true;
	g = head_graph(&hc);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_CLASS_SCORES) == 1);
	ir_graph_free(g);

	/* activation 0, layout 0, float16 logits and float32 boxes: the ClassScores is the only
	 * widening, an unfused BatchedNms reads scores of the boxes' dtype */
	head_case h0 = {"copy", 0, 0, ODET_F16, 1, 40, 5, 0, {0}, -1, 10, 10, 0.1f, false, false};
	g = head_graph(&h0);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_CLASS_SCORES) == 1);
	ir_graph_free(g);
	h0.logit_dt = ODET_F32;
	g = head_graph(&h0);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	CHECK(count_op(g, IR_OP_CLASS_SCORES) == 0);
	ir_graph_free(g);
}

/* BatchedNms with bad activation / layout: refused (shape function and the CPU check), naming them */
static void check_bad_attrs(void)
{
	head_case hc = {"bad", 1, 1, ODET_F32, 1, 40, 5, 0, {0}, 0, 10, 10, 0.1f, false, false};
	static const struct {
		const char *attr;
		int64_t v;
	} bad[] = {{"activation", 3}, {"activation", -1}, {"layout", 2}};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		ir_graph *g = head_graph(&hc);
		CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
		int ni = -1;
		for (int i = 0; i < g->n_nodes; i++)
			if (g->nodes[i].op == IR_OP_BATCHED_NMS)
				ni = i;
		ir_attr_set_int(g, ni, bad[k].attr, bad[k].v);
		odet_status rc = pass_infer_shapes(g);
		CHECK_MSG(rc != ODET_OK && strstr(odet_ctx_last_error(ctx), "activation") &&
				  strstr(odet_ctx_last_error(ctx), "'nms'"),
			  "%s %lld: shape function: %s", bad[k].attr, (long long)bad[k].v, odet_ctx_last_error(ctx));
		const odet_backend *be = odet_backend_cpu();
		rc = be->check(ctx, g, &g->nodes[ni]);
		CHECK_MSG(rc != ODET_OK && strstr(odet_ctx_last_error(ctx), bad[k].attr) &&
				  strstr(odet_ctx_last_error(ctx), "'nms'"),
			  "%s %lld: CPU check: %s", bad[k].attr, (long long)bad[k].v, odet_ctx_last_error(ctx));
		ir_graph_free(g);
	}
	/* layout 1 logits whose N differs from the boxes' */
	ir_graph *g = head_graph(&hc);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_scores_nms(g) == ODET_OK);
	g->values[g->inputs[1]].dims[2] = 39;
	for (int i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].op == IR_OP_BATCHED_NMS)
			CHECK(pass_infer_shape_node(g, &g->nodes[i]) == ODET_ERR_BAD_INPUT &&
			      strstr(odet_ctx_last_error(ctx), "[B,C,N]"));
	ir_graph_free(g);
}

int main(void)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	odet_ctx_create(&co, &ctx);
	check_pass();
	check_bad_attrs();
	static const head_case cases[] = {
		/* what                                      act lay logits     B  N    C   mode levels         bg  topk K   thr */
		{"SSD-like softmax [B,C,N], per class", 1, 1, ODET_F32, 3, 600, 21, 0, {0}, 0, 50, 40, 0.05f, false, false},
		{"softmax [B,C,N] f16, per class", 1, 1, ODET_F16, 2, 600, 21, 0, {0}, 0, 50, 40, 0.05f, false, false},
		{"softmax [B,N,C], 40 classes, no top-k", 1, 0, ODET_F32, 2, 333, 40, 0, {0}, -1, 0, 100, 0.02f, false, false},
		{"RetinaNet-like sigmoid [B,N,C], per level", 2, 0, ODET_F32, 2, 700, 9, 1, {400, 200, 100}, -1, 60, 50, 0.3f,
		 false, false},
		{"sigmoid [B,C,N] f16, per level", 2, 1, ODET_F16, 2, 700, 9, 1, {400, 200, 100}, -1, 60, 50, 0.3f, false,
		 false},
		{"no activation [B,C,N] (a transpose)", 0, 1, ODET_F32, 2, 300, 5, 0, {0}, -1, 30, 30, 1.0f, false, false},
		{"one class, sigmoid", 2, 1, ODET_F32, 2, 300, 1, 0, {0}, -1, 30, 30, 0.5f, false, false},
		{"scores also a graph output", 1, 1, ODET_F32, 2, 300, 7, 0, {0}, 0, 30, 30, 0.05f, true, false},
		{"scores read by two BatchedNms", 2, 0, ODET_F32, 2, 300, 7, 0, {0}, -1, 30, 30, 0.3f, false, true},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
		check_case(&cases[k], !cases[k].scores_output && !cases[k].second_reader);
	odet_ctx_destroy(ctx);
	return test_summary("fuse_scores_nms");
}
