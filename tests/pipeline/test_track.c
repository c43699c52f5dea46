/*
 * test_track.c — odet_tracker on synthetic detections (public API only): two objects of one
 * class crossing head-on keep their ids and measured velocities; an occlusion gap shorter than
 * max_missed keeps the id, a longer one gives a new id; births get new ids, never reused; a
 * different class starts its own track; ages count frames; detection order does not matter.
 */
#include "odet.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

typedef struct obj {
	float x, y, w, h;   /* centre at t = 0, size */
	float vx, vy;       /* px/s */
	int cls;
} obj;

static void box_at(const obj *o, double t, float *b)
{
	float cx = o->x + o->vx * (float)t, cy = o->y + o->vy * (float)t;
	b[0] = cx - o->w / 2;
	b[1] = cy - o->h / 2;
	b[2] = cx + o->w / 2;
	b[3] = cy + o->h / 2;
}

/* One frame of the visible objects, in an order rotated by the frame number. Returns n. */
static int frame(const obj *objs, const int *visible, int n_obj, double t, int f, float *boxes, int32_t *cls,
		 int *which)
{
	int n = 0;
	for (int k = 0; k < n_obj; k++) {
		int i = (k + f) % n_obj;
		if (!visible[i])
			continue;
		box_at(&objs[i], t, boxes + 4 * n);
		cls[n] = objs[i].cls;
		which[n] = i;
		n++;
	}
	return n;
}

static void test_crossing(odet_ctx *ctx)
{
	/* two people walking towards each other along the same row; they overlap for a few frames */
	obj o[2] = {{100, 200, 40, 100, 120, 0, 0}, {500, 205, 40, 100, -120, 0, 0}};
	int vis[2] = {1, 1}, which[2];
	odet_tracker *t;
	CHECK(odet_tracker_create(ctx, NULL, &t) == ODET_OK);
	float boxes[8];
	int32_t cls[2];
	odet_track_info info[2];
	int32_t id[2] = {0, 0};
	int stable = 1;
	for (int f = 0; f < 40; f++) {
		double ts = f / 10.0;
		int n = frame(o, vis, 2, ts, f, boxes, cls, which);
		CHECK(odet_tracker_update(t, ts, boxes, cls, n, info) == ODET_OK);
		for (int d = 0; d < n; d++) {
			int i = which[d];
			if (f == 0)
				id[i] = info[d].id;
			stable &= info[d].id == id[i];
			CHECK(info[d].age == f + 1);
			if (f >= 2)
				CHECK_MSG(fabsf(info[d].vx - o[i].vx) < 0.01f * 120 && fabsf(info[d].vy) < 1e-3f,
					  "frame %d object %d: velocity %.2f %.2f, true %.2f", f, i, info[d].vx, info[d].vy,
					  o[i].vx);
		}
	}
	CHECK(id[0] != id[1] && id[0] > 0 && id[1] > 0);
	CHECK_MSG(stable, "crossing objects swapped or lost their ids");
	CHECK(odet_tracker_live(t) == 2);
	odet_tracker_destroy(t);
}

/* Object visible, then hidden for `gap` frames, then visible again: same id iff gap <= max_missed. */
static void test_gap(odet_ctx *ctx, int gap, int max_missed)
{
	obj o[1] = {{100, 100, 50, 50, 60, 30, 2}};
	int vis[1] = {1}, which[1];
	odet_tracker_opts to = odet_tracker_opts_default();
	to.max_missed = max_missed;
	odet_tracker *t;
	CHECK(odet_tracker_create(ctx, &to, &t) == ODET_OK);
	float boxes[4];
	int32_t cls[1];
	odet_track_info info[1];
	int32_t first = -1, after = -1;
	for (int f = 0; f < 10 + gap + 5; f++) {
		vis[0] = f < 10 || f >= 10 + gap;
		double ts = f / 25.0;
		int n = frame(o, vis, 1, ts, f, boxes, cls, which);
		CHECK(odet_tracker_update(t, ts, boxes, cls, n, info) == ODET_OK);
		if (f == 0)
			first = info[0].id;
		if (f == 10 + gap)
			after = info[0].id;
		if (!n)
			CHECK(odet_tracker_live(t) == (f - 10 + 1 <= max_missed ? 1 : 0));
	}
	if (gap <= max_missed)
		CHECK_MSG(after == first, "gap %d (max_missed %d): id %d became %d", gap, max_missed, first, after);
	else
		CHECK_MSG(after != first && after > first, "gap %d (max_missed %d): id %d kept", gap, max_missed, first);
	odet_tracker_destroy(t);
}

static void test_births_deaths(odet_ctx *ctx)
{
	/* object 0 all along; object 1 born at frame 5, leaves at 15; object 2 (another class) sits
	 * on object 0's path at frame 20.. and must not take its id */
	obj o[3] = {{50, 300, 60, 60, 30, 0, 1}, {400, 100, 30, 30, 0, 50, 1}, {50 + 30 * 2.0f, 300, 60, 60, 0, 0, 7}};
	int vis[3], which[3];
	odet_tracker_opts to = odet_tracker_opts_default();
	to.max_missed = 3;
	odet_tracker *t;
	CHECK(odet_tracker_create(ctx, &to, &t) == ODET_OK);
	float boxes[12];
	int32_t cls[3];
	odet_track_info info[3];
	int32_t id0 = -1, id1 = -1, id2 = -1, max_id = 0;
	for (int f = 0; f < 30; f++) {
		vis[0] = 1;
		vis[1] = f >= 5 && f < 15;
		vis[2] = f == 20;
		double ts = f / 10.0;
		int n = frame(o, vis, 3, ts, f, boxes, cls, which);
		CHECK(odet_tracker_update(t, ts, boxes, cls, n, info) == ODET_OK);
		for (int d = 0; d < n; d++) {
			int i = which[d];
			int32_t *want = i == 0 ? &id0 : i == 1 ? &id1 : &id2;
			if (*want < 0) {
				*want = info[d].id;
				CHECK_MSG(info[d].id > max_id && info[d].age == 1, "frame %d: new object got id %d (max %d)", f,
					  info[d].id, max_id);
			}
			CHECK(info[d].id == *want);
			if (info[d].id > max_id)
				max_id = info[d].id;
		}
		if (f == 15 + 3)
			CHECK(odet_tracker_live(t) == 1); /* object 1 dies after max_missed frames */
	}
	CHECK(id0 != id1 && id0 != id2 && id1 != id2);
	/* object 1 comes back much later: a new id, not the dead one */
	vis[0] = 0;
	vis[1] = 1;
	vis[2] = 0;
	int n = frame(o, vis, 3, 1.0, 0, boxes, cls, which);
	CHECK(odet_tracker_update(t, 3.1, boxes, cls, n, info) == ODET_OK);
	CHECK(n == 1 && info[0].id > max_id);
	odet_tracker_destroy(t);
}

static void test_args(odet_ctx *ctx)
{
	odet_tracker *t = NULL;
	odet_tracker_opts to = odet_tracker_opts_default();
	to.iou = 0;
	CHECK(odet_tracker_create(ctx, &to, &t) == ODET_ERR_INVALID_ARG && !t);
	to.iou = 0.5f;
	to.max_missed = -1;
	CHECK(odet_tracker_create(ctx, &to, &t) == ODET_ERR_INVALID_ARG && !t);
	CHECK(odet_tracker_create(ctx, NULL, &t) == ODET_OK);
	CHECK(odet_tracker_update(t, 0, NULL, NULL, 0, NULL) == ODET_OK);
	CHECK(odet_tracker_update(t, 0, NULL, NULL, 2, NULL) == ODET_ERR_INVALID_ARG);
	CHECK(odet_tracker_update(NULL, 0, NULL, NULL, 0, NULL) == ODET_ERR_INVALID_ARG);
	CHECK(odet_tracker_live(t) == 0);
	odet_tracker_destroy(t);
	odet_tracker_destroy(NULL);
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	test_crossing(ctx);
	test_gap(ctx, 5, 10);
	test_gap(ctx, 10, 10);
	test_gap(ctx, 11, 10);
	test_gap(ctx, 3, 2);
	test_births_deaths(ctx);
	test_args(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("track");
}
