/*
 * raster.c — odet-fcw's drawing primitives (raster.h); text in odet's font (odet_image_draw_text).
 */
#include "raster.h"

#include "odet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void blend_px(uint8_t *p, const uint8_t c[3], float a)
{
	if (a >= 1) {
		memcpy(p, c, 3);
		return;
	}
	for (int k = 0; k < 3; k++)
		p[k] = (uint8_t)(p[k] + a * (c[k] - p[k]) + 0.5f);
}

void rs_fill_rect(rs_img *im, int x1, int y1, int x2, int y2, const uint8_t c[3], float alpha)
{
	x1 = x1 < 0 ? 0 : x1;
	y1 = y1 < 0 ? 0 : y1;
	x2 = x2 > im->w ? im->w : x2;
	y2 = y2 > im->h ? im->h : y2;
	for (int y = y1; y < y2; y++)
		for (int x = x1; x < x2; x++)
			blend_px(im->rgb + ((size_t)y * im->w + x) * 3, c, alpha);
}

void rs_rect(rs_img *im, int x1, int y1, int x2, int y2, const uint8_t c[3], int t)
{
	t = t < 1 ? 1 : t;
	rs_fill_rect(im, x1, y1, x2 + 1, y1 + t, c, 1);
	rs_fill_rect(im, x1, y2 - t + 1, x2 + 1, y2 + 1, c, 1);
	rs_fill_rect(im, x1, y1, x1 + t, y2 + 1, c, 1);
	rs_fill_rect(im, x2 - t + 1, y1, x2 + 1, y2 + 1, c, 1);
}

/* Liang-Barsky: clip the segment to [xmin, xmax] x [ymin, ymax]; 0 when nothing remains. */
static int clip(double *x0, double *y0, double *x1, double *y1, double xmin, double ymin, double xmax, double ymax)
{
	double dx = *x1 - *x0, dy = *y1 - *y0, t0 = 0, t1 = 1;
	double p[4] = {-dx, dx, -dy, dy}, q[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
	for (int i = 0; i < 4; i++) {
		if (p[i] == 0) {
			if (q[i] < 0)
				return 0;
			continue;
		}
		double r = q[i] / p[i];
		if (p[i] < 0) {
			if (r > t1)
				return 0;
			if (r > t0)
				t0 = r;
		} else {
			if (r < t0)
				return 0;
			if (r < t1)
				t1 = r;
		}
	}
	double ox = *x0, oy = *y0;
	*x0 = ox + t0 * dx, *y0 = oy + t0 * dy;
	*x1 = ox + t1 * dx, *y1 = oy + t1 * dy;
	return 1;
}

void rs_line(rs_img *im, double x0, double y0, double x1, double y1, const uint8_t c[3], int t)
{
	if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
		return;
	t = t < 1 ? 1 : t;
	if (!clip(&x0, &y0, &x1, &y1, -t, -t, im->w + t, im->h + t))
		return;
	double dx = x1 - x0, dy = y1 - y0;
	int steps = (int)ceil(fmax(fabs(dx), fabs(dy)));
	if (steps < 1)
		steps = 1;
	int lo = -(t - 1) / 2, hi = t / 2;
	for (int i = 0; i <= steps; i++) {
		int x = (int)lround(x0 + dx * i / steps), y = (int)lround(y0 + dy * i / steps);
		rs_fill_rect(im, x + lo, y + lo, x + hi + 1, y + hi + 1, c, 1);
	}
}

void rs_disc(rs_img *im, double cx, double cy, double r, const uint8_t c[3])
{
	if (!isfinite(cx) || !isfinite(cy))
		return;
	int y1 = (int)floor(cy - r), y2 = (int)ceil(cy + r);
	for (int y = y1; y <= y2; y++) {
		double d = r * r - (y - cy) * (y - cy);
		if (d < 0)
			continue;
		double hw = sqrt(d);
		rs_fill_rect(im, (int)lround(cx - hw), y, (int)lround(cx + hw) + 1, y + 1, c, 1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void rs_poly_fill(rs_img *im, const double *xy, int n, const uint8_t c[3], float alpha)
{
	if (n < 3 || n > 256)
		return;
	double ymin = xy[1], ymax = xy[1];
	for (int i = 0; i < n; i++) {
		if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]))
			return;
		ymin = fmin(ymin, xy[2 * i + 1]);
		ymax = fmax(ymax, xy[2 * i + 1]);
	}
	int y1 = (int)fmax(0, floor(ymin)), y2 = (int)fmin(im->h - 1, ceil(ymax));
	double xs[256];
	for (int y = y1; y <= y2; y++) {
		double yc = y + 0.5;
		int m = 0;
		for (int i = 0, j = n - 1; i < n; j = i++) {
			double ay = xy[2 * i + 1], by = xy[2 * j + 1];
			if ((ay > yc) != (by > yc))
				xs[m++] = xy[2 * i] + (yc - ay) * (xy[2 * j] - xy[2 * i]) / (by - ay);
		}
		qsort(xs, (size_t)m, sizeof xs[0], cmp_double);
		for (int k = 0; k + 1 < m; k += 2) {
			double a = fmax(-1, fmin(im->w + 1, xs[k])), b = fmax(-1, fmin(im->w + 1, xs[k + 1]));
			rs_fill_rect(im, (int)ceil(a - 0.5), y, (int)ceil(b - 0.5), y + 1, c, alpha);
		}
	}
}

int rs_text_width(const char *s, int scale)
{
	return (int)strlen(s) * 6 * scale;
}

int rs_text(rs_img *im, int x, int y, const char *s, const uint8_t c[3], int scale)
{
	odet_image img = {im->w, im->h, im->rgb};
	return odet_image_draw_text(&img, x, y, s, c, scale);
}

void rs_label(rs_img *im, int x, int y, const char *s, const uint8_t bg[3], const uint8_t fg[3], int scale)
{
	int w = rs_text_width(s, scale) + scale, h = 9 * scale;
	rs_fill_rect(im, x, y, x + w, y + h, bg, 1);
	rs_text(im, x + scale, y + scale, s, fg, scale);
}
