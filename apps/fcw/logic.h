/*
 * logic.h — odet-fcw's per-frame logic, free of video and drawing (unit-tested alone):
 *
 *   box --bottom centre (the ground contact point)--> calibration H --> ground (X, Y) metres
 *   (or "no ground": on/above the horizon or beyond max_range, never a negative or infinite
 *   distance) --per track: a least-squares line Y(t) over the last window_s seconds-->
 *   smoothed distance and closing speed (-dY/dt) --> TTC = distance / closing speed
 *   --> zone membership (with a margin to leave it) --> level: clear, caution (in the zone),
 *   warning (in the zone, TTC below ttc_warning; held until it rises above ttc_clear).
 *
 * A track unseen for more than max_gap seconds starts its history over.
 * A higher level is taken at once; a lower one only after it held for hold_s seconds, so a
 * warning does not flicker. Without a track (id < 0) or before its samples span half the window the
 * closing speed is the ego speed (the object assumed standing) when that is > 0, else unknown.
 */
#ifndef FCW_LOGIC_H
#define FCW_LOGIC_H

#include "calib.h"

#include <stdint.h>

typedef enum fcw_level { FCW_CLEAR = 0, FCW_CAUTION = 1, FCW_WARNING = 2 } fcw_level;

const char *fcw_level_name(fcw_level l);

/* One object of one frame. */
typedef struct fcw_obj {
	int32_t track;      /* tracker id (-1: none) */
	int ground;         /* 1: ground position known; 0: on/above the horizon (no distance) */
	double X, Y;        /* raw ground position of the contact point (metres) */
	double dist;        /* smoothed distance ahead (metres); NAN without ground */
	double lateral;     /* X, metres right of the ego axis; NAN without ground */
	double closing;     /* metres per second, > 0 approaching; NAN unknown */
	double ttc;         /* seconds; INFINITY when not closing or unknown */
	int in_zone;
	fcw_level level;
	int changed;        /* the track's level differs from its previous frame's (or new in a level above clear) */
} fcw_obj;

typedef struct fcw_state fcw_state;

fcw_state *fcw_state_create(const fcw_calib *c);
void fcw_state_destroy(fcw_state *s);

/* One frame at time t (seconds, increasing): n boxes (x1 y1 x2 y2, image pixels) with their
 * track ids (NULL or -1: untracked) -> out[n]. ego_speed in m/s (0: unknown / standing).
 * 0 ok; -1 out of memory. */
int fcw_frame(fcw_state *s, double t, double ego_speed, const float *boxes, const int32_t *tracks, int n,
	      fcw_obj *out);

/* Whether ground point (X, Y) lies in the zone grown by margin metres (margin 0: the zone). */
int fcw_in_zone(const fcw_zone *z, double X, double Y, double margin);

#endif
