/*
 * track.c — odet_tracker: IoU tracking of one video source's detections (SORT without the
 * Kalman filter): each track keeps its last observed box and a constant velocity of its
 * centre (pixels per second); on a new frame every live track predicts its box at the frame's
 * time (centre moved by velocity × elapsed time, size kept), detections and predictions are
 * matched greedily by IoU, best pair first (same class only unless class_aware = 0; pairs
 * under opts.iou never match), a matched track takes the detection's box and updates its
 * velocity (the first step measured, then an average with each new step: v = (v + step) / 2),
 * an unmatched detection starts a track (a new id), an unmatched track is predicted on and
 * dies after max_missed frames without a match. Ids start at 1 and are never reused.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

typedef struct trk_track {
	int32_t id, cls;
	int32_t age;          /* frames since birth */
	int32_t missed;       /* frames since the last match */
	int32_t hits;         /* matches, birth included */
	float box[4];         /* last observed */
	double t_seen;        /* time of the last match */
	float vx, vy;         /* centre velocity, pixels per second */
	float pred[4];        /* predicted box at the current frame */
} trk_track;

typedef struct trk_pair {
	float iou;
	int t, d;
} trk_pair;

struct odet_tracker {
	odet_ctx *ctx;
	odet_tracker_opts o;
	trk_track *tr;
	int n, cap;
	int32_t next_id;
	trk_pair *pairs;
	size_t pairs_cap;
	int *det_track;
	int det_cap;
	bool *track_used;
};

odet_tracker_opts odet_tracker_opts_default(void)
{
	return (odet_tracker_opts){.iou = 0.3f, .max_missed = 10, .class_aware = 1};
}

odet_status odet_tracker_create(odet_ctx *ctx, const odet_tracker_opts *opts, odet_tracker **out)
{
	if (!ctx || !out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	odet_tracker_opts o = opts ? *opts : odet_tracker_opts_default();
	if (!(o.iou > 0 && o.iou <= 1) || o.max_missed < 0 || o.max_missed > 100000)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "tracker: iou in (0, 1] and max_missed in 0..100000");
	odet_tracker *t = odet_calloc(ctx, 1, sizeof *t);
	if (!t)
		return ODET_ERR_NO_MEMORY;
	t->ctx = ctx;
	t->o = o;
	t->next_id = 1;
	*out = t;
	return ODET_OK;
}

void odet_tracker_destroy(odet_tracker *t)
{
	if (!t)
		return;
	free(t->tr);
	free(t->pairs);
	free(t->det_track);
	free(t->track_used);
	free(t);
}

static float iou(const float *a, const float *b)
{
	float ix = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
	float iy = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
	if (ix <= 0 || iy <= 0)
		return 0;
	float inter = ix * iy;
	float ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
	return ua > 0 ? inter / ua : 0;
}

static int pair_cmp(const void *x, const void *y)
{
	const trk_pair *a = x, *b = y;
	if (a->iou != b->iou)
		return a->iou > b->iou ? -1 : 1;
	if (a->t != b->t)
		return a->t - b->t;
	return a->d - b->d;
}

static odet_status reserve(odet_tracker *t, int n_det)
{
	int need_tracks = t->n + n_det;
	if (need_tracks > t->cap) {
		int cap = need_tracks * 2 + 16;
		trk_track *tr = realloc(t->tr, sizeof *tr * (size_t)cap);
		bool *used = tr ? realloc(t->track_used, sizeof *used * (size_t)cap) : NULL;
		if (tr)
			t->tr = tr;
		if (used)
			t->track_used = used;
		if (!tr || !used)
			return odet_error(t->ctx, ODET_ERR_NO_MEMORY, "tracker: out of memory");
		t->cap = cap;
	}
	if (n_det > t->det_cap) {
		int *dt = realloc(t->det_track, sizeof *dt * (size_t)n_det);
		if (!dt)
			return odet_error(t->ctx, ODET_ERR_NO_MEMORY, "tracker: out of memory");
		t->det_track = dt;
		t->det_cap = n_det;
	}
	size_t np = (size_t)t->n * (size_t)n_det;
	if (np > t->pairs_cap) {
		trk_pair *p = realloc(t->pairs, sizeof *p * np);
		if (!p)
			return odet_error(t->ctx, ODET_ERR_NO_MEMORY, "tracker: out of memory");
		t->pairs = p;
		t->pairs_cap = np;
	}
	return ODET_OK;
}

odet_status odet_tracker_update(odet_tracker *t, double time_s, const float *boxes, const int32_t *classes, int n,
				odet_track_info *out)
{
	if (!t || n < 0 || (n && (!boxes || !classes || !out)))
		return ODET_ERR_INVALID_ARG;
	if (n > 1000000)
		return odet_error(t->ctx, ODET_ERR_LIMIT, "tracker: %d detections in one frame", n);
	odet_status rc = reserve(t, n);
	if (rc)
		return rc;
	/* predictions at this frame's time */
	for (int i = 0; i < t->n; i++) {
		trk_track *k = &t->tr[i];
		double dt = time_s - k->t_seen;
		float dx = dt > 0 ? (float)(k->vx * dt) : 0, dy = dt > 0 ? (float)(k->vy * dt) : 0;
		k->pred[0] = k->box[0] + dx;
		k->pred[1] = k->box[1] + dy;
		k->pred[2] = k->box[2] + dx;
		k->pred[3] = k->box[3] + dy;
		t->track_used[i] = false;
	}
	/* candidate pairs, best IoU first */
	size_t np = 0;
	for (int i = 0; i < t->n; i++)
		for (int d = 0; d < n; d++) {
			if (t->o.class_aware && t->tr[i].cls != classes[d])
				continue;
			float v = iou(t->tr[i].pred, boxes + 4 * d);
			if (v >= t->o.iou)
				t->pairs[np++] = (trk_pair){.iou = v, .t = i, .d = d};
		}
	if (np > 1) /* pairs may be NULL when there is nothing to match (qsort's argument must not be) */
		qsort(t->pairs, np, sizeof *t->pairs, pair_cmp);
	for (int d = 0; d < n; d++)
		t->det_track[d] = -1;
	for (size_t k = 0; k < np; k++) {
		const trk_pair *p = &t->pairs[k];
		if (t->track_used[p->t] || t->det_track[p->d] >= 0)
			continue;
		t->track_used[p->t] = true;
		t->det_track[p->d] = p->t;
	}
	/* matched tracks take their detection; the others age and may die */
	for (int i = 0; i < t->n; i++) {
		trk_track *k = &t->tr[i];
		k->age++;
		if (!t->track_used[i])
			k->missed++;
	}
	for (int d = 0; d < n; d++) {
		const float *b = boxes + 4 * d;
		int i = t->det_track[d];
		if (i < 0)
			continue;
		trk_track *k = &t->tr[i];
		double dt = time_s - k->t_seen;
		if (dt > 0) {
			float sx = (float)(((b[0] + b[2]) - (k->box[0] + k->box[2])) * 0.5 / dt);
			float sy = (float)(((b[1] + b[3]) - (k->box[1] + k->box[3])) * 0.5 / dt);
			if (k->hits == 1) {
				k->vx = sx;
				k->vy = sy;
			} else {
				k->vx = 0.5f * (k->vx + sx);
				k->vy = 0.5f * (k->vy + sy);
			}
			k->t_seen = time_s;
		}
		memcpy(k->box, b, sizeof k->box);
		k->missed = 0;
		k->hits++;
		out[d] = (odet_track_info){.id = k->id, .age = k->age, .vx = k->vx, .vy = k->vy};
	}
	/* deaths (keeping the order of the survivors: older tracks first on ties) */
	int m = 0;
	for (int i = 0; i < t->n; i++) {
		if (t->tr[i].missed > t->o.max_missed)
			continue;
		for (int d = 0; d < n; d++)
			if (t->det_track[d] == i)
				t->det_track[d] = m;
		t->tr[m++] = t->tr[i];
	}
	t->n = m;
	/* births */
	for (int d = 0; d < n; d++) {
		if (t->det_track[d] >= 0)
			continue;
		trk_track *k = &t->tr[t->n++];
		memset(k, 0, sizeof *k);
		k->id = t->next_id++;
		k->cls = classes[d];
		k->age = 1;
		k->hits = 1;
		k->t_seen = time_s;
		memcpy(k->box, boxes + 4 * d, sizeof k->box);
		out[d] = (odet_track_info){.id = k->id, .age = 1, .vx = 0, .vy = 0};
	}
	return ODET_OK;
}

int odet_tracker_live(const odet_tracker *t)
{
	return t ? t->n : 0;
}
