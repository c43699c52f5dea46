/*
 * onnx_nms.c — the "onnx-nms" head: a model exported with its own ONNX NonMaxSuppression.
 *
 * The ONNX importer (import/onnx_nms.c) cuts the graph at the NonMaxSuppression node and leaves
 * an OnnxNms marker node (ops.def) holding the NMS inputs: boxes [B,N,4], scores [B,C,N],
 * max_output_boxes_per_class, iou_threshold, score_threshold, attr center_point_box. After the
 * passes have folded constants, odet_head_attach replaces the marker by:
 *
 *   boxes --(Cast to f32 if needed)-- Split(axis 2, 4 parts) --+
 *      center_point_box 0 ([y1,x1,y2,x2], any diagonal pair):  x1' = Min(x1,x2), y1' = Min(y1,y2),
 *                                                              x2' = Max(x1,x2), y2' = Max(y1,y2)
 *      center_point_box 1 ([xc,yc,w,h]): x1' = xc - w/2, x2' = xc + w/2 (same for y), no reordering
 *   -- Concat(axis 2) --> boxes [B,N,4] x1 y1 x2 y2
 *   scores [B,C,N] -- ClassScores(layout 1, no activation) --> [B,N,C] f32
 *   BatchedNms: score > score_threshold (absent: no threshold), suppress IoU > iou_threshold,
 *               no top-k before NMS, at most max_output_boxes_per_class kept per class
 *               (attr max_per_class), K = min(C * min(max_output_boxes_per_class, N), cap)
 *               per image, cap = 1000 or "onnx-nms:<cap>".
 *
 * This is ONNX Runtime's NonMaxSuppression (boxes with score > threshold, greedy per class in
 * descending score order, a box suppressed when its IoU with a selected box of its class is
 * > iou_threshold, stop at max_output_boxes_per_class) reported as boxes/scores/classes instead
 * of selected_indices. Differences: ties in score are broken by lower box index; NaN/Inf scores
 * are never selected (ONNX Runtime selects +Inf); boxes of zero or negative area are handled
 * as ONNX Runtime does (they neither suppress nor get suppressed) for center_point_box 0.
 */
#include "heads/heads_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONNX_NMS_DEFAULT_CAP 1000
#define ONNX_NMS_MAX_CAP (1 << 24)

/* ---- the marker's shape function: placeholder [B] i32 */
odet_status ir_shape_ONNX_NMS(ir_graph *g, ir_node *n)
{
	const ir_value *bx = ir_in(g, n, 0), *sc = ir_in(g, n, 1);
	ir_value *o = ir_out(g, n, 0);
	if (!bx || !sc || !o || n->n_out != 1)
		return odet_error(g->ctx, ODET_ERR_BAD_INPUT, "node '%s' (OnnxNms): needs boxes and scores, one output",
				  n->name);
	if (bx->rank >= 0 && (bx->rank != 3 || (bx->dims[2] >= 0 && bx->dims[2] != 4)))
		return odet_error(g->ctx, ODET_ERR_BAD_INPUT,
				  "node '%s' (NonMaxSuppression): boxes must be [num_batches, spatial_dimension, 4]", n->name);
	if (sc->rank >= 0 && sc->rank != 3)
		return odet_error(g->ctx, ODET_ERR_BAD_INPUT,
				  "node '%s' (NonMaxSuppression): scores must be [num_batches, num_classes, spatial_dimension]",
				  n->name);
	o->dtype = ODET_I32;
	o->rank = 1;
	o->dims[0] = bx->rank == 3 ? bx->dims[0] : -1;
	return ODET_OK;
}

int head_onnx_nms_find(const ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == IR_OP_ONNX_NMS)
			return i;
	return -1;
}

bool head_onnx_nms_spec(const char *spec)
{
	return !strcmp(spec, "onnx-nms") || !strncmp(spec, "onnx-nms:", 9);
}

static odet_status cap_of(odet_ctx *ctx, const char *spec, int64_t *cap)
{
	*cap = ONNX_NMS_DEFAULT_CAP;
	if (!spec || strcmp(spec, "onnx-nms") == 0)
		return ODET_OK;
	if (!head_onnx_nms_spec(spec))
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "head %s: the model has its own NonMaxSuppression; only the onnx-nms head "
				  "(\"onnx-nms\" or \"onnx-nms:<max detections per image>\") applies", spec);
	char *end;
	long long v = strtoll(spec + 9, &end, 10);
	if (end == spec + 9 || *end || v < 1 || v > ONNX_NMS_MAX_CAP)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "head %s: expected onnx-nms:<max detections per image> with 1..%d", spec,
				  ONNX_NMS_MAX_CAP);
	*cap = v;
	return ODET_OK;
}

/* One constant scalar input: present = 0 when omitted. */
static odet_status scalar_in(odet_ctx *ctx, const ir_graph *g, const ir_node *n, int i, const char *what,
			     bool integer, int *present, double *out)
{
	const ir_value *v = ir_in(g, n, i);
	*present = 0;
	if (!v)
		return ODET_OK;
	if (v->kind != IR_VALUE_CONST || !v->data)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "NonMaxSuppression '%s': input %s ('%s') is computed at run time; odet replaces "
				  "the NMS when the engine is built and needs it constant",
				  n->name, what, v->name);
	if (ir_value_numel(v) != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "NonMaxSuppression '%s': input %s must hold one value",
				  n->name, what);
	if (integer && (v->dtype == ODET_I64 || v->dtype == ODET_I32)) {
		*out = (double)ir_const_i64(v, 0);
	} else if (!integer && v->dtype == ODET_F32) {
		*out = ((const float *)v->data)[0];
	} else {
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "NonMaxSuppression '%s': input %s has dtype %s (%s expected)",
				  n->name, what, odet_dtype_name(v->dtype), integer ? "int64" : "float");
	}
	*present = 1;
	return ODET_OK;
}

/* Add node op(in...) with one output; returns the output value or -1. */
static int add1(ir_graph *g, ir_op op, const char *name, int n_in, const int *in)
{
	int out;
	return head_add_node(g, op, name, n_in, in, 1, &out) < 0 ? -1 : out;
}

static odet_status add_box_convert(ir_graph *g, const char *base, int boxes, int center, int *out)
{
	char name[160];
	int in = boxes, part[4];
	if (g->values[boxes].dtype != ODET_F32) {
		int f32;
		snprintf(name, sizeof name, "%s/boxes_f32", base);
		int n = head_add_node(g, IR_OP_CAST, name, 1, &in, 1, &f32);
		if (n < 0 || ir_attr_set_int(g, n, "to", ODET_F32))
			return ODET_ERR_NO_MEMORY;
		in = f32;
	}
	snprintf(name, sizeof name, "%s/split", base);
	int sp = head_add_node(g, IR_OP_SPLIT, name, 1, &in, 4, part);
	if (sp < 0 || ir_attr_set_int(g, sp, "axis", 2))
		return ODET_ERR_NO_MEMORY;
	int xy[4];
	if (!center) {
		/* [y1, x1, y2, x2], any diagonal pair */
		int px[2] = {part[1], part[3]}, py[2] = {part[0], part[2]};
		snprintf(name, sizeof name, "%s/xmin", base);
		xy[0] = add1(g, IR_OP_MIN, name, 2, px);
		snprintf(name, sizeof name, "%s/ymin", base);
		xy[1] = add1(g, IR_OP_MIN, name, 2, py);
		snprintf(name, sizeof name, "%s/xmax", base);
		xy[2] = add1(g, IR_OP_MAX, name, 2, px);
		snprintf(name, sizeof name, "%s/ymax", base);
		xy[3] = add1(g, IR_OP_MAX, name, 2, py);
	} else {
		/* [xc, yc, w, h]: half = w / 2 as ONNX Runtime computes it */
		float *two = malloc(sizeof *two);
		if (!two)
			return ODET_ERR_NO_MEMORY;
		*two = 2.0f;
		int c2 = ir_const_add(g, NULL, ODET_F32, 0, NULL, two);
		if (c2 < 0)
			return ODET_ERR_NO_MEMORY;
		int hw[2] = {part[2], c2}, hh[2] = {part[3], c2};
		snprintf(name, sizeof name, "%s/half_w", base);
		int w2 = add1(g, IR_OP_DIV, name, 2, hw);
		snprintf(name, sizeof name, "%s/half_h", base);
		int h2 = add1(g, IR_OP_DIV, name, 2, hh);
		if (w2 < 0 || h2 < 0)
			return ODET_ERR_NO_MEMORY;
		int a[2] = {part[0], w2}, b[2] = {part[1], h2};
		snprintf(name, sizeof name, "%s/xmin", base);
		xy[0] = add1(g, IR_OP_SUB, name, 2, a);
		snprintf(name, sizeof name, "%s/ymin", base);
		xy[1] = add1(g, IR_OP_SUB, name, 2, b);
		snprintf(name, sizeof name, "%s/xmax", base);
		xy[2] = add1(g, IR_OP_ADD, name, 2, a);
		snprintf(name, sizeof name, "%s/ymax", base);
		xy[3] = add1(g, IR_OP_ADD, name, 2, b);
	}
	for (int k = 0; k < 4; k++)
		if (xy[k] < 0)
			return ODET_ERR_NO_MEMORY;
	snprintf(name, sizeof name, "%s/boxes_xyxy", base);
	int cat;
	int n = head_add_node(g, IR_OP_CONCAT, name, 4, xy, 1, &cat);
	if (n < 0 || ir_attr_set_int(g, n, "axis", 2))
		return ODET_ERR_NO_MEMORY;
	*out = cat;
	return ODET_OK;
}

odet_status head_attach_onnx_nms(odet_ctx *ctx, ir_graph *g, int marker, const char *spec)
{
	head_spec s;
	int64_t cap;
	odet_status rc = cap_of(ctx, spec, &cap);
	if (rc)
		return rc;
	if (marker < 0)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "head %s: the model has no ONNX NonMaxSuppression to replace", spec);
	if (head_onnx_nms_find(g) != marker)
		return odet_error(ctx, ODET_ERR_INTERNAL, "head onnx-nms: bad marker node");
	for (int i = marker + 1; i < g->n_nodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == IR_OP_ONNX_NMS)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "head onnx-nms: more than one NonMaxSuppression");
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "onnx-nms");
	for (int c = 0; c < 3; c++)
		s.pixel_scale[c] = 1.0f / 255.0f;
	s.background = -1;

	/* copy what we need: adding nodes may move g->nodes */
	char label[128];
	snprintf(label, sizeof label, "%s", g->nodes[marker].name ? g->nodes[marker].name : "NonMaxSuppression");
	ir_node *m = &g->nodes[marker];
	int center = (int)ir_attr_int(m, "center_point_box", 0);
	long long cut_nodes = (long long)ir_attr_int(m, "cut_nodes", 0);
	long long cut_outputs = (long long)ir_attr_int(m, "cut_outputs", 0);
	int boxes = m->in[0], scores = m->in[1];
	int has_max, has_iou, has_score;
	double max_out = 0, iou = 0, sthr = 0;
	if ((rc = scalar_in(ctx, g, m, 2, "max_output_boxes_per_class", true, &has_max, &max_out)) ||
	    (rc = scalar_in(ctx, g, m, 3, "iou_threshold", false, &has_iou, &iou)) ||
	    (rc = scalar_in(ctx, g, m, 4, "score_threshold", false, &has_score, &sthr)))
		return odet_error_prefix(ctx, "head onnx-nms: ");
	if (center != 0 && center != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "head onnx-nms: NonMaxSuppression '%s': center_point_box %d (0 or 1)",
				  label, center);
	if (!(iou >= 0.0 && iou <= 1.0))
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "head onnx-nms: NonMaxSuppression '%s': iou_threshold %g is not in [0, 1]", label, iou);
	if (has_score && isnan(sthr))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "head onnx-nms: NonMaxSuppression '%s': score_threshold is NaN",
				  label);
	const ir_value *bv = &g->values[boxes], *sv = &g->values[scores];
	if (!ir_value_shape_known(bv) || !ir_value_shape_known(sv) || bv->rank != 3 || sv->rank != 3 ||
	    bv->dims[2] != 4 || bv->dims[0] != sv->dims[0] || bv->dims[1] != sv->dims[2])
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "head onnx-nms: NonMaxSuppression '%s': boxes %s and scores %s are not [B,N,4] and [B,C,N]",
				  label, ir_shape_str(bv, (char[64]){0}, 64), ir_shape_str(sv, (char[64]){0}, 64));
	if ((bv->dtype != ODET_F32 && bv->dtype != ODET_F16) || (sv->dtype != ODET_F32 && sv->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "head onnx-nms: NonMaxSuppression '%s': boxes %s, scores %s (f32 or f16)",
				  label, odet_dtype_name(bv->dtype), odet_dtype_name(sv->dtype));
	int64_t N = bv->dims[1], C = sv->dims[1];
	int64_t per_class = max_out > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)max_out;
	if (per_class > N)
		per_class = N;
	int64_t K;
	if (!has_max || per_class <= 0) {
		/* ONNX: 0 (the default) selects nothing */
		per_class = 0;
		K = 1;
		s.score_threshold = INFINITY;
	} else {
		s.score_threshold = has_score ? (float)sthr : -INFINITY;
		if (!odet_mul_i64(C, per_class, &K) || K > cap)
			K = cap;
	}
	s.iou_threshold = (float)iou;
	s.max_detections = K;
	s.topk = 0;

	int first_node = g->n_nodes, nms = -1, xyxy = -1, sc = -1;
	char base[160];
	snprintf(base, sizeof base, "odet_onnx_nms");
	rc = add_box_convert(g, base, boxes, center, &xyxy);
	if (!rc) {
		int n = head_add_node(g, IR_OP_CLASS_SCORES, "odet_onnx_nms/scores", 1, &scores, 1, &sc);
		rc = n < 0 ? ODET_ERR_NO_MEMORY : ir_attr_set_int(g, n, "layout", 1);
		rc = rc ? rc : ir_attr_set_int(g, n, "activation", 0);
	}
	float one[2] = {1, 1};
	if (!rc)
		rc = head_add_nms(g, &s, xyxy, sc, one, NULL, 0, &nms);
	if (!rc)
		rc = ir_attr_set_int(g, nms, "max_per_class", per_class);
	char line[512];
	snprintf(line, sizeof line,
		 "onnx-nms: NonMaxSuppression '%s' replaced by odet's batched NMS (boxes %s, score > %g, "
		 "IoU > %g suppresses, %lld per class, %lld per image%s); %lld node(s) not needed for its inputs and the "
		 "model's %lld output(s) were cut",
		 label, center ? "xc yc w h" : "y1 x1 y2 x2", s.score_threshold, s.iou_threshold,
		 (long long)per_class, (long long)K, K == cap && per_class > 0 ? ", capped" : "", cut_nodes,
		 cut_outputs);
	rc = head_finish(ctx, g, &s, rc, first_node, nms, sc, line);
	if (rc)
		return rc;
	g->nodes[marker].dead = true;
	return ir_graph_compact(g);
}
