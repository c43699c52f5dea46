/*
 * render.h — odet-fcw's annotated output: the frame (boxes coloured by level, distance and
 * TTC labels, the zone drawn in perspective) and beside it a bird's-eye panel of the ground
 * (the frame warped onto the ground plane, a metre grid, the zone, the ego, objects as dots).
 */
#ifndef FCW_RENDER_H
#define FCW_RENDER_H

#include "calib.h"
#include "logic.h"
#include "raster.h"

typedef struct fcw_view fcw_view;

/* The panel's geometry and warp table for frames of w x h: the panel is panel_w x h, ground
 * Y from y_min to y_max (metres) bottom to top, X centred, square metres. NULL: no memory. */
fcw_view *fcw_view_create(const fcw_calib *c, int w, int h);
void fcw_view_destroy(fcw_view *v);
int fcw_view_width(const fcw_view *v);    /* frame + panel */
/* Panel pixel of a ground point (for tests and drawing). */
void fcw_view_ground_to_panel(const fcw_view *v, double X, double Y, double *px, double *py);

typedef struct fcw_render_in {
	const uint8_t *rgb;         /* the frame, w x h (as given to fcw_view_create) */
	const float *boxes;         /* [n][4] frame pixels */
	const char *const *names;   /* [n] class names */
	const fcw_obj *objs;        /* [n] */
	int n;
	int64_t frame;
	double pts, ego_speed;
} fcw_render_in;

/* Draw into out (fcw_view_width(v) x h, RGB8). */
void fcw_render(const fcw_view *v, const fcw_render_in *in, rs_img *out);

extern const uint8_t fcw_level_color[3][3];

#endif
