/*
 * test_fcw_logic.c — odet-fcw's per-frame logic (apps/fcw/logic.c) on synthetic tracks seen by
 * a pinhole dash camera (1.4 m high, pitched 6 degrees down, f = 800 px): zone membership
 * (corridor, polygon, margins); TTC of an object approaching at constant speed (exact without
 * noise, within 5% with half a pixel of box noise); the ego speed as the closing speed of
 * untracked objects; no flicker at the TTC threshold or the zone's edge (while the raw
 * comparisons do flip); a lower level only after hold_s; objects above the horizon (no
 * distance, never negative or infinite); a gap in a track restarts its history.
 */
#include "logic.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static double G[9]; /* ground -> image */

static void camera(void)
{
	double f = 800, cx = 640, cy = 360, hgt = 1.4, p = 6 * M_PI / 180, cp = cos(p), sp = sin(p);
	double R[9] = {1, 0, 0, 0, -sp, cp * hgt, 0, cp, sp * hgt}, K[9] = {f, 0, cx, 0, f, cy, 0, 0, 1};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			G[3 * i + j] = K[3 * i] * R[j] + K[3 * i + 1] * R[3 + j] + K[3 * i + 2] * R[6 + j];
}

static void make_calib(fcw_calib *c, const char *extra)
{
	const fcw_pt ground[4] = {{-2, 5}, {2, 5}, {2, 30}, {-2, 30}};
	char text[2048], err[256];
	int len = 0;
	for (int i = 0; i < 4; i++) {
		double u, v;
		fcw_apply(G, ground[i].x, ground[i].y, &u, &v);
		len += snprintf(text + len, sizeof text - len, "point %.17g %.17g %g %g\n", u, v, ground[i].x, ground[i].y);
	}
	snprintf(text + len, sizeof text - len, "%s", extra);
	int rc = fcw_calib_parse(text, "synthetic", c, err, sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
}

/* A car-sized box standing on ground point (X, Y), its bottom edge moved by dv pixels. */
static void box_at(double X, double Y, double dv, float *b)
{
	double u, v;
	fcw_apply(G, X, Y, &u, &v);
	double w = 1500 / Y, h = 1200 / Y;
	b[0] = (float)(u - w / 2), b[1] = (float)(v - h + dv), b[2] = (float)(u + w / 2), b[3] = (float)(v + dv);
}

/* deterministic noise in [-1, 1] */
static double noise(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return ((*s >> 8) & 0xffff) / 32767.5 - 1;
}

static void test_zone(void)
{
	fcw_zone z = {.kind = FCW_ZONE_CORRIDOR, .width = 3, .near = 0, .far = 20};
	CHECK(fcw_in_zone(&z, 0, 10, 0) && fcw_in_zone(&z, 1.5, 20, 0) && fcw_in_zone(&z, -1.5, 0, 0));
	CHECK(!fcw_in_zone(&z, 1.6, 10, 0) && !fcw_in_zone(&z, 0, 20.1, 0) && !fcw_in_zone(&z, 0, -0.1, 0));
	CHECK(fcw_in_zone(&z, 1.7, 10, 0.3) && !fcw_in_zone(&z, 1.9, 10, 0.3) && fcw_in_zone(&z, 0, 20.2, 0.3));
	CHECK(!fcw_in_zone(&z, NAN, 10, 0) && !fcw_in_zone(&z, 0, INFINITY, 1));
	/* an L-shaped (concave) polygon: the notch is outside */
	fcw_zone l = {.kind = FCW_ZONE_POLYGON, .n = 6, .poly = {{-2, 0}, {2, 0}, {2, 10}, {0, 10}, {0, 20}, {-2, 20}}};
	CHECK(fcw_in_zone(&l, 1, 5, 0) && fcw_in_zone(&l, -1, 15, 0));
	CHECK(!fcw_in_zone(&l, 1, 15, 0) && !fcw_in_zone(&l, 3, 5, 0) && !fcw_in_zone(&l, 0, -1, 0));
	CHECK(fcw_in_zone(&l, 0.2, 15, 0.3) && !fcw_in_zone(&l, 0.5, 15, 0.3));
}

/* An object straight ahead approaching at speed from y0 (10 fps); noise_px of box noise. Returns
 * the worst relative TTC error over the frames where the window is full and distance > 4 m. */
static double approach(double speed, double y0, double noise_px, int *n_checked)
{
	fcw_calib c;
	make_calib(&c, "zone corridor 3.5 0 40\n");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 7;
	fcw_obj o;
	unsigned seed = 17;
	double worst = 0;
	*n_checked = 0;
	for (int f = 0; f < 60; f++) {
		double t = f * 0.1, y = y0 - speed * t;
		if (y < 4)
			break;
		box_at(0.3, y, noise_px * noise(&seed), b);
		CHECK(!fcw_frame(s, t, 0, b, &id, 1, &o));
		CHECK(o.ground && o.track == 7 && fabs(o.lateral - 0.3) < 0.2);
		if (t >= c.params.window_s) {
			double truth = y / speed;
			worst = fmax(worst, fabs(o.ttc - truth) / truth);
			(*n_checked)++;
		}
	}
	fcw_state_destroy(s);
	return worst;
}

static void test_ttc(void)
{
	int n;
	double e = approach(8, 30, 0, &n);
	CHECK_MSG(e < 1e-6 && n >= 10, "exact boxes: TTC error %g over %d frames", e, n);
	e = approach(8, 30, 0.5, &n);
	CHECK_MSG(e <= 0.05 && n >= 10, "half a pixel of noise: TTC error %.4f over %d frames (<= 5%%)", e, n);
	e = approach(1.5, 12, 0.5, &n); /* a pedestrian's pace */
	CHECK_MSG(e <= 0.05 && n >= 10, "pedestrian: TTC error %.4f over %d frames (<= 5%%)", e, n);
	/* receding: no TTC */
	fcw_calib c;
	make_calib(&c, "");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 1;
	fcw_obj o;
	for (int f = 0; f < 20; f++) {
		box_at(0, 10 + 0.5 * f, 0, b);
		fcw_frame(s, f * 0.1, 0, b, &id, 1, &o);
	}
	CHECK(o.closing < -4.9 && o.closing > -5.1 && isinf(o.ttc) && o.level == FCW_CAUTION);
	fcw_state_destroy(s);
}

static void test_ego_speed(void)
{
	fcw_calib c;
	make_calib(&c, "");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	fcw_obj o;
	box_at(0, 24, 0, b);
	CHECK(!fcw_frame(s, 0, 12, b, NULL, 1, &o));
	CHECK(o.track == -1 && fabs(o.closing - 12) < 1e-12 && fabs(o.ttc - 2) < 1e-6 && o.level == FCW_WARNING);
	/* a new track: the ego speed until the fit has enough samples */
	int32_t id = 3;
	CHECK(!fcw_frame(s, 0.1, 12, b, &id, 1, &o));
	CHECK(fabs(o.closing - 12) < 1e-12);
	/* standing ego, untracked: no closing speed, no TTC */
	CHECK(!fcw_frame(s, 0.2, 0, b, NULL, 1, &o));
	CHECK(isnan(o.closing) && isinf(o.ttc) && o.level == FCW_CAUTION);
	fcw_state_destroy(s);
}

/* Distance shrinking exponentially: the TTC estimate is the same at every frame (d / (-d')
 * = T for Y = Y0 exp(-t / T)); the threshold is set to it, so noise moves the raw comparison
 * back and forth across it. Levels must change at most once. */
static void test_no_flicker_ttc(void)
{
	fcw_calib c;
	make_calib(&c, "zone corridor 3.5 0 40\n");
	const double T = 2.5;
	/* the noise-free estimate at the window's end */
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 1;
	fcw_obj o;
	for (int f = 0; f <= 10; f++) {
		box_at(0, 20 * exp(-f * 0.1 / T), 0, b);
		fcw_frame(s, f * 0.1, 0, b, &id, 1, &o);
	}
	double est = o.ttc;
	fcw_state_destroy(s);
	/* a line over a curving distance lags: the estimate is below T, not far */
	CHECK_MSG(est > 0.7 * T && est < 1.05 * T, "noise-free estimate %g for T %g", est, T);
	c.params.ttc_warning = est;
	c.params.ttc_clear = est * 1.2;
	s = fcw_state_create(&c);
	unsigned seed = 5;
	int raw_flips = 0, level_changes = 0, prev_raw = -1;
	fcw_level prev = FCW_CLEAR;
	int first = 1;
	for (int f = 0; f < 30; f++) {
		box_at(0, 20 * exp(-f * 0.1 / T), 0.4 * noise(&seed), b);
		CHECK(!fcw_frame(s, f * 0.1, 0, b, &id, 1, &o));
		if (f * 0.1 < c.params.window_s)
			continue;
		int raw = o.ttc < est;
		raw_flips += prev_raw >= 0 && raw != prev_raw;
		prev_raw = raw;
		level_changes += !first && o.level != prev;
		prev = o.level;
		first = 0;
	}
	fcw_state_destroy(s);
	CHECK_MSG(raw_flips >= 4, "the test needs the raw TTC to cross the threshold (%d crossings)", raw_flips);
	CHECK_MSG(level_changes <= 1, "%d level changes at the threshold (hysteresis failed)", level_changes);
	CHECK(prev == FCW_WARNING);
}

/* An object standing at the corridor's edge, its lateral position noisy by 0.1 m. */
static void test_no_flicker_zone(void)
{
	fcw_calib c;
	make_calib(&c, "zone corridor 3.5 0 40\nzone_margin 0.3\n");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 9;
	fcw_obj o;
	unsigned seed = 11;
	int raw_flips = 0, changes = 0, prev_raw = -1;
	fcw_level prev = FCW_CLEAR;
	for (int f = 0; f < 60; f++) {
		double X = 1.75 + 0.1 * noise(&seed);
		box_at(X, 12, 0, b);
		CHECK(!fcw_frame(s, f * 0.1, 0, b, &id, 1, &o));
		int raw = fcw_in_zone(&c.zone, o.lateral, o.dist, 0);
		raw_flips += prev_raw >= 0 && raw != prev_raw;
		prev_raw = raw;
		changes += o.level != prev;
		prev = o.level;
		CHECK(o.level != FCW_WARNING);
	}
	fcw_state_destroy(s);
	CHECK_MSG(raw_flips >= 4, "the test needs the raw zone test to flip (%d flips)", raw_flips);
	CHECK_MSG(changes <= 1, "%d level changes at the zone's edge", changes);
}

/* A warning holds for hold_s after its object leaves the zone, then clears. */
static void test_hold(void)
{
	fcw_calib c;
	make_calib(&c, "zone corridor 3.5 0 40\nhold 0.5\n");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 4;
	fcw_obj o;
	int f = 0;
	for (; f < 15; f++) { /* 10 m/s from 20 m: TTC < 2.5 s soon */
		box_at(0, 20 - f, 0, b);
		fcw_frame(s, f * 0.1, 0, b, &id, 1, &o);
	}
	CHECK(o.level == FCW_WARNING);
	double t_out = f * 0.1;
	int cleared_at = -1;
	for (; f < 30; f++) { /* jumps sideways out of the zone, still closing */
		box_at(8, 20 - f * 0.2, 0, b);
		fcw_frame(s, f * 0.1, 0, b, &id, 1, &o);
		CHECK(!o.in_zone);
		if (o.level == FCW_CLEAR && cleared_at < 0) {
			cleared_at = f;
			CHECK(o.changed);
		}
		if (f * 0.1 - t_out < 0.5 - 1e-9)
			CHECK_MSG(o.level == FCW_WARNING, "frame %d: level %s before the hold ended", f, fcw_level_name(o.level));
	}
	CHECK_MSG(cleared_at == 20, "cleared at frame %d, expected 20 (0.5 s after leaving at frame 15)", cleared_at);
	fcw_state_destroy(s);
}

static void test_horizon(void)
{
	fcw_calib c;
	make_calib(&c, "zone corridor 3.5 0 40\n");
	fcw_state *s = fcw_state_create(&c);
	/* the horizon is at v = 360 - 800 tan(6 deg) = 275.9: boxes ending above it, on it, and
	 * just below it (thousands of metres away: beyond max_range) */
	float boxes[4][4] = {{600, 150, 680, 200}, {600, 200, 680, 275.9f}, {600, 200, 680, 276.0f}, {600, 250, 680, 330}};
	int32_t ids[4] = {1, 2, 3, 4};
	fcw_obj o[4];
	for (int f = 0; f < 12; f++)
		CHECK(!fcw_frame(s, f * 0.1, 20, &boxes[0][0], ids, 4, o));
	for (int i = 0; i < 3; i++) {
		CHECK_MSG(!o[i].ground && isnan(o[i].dist) && isnan(o[i].lateral) && isinf(o[i].ttc) &&
				  o[i].level == FCW_CLEAR && !o[i].in_zone,
			  "box %d: ground %d dist %g", i, o[i].ground, o[i].dist);
	}
	CHECK(o[3].ground && o[3].dist > 0 && isfinite(o[3].dist) && o[3].dist < c.params.max_range);
	fcw_state_destroy(s);
}

/* A track unseen for longer than max_gap starts over: no speed from before the gap. */
static void test_gap(void)
{
	fcw_calib c;
	make_calib(&c, "");
	fcw_state *s = fcw_state_create(&c);
	float b[4];
	int32_t id = 2;
	fcw_obj o;
	for (int f = 0; f < 10; f++) {
		box_at(0, 10, 0, b);
		fcw_frame(s, f * 0.1, 0, b, &id, 1, &o);
	}
	CHECK(fabs(o.closing) < 1e-6);
	box_at(0, 6, 0, b);
	CHECK(!fcw_frame(s, 1.9, 0, b, &id, 1, &o));
	CHECK_MSG(isnan(o.closing) && isinf(o.ttc), "closing %g after a gap", o.closing);
	fcw_state_destroy(s);
}

int main(void)
{
	camera();
	test_zone();
	test_ttc();
	test_ego_speed();
	test_no_flicker_ttc();
	test_no_flicker_zone();
	test_hold();
	test_horizon();
	test_gap();
	return test_summary("fcw_logic");
}
