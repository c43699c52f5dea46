/*
 * head.h — detection heads: decode + top-k + batched NMS as internal ops appended to the
 * graph, so they are built, planned, saved and run like every other node.
 *
 * After odet_head_attach, the graph's outputs are exactly, in this order:
 *   det_count   [B]        int32   detections per image
 *   det_boxes   [B, K, 4]  float32 x1 y1 x2 y2 in input-tensor pixels
 *   det_scores  [B, K]     float32
 *   det_classes [B, K]     int32   0-based class index of the model
 * (K = maximum detections per image; rows past det_count are zero) and g->head != NULL.
 */
#ifndef ODET_HEAD_H
#define ODET_HEAD_H

#include "graph/ir.h"

#define ODET_HEAD_NUM_OUTPUTS 4

/* Attach a head to a graph whose shapes are inferred (batch fixed).
 * spec: a preset name ("ssd300-nvidia", "ssd300-vgg16", "retinanet", ...), a path to a head
 * config file, or NULL to recognize a known layout from the output shapes (no match: the graph
 * is left unchanged and ODET_OK returned). On success g->head describes the head (for inspect). */
odet_status odet_head_attach(odet_ctx *ctx, ir_graph *g, const char *spec);
/* One line saying which head is attached and why ("ssd300-nvidia: outputs [B,4,8732] and
 * [B,81,8732] match"), or NULL if none. */
const char *odet_head_describe(const ir_graph *g);

#endif
