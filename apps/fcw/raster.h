/*
 * raster.h — odet-fcw's small drawing code on RGB8 images (rows of 3 * w bytes): rectangles,
 * clipped lines, discs, filled polygons (blended), and text in odet's 5x7 bitmap font. Everything
 * is clipped to the image; coordinates may lie anywhere.
 */
#ifndef FCW_RASTER_H
#define FCW_RASTER_H

#include <stdint.h>

typedef struct rs_img {
	int w, h;
	uint8_t *rgb;
} rs_img;

/* Filled rectangle [x1, x2) x [y1, y2), blended: alpha 1 paints, 0 leaves the image. */
void rs_fill_rect(rs_img *im, int x1, int y1, int x2, int y2, const uint8_t c[3], float alpha);
/* Outline of the box x1 y1 x2 y2 (inclusive), thickness t inwards. */
void rs_rect(rs_img *im, int x1, int y1, int x2, int y2, const uint8_t c[3], int t);
/* Line of thickness t (a square brush), clipped to the image first. */
void rs_line(rs_img *im, double x0, double y0, double x1, double y1, const uint8_t c[3], int t);
void rs_disc(rs_img *im, double cx, double cy, double r, const uint8_t c[3]);
/* Polygon xy[2n] filled (even-odd, pixel centres) and blended with alpha. */
void rs_poly_fill(rs_img *im, const double *xy, int n, const uint8_t c[3], float alpha);
/* Text in odet's 5x7 font (odet_image_draw_text: upper case, digits, . , - : % _ ? / = < > + ( )
 * and space; unknown glyphs as ?) at top-left x, y, each font pixel a scale x scale square;
 * returns the width drawn. */
int rs_text(rs_img *im, int x, int y, const char *s, const uint8_t c[3], int scale);
int rs_text_width(const char *s, int scale);
/* Text on a filled background box (1 pixel of padding per scale). */
void rs_label(rs_img *im, int x, int y, const char *s, const uint8_t bg[3], const uint8_t fg[3], int scale);

#endif
