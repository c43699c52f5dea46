/*
 * coco_internal.h — the data of an odet_coco_eval, shared by coco_load.c (JSON readers, indexes)
 * and coco_eval.c (the COCOeval algorithm and its output).
 */
#ifndef ODET_EVAL_COCO_INTERNAL_H
#define ODET_EVAL_COCO_INTERNAL_H

#include "core/core.h"

/* Open-addressing map int64 id -> int32 index. */
typedef struct coco_id_map {
	int64_t *keys;
	int32_t *vals; /* -1 = empty slot */
	size_t mask;
} coco_id_map;

odet_status coco_id_map_init(odet_ctx *ctx, coco_id_map *m, size_t n_expected);
void coco_id_map_free(coco_id_map *m);
/* Insert or overwrite. */
void coco_id_map_put(coco_id_map *m, int64_t key, int32_t val);
/* -1 when absent. */
int32_t coco_id_map_get(const coco_id_map *m, int64_t key);

typedef struct coco_image_rec {
	int64_t id;
	char *file_name; /* NULL when absent */
} coco_image_rec;

typedef struct coco_cat_rec {
	int64_t id;
	char *name;
} coco_cat_rec;

typedef struct coco_gt_ann {
	double bbox[4]; /* x, y, w, h */
	double area;    /* the annotation's 'area' field (area ranges use it) */
	int64_t id, image_id, category_id;
	int64_t iscrowd;
} coco_gt_ann;

typedef struct coco_det {
	double bbox[4];
	double score;
	int32_t img; /* index into the sorted image ids */
	int32_t cat; /* index into the sorted category ids */
} coco_det;

typedef struct coco_fname {
	uint64_t hash; /* of the base name */
	int32_t img;   /* index into the sorted image ids */
	const char *file_name;
} coco_fname;

struct odet_coco_eval {
	odet_ctx *ctx;
	/* ground truth as read, in file order */
	coco_image_rec *images;
	int64_t n_images, cap_images;
	coco_cat_rec *cats;
	int64_t n_cats, cap_cats;
	coco_gt_ann *anns;
	int64_t n_anns, cap_anns;
	/* indexes: sorted unique image and category ids (pycocotools' params.imgIds/catIds) */
	int64_t *img_ids;
	int32_t n_img;
	coco_id_map img_map;
	int64_t *cat_ids;
	const char **cat_names;
	int32_t n_cat;
	coco_id_map cat_map;
	coco_fname *fnames; /* sorted by hash */
	int32_t n_fnames;
	/* detections (known category only), in the order added */
	coco_det *dets;
	int64_t n_dets, cap_dets;
	int64_t n_dets_seen; /* every detection record, for pycocotools' ids */
	int64_t n_unknown_cat;
	/* results of odet_coco_eval_evaluate */
	int evaluated;
	double stats[ODET_COCO_NUM_STATS];
	double *class_ap; /* [n_cat][3]: AP, AP50, AP75 */
};

/* Build the indexes after the ground truth is read. */
odet_status coco_build_index(odet_coco_eval *e, const char *name);
/* np.mean of m >= 1 contiguous doubles, bit for bit as numpy >= 2.3 computes it: numpy's
 * pairwise summation over the whole array, added to 0, divided by m. */
double coco_np_mean(const double *a, int64_t m);

#endif
