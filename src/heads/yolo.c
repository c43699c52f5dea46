/*
 * yolo.c — YOLO heads (presets "yolov5", "yolov8"; raw per-level heads through a config file).
 *
 * Exported (decoded = 1, the presets): YOLOv5 output [B,N,5+C] = cx cy w h (pixels), objectness,
 * class probabilities, score = obj * cls; YOLOv8 output [B,4+C,N] = cx cy w h, class scores.
 * Raw (decoded = 0): one output per level l with stride steps[l], [B, A*(5+C), H/s, W/s] (v5:
 * xy = (2 sigmoid - 0.5 + grid) * s, wh = (2 sigmoid)^2 * anchor) or [B, 4*reg_max + C, H/s, W/s]
 * (v8: DFL expectation of ltrb distances around the cell centre, times s); levels are
 * concatenated (Concat, axis 1) in level order.
 * NMS (ultralytics defaults): class-aware, score > 0.25, IoU 0.45, 300 per image, no top-k.
 */
#include "heads/heads_internal.h"

#include <stdio.h>
#include <string.h>

static int find_level(const ir_graph *g, const head_net *net, int64_t h, int64_t w)
{
	for (int k = 0; k < net->n_out; k++) {
		const ir_value *v = &g->values[net->out[k]];
		if (v->rank == 4 && v->dims[2] == h && v->dims[3] == w)
			return net->out[k];
	}
	return -1;
}

odet_status head_build_yolo(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores)
{
	odet_ctx *ctx = g->ctx;
	int v8 = s->type == HEAD_YOLOV8;
	odet_status rc = ODET_OK;
	int bl[HEAD_MAX_LEVELS], sl[HEAD_MAX_LEVELS], nl = s->decoded ? 1 : s->n_levels;
	for (int l = 0; l < nl; l++) {
		int in, out[2];
		char name[64];
		if (s->decoded) {
			in = net->n_out == 1 ? net->out[0] : -1;
			if (in < 0 || g->values[in].rank != 3)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "an exported YOLO needs one output of rank 3");
		} else {
			if (net->H <= 0 || net->W <= 0 || s->steps[l] <= 0)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "raw YOLO levels need the input size and strides");
			in = find_level(g, net, net->H / (int64_t)s->steps[l], net->W / (int64_t)s->steps[l]);
			if (in < 0)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "no output for stride %g", s->steps[l]);
		}
		snprintf(name, sizeof name, "odet_head_yolo%d", l);
		int n = head_add_node(g, IR_OP_YOLO_DECODE, name, 1, &in, 2, out);
		if (n < 0)
			return ODET_ERR_NO_MEMORY;
		rc = ir_attr_set_int(g, n, "version", v8 ? 8 : 5);
		rc = rc ? rc : ir_attr_set_int(g, n, "decoded", s->decoded);
		rc = rc ? rc : ir_attr_set_float(g, n, "stride", (float)s->steps[l]);
		if (!rc && v8)
			rc = ir_attr_set_int(g, n, "reg_max", s->reg_max);
		if (!rc && !v8 && !s->decoded)
			rc = ir_attr_set_floats(g, n, "anchors", s->anchors[l], 2 * s->n_anchors[l]);
		if (rc)
			return rc;
		bl[l] = out[0];
		sl[l] = out[1];
	}
	if (nl == 1) {
		*boxes = bl[0];
		*scores = sl[0];
		return ODET_OK;
	}
	int nb = head_add_node(g, IR_OP_CONCAT, "odet_head_concat_boxes", nl, bl, 1, boxes);
	int ns = head_add_node(g, IR_OP_CONCAT, "odet_head_concat_scores", nl, sl, 1, scores);
	if (nb < 0 || ns < 0)
		return ODET_ERR_NO_MEMORY;
	rc = ir_attr_set_int(g, nb, "axis", 1);
	return rc ? rc : ir_attr_set_int(g, ns, "axis", 1);
}
