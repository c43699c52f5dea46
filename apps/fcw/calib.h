/*
 * calib.h — odet-fcw's camera calibration: the ground-plane homography (image pixels ->
 * metres), the warning zone and the level thresholds, read from a text file (apps/fcw/README.md).
 *
 * Ground coordinates: X metres to the right of the ego axis, Y metres ahead of the ego's
 * front (the origin). A homography H maps an image point (u, v, 1) to (X w, Y w, w); image
 * points with w <= 0 lie on or above the horizon line and have no ground position.
 *
 * Two forms of calibration (DLT solved here, no OpenCV):
 *   points:    >= 4 image points with their ground positions in metres -> H by normalized DLT
 *   bird's-eye: 4 image points and where they land in a bird's-eye image (the warp), 3 image
 *              points A, B, C with known distances |AB| (across) and |AC| (along) -> the
 *              pixel-to-metre factors kx, ky of the bird's-eye image, and the ego's position
 *              there -> H = metres-from-bird's-eye x warp
 * Degenerate geometry (three collinear points of the four, a fit without a unique solution,
 * calibration points on both sides of the horizon, i.e. a rectangle mapped through infinity)
 * is refused with a message naming the key and the line.
 */
#ifndef FCW_CALIB_H
#define FCW_CALIB_H

#include <stddef.h>
#include <stdio.h>

#define FCW_MAX_POINTS 64
#define FCW_MAX_POLY 32

typedef struct fcw_pt {
	double x, y;
} fcw_pt;

typedef enum fcw_zone_kind { FCW_ZONE_CORRIDOR = 0, FCW_ZONE_POLYGON = 1 } fcw_zone_kind;

/* The warning zone in ground metres. */
typedef struct fcw_zone {
	fcw_zone_kind kind;
	double width, near, far;        /* corridor: |X| <= width / 2 and near <= Y <= far */
	int n;                          /* polygon: n >= 3 vertices (X, Y), any orientation */
	fcw_pt poly[FCW_MAX_POLY];
} fcw_zone;

/* Levels and smoothing (fcw_logic.c). */
typedef struct fcw_params {
	double ttc_warning;   /* s: an object in the zone closing with TTC below this -> warning */
	double ttc_clear;     /* s: a warning holds until TTC rises above this (>= ttc_warning) */
	double hold_s;        /* s: a lower level is taken only once it held this long */
	double zone_margin;   /* m: an object in the zone leaves it only this far outside */
	double window_s;      /* s: distance and closing speed from a line fit over this window
	                       * (once the track's samples span half of it, 3 samples at least) */
	double max_gap;       /* s: a track unseen longer restarts its history (an id switch or a
	                       * long occlusion must not fake a speed) */
	double min_closing;   /* m/s: slower closing speeds give no TTC */
	double max_range;     /* m: farther ground positions count as beyond the horizon */
} fcw_params;

typedef enum fcw_form { FCW_FORM_POINTS = 1, FCW_FORM_BIRDSEYE = 2 } fcw_form;

typedef struct fcw_calib {
	fcw_form form;
	double H[9];          /* image -> ground metres, row-major, w > 0 below the horizon */
	double Hinv[9];       /* ground metres -> image */
	int image_w, image_h; /* image_size (0 when not given) */
	/* form points: the fit's points; form bird's-eye: the 4 warp points (img) and their
	 * ground positions through H (ground) */
	int n_points;
	fcw_pt img[FCW_MAX_POINTS], ground[FCW_MAX_POINTS];
	double kx, ky;        /* bird's-eye pixels per metre across / along (form bird's-eye) */
	double ref_angle_deg; /* bird's-eye: angle between A->B and A->C once warped (90 ideal) */
	/* residuals of the fit: ground metres (image -> ground) and image pixels (ground -> image) */
	double rms_m, max_m, rms_px, max_px;
	fcw_zone zone;
	fcw_params params;
} fcw_calib;

fcw_params fcw_params_default(void);

/* Parse calibration text (name used in messages). 0 ok; -1 with a message in err. */
int fcw_calib_parse(const char *text, const char *name, fcw_calib *c, char *err, size_t errn);
/* Read and parse a file (at most 1 MiB). */
int fcw_calib_load(const char *path, fcw_calib *c, char *err, size_t errn);
/* The fit, its residuals and the zone, for people. */
void fcw_calib_print(const fcw_calib *c, FILE *f);

/* The message into err (errn bytes, printf format); returns -1 (`return fcw_fail(...)`). */
int fcw_fail(char *err, size_t errn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Homography mapping src[i] -> dst[i] (n >= 4) by normalized DLT: Hartley normalization of
 * both point sets, the null vector of the 2n x 9 system (Jacobi eigen-decomposition of
 * A^T A), denormalized and scaled to unit norm. Refuses n < 4, non-finite points, three
 * collinear points (of 4), and systems without a unique solution. 0 ok, -1 with err. */
int fcw_homography_fit(const fcw_pt *src, const fcw_pt *dst, int n, double H[9], char *err, size_t errn);
/* Inverse of a 3x3 matrix; -1 when singular. */
int fcw_mat3_inv(const double m[9], double out[9]);
/* Apply H to (x, y): 0 and the point when w > eps, -1 when w <= eps (on or beyond the horizon). */
int fcw_apply(const double H[9], double x, double y, double *ox, double *oy);

/* Image point -> ground: 0 ok; -1 when on/above the horizon or beyond params.max_range. */
int fcw_image_to_ground(const fcw_calib *c, double u, double v, double *X, double *Y);
/* Ground -> image: 0 ok; -1 when the point is behind the camera. */
int fcw_ground_to_image(const fcw_calib *c, double X, double Y, double *u, double *v);

/* Ego speed over time: a constant, or a CSV of "time_s,speed_mps" lines (header and #
 * comments allowed, times increasing), linearly interpolated, clamped at the ends. */
typedef struct fcw_speed {
	double constant;
	int n;
	double *t, *v;
} fcw_speed;
int fcw_speed_load_csv(const char *path, fcw_speed *s, char *err, size_t errn);
double fcw_speed_at(const fcw_speed *s, double t);
void fcw_speed_free(fcw_speed *s);

#endif
