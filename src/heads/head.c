/*
 * head.c — attaching a detection head to a graph (head.h): choose the head (preset name,
 * config file, or recognition from output shapes), let the type's builder add its decode
 * nodes, add the BatchedNms node and make its four outputs the graph's outputs.
 *
 * Recognition (spec NULL), from rank-3 graph outputs and the image input [B,3,H,W]:
 *   [B,4,8732] + [B,C,8732]                      -> ssd300-nvidia
 *   [B,8732,4] + [B,8732,C]                      -> ssd300-vgg16
 *   [B,N,4] + [B,N,C], N = RetinaNet anchor count for H x W (P3..P7, 9 anchors) -> retinanet
 *   one output [B,N,5+C], N = 3 * sum (H/s)(W/s) over s = 8,16,32 -> yolov5 (exported, decoded)
 *   one output [B,4+C,N], N = sum (H/s)(W/s) over s = 8,16,32     -> yolov8 (exported, decoded)
 * Anything else: no head, graph unchanged.
 * A graph holding an OnnxNms marker (the model's own NonMaxSuppression, cut at import) always
 * gets the onnx-nms head (onnx_nms.c).
 */
#include "heads/heads_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_free(void *p)
{
	free(p);
}

int head_add_node(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, int n_out, int *out)
{
	char buf[128];
	for (int k = 0; k < n_out; k++) {
		snprintf(buf, sizeof buf, "%s_out%d", name, k);
		if (ir_value_find(g, buf) >= 0)
			snprintf(buf, sizeof buf, "%s_%d_out%d", name, g->n_values, k);
		out[k] = ir_value_add(g, buf, ODET_DTYPE_UNDEFINED, -1, NULL);
		if (out[k] < 0)
			return -1;
	}
	return ir_node_add(g, op, name, n_in, in, n_out, out);
}

int head_find_output(const ir_graph *g, const head_net *net, int64_t d1, int64_t d2, int exclude)
{
	for (int k = 0; k < net->n_out; k++) {
		const ir_value *v = &g->values[net->out[k]];
		if (net->out[k] == exclude || v->rank != 3)
			continue;
		if ((d1 < 0 || v->dims[1] == d1) && (d2 < 0 || v->dims[2] == d2))
			return net->out[k];
	}
	return -1;
}

static odet_status net_of(odet_ctx *ctx, const ir_graph *g, head_net *net)
{
	memset(net, 0, sizeof *net);
	net->H = net->W = -1;
	net->B = -1;
	for (int i = 0; i < g->n_inputs; i++) {
		const ir_value *v = &g->values[g->inputs[i]];
		if (v->rank == 4) {
			bool nhwc = v->dims[3] == 3 && v->dims[1] != 3; /* TF.js images are NHWC */
			net->H = nhwc ? v->dims[1] : v->dims[2];
			net->W = nhwc ? v->dims[2] : v->dims[3];
			break;
		}
	}
	if (g->n_outputs < 1 || g->n_outputs > 8)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "head: graph has %d outputs (1..8 supported)", g->n_outputs);
	net->n_out = g->n_outputs;
	for (int k = 0; k < g->n_outputs; k++) {
		net->out[k] = g->outputs[k];
		const ir_value *v = &g->values[g->outputs[k]];
		if (v->rank >= 1 && net->B < 0)
			net->B = v->dims[0];
	}
	return ODET_OK;
}

static int64_t yolo_cells(const head_net *net)
{
	int64_t n = 0;
	if (net->H <= 0 || net->W <= 0)
		return -1;
	for (int s = 8; s <= 32; s *= 2)
		n += (net->H / s) * (net->W / s);
	return n;
}

static const char *shape(const ir_graph *g, int v, char *buf, size_t n)
{
	return ir_shape_str(&g->values[v], buf, n);
}

/* Recognize a layout: fills preset name and the reason; returns 0 if nothing matches. */
static int recognize(const ir_graph *g, const head_net *net, char *name, size_t nn, char *why, size_t nw)
{
	char s1[64], s2[64];
	int a, b;
	if (net->n_out == 2) {
		if ((a = head_find_output(g, net, 4, 8732, -1)) >= 0 && (b = head_find_output(g, net, -1, 8732, a)) >= 0) {
			snprintf(name, nn, "ssd300-nvidia");
			snprintf(why, nw, "outputs %s and %s match NVIDIA SSD300 (4 x 8732 boxes)", shape(g, a, s1, 64),
				 shape(g, b, s2, 64));
			return 1;
		}
		if ((a = head_find_output(g, net, 8732, 4, -1)) >= 0 && (b = head_find_output(g, net, 8732, -1, a)) >= 0) {
			snprintf(name, nn, "ssd300-vgg16");
			snprintf(why, nw, "outputs %s and %s match torchvision SSD300 (8732 x 4 boxes)", shape(g, a, s1, 64),
				 shape(g, b, s2, 64));
			return 1;
		}
		head_spec rs;
		head_preset("retinanet", &rs);
		int64_t n = head_retinanet_count(&rs, net->H, net->W);
		if (n > 0 && (a = head_find_output(g, net, n, 4, -1)) >= 0 && (b = head_find_output(g, net, n, -1, a)) >= 0) {
			snprintf(name, nn, "retinanet");
			snprintf(why, nw, "outputs %s and %s match torchvision RetinaNet anchors for a %lldx%lld input",
				 shape(g, a, s1, 64), shape(g, b, s2, 64), (long long)net->H, (long long)net->W);
			return 1;
		}
	}
	if (net->n_out == 2) {
		const ir_value *p = &g->values[net->out[0]], *q = &g->values[net->out[1]];
		if (p->rank == 4 && q->rank == 4 && p->dims[1] == q->dims[1] && p->dims[2] == q->dims[2] &&
		    ((p->dims[3] == 4 && q->dims[3] > 4) || (q->dims[3] == 4 && p->dims[3] > 4))) {
			snprintf(name, nn, "centernet");
			snprintf(why, nw, "outputs %s and %s match a CenterNet heat map and box sizes (NHWC)",
				 shape(g, net->out[0], s1, 64), shape(g, net->out[1], s2, 64));
			return 1;
		}
	}
	if (net->n_out >= 2 && net->n_out % 2 == 0 && net->H > 0 && net->W > 0) {
		/* NanoDet: pairs (scores [B,N,C], distributions [B,N,4R]) on grids of the input */
		int pairs = 0;
		for (int k = 0; k < net->n_out; k++) {
			const ir_value *v = &g->values[net->out[k]];
			if (v->rank != 3 || v->dims[1] <= 0)
				break;
			for (int m = 0; m < net->n_out; m++) {
				const ir_value *d = &g->values[net->out[m]];
				if (m != k && d->rank == 3 && d->dims[1] == v->dims[1] && d->dims[2] % 4 == 0 &&
				    d->dims[2] < v->dims[2] && (net->H * net->W) % v->dims[1] == 0)
					pairs++;
			}
		}
		if (pairs == net->n_out / 2) {
			snprintf(name, nn, "nanodet");
			snprintf(why, nw, "%d outputs pair per level as scores [B,N,C] and box distributions [B,N,4R]",
				 net->n_out);
			return 1;
		}
	}
	if (net->n_out == 1) {
		int64_t cells = yolo_cells(net);
		const ir_value *v = &g->values[net->out[0]];
		if (cells > 0 && v->rank == 3 && v->dims[1] == 3 * cells && v->dims[2] > 5) {
			snprintf(name, nn, "yolov5");
			snprintf(why, nw, "output %s matches an exported YOLOv5 (3 anchors x strides 8,16,32)",
				 shape(g, net->out[0], s1, 64));
			return 1;
		}
		if (cells > 0 && v->rank == 3 && v->dims[2] == cells && v->dims[1] > 4) {
			snprintf(name, nn, "yolov8");
			snprintf(why, nw, "output %s matches an exported YOLOv8 (strides 8,16,32)",
				 shape(g, net->out[0], s1, 64));
			return 1;
		}
	}
	return 0;
}

odet_status head_add_nms(ir_graph *g, const head_spec *s, int boxes, int scores, const float out_scale[2],
		     const int64_t *level_sizes, int n_levels, int *node)
{
	static const char *names[ODET_HEAD_NUM_OUTPUTS] = {"det_count", "det_boxes", "det_scores", "det_classes"};
	int out[ODET_HEAD_NUM_OUTPUTS];
	for (int k = 0; k < ODET_HEAD_NUM_OUTPUTS; k++) {
		if (ir_value_find(g, names[k]) >= 0)
			return odet_error(g->ctx, ODET_ERR_UNSUPPORTED, "head: the network already has a value named '%s'",
					  names[k]);
		if ((out[k] = ir_value_add(g, names[k], ODET_DTYPE_UNDEFINED, -1, NULL)) < 0)
			return ODET_ERR_NO_MEMORY;
	}
	int in[2] = {boxes, scores};
	int n = ir_node_add(g, IR_OP_BATCHED_NMS, "odet_head_nms", 2, in, ODET_HEAD_NUM_OUTPUTS, out);
	if (n < 0)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = ODET_OK;
	rc = rc ? rc : ir_attr_set_float(g, n, "score_threshold", s->score_threshold);
	rc = rc ? rc : ir_attr_set_float(g, n, "iou_threshold", s->iou_threshold);
	rc = rc ? rc : ir_attr_set_int(g, n, "topk", s->topk);
	rc = rc ? rc : ir_attr_set_int(g, n, "topk_mode", n_levels > 0);
	rc = rc ? rc : ir_attr_set_int(g, n, "max_detections", s->max_detections);
	rc = rc ? rc : ir_attr_set_int(g, n, "background", s->background);
	rc = rc ? rc : ir_attr_set_int(g, n, "iou_ge", s->iou_ge);
	rc = rc ? rc : ir_attr_set_float(g, n, "out_scale_x", out_scale[0]);
	rc = rc ? rc : ir_attr_set_float(g, n, "out_scale_y", out_scale[1]);
	if (!rc && n_levels > 0)
		rc = ir_attr_set_ints(g, n, "level_sizes", level_sizes, n_levels);
	*node = n;
	return rc;
}

odet_status odet_head_attach(odet_ctx *ctx, ir_graph *g, const char *spec)
{
	head_net net;
	head_spec s;
	char name[64], why[400];
	odet_status rc = net_of(ctx, g, &net);
	if (g->head)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "head: a head is already attached");
	/* a model with its own NonMaxSuppression (cut by the ONNX importer): onnx_nms.c */
	int marker = head_onnx_nms_find(g);
	if (marker >= 0 || (spec && head_onnx_nms_spec(spec)))
		return head_attach_onnx_nms(ctx, g, marker, spec);
	if (!spec) {
		if (rc || !recognize(g, &net, name, sizeof name, why, sizeof why))
			return ODET_OK;
		head_preset(name, &s);
	} else {
		if (rc)
			return rc;
		if (head_preset(spec, &s) == ODET_OK) {
			snprintf(why, sizeof why, "requested preset");
		} else {
			rc = head_config_load(ctx, spec, &s);
			if (rc)
				return rc;
			snprintf(why, sizeof why, "config file %s", spec);
		}
	}
	if (net.B < 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "head %s: the batch size of the outputs is not known", s.name);
	int boxes = -1, scores = -1, n_levels = 0, first_node = g->n_nodes, nms = -1;
	int64_t level_sizes[HEAD_MAX_LEVELS];
	float out_scale[2] = {1, 1};
	switch (s.type) {
	case HEAD_SSD: rc = head_build_ssd(g, &net, &s, &boxes, &scores, out_scale); break;
	case HEAD_RETINANET:
		rc = head_build_retinanet(g, &net, &s, &boxes, &scores, level_sizes, &n_levels);
		break;
	case HEAD_YOLOV5:
	case HEAD_YOLOV8: rc = head_build_yolo(g, &net, &s, &boxes, &scores); break;
	case HEAD_CENTERNET: rc = head_build_centernet(g, &net, &s, &boxes, &scores); break;
	case HEAD_NANODET: rc = head_build_nanodet(g, &net, &s, &boxes, &scores); break;
	default: rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "head %s: unknown type", s.name);
	}
	if (!rc)
		rc = head_add_nms(g, &s, boxes, scores, out_scale, level_sizes, n_levels, &nms);
	char line[512];
	snprintf(line, sizeof line, "%s: %s%s; score > %g, IoU %g, top-%lld %s, %lld per image", s.name,
		 spec ? "" : "recognized: ", why, s.score_threshold, s.iou_threshold, (long long)s.topk,
		 n_levels ? "per level" : "per class", (long long)s.max_detections);
	return head_finish(ctx, g, &s, rc, first_node, nms, scores, line);
}

odet_status head_finish(odet_ctx *ctx, ir_graph *g, const head_spec *s, odet_status rc, int first_node, int nms,
			int scores, const char *line)
{
	/* shapes of the new nodes */
	for (int i = first_node; !rc && i < g->n_nodes; i++) {
		ir_shape_fn fn = ir_shape_fn_of(g->nodes[i].op);
		rc = fn ? fn(g, &g->nodes[i]) : odet_error(ctx, ODET_ERR_INTERNAL, "head: no shape function for %s",
							   ir_op_name(g->nodes[i].op));
		for (int k = 0; !rc && k < g->nodes[i].n_out; k++)
			if (!ir_value_shape_known(&g->values[g->nodes[i].out[k]]))
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "head %s: node '%s' has an unknown output shape",
						s->name, g->nodes[i].name);
	}
	if (rc) {
		for (int i = first_node; i < g->n_nodes; i++)
			g->nodes[i].dead = true;
		ir_graph_compact(g);
		return odet_error_prefix(ctx, "head %s: ", s->name);
	}
	head_info *info = odet_calloc(ctx, 1, sizeof *info);
	int *outs = odet_calloc(ctx, ODET_HEAD_NUM_OUTPUTS, sizeof(int));
	if (!info || !outs) {
		free(info);
		free(outs);
		return ODET_ERR_NO_MEMORY;
	}
	for (int k = 0; k < g->n_outputs; k++)
		g->values[g->outputs[k]].is_output = false;
	for (int k = 0; k < ODET_HEAD_NUM_OUTPUTS; k++) {
		outs[k] = g->nodes[nms].out[k];
		g->values[outs[k]].is_output = true;
	}
	free(g->outputs);
	g->outputs = outs;
	g->n_outputs = ODET_HEAD_NUM_OUTPUTS;
	snprintf(info->line, sizeof info->line, "%s", line);
	g->head = info;
	g->head_free = info_free;
	for (int c = 0; c < 3; c++) {
		g->info.pixel_scale[c] = s->pixel_scale[c];
		g->info.pixel_bias[c] = s->pixel_bias[c];
	}
	g->info.coco_offset = s->coco_offset;
	g->info.num_classes = (int)g->values[scores].dims[2];
	return ODET_OK;
}

const char *odet_head_describe(const ir_graph *g)
{
	return g && g->head ? ((const head_info *)g->head)->line : NULL;
}
