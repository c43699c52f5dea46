/*
 * heads_internal.h — shared by the head files (ssd.c, retinanet.c, yolo.c) and head.c.
 * A head_spec is everything that defines a head: its type, prior/anchor parameters and the
 * NMS parameters. Presets fill one; a head config file (docs/heads.md) edits one; the type's
 * builder turns it into BoxDecode/ClassScores/YoloDecode + BatchedNms nodes on the graph.
 */
#ifndef ODET_HEADS_INTERNAL_H
#define ODET_HEADS_INTERNAL_H

#include "heads/head.h"

#define HEAD_MAX_LEVELS 16
#define HEAD_MAX_PER_LEVEL 16

typedef enum head_type {
	HEAD_SSD = 1,       /* priors + center-size decode + softmax */
	HEAD_RETINANET = 2, /* AnchorGenerator + BoxCoder + sigmoid, per-level top-k */
	HEAD_YOLOV5 = 3,
	HEAD_YOLOV8 = 4,
	HEAD_CENTERNET = 5, /* heat map peaks + sizes (dense.c) */
	HEAD_NANODET = 6,   /* per-level sigmoid scores + GFL distributions (dense.c) */
} head_type;

typedef struct head_spec {
	char name[64];
	head_type type;
	/* NMS */
	float score_threshold, iou_threshold;
	int64_t topk, max_detections, background;
	int iou_ge;
	/* SSD: style 0 = NVIDIA DefaultBoxes (pixels scales, size-major, cxcywh priors, multiply
	 * variances); style 1 = torchvision DefaultBoxGenerator (fractional scales, position-major,
	 * x1y1x2y2 pixel anchors, BoxCoder weights) */
	int ssd_style;
	int fig_size;                       /* NVIDIA: fig_size */
	int n_levels;
	int64_t feat[HEAD_MAX_LEVELS];
	double steps[HEAD_MAX_LEVELS];
	double scales[HEAD_MAX_LEVELS + 1];
	int n_ar[HEAD_MAX_LEVELS];
	double ar[HEAD_MAX_LEVELS][HEAD_MAX_PER_LEVEL];
	double scale_xy, scale_wh;          /* NVIDIA variances */
	float weights[4];                   /* BoxCoder weights */
	/* RetinaNet: anchor sizes per level, aspect ratios (n_ar[0]/ar[0]) */
	int n_sizes[HEAD_MAX_LEVELS];
	double sizes[HEAD_MAX_LEVELS][HEAD_MAX_PER_LEVEL];
	int first_level;                    /* log2 of the first stride (3 for P3) */
	/* YOLO */
	int decoded;                        /* 1: exported decoded output */
	int n_anchors[HEAD_MAX_LEVELS];     /* v5: (w,h) pairs per level */
	float anchors[HEAD_MAX_LEVELS][2 * HEAD_MAX_PER_LEVEL];
	int reg_max;
	/* what the model expects and reports (odet_model_info): input = rgb * scale + bias;
	 * COCO-80 index = class - coco_offset (-1: classes are COCO category ids) */
	float pixel_scale[3], pixel_bias[3];
	int coco_offset;
} head_spec;

typedef struct head_info {
	char line[512];
} head_info;

/* Network geometry seen by the builders. */
typedef struct head_net {
	int64_t B, H, W;     /* batch and input size (H, W = -1 when unknown) */
	int n_out;
	int out[8];          /* graph output value indices */
} head_net;

odet_status head_preset(const char *name, head_spec *s);
odet_status head_config_load(odet_ctx *ctx, const char *path, head_spec *s);

/* Builders: add nodes, return boxes/scores values for NMS. why: text for describe. */
odet_status head_build_ssd(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores,
			   float out_scale[2]);
odet_status head_build_retinanet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes,
				 int *scores, int64_t *level_sizes, int *n_levels);
odet_status head_build_yolo(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores);
odet_status head_build_centernet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores);
odet_status head_build_nanodet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores);

/* Priors/anchors as float32 arrays [N,4] (malloc'ed) — exposed for the tests. */
odet_status head_ssd_priors(odet_ctx *ctx, const head_spec *s, int64_t H, int64_t W, float **out, int64_t *n);
odet_status head_retinanet_anchors(odet_ctx *ctx, const head_spec *s, int64_t H, int64_t W, float **out,
				   int64_t *n, int64_t *level_sizes, int *n_levels);
/* Expected output layouts, used by recognition. */
int64_t head_ssd_count(const head_spec *s);
int64_t head_retinanet_count(const head_spec *s, int64_t H, int64_t W);

/* helpers (head.c) */
int head_add_node(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, int n_out, int *out);
int head_find_output(const ir_graph *g, const head_net *net, int64_t d1, int64_t d2, int exclude);
/* BatchedNms node on boxes/scores with s's NMS parameters; outputs det_* (head.h). */
odet_status head_add_nms(ir_graph *g, const head_spec *s, int boxes, int scores, const float out_scale[2],
			 const int64_t *level_sizes, int n_levels, int *node);
/* Shapes of nodes first_node.. (rc != OK: removes them and returns rc), then makes BatchedNms
 * node nms's outputs the graph outputs, line the describe text, s's pixel/class info the model's. */
odet_status head_finish(odet_ctx *ctx, ir_graph *g, const head_spec *s, odet_status rc, int first_node, int nms,
			int scores, const char *line);

/* onnx_nms.c: the head for a model's own ONNX NonMaxSuppression (OnnxNms marker) */
int head_onnx_nms_find(const ir_graph *g);        /* marker node index, -1 none */
bool head_onnx_nms_spec(const char *spec);        /* "onnx-nms" or "onnx-nms:<cap>" */
odet_status head_attach_onnx_nms(odet_ctx *ctx, ir_graph *g, int marker, const char *spec);

#endif
