/*
 * coco_load.c — reading COCO ground truth (instances JSON) and results (a JSON list of
 * detections) with the streaming reader of json.h, validating every record, and the indexes
 * (image ids, category ids, file names).
 *
 * Ground truth: a top-level object; "images" [{id, file_name?}], "annotations" [{id, image_id,
 * category_id, bbox [x,y,w,h], area, iscrowd?, ignore?}], "categories" [{id, name?}] are read,
 * every other key and field (segmentation, info, licenses...) is skipped without being kept.
 * Results: a top-level list of {image_id, category_id, bbox, score}; other fields skipped.
 * Ids are integers (an integral float such as 3.0 is accepted, as Python compares 3.0 == 3).
 * Numbers must be finite; bbox has exactly 4 numbers with w, h >= 0; area >= 0.
 * Every error names the file, the byte offset, the section, the record index and the field.
 */
#include "eval/coco_internal.h"
#include "eval/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- id map */

odet_status coco_id_map_init(odet_ctx *ctx, coco_id_map *m, size_t n_expected)
{
	size_t cap = 16;
	while (cap < n_expected * 2 + 16) {
		if (cap > ((size_t)1 << 40))
			return odet_error(ctx, ODET_ERR_LIMIT, "too many ids (%zu)", n_expected);
		cap *= 2;
	}
	m->keys = odet_calloc(ctx, cap, sizeof *m->keys);
	m->vals = odet_calloc(ctx, cap, sizeof *m->vals);
	if (!m->keys || !m->vals) {
		coco_id_map_free(m);
		return ODET_ERR_NO_MEMORY;
	}
	memset(m->vals, 0xff, cap * sizeof *m->vals);
	m->mask = cap - 1;
	return ODET_OK;
}

void coco_id_map_free(coco_id_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static inline size_t id_hash(int64_t key, size_t mask)
{
	uint64_t x = (uint64_t)key * 0x9e3779b97f4a7c15ull;
	return (size_t)(x ^ (x >> 29)) & mask;
}

void coco_id_map_put(coco_id_map *m, int64_t key, int32_t val)
{
	size_t i = id_hash(key, m->mask);
	while (m->vals[i] >= 0 && m->keys[i] != key)
		i = (i + 1) & m->mask;
	m->keys[i] = key;
	m->vals[i] = val;
}

int32_t coco_id_map_get(const coco_id_map *m, int64_t key)
{
	if (!m->vals)
		return -1;
	size_t i = id_hash(key, m->mask);
	while (m->vals[i] >= 0) {
		if (m->keys[i] == key)
			return m->vals[i];
		i = (i + 1) & m->mask;
	}
	return -1;
}

/* ---------------------------------------------------------------- field readers */

static odet_status read_id(json_reader *r, json_tok tok, int64_t *out)
{
	if (tok != JSON_NUMBER)
		return json_fail(r, ODET_ERR_BAD_INPUT, "expected an integer id");
	if (r->num_is_int) {
		*out = r->num_int;
		return ODET_OK;
	}
	double v = r->num;
	if (!(v == floor(v)) || !(fabs(v) < 9.2e18))
		return json_fail(r, ODET_ERR_BAD_INPUT, "expected an integer id, got %.17g", v);
	*out = (int64_t)v;
	return ODET_OK;
}

static odet_status read_finite(json_reader *r, json_tok tok, double *out)
{
	if (tok != JSON_NUMBER)
		return json_fail(r, ODET_ERR_BAD_INPUT, "expected a number");
	if (!isfinite(r->num))
		return json_fail(r, ODET_ERR_BAD_INPUT, "%s is not a finite number",
				 isnan(r->num) ? "NaN" : "Infinity");
	*out = r->num;
	return ODET_OK;
}

/* iscrowd / ignore: an integer or true/false (Python's bool is an int). */
static odet_status read_flag(json_reader *r, json_tok tok, int64_t *out)
{
	if (tok == JSON_TRUE || tok == JSON_FALSE) {
		*out = tok == JSON_TRUE;
		return ODET_OK;
	}
	return read_id(r, tok, out);
}

static odet_status read_bbox(json_reader *r, json_tok tok, double bbox[4])
{
	odet_status rc;
	if (tok != JSON_ARRAY)
		return json_fail(r, ODET_ERR_BAD_INPUT, "expected an array [x, y, w, h]");
	int n = 0;
	for (;;) {
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		if (tok == JSON_ARRAY_END)
			break;
		if (n == 4)
			return json_fail(r, ODET_ERR_BAD_INPUT, "bbox has more than 4 numbers");
		rc = read_finite(r, tok, &bbox[n++]);
		if (rc)
			return rc;
	}
	if (n != 4)
		return json_fail(r, ODET_ERR_BAD_INPUT, "bbox has %d numbers, expected 4", n);
	if (bbox[2] < 0 || bbox[3] < 0)
		return json_fail(r, ODET_ERR_BAD_INPUT, "bbox has a negative size (w %g, h %g)", bbox[2], bbox[3]);
	return ODET_OK;
}

static odet_status read_string_dup(json_reader *r, json_tok tok, char **out)
{
	if (tok != JSON_STRING)
		return json_fail(r, ODET_ERR_BAD_INPUT, "expected a string");
	char *s = odet_strdup(r->ctx, r->str ? r->str : "");
	if (!s)
		return ODET_ERR_NO_MEMORY;
	free(*out);
	*out = s;
	return ODET_OK;
}

static odet_status grow(odet_ctx *ctx, void **p, int64_t *cap, int64_t n, size_t size)
{
	if (n < *cap)
		return ODET_OK;
	int64_t c = *cap ? *cap * 2 : 1024;
	if (c > INT32_MAX)
		return odet_error(ctx, ODET_ERR_LIMIT, "more than %d records", INT32_MAX);
	void *q = odet_realloc_array(ctx, *p, (size_t)c, size);
	if (!q)
		return ODET_ERR_NO_MEMORY;
	*p = q;
	*cap = c;
	return ODET_OK;
}

/* Field bits for "missing field" checks. */
enum { F_ID = 1, F_IMAGE_ID = 2, F_CATEGORY_ID = 4, F_BBOX = 8, F_AREA = 16, F_SCORE = 32 };

static odet_status missing(json_reader *r, unsigned need, unsigned seen)
{
	static const char *const names[] = {"id", "image_id", "category_id", "bbox", "area", "score"};
	for (int i = 0; i < 6; i++)
		if ((need & (1u << i)) && !(seen & (1u << i)))
			return json_fail(r, ODET_ERR_BAD_INPUT, "missing field '%s'", names[i]);
	return ODET_OK;
}

/* Reads the keys of the object whose '{' was just returned; calls field() per key with the
 * value's first token; field() returns 1 in *used when it consumed the value. */
typedef odet_status (*field_fn)(odet_coco_eval *e, json_reader *r, const char *key, json_tok tok,
				void *rec, unsigned *seen, int *used);

static odet_status read_object(odet_coco_eval *e, json_reader *r, field_fn field, void *rec, unsigned *seen)
{
	odet_status rc;
	json_tok tok;
	for (;;) {
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		if (tok == JSON_OBJECT_END)
			return ODET_OK;
		/* keys are short: copy so that the value may reuse r->str */
		char key[32];
		size_t kl = r->str_len < sizeof key - 1 ? r->str_len : sizeof key - 1;
		memcpy(key, r->str ? r->str : "", kl);
		key[kl] = 0;
		/* a longer key, or one with a NUL inside, is none of ours */
		int ours = r->str_len < sizeof key - 1 && strlen(key) == r->str_len;
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		int used = 0;
		if (ours) {
			r->where_field = key;
			rc = field(e, r, key, tok, rec, seen, &used);
			r->where_field = NULL;
			if (rc)
				return rc;
		}
		if (!used) {
			rc = json_skip(r, tok);
			if (rc)
				return rc;
		}
	}
}

/* ---------------------------------------------------------------- ground truth */

static odet_status image_field(odet_coco_eval *e, json_reader *r, const char *key, json_tok tok,
			       void *rec, unsigned *seen, int *used)
{
	coco_image_rec *im = rec;
	if (!strcmp(key, "id")) {
		*used = 1;
		*seen |= F_ID;
		return read_id(r, tok, &im->id);
	}
	if (!strcmp(key, "file_name")) {
		*used = 1;
		return read_string_dup(r, tok, &im->file_name);
	}
	return ODET_OK;
}

static odet_status cat_field(odet_coco_eval *e, json_reader *r, const char *key, json_tok tok,
			     void *rec, unsigned *seen, int *used)
{
	coco_cat_rec *c = rec;
	if (!strcmp(key, "id")) {
		*used = 1;
		*seen |= F_ID;
		return read_id(r, tok, &c->id);
	}
	if (!strcmp(key, "name")) {
		*used = 1;
		return read_string_dup(r, tok, &c->name);
	}
	return ODET_OK;
}

static odet_status ann_field(odet_coco_eval *e, json_reader *r, const char *key, json_tok tok,
			     void *rec, unsigned *seen, int *used)
{
	coco_gt_ann *a = rec;
	int64_t ignore;
	*used = 1;
	switch (key[0]) {
	case 'i':
		if (!strcmp(key, "id")) {
			*seen |= F_ID;
			return read_id(r, tok, &a->id);
		}
		if (!strcmp(key, "image_id")) {
			*seen |= F_IMAGE_ID;
			return read_id(r, tok, &a->image_id);
		}
		if (!strcmp(key, "iscrowd"))
			return read_flag(r, tok, &a->iscrowd);
		/* validated, then replaced by iscrowd as pycocotools' _prepare does */
		if (!strcmp(key, "ignore"))
			return read_flag(r, tok, &ignore);
		break;
	case 'c':
		if (!strcmp(key, "category_id")) {
			*seen |= F_CATEGORY_ID;
			return read_id(r, tok, &a->category_id);
		}
		break;
	case 'b':
		if (!strcmp(key, "bbox")) {
			*seen |= F_BBOX;
			return read_bbox(r, tok, a->bbox);
		}
		break;
	case 'a':
		if (!strcmp(key, "area")) {
			*seen |= F_AREA;
			odet_status rc = read_finite(r, tok, &a->area);
			if (!rc && a->area < 0)
				return json_fail(r, ODET_ERR_BAD_INPUT, "negative area %g", a->area);
			return rc;
		}
		break;
	}
	*used = 0;
	return ODET_OK;
}

static odet_status read_gt_section(odet_coco_eval *e, json_reader *r, const char *section)
{
	odet_status rc;
	json_tok tok;
	rc = json_next(r, &tok);
	if (rc)
		return rc;
	r->where_section = section;
	if (tok != JSON_ARRAY)
		return json_fail(r, ODET_ERR_BAD_INPUT, "'%s' must be an array", section);
	for (int64_t idx = 0;; idx++) {
		r->where_index = -1;
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		if (tok == JSON_ARRAY_END)
			break;
		r->where_index = idx;
		if (tok != JSON_OBJECT)
			return json_fail(r, ODET_ERR_BAD_INPUT, "expected an object");
		unsigned seen = 0;
		if (section[0] == 'i') {
			rc = grow(e->ctx, (void **)&e->images, &e->cap_images, e->n_images, sizeof *e->images);
			if (rc)
				return rc;
			coco_image_rec *im = &e->images[e->n_images];
			memset(im, 0, sizeof *im);
			rc = read_object(e, r, image_field, im, &seen);
			if (!rc)
				rc = missing(r, F_ID, seen);
			e->n_images++; /* kept even on error so that file_name is freed */
		} else if (section[0] == 'c') {
			rc = grow(e->ctx, (void **)&e->cats, &e->cap_cats, e->n_cats, sizeof *e->cats);
			if (rc)
				return rc;
			coco_cat_rec *c = &e->cats[e->n_cats];
			memset(c, 0, sizeof *c);
			rc = read_object(e, r, cat_field, c, &seen);
			if (!rc)
				rc = missing(r, F_ID, seen);
			e->n_cats++;
		} else {
			coco_gt_ann a = {0};
			rc = read_object(e, r, ann_field, &a, &seen);
			if (!rc)
				rc = missing(r, F_ID | F_IMAGE_ID | F_CATEGORY_ID | F_BBOX | F_AREA, seen);
			if (!rc)
				rc = grow(e->ctx, (void **)&e->anns, &e->cap_anns, e->n_anns, sizeof *e->anns);
			if (!rc)
				e->anns[e->n_anns++] = a;
		}
		if (rc)
			return rc;
	}
	r->where_section = NULL;
	r->where_index = -1;
	return ODET_OK;
}

static odet_status read_gt(odet_coco_eval *e, json_reader *r)
{
	odet_status rc;
	json_tok tok;
	int have_images = 0, have_anns = 0, have_cats = 0;
	rc = json_next(r, &tok);
	if (rc)
		return rc;
	if (tok != JSON_OBJECT)
		return json_fail(r, ODET_ERR_BAD_INPUT,
				 "ground truth must be a JSON object with images, annotations and categories");
	for (;;) {
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		if (tok == JSON_OBJECT_END)
			break;
		const char *key = r->str ? r->str : "";
		if (!strcmp(key, "images")) {
			have_images = 1;
			rc = read_gt_section(e, r, "images");
		} else if (!strcmp(key, "annotations")) {
			have_anns = 1;
			rc = read_gt_section(e, r, "annotations");
		} else if (!strcmp(key, "categories")) {
			have_cats = 1;
			rc = read_gt_section(e, r, "categories");
		} else {
			rc = json_next(r, &tok);
			if (!rc)
				rc = json_skip(r, tok);
		}
		if (rc)
			return rc;
	}
	rc = json_next(r, &tok); /* EOF or trailing data */
	if (rc)
		return rc;
	if (!have_images || !have_anns || !have_cats)
		return odet_error(e->ctx, ODET_ERR_BAD_INPUT, "%s: missing top-level '%s'", r->name,
				  !have_images ? "images" : !have_anns ? "annotations" : "categories");
	return ODET_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

static int cmp_fname(const void *a, const void *b)
{
	const coco_fname *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->img > y->img) - (x->img < y->img);
}

/* Sorted unique image and category ids (pycocotools' sorted getImgIds()/getCatIds()); for a
 * repeated id the last record wins (file_name, name), as in pycocotools' dicts. */
odet_status coco_build_index(odet_coco_eval *e, const char *name)
{
	odet_status rc;
	if (e->n_images > INT32_MAX / 2 || e->n_cats > INT32_MAX / 2)
		return odet_error(e->ctx, ODET_ERR_LIMIT, "%s: too many images or categories", name);
	e->img_ids = odet_malloc(e->ctx, (size_t)(e->n_images + 1) * sizeof *e->img_ids);
	e->cat_ids = odet_malloc(e->ctx, (size_t)(e->n_cats + 1) * sizeof *e->cat_ids);
	e->cat_names = odet_calloc(e->ctx, (size_t)e->n_cats + 1, sizeof *e->cat_names);
	e->fnames = odet_malloc(e->ctx, (size_t)(e->n_images + 1) * sizeof *e->fnames);
	if (!e->img_ids || !e->cat_ids || !e->cat_names || !e->fnames)
		return ODET_ERR_NO_MEMORY;
	for (int64_t i = 0; i < e->n_images; i++)
		e->img_ids[i] = e->images[i].id;
	qsort(e->img_ids, (size_t)e->n_images, sizeof *e->img_ids, cmp_i64);
	int32_t n = 0;
	for (int64_t i = 0; i < e->n_images; i++)
		if (n == 0 || e->img_ids[n - 1] != e->img_ids[i])
			e->img_ids[n++] = e->img_ids[i];
	e->n_img = n;
	rc = coco_id_map_init(e->ctx, &e->img_map, (size_t)n);
	if (rc)
		return rc;
	for (int32_t i = 0; i < n; i++)
		coco_id_map_put(&e->img_map, e->img_ids[i], i);

	for (int64_t i = 0; i < e->n_cats; i++)
		e->cat_ids[i] = e->cats[i].id;
	qsort(e->cat_ids, (size_t)e->n_cats, sizeof *e->cat_ids, cmp_i64);
	n = 0;
	for (int64_t i = 0; i < e->n_cats; i++)
		if (n == 0 || e->cat_ids[n - 1] != e->cat_ids[i])
			e->cat_ids[n++] = e->cat_ids[i];
	e->n_cat = n;
	rc = coco_id_map_init(e->ctx, &e->cat_map, (size_t)n);
	if (rc)
		return rc;
	for (int32_t i = 0; i < n; i++)
		coco_id_map_put(&e->cat_map, e->cat_ids[i], i);
	for (int64_t i = 0; i < e->n_cats; i++)
		e->cat_names[coco_id_map_get(&e->cat_map, e->cats[i].id)] = e->cats[i].name;

	/* file names: the last image record per id */
	int32_t *last = odet_malloc(e->ctx, (size_t)(e->n_img + 1) * sizeof *last);
	if (!last)
		return ODET_ERR_NO_MEMORY;
	for (int32_t i = 0; i < e->n_img; i++)
		last[i] = -1;
	for (int64_t i = 0; i < e->n_images; i++)
		last[coco_id_map_get(&e->img_map, e->images[i].id)] = (int32_t)i;
	e->n_fnames = 0;
	for (int32_t i = 0; i < e->n_img; i++) {
		const char *fn = e->images[last[i]].file_name;
		if (!fn)
			continue;
		e->fnames[e->n_fnames++] = (coco_fname){str_hash(base_name(fn)), i, fn};
	}
	free(last);
	qsort(e->fnames, (size_t)e->n_fnames, sizeof *e->fnames, cmp_fname);
	return ODET_OK;
}

static odet_status load_gt(odet_ctx *ctx, json_reader *r, odet_coco_eval **out)
{
	odet_status rc;
	odet_coco_eval *e = odet_calloc(ctx, 1, sizeof *e);
	if (!e) {
		json_close(r);
		return ODET_ERR_NO_MEMORY;
	}
	e->ctx = ctx;
	rc = read_gt(e, r);
	if (!rc)
		rc = coco_build_index(e, r->name);
	json_close(r);
	if (rc) {
		odet_coco_eval_destroy(e);
		return rc;
	}
	*out = e;
	return ODET_OK;
}

odet_status odet_coco_eval_load_gt(odet_ctx *ctx, const char *path, odet_coco_eval **out)
{
	json_reader r;
	*out = NULL;
	odet_status rc = json_open_file(&r, ctx, path);
	if (rc)
		return rc;
	return load_gt(ctx, &r, out);
}

odet_status odet_coco_eval_load_gt_mem(odet_ctx *ctx, const char *name, const char *data, size_t n,
				  odet_coco_eval **out)
{
	json_reader r;
	*out = NULL;
	odet_status rc = json_open_mem(&r, ctx, name, data, n);
	if (rc)
		return rc;
	return load_gt(ctx, &r, out);
}

void odet_coco_eval_destroy(odet_coco_eval *e)
{
	if (!e)
		return;
	for (int64_t i = 0; i < e->n_images; i++)
		free(e->images[i].file_name);
	for (int64_t i = 0; i < e->n_cats; i++)
		free(e->cats[i].name);
	free(e->images);
	free(e->cats);
	free(e->anns);
	free(e->img_ids);
	free(e->cat_ids);
	free(e->cat_names);
	free(e->fnames);
	coco_id_map_free(&e->img_map);
	coco_id_map_free(&e->cat_map);
	free(e->dets);
	free(e->class_ap);
	free(e);
}

/* ---------------------------------------------------------------- detections */

/* Validates and appends; on error returns a status with no message set (the caller words it). */
static odet_status add_detection(odet_coco_eval *e, int64_t image_id, int64_t category_id,
				 const double bbox[4], double score, const char **why)
{
	*why = NULL;
	int32_t img = coco_id_map_get(&e->img_map, image_id);
	if (img < 0) {
		*why = "image_id";
		return ODET_ERR_BAD_INPUT;
	}
	e->n_dets_seen++;
	e->evaluated = 0;
	int32_t cat = coco_id_map_get(&e->cat_map, category_id);
	if (cat < 0) {
		e->n_unknown_cat++; /* pycocotools evaluates only the ground truth's categories */
		return ODET_OK;
	}
	odet_status rc = grow(e->ctx, (void **)&e->dets, &e->cap_dets, e->n_dets, sizeof *e->dets);
	if (rc)
		return rc;
	coco_det *d = &e->dets[e->n_dets++];
	memcpy(d->bbox, bbox, sizeof d->bbox);
	d->score = score;
	d->img = img;
	d->cat = cat;
	return ODET_OK;
}

odet_status odet_coco_eval_add_detection(odet_coco_eval *e, int64_t image_id, int64_t category_id,
				    const double bbox[4], double score)
{
	for (int i = 0; i < 4; i++)
		if (!isfinite(bbox[i]))
			return odet_error(e->ctx, ODET_ERR_BAD_INPUT, "detection: bbox is not finite");
	if (bbox[2] < 0 || bbox[3] < 0)
		return odet_error(e->ctx, ODET_ERR_BAD_INPUT, "detection: bbox has a negative size");
	if (!isfinite(score))
		return odet_error(e->ctx, ODET_ERR_BAD_INPUT, "detection: score is not finite");
	const char *why;
	odet_status rc = add_detection(e, image_id, category_id, bbox, score, &why);
	if (rc && why)
		return odet_error(e->ctx, rc, "detection: image_id %lld is not in the ground truth",
				  (long long)image_id);
	return rc;
}

static odet_status det_field(odet_coco_eval *e, json_reader *r, const char *key, json_tok tok,
			     void *rec, unsigned *seen, int *used)
{
	struct {
		int64_t image_id, category_id;
		double bbox[4], score;
	} *d = rec;
	*used = 1;
	if (!strcmp(key, "image_id")) {
		*seen |= F_IMAGE_ID;
		return read_id(r, tok, &d->image_id);
	}
	if (!strcmp(key, "category_id")) {
		*seen |= F_CATEGORY_ID;
		return read_id(r, tok, &d->category_id);
	}
	if (!strcmp(key, "bbox")) {
		*seen |= F_BBOX;
		return read_bbox(r, tok, d->bbox);
	}
	if (!strcmp(key, "score")) {
		*seen |= F_SCORE;
		return read_finite(r, tok, &d->score);
	}
	*used = 0;
	return ODET_OK;
}

static odet_status read_results(odet_coco_eval *e, json_reader *r)
{
	odet_status rc;
	json_tok tok;
	rc = json_next(r, &tok);
	if (rc)
		return rc;
	if (tok != JSON_ARRAY)
		return json_fail(r, ODET_ERR_BAD_INPUT, "results must be a JSON list of detections, found %s",
				 tok == JSON_OBJECT ? "an object" : "a scalar");
	r->where_section = "results";
	for (int64_t idx = 0;; idx++) {
		r->where_index = -1;
		rc = json_next(r, &tok);
		if (rc)
			return rc;
		if (tok == JSON_ARRAY_END)
			break;
		r->where_index = idx;
		if (tok != JSON_OBJECT)
			return json_fail(r, ODET_ERR_BAD_INPUT, "expected an object");
		struct {
			int64_t image_id, category_id;
			double bbox[4], score;
		} d;
		memset(&d, 0, sizeof d);
		unsigned seen = 0;
		rc = read_object(e, r, det_field, &d, &seen);
		if (!rc)
			rc = missing(r, F_IMAGE_ID | F_CATEGORY_ID | F_BBOX | F_SCORE, seen);
		if (rc)
			return rc;
		const char *why;
		rc = add_detection(e, d.image_id, d.category_id, d.bbox, d.score, &why);
		if (rc && why) {
			r->where_field = why;
			rc = json_fail(r, rc, "image_id %lld is not in the ground truth's images",
				       (long long)d.image_id);
			r->where_field = NULL;
		}
		if (rc)
			return rc;
	}
	r->where_section = NULL;
	r->where_index = -1;
	return json_next(r, &tok); /* EOF or trailing data */
}

odet_status odet_coco_eval_load_results(odet_coco_eval *e, const char *path)
{
	json_reader r;
	odet_status rc = json_open_file(&r, e->ctx, path);
	if (rc)
		return rc;
	rc = read_results(e, &r);
	json_close(&r);
	return rc;
}

odet_status odet_coco_eval_load_results_mem(odet_coco_eval *e, const char *name, const char *data, size_t n)
{
	json_reader r;
	odet_status rc = json_open_mem(&r, e->ctx, name, data, n);
	if (rc)
		return rc;
	rc = read_results(e, &r);
	json_close(&r);
	return rc;
}

/* ---------------------------------------------------------------- queries */

odet_status odet_coco_eval_find_image(const odet_coco_eval *e, const char *file_name, int64_t *image_id)
{
	const char *base = base_name(file_name);
	uint64_t h = str_hash(base);
	int32_t lo = 0, hi = e->n_fnames;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		if (e->fnames[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	int32_t found = -1, n_base = 0;
	for (int32_t i = lo; i < e->n_fnames && e->fnames[i].hash == h; i++) {
		const char *fn = e->fnames[i].file_name;
		if (!strcmp(fn, file_name)) {
			*image_id = e->img_ids[e->fnames[i].img];
			return ODET_OK;
		}
		if (!strcmp(base_name(fn), base)) {
			found = e->fnames[i].img;
			n_base++;
		}
	}
	if (n_base == 1) {
		*image_id = e->img_ids[found];
		return ODET_OK;
	}
	return odet_error(e->ctx, ODET_ERR_BAD_INPUT, "%s: %s in the ground truth's file names",
			  file_name, n_base ? "ambiguous base name" : "not found");
}

int odet_coco_eval_num_categories(const odet_coco_eval *e)
{
	return e->n_cat;
}

int64_t odet_coco_eval_category_id(const odet_coco_eval *e, int k)
{
	return k >= 0 && k < e->n_cat ? e->cat_ids[k] : -1;
}

const char *odet_coco_eval_category_name(const odet_coco_eval *e, int k)
{
	return k >= 0 && k < e->n_cat && e->cat_names[k] ? e->cat_names[k] : "";
}

int64_t odet_coco_eval_num_images(const odet_coco_eval *e)
{
	return e->n_img;
}

int64_t odet_coco_eval_num_detections(const odet_coco_eval *e)
{
	return e->n_dets_seen;
}

int64_t odet_coco_eval_num_unknown_category(const odet_coco_eval *e)
{
	return e->n_unknown_cat;
}
