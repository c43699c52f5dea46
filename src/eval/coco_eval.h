/*
 * coco_eval.h — COCO bounding-box evaluation (pycocotools' COCOeval, iouType "bbox").
 *
 * Internal API (not in odet.h yet), used by `odet eval` and later by `odet detect --annotations`:
 *
 *   coco_eval *e;
 *   coco_eval_load_gt(ctx, "instances_val2017.json", &e);       // images, annotations, categories
 *   coco_eval_load_results(e, "detections.json");               // and/or, per detection:
 *   coco_eval_find_image(e, "000000397133.jpg", &image_id);     // file_name -> image id
 *   coco_eval_add_detection(e, image_id, category_id, xywh, score);
 *   coco_eval_evaluate(e);                                      // the 12 numbers + per class
 *   coco_eval_print_summary(e, stdout);                         // pycocotools' 12 lines
 *   coco_eval_write_json(e, "stats.json");
 *   coco_eval_destroy(e);
 *
 * Semantics follow pycocotools 2.0 exactly (see docs/eval.md): evaluated images are the ground
 * truth's images, evaluated categories the ground truth's categories (sorted ids); detections
 * on an image id absent from the ground truth are refused (loadRes' assertion); detections on
 * a category id absent from the ground truth are kept but never evaluated (counted in
 * coco_eval_num_unknown_category). A detection's area is w*h. A ground-truth annotation's
 * 'ignore' field is read and then replaced by iscrowd, as pycocotools' _prepare does.
 * coco_eval_evaluate does not change the inputs: detections may be added and it rerun.
 */
#ifndef ODET_EVAL_COCO_EVAL_H
#define ODET_EVAL_COCO_EVAL_H

#include "core/core.h"

#include <stdio.h>

typedef struct coco_eval coco_eval;

/* The 12 summary numbers, in pycocotools' order. */
enum {
	COCO_AP, COCO_AP50, COCO_AP75, COCO_APS, COCO_APM, COCO_APL,
	COCO_AR1, COCO_AR10, COCO_AR100, COCO_ARS, COCO_ARM, COCO_ARL,
	COCO_NUM_STATS
};

/* Ground truth from an instances JSON file (streamed) or a memory buffer (name for messages). */
odet_status coco_eval_load_gt(odet_ctx *ctx, const char *path, coco_eval **out);
odet_status coco_eval_load_gt_mem(odet_ctx *ctx, const char *name, const char *data, size_t n,
				  coco_eval **out);
void coco_eval_destroy(coco_eval *e);

/* Detections from a results JSON list [{image_id, category_id, bbox: [x,y,w,h], score}, ...]. */
odet_status coco_eval_load_results(coco_eval *e, const char *path);
odet_status coco_eval_load_results_mem(coco_eval *e, const char *name, const char *data, size_t n);
/* One detection; bbox is x, y, w, h in image pixels. ODET_ERR_BAD_INPUT for an unknown image id,
 * a non-finite number or a negative size. */
odet_status coco_eval_add_detection(coco_eval *e, int64_t image_id, int64_t category_id,
				    const double bbox[4], double score);

/* Image id of a file: exact match of the ground truth's file_name, else of its base name.
 * ODET_ERR_BAD_INPUT (message names the file) when there is none. */
odet_status coco_eval_find_image(const coco_eval *e, const char *file_name, int64_t *image_id);

/* Categories of the ground truth, sorted by id (index k = the k-th smallest id, which is
 * also how a model's 0-based class index usually maps to COCO ids 1..90). */
int coco_eval_num_categories(const coco_eval *e);
int64_t coco_eval_category_id(const coco_eval *e, int k);
const char *coco_eval_category_name(const coco_eval *e, int k);
int64_t coco_eval_num_images(const coco_eval *e);
int64_t coco_eval_num_detections(const coco_eval *e);
int64_t coco_eval_num_unknown_category(const coco_eval *e);

/* Evaluate, accumulate, summarize. */
odet_status coco_eval_evaluate(coco_eval *e);
/* After coco_eval_evaluate: the 12 numbers (-1 where a bucket has no ground truth) and the
 * per-class AP, AP50, AP75 (area all, maxDets 100; -1 without ground truth). */
const double *coco_eval_stats(const coco_eval *e);
double coco_eval_class_ap(const coco_eval *e, int k, int which /* 0 AP, 1 AP50, 2 AP75 */);

/* pycocotools' 12 lines, e.g.
 * " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.250" */
void coco_eval_print_summary(const coco_eval *e, FILE *f);
/* A table: category id, name, AP, AP50, AP75 (percent). */
void coco_eval_print_per_class(const coco_eval *e, FILE *f);
/* All figures as JSON (numbers printed with %.17g), written atomically. */
odet_status coco_eval_write_json(const coco_eval *e, const char *path);

#endif
