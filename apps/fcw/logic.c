/*
 * logic.c — odet-fcw's per-frame logic (logic.h): ground positions, per-track line fits of
 * distance over time, TTC, zone membership and levels with hysteresis.
 */
#include "logic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST 64          /* samples kept per track (a window of 1 s at up to 64 fps) */
#define FORGET_S 2.0     /* a track unseen this long is forgotten */

typedef struct track_state {
	int32_t id;
	int n, head;         /* samples in the ring, next slot */
	double t[HIST], y[HIST];
	double last_t;
	int in_zone;
	fcw_level level;
	fcw_level pending;   /* a lower level waiting for hold_s */
	double pending_since;
} track_state;

struct fcw_state {
	fcw_calib calib;
	track_state *tr;
	int n, cap;
};

const char *fcw_level_name(fcw_level l)
{
	return l == FCW_WARNING ? "warning" : l == FCW_CAUTION ? "caution" : "clear";
}

fcw_state *fcw_state_create(const fcw_calib *c)
{
	fcw_state *s = calloc(1, sizeof *s);
	if (s)
		s->calib = *c;
	return s;
}

void fcw_state_destroy(fcw_state *s)
{
	if (!s)
		return;
	free(s->tr);
	free(s);
}

/* Point in polygon (even-odd) or within margin metres of its boundary. */
static double seg_dist(fcw_pt a, fcw_pt b, double x, double y)
{
	double dx = b.x - a.x, dy = b.y - a.y, l2 = dx * dx + dy * dy;
	double u = l2 > 0 ? ((x - a.x) * dx + (y - a.y) * dy) / l2 : 0;
	u = u < 0 ? 0 : u > 1 ? 1 : u;
	return hypot(a.x + u * dx - x, a.y + u * dy - y);
}

int fcw_in_zone(const fcw_zone *z, double X, double Y, double margin)
{
	if (!isfinite(X) || !isfinite(Y))
		return 0;
	if (z->kind == FCW_ZONE_CORRIDOR)
		return fabs(X) <= z->width / 2 + margin && Y >= z->near - margin && Y <= z->far + margin;
	int inside = 0;
	for (int i = 0, j = z->n - 1; i < z->n; j = i++) {
		fcw_pt a = z->poly[i], b = z->poly[j];
		if ((a.y > Y) != (b.y > Y) && X < (b.x - a.x) * (Y - a.y) / (b.y - a.y) + a.x)
			inside = !inside;
	}
	if (inside || margin <= 0)
		return inside;
	for (int i = 0, j = z->n - 1; i < z->n; j = i++)
		if (seg_dist(z->poly[j], z->poly[i], X, Y) <= margin)
			return 1;
	return 0;
}

static track_state *find_track(fcw_state *s, int32_t id, double t)
{
	for (int i = 0; i < s->n; i++)
		if (s->tr[i].id == id)
			return &s->tr[i];
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		track_state *nt = realloc(s->tr, (size_t)cap * sizeof *nt);
		if (!nt)
			return NULL;
		s->tr = nt;
		s->cap = cap;
	}
	track_state *ts = &s->tr[s->n++];
	memset(ts, 0, sizeof *ts);
	ts->id = id;
	ts->last_t = t;
	ts->level = ts->pending = FCW_CLEAR;
	return ts;
}

/* Least-squares line through the samples of the last window_s: value at t and slope.
 * Returns the number of samples used. */
static int fit(const track_state *ts, double t, double window_s, double *value, double *slope)
{
	double st = 0, sy = 0, stt = 0, sty = 0;
	int m = 0;
	for (int k = 0; k < ts->n; k++) {
		int i = (ts->head - 1 - k + HIST) % HIST;
		if (t - ts->t[i] > window_s + 1e-9)
			break;
		double dt = ts->t[i] - t;
		st += dt, sy += ts->y[i], stt += dt * dt, sty += dt * ts->y[i];
		m++;
	}
	double den = m * stt - st * st, span = m ? t - ts->t[(ts->head - m + HIST) % HIST] : 0;
	if (m < 3 || span < 0.5 * window_s - 1e-9 || !(den > 1e-12 * m * m)) {
		*value = ts->y[(ts->head - 1 + HIST) % HIST];
		*slope = NAN;
		return m;
	}
	*slope = (m * sty - st * sy) / den;
	*value = (sy - *slope * st) / m; /* the line at dt = 0 */
	return m;
}

static void set_level(track_state *ts, fcw_level want, double t, double hold_s, fcw_obj *o)
{
	fcw_level before = ts->level;
	if (want >= ts->level) {
		ts->level = want;
		ts->pending = want;
	} else {
		if (ts->pending != want) {
			ts->pending = want;
			ts->pending_since = t;
		}
		if (t - ts->pending_since >= hold_s - 1e-9)
			ts->level = want;
	}
	o->level = ts->level;
	o->changed = ts->level != before;
}

int fcw_frame(fcw_state *s, double t, double ego_speed, const float *boxes, const int32_t *tracks, int n,
	      fcw_obj *out)
{
	const fcw_params *p = &s->calib.params;
	for (int i = 0; i < n; i++) {
		const float *b = boxes + 4 * i;
		fcw_obj *o = &out[i];
		memset(o, 0, sizeof *o);
		o->track = tracks ? tracks[i] : -1;
		o->dist = o->lateral = o->closing = o->X = o->Y = NAN;
		o->ttc = INFINITY;
		double u = 0.5 * ((double)b[0] + b[2]), v = b[3];
		o->ground = !fcw_image_to_ground(&s->calib, u, v, &o->X, &o->Y);
		track_state *ts = NULL;
		if (o->track >= 0 && !(ts = find_track(s, o->track, t)))
			return -1;
		if (ts)
			ts->last_t = t;
		if (!o->ground) {
			/* no ground position: the track's history restarts when it comes back down */
			if (ts) {
				ts->n = ts->head = 0;
				ts->in_zone = 0;
				set_level(ts, FCW_CLEAR, t, p->hold_s, o);
			}
			continue;
		}
		o->lateral = o->X;
		o->dist = o->Y;
		if (ts) {
			double prev = ts->n ? ts->t[(ts->head - 1 + HIST) % HIST] : -INFINITY;
			if (ts->n && !(t > prev)) /* same time twice: replace */
				ts->head = (ts->head - 1 + HIST) % HIST, ts->n--;
			else if (ts->n && t - prev > p->max_gap + 1e-9) /* a gap: start over */
				ts->n = ts->head = 0;
			ts->t[ts->head] = t;
			ts->y[ts->head] = o->Y;
			ts->head = (ts->head + 1) % HIST;
			if (ts->n < HIST)
				ts->n++;
			double value, slope;
			if (fit(ts, t, p->window_s, &value, &slope) >= 3 && isfinite(slope)) {
				o->dist = value;
				o->closing = -slope;
			}
		}
		if (!isfinite(o->closing) && ego_speed > 0)
			o->closing = ego_speed;
		if (isfinite(o->closing) && o->closing >= p->min_closing)
			o->ttc = o->dist > 0 ? o->dist / o->closing : 0;
		int was_in = ts ? ts->in_zone : 0;
		o->in_zone = fcw_in_zone(&s->calib.zone, o->lateral, o->dist, was_in ? p->zone_margin : 0);
		fcw_level want = FCW_CLEAR;
		if (o->in_zone) {
			int was_warning = ts && ts->level == FCW_WARNING;
			want = o->ttc < (was_warning ? p->ttc_clear : p->ttc_warning) ? FCW_WARNING : FCW_CAUTION;
		}
		if (ts) {
			ts->in_zone = o->in_zone;
			set_level(ts, want, t, p->hold_s, o);
		} else {
			o->level = want;
			o->changed = 0;
		}
	}
	/* tracks unseen for FORGET_S are dropped */
	int w = 0;
	for (int i = 0; i < s->n; i++)
		if (t - s->tr[i].last_t <= FORGET_S)
			s->tr[w++] = s->tr[i];
	s->n = w;
	return 0;
}
