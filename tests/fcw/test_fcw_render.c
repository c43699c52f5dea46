/*
 * test_fcw_render.c — odet-fcw's drawing (apps/fcw/raster.c, render.c) on a synthetic frame:
 * the canvas is frame + panel; the frame part keeps the video where nothing is drawn; a box
 * outline has its level's colour; the zone is tinted in perspective (a pixel inside it, one
 * outside not); the panel shows an object's dot in its level's colour at its ground position
 * and the ego; boxes far outside the frame, above the horizon, and degenerate polygons and
 * lines with non-finite ends draw nothing wrong (run under ASan + UBSan in scripts/sanitize.sh).
 */
#include "render.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t *px(const rs_img *im, int x, int y)
{
	return im->rgb + ((size_t)y * im->w + x) * 3;
}

static int same(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static void test_raster(void)
{
	uint8_t buf[40 * 30 * 3];
	memset(buf, 0, sizeof buf);
	rs_img im = {40, 30, buf};
	const uint8_t red[3] = {255, 0, 0}, blue[3] = {0, 0, 255};
	rs_line(&im, -1e9, 15, 1e9, 15, red, 1); /* clipped, not a billion steps */
	CHECK(same(px(&im, 0, 15), red) && same(px(&im, 39, 15), red) && !same(px(&im, 5, 14), red));
	rs_line(&im, NAN, 0, 10, 10, blue, 1);
	rs_line(&im, 0, INFINITY, 10, 10, blue, 1);
	rs_disc(&im, 20, 5, 3, blue);
	CHECK(same(px(&im, 20, 5), blue) && same(px(&im, 22, 5), blue) && !same(px(&im, 25, 5), blue));
	double tri[6] = {0, 20, 10, 20, 0, 29};
	rs_poly_fill(&im, tri, 3, blue, 1);
	CHECK(same(px(&im, 1, 21), blue) && !same(px(&im, 9, 28), blue));
	double flat[6] = {0, 0, 5, 0, 9, 0};
	rs_poly_fill(&im, flat, 3, red, 1);
	double inf[6] = {0, 0, INFINITY, 0, 9, 9};
	rs_poly_fill(&im, inf, 3, red, 1);
	rs_fill_rect(&im, -100, -100, 1000, 2, red, 0.5f);
	CHECK(px(&im, 3, 0)[0] == 128 && px(&im, 3, 0)[2] == 0);
	CHECK(rs_text(&im, 30, 25, "1M", blue, 1) == 12 && rs_text_width("ABC", 2) == 36);
	rs_label(&im, -5, -5, "LONG LABEL OFF THE EDGE", red, blue, 3);
}

int main(void)
{
	test_raster();
	/* the committed vtest calibration's geometry, written out here */
	fcw_calib c;
	char err[256];
	const char *text = "point 128 480 -4 2.5\npoint 640 480 4 2.5\npoint 542 200 4 12.5\npoint 226 200 -4 12.5\n"
			   "zone corridor 3 0 11\n";
	CHECK_MSG(!fcw_calib_parse(text, "t", &c, err, sizeof err), "%s", err);
	const int w = 768, h = 576;
	uint8_t *frame = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = frame + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(60 + x % 50), p[1] = (uint8_t)(80 + y % 40), p[2] = 90;
		}
	fcw_view *v = fcw_view_create(&c, w, h);
	CHECK(v != NULL);
	if (!v)
		return test_summary("fcw_render");
	int W = fcw_view_width(v);
	CHECK(W == w + 460);
	uint8_t *canvas = malloc((size_t)W * h * 3);
	rs_img out = {W, h, canvas};
	/* object 0: in the zone, warning; 1: clear, off to the side; 2: above the horizon (no
	 * ground); 3: a box far outside the frame */
	float boxes[4][4] = {{370, 250, 400, 330}, {600, 250, 630, 330}, {100, 0, 130, 20}, {-5000, -3000, 9000, 1e6f}};
	fcw_obj objs[4] = {0};
	const char *names[4] = {"person", "person", "person", "car"};
	for (int i = 0; i < 4; i++) {
		objs[i].track = i + 1;
		objs[i].ground = !fcw_image_to_ground(&c, 0.5 * (boxes[i][0] + boxes[i][2]), boxes[i][3], &objs[i].X, &objs[i].Y);
		objs[i].dist = objs[i].Y, objs[i].lateral = objs[i].X;
		objs[i].ttc = INFINITY;
	}
	objs[0].level = FCW_WARNING, objs[0].ttc = 2.5, objs[0].in_zone = 1;
	objs[1].level = FCW_CLEAR;
	objs[2].ground = 0, objs[2].dist = objs[2].lateral = NAN; /* as logic.c marks it */
	objs[3].ground = 0;
	fcw_render_in in = {.rgb = frame, .boxes = &boxes[0][0], .names = names, .objs = objs, .n = 4, .frame = 7, .pts = 0.7};
	fcw_render(v, &in, &out);
	/* the video where nothing is drawn (left of the zone, below the labels) */
	CHECK(same(px(&out, 50, 400), frame + ((size_t)400 * w + 50) * 3));
	/* box outlines in their level's colour */
	CHECK(same(px(&out, 370, 300), fcw_level_color[FCW_WARNING]));
	CHECK(same(px(&out, 600, 300), fcw_level_color[FCW_CLEAR]));
	/* the zone tinted in perspective: the ground point (0, 5 m) inside, (3, 5 m) outside */
	double u, vv;
	CHECK(!fcw_ground_to_image(&c, 0, 5, &u, &vv));
	const uint8_t *z = px(&out, (int)u, (int)vv), *f0 = frame + ((size_t)(int)vv * w + (int)u) * 3;
	CHECK_MSG(z[0] > f0[0] && z[2] < f0[2], "zone pixel %d %d %d over %d %d %d", z[0], z[1], z[2], f0[0], f0[1], f0[2]);
	CHECK(!fcw_ground_to_image(&c, 3, 5, &u, &vv));
	CHECK(same(px(&out, (int)u, (int)vv), frame + ((size_t)(int)vv * w + (int)u) * 3));
	/* the panel: object 0's dot in red at its ground position, the ego in blue at (0, 0) */
	double pxx, pyy;
	fcw_view_ground_to_panel(v, objs[0].lateral, objs[0].dist, &pxx, &pyy);
	CHECK(pxx > w && pxx < W && same(px(&out, (int)pxx, (int)pyy), fcw_level_color[FCW_WARNING]));
	fcw_view_ground_to_panel(v, 0, 0, &pxx, &pyy);
	CHECK(px(&out, (int)pxx, (int)pyy + 2)[2] == 255);
	free(canvas);
	free(frame);
	fcw_view_destroy(v);
	return test_summary("fcw_render");
}
