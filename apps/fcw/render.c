/*
 * render.c — odet-fcw's annotated frames (render.h). The bird's-eye panel's warp (panel
 * pixel -> frame pixel through the inverse homography) is computed once per video; each
 * frame then gathers, dims and draws on top.
 */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t fcw_level_color[3][3] = {{40, 200, 60}, {255, 200, 0}, {235, 30, 30}};
static const uint8_t grey[3] = {170, 170, 170}, white[3] = {255, 255, 255}, black[3] = {0, 0, 0},
		     dark[3] = {28, 30, 34}, grid_c[3] = {90, 110, 130}, zone_c[3] = {255, 200, 0}, ego_c[3] = {60, 160, 255};

struct fcw_view {
	fcw_calib c;
	int w, h, pw;            /* frame, panel width */
	double s;                /* panel pixels per metre */
	double y_min, y_max;     /* ground Y at the panel's bottom and top */
	int32_t *src;            /* [h][pw]: frame pixel index of each panel pixel, -1 outside */
};

fcw_view *fcw_view_create(const fcw_calib *c, int w, int h)
{
	fcw_view *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->c = *c;
	v->w = w, v->h = h;
	v->pw = (h * 4 / 5) & ~1;
	if (v->pw < 64)
		v->pw = 64;
	double far = c->zone.far, near = c->zone.near;
	v->y_max = far + fmax(4, 0.5 * (far - fmin(near, 0)));
	v->y_min = fmin(0, near) - 0.06 * (v->y_max - fmin(0, near));
	v->s = h / (v->y_max - v->y_min);
	v->src = malloc((size_t)v->pw * h * sizeof *v->src);
	if (!v->src) {
		free(v);
		return NULL;
	}
	for (int py = 0; py < h; py++)
		for (int px = 0; px < v->pw; px++) {
			double X = (px + 0.5 - v->pw / 2.0) / v->s, Y = v->y_max - (py + 0.5) / v->s, u, vv;
			int32_t idx = -1;
			if (!fcw_ground_to_image(c, X, Y, &u, &vv) && u >= 0 && vv >= 0 && u < w && vv < h)
				idx = (int32_t)((int)vv * w + (int)u);
			v->src[(size_t)py * v->pw + px] = idx;
		}
	return v;
}

void fcw_view_destroy(fcw_view *v)
{
	if (!v)
		return;
	free(v->src);
	free(v);
}

int fcw_view_width(const fcw_view *v)
{
	return v->w + v->pw;
}

void fcw_view_ground_to_panel(const fcw_view *v, double X, double Y, double *px, double *py)
{
	*px = v->w + v->pw / 2.0 + X * v->s;
	*py = (v->y_max - Y) * v->s;
}

/* The zone's outline in ground metres (corridor corners or the polygon). */
static int zone_outline(const fcw_zone *z, fcw_pt *out)
{
	if (z->kind == FCW_ZONE_POLYGON) {
		memcpy(out, z->poly, (size_t)z->n * sizeof *out);
		return z->n;
	}
	double hw = z->width / 2;
	out[0] = (fcw_pt){-hw, z->near}, out[1] = (fcw_pt){hw, z->near};
	out[2] = (fcw_pt){hw, z->far}, out[3] = (fcw_pt){-hw, z->far};
	return 4;
}

/* Sutherland-Hodgman against the half-plane in front of the camera (Hinv's w >= wmin). */
static int clip_front(const double *Hi, const fcw_pt *in, int n, fcw_pt *out)
{
	int m = 0;
	double wmin = 1e-4 * (fabs(Hi[6]) + fabs(Hi[7]) + fabs(Hi[8]));
	for (int i = 0; i < n; i++) {
		fcw_pt a = in[i], b = in[(i + 1) % n];
		double wa = Hi[6] * a.x + Hi[7] * a.y + Hi[8] - wmin, wb = Hi[6] * b.x + Hi[7] * b.y + Hi[8] - wmin;
		if (wa >= 0)
			out[m++] = a;
		if ((wa >= 0) != (wb >= 0)) {
			double t = wa / (wa - wb);
			out[m++] = (fcw_pt){a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
		}
	}
	return m;
}

static void draw_zone_perspective(const fcw_view *v, rs_img *im)
{
	fcw_pt poly[FCW_MAX_POLY], dense[FCW_MAX_POLY * 8], clipped[FCW_MAX_POLY * 16];
	int n = zone_outline(&v->c.zone, poly), m = 0;
	for (int i = 0; i < n; i++) /* densified, so the clipped outline follows the edges */
		for (int k = 0; k < 8; k++) {
			fcw_pt a = poly[i], b = poly[(i + 1) % n];
			dense[m++] = (fcw_pt){a.x + (b.x - a.x) * k / 8.0, a.y + (b.y - a.y) * k / 8.0};
		}
	int q = clip_front(v->c.Hinv, dense, m, clipped);
	if (q < 3)
		return;
	double xy[2 * FCW_MAX_POLY * 16];
	for (int i = 0; i < q; i++)
		if (fcw_apply(v->c.Hinv, clipped[i].x, clipped[i].y, &xy[2 * i], &xy[2 * i + 1]))
			return;
	rs_poly_fill(im, xy, q, zone_c, 0.18f);
	for (int i = 0; i < q; i++) {
		int j = (i + 1) % q;
		double x0 = xy[2 * i], y0 = xy[2 * i + 1], x1 = xy[2 * j], y1 = xy[2 * j + 1];
		rs_line(im, x0, y0, x1, y1, zone_c, 2);
	}
}

static double grid_step(double span)
{
	static const double steps[] = {1, 2, 5, 10, 20, 50, 100};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (span / steps[i] <= 10)
			return steps[i];
	return 200;
}

static void draw_panel(const fcw_view *v, const fcw_render_in *in, rs_img *im)
{
	int x0 = v->w, pw = v->pw, h = v->h;
	/* the ground as the camera sees it, dimmed; dark where it does not */
	for (int py = 0; py < h; py++) {
		uint8_t *row = im->rgb + ((size_t)py * im->w + x0) * 3;
		const int32_t *src = v->src + (size_t)py * pw;
		for (int px = 0; px < pw; px++) {
			if (src[px] < 0) {
				memcpy(row + 3 * px, dark, 3);
				continue;
			}
			const uint8_t *s = in->rgb + (size_t)src[px] * 3;
			for (int k = 0; k < 3; k++)
				row[3 * px + k] = (uint8_t)(s[k] / 2 + 10);
		}
	}
	rs_img panel = {x0 + pw, h, im->rgb};
	/* the metre grid, labelled on the left */
	double span = v->y_max - v->y_min, step = grid_step(span), xr = pw / 2.0 / v->s;
	char t[64];
	for (double y = ceil(v->y_min / step) * step; y <= v->y_max; y += step) {
		double a, b, c, d;
		fcw_view_ground_to_panel(v, -xr, y, &a, &b);
		fcw_view_ground_to_panel(v, xr, y, &c, &d);
		rs_line(&panel, a, b, c - 1, d, grid_c, 1);
		snprintf(t, sizeof t, "%gM", fabs(y) < 1e-9 ? 0.0 : y);
		rs_text(&panel, x0 + 3, (int)b - 9, t, white, 1);
	}
	for (double x = -floor(xr / step) * step; x <= xr; x += step) {
		double a, b, c, d;
		fcw_view_ground_to_panel(v, x, v->y_min, &a, &b);
		fcw_view_ground_to_panel(v, x, v->y_max, &c, &d);
		rs_line(&panel, a, b, c, d, grid_c, 1);
	}
	/* the zone */
	fcw_pt poly[FCW_MAX_POLY];
	int n = zone_outline(&v->c.zone, poly);
	double xy[2 * FCW_MAX_POLY];
	for (int i = 0; i < n; i++)
		fcw_view_ground_to_panel(v, poly[i].x, poly[i].y, &xy[2 * i], &xy[2 * i + 1]);
	rs_poly_fill(&panel, xy, n, zone_c, 0.22f);
	for (int i = 0; i < n; i++) {
		int j = (i + 1) % n;
		rs_line(&panel, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], zone_c, 2);
	}
	/* the ego: a small car whose front is at the origin */
	double ex, ey;
	fcw_view_ground_to_panel(v, 0, 0, &ex, &ey);
	double cw = fmax(6, 0.9 * v->s), cl = fmax(10, 2.0 * v->s);
	rs_fill_rect(&panel, (int)(ex - cw), (int)ey, (int)(ex + cw), (int)(ey + cl), ego_c, 1);
	/* objects as dots, coloured by level, with their track ids; the most urgent on top */
	int above = 0;
	for (int i = 0; i < in->n; i++)
		above += !in->objs[i].ground;
	for (int lv = FCW_CLEAR; lv <= FCW_WARNING; lv++)
		for (int i = 0; i < in->n; i++) {
			const fcw_obj *o = &in->objs[i];
			if (!o->ground || (int)o->level != lv)
				continue;
			double px, py;
			fcw_view_ground_to_panel(v, o->lateral, o->dist, &px, &py);
			if (px < x0 || px >= x0 + pw)
				continue;
			rs_disc(&panel, px, py, 6, black);
			rs_disc(&panel, px, py, 4.5, fcw_level_color[o->level]);
			if (o->track >= 0) {
				snprintf(t, sizeof t, "%d", o->track);
				rs_text(&panel, (int)px + 8, (int)py - 3, t, white, 1);
			}
		}
	rs_fill_rect(&panel, x0, 0, x0 + pw, 13, black, 0.6f);
	rs_text(&panel, x0 + 4, 3, "BIRDS-EYE VIEW, METRES", white, 1);
	if (above) {
		snprintf(t, sizeof t, "%d ABOVE HORIZON", above);
		rs_label(&panel, x0 + 4, h - 14, t, black, grey, 1);
	}
	rs_fill_rect(&panel, x0, 0, x0 + 2, h, black, 1);
}

void fcw_render(const fcw_view *v, const fcw_render_in *in, rs_img *out)
{
	for (int y = 0; y < v->h; y++)
		memcpy(out->rgb + (size_t)y * out->w * 3, in->rgb + (size_t)y * v->w * 3, (size_t)v->w * 3);
	rs_img frame = {out->w, out->h, out->rgb};
	draw_zone_perspective(v, &frame);
	/* draw into the frame part only: boxes and labels are clipped at the panel's edge by
	 * drawing the panel afterwards */
	int sc = v->w >= 1200 ? 2 : 1;
	fcw_level top = FCW_CLEAR;
	char t[96];
	/* boxes, then labels, each from clear to warning, so the most urgent ones end on top */
	for (int pass = 0; pass < 2; pass++)
		for (int lv = FCW_CLEAR; lv <= FCW_WARNING; lv++)
			for (int i = in->n - 1; i >= 0; i--) {
				const fcw_obj *o = &in->objs[i];
				if ((int)o->level != lv)
					continue;
				const float *b = in->boxes + 4 * i;
				const uint8_t *col = o->ground ? fcw_level_color[o->level] : grey;
				if (o->level > top)
					top = o->level;
				if (pass == 0) {
					rs_rect(&frame, (int)b[0], (int)b[1], (int)b[2], (int)b[3], col,
						o->level == FCW_WARNING ? 3 : 2);
					continue;
				}
				if (!o->ground)
					snprintf(t, sizeof t, "%d ABOVE HORIZON", o->track);
				else if (isfinite(o->ttc))
					snprintf(t, sizeof t, "%d %.1fM TTC %.1fS", o->track, o->dist, o->ttc);
				else
					snprintf(t, sizeof t, "%d %.1fM", o->track, o->dist);
				int ly = (int)b[1] - 9 * sc - 1;
				if (ly < 0)
					ly = (int)b[3] + 1;
				int lx = (int)b[0], lw = rs_text_width(t, sc) + sc;
				if (lx + lw > v->w) /* keep the label inside the frame, off the panel */
					lx = v->w - lw;
				rs_label(&frame, lx < 0 ? 0 : lx, ly, t, col, o->level == FCW_CAUTION ? black : white, sc);
			}
	snprintf(t, sizeof t, "FRAME %lld  %.2f S  EGO %.1f M/S", (long long)in->frame, in->pts, in->ego_speed);
	rs_label(&frame, 4, 4, t, black, white, sc + 1);
	if (top > FCW_CLEAR)
		rs_label(&frame, 4, 4 + 9 * (sc + 1) + 4, top == FCW_WARNING ? "WARNING" : "CAUTION", fcw_level_color[top],
			 top == FCW_WARNING ? white : black, sc + 1);
	draw_panel(v, in, out);
}
