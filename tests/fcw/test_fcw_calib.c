/*
 * test_fcw_calib.c — odet-fcw's calibration (apps/fcw/calib.c, homography.c): a known
 * homography is recovered from 4 and from 8 exact points (metres to 1e-6 relative, through the
 * text parser too); noisy points give residuals of the noise's size; the bird's-eye form gives
 * kx, ky from three points and the same metres; degenerate geometry (collinear points, a
 * horizon between the points, coincident points) and malformed files (missing keys, wrong
 * counts, bad numbers, mixed forms) are refused, naming the key and the line; the ego-speed CSV.
 */
#include "calib.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A camera 1.4 m above a flat road, pitched down 6 degrees, focal length 800 px, principal point
 * (640, 360): the ground->image homography, built from the pinhole model (independent of the DLT). */
static void true_ground_to_image(double G[9])
{
	double f = 800, cx = 640, cy = 360, hgt = 1.4, p = 6 * M_PI / 180;
	double cp = cos(p), sp = sin(p);
	/* camera axes: x right, y down, z forward; ground point (X, Y, 0) with Y ahead, the camera
	 * at (0, 0, hgt): xc = X, yc = -sp Y + cp hgt, zc = cp Y + sp hgt (rows of R . [X Y 1]) */
	double R[9] = {1, 0, 0, 0, -sp, cp * hgt, 0, cp, sp * hgt};
	double K[9] = {f, 0, cx, 0, f, cy, 0, 0, 1};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			G[3 * i + j] = K[3 * i] * R[j] + K[3 * i + 1] * R[3 + j] + K[3 * i + 2] * R[6 + j];
}

static double rel_err(double X, double Y, double X0, double Y0)
{
	return hypot(X - X0, Y - Y0) / hypot(X0, Y0);
}

/* max relative error of the fitted H over a grid of ground points */
static double grid_error(const double H[9], const double G[9])
{
	double worst = 0;
	for (double X = -6; X <= 6; X += 1.5)
		for (double Y = 3; Y <= 80; Y *= 1.3) {
			double u, v, x, y;
			if (fcw_apply(G, X, Y, &u, &v) || fcw_apply(H, u, v, &x, &y))
				return INFINITY;
			worst = fmax(worst, rel_err(x, y, X, Y));
		}
	return worst;
}

static void test_known_homography(void)
{
	double G[9], H[9];
	true_ground_to_image(G);
	fcw_pt ground[8] = {{-2, 5}, {2, 5}, {2, 30}, {-2, 30}, {-5, 12}, {4, 18}, {0, 50}, {-1, 8}}, img[8];
	for (int i = 0; i < 8; i++)
		CHECK(!fcw_apply(G, ground[i].x, ground[i].y, &img[i].x, &img[i].y));
	char err[256];
	CHECK(!fcw_homography_fit(img, ground, 4, H, err, sizeof err));
	double e4 = grid_error(H, G);
	CHECK_MSG(e4 < 1e-6, "4 points: worst relative error %g", e4);
	CHECK(!fcw_homography_fit(img, ground, 8, H, err, sizeof err));
	double e8 = grid_error(H, G);
	CHECK_MSG(e8 < 1e-6, "8 points: worst relative error %g", e8);
	/* through the text format, with the points printed to 17 digits */
	char text[2048];
	int len = snprintf(text, sizeof text, "# test\nimage_size 1280 720\n");
	for (int i = 0; i < 4; i++)
		len += snprintf(text + len, sizeof text - len, "point %.17g %.17g %.17g %.17g\n", img[i].x, img[i].y,
				ground[i].x, ground[i].y);
	fcw_calib c;
	CHECK_MSG(!fcw_calib_parse(text, "t", &c, err, sizeof err), "%s", err);
	double ep = grid_error(c.H, G);
	CHECK_MSG(ep < 1e-6, "parsed: worst relative error %g", ep);
	CHECK(c.rms_m < 1e-9 && c.max_px < 1e-6);
	CHECK(c.image_w == 1280 && c.image_h == 720);
	/* the image->ground call and its inverse */
	double X, Y, u, v;
	CHECK(!fcw_apply(G, 1.5, 20, &u, &v));
	CHECK(!fcw_image_to_ground(&c, u, v, &X, &Y));
	CHECK(rel_err(X, Y, 1.5, 20) < 1e-6);
	CHECK(!fcw_ground_to_image(&c, 1.5, 20, &X, &Y));
	CHECK(fabs(X - u) < 1e-6 && fabs(Y - v) < 1e-6);
	/* above the horizon (the pitch puts it at v = 360 - 800 tan 6 deg = 275.9): no ground */
	CHECK(fcw_image_to_ground(&c, 640, 270, &X, &Y) == -1);
	CHECK(fcw_image_to_ground(&c, 640, 100, &X, &Y) == -1);
	/* just below it: beyond max_range, so no ground either (never infinite) */
	CHECK(fcw_image_to_ground(&c, 640, 276.0, &X, &Y) == -1);
	CHECK(!fcw_image_to_ground(&c, 640, 300, &X, &Y) && Y > 0 && Y < c.params.max_range);
}

static void test_noisy_residuals(void)
{
	double G[9];
	true_ground_to_image(G);
	fcw_pt ground[8] = {{-2, 5}, {2, 5}, {2, 30}, {-2, 30}, {-5, 12}, {4, 18}, {0, 40}, {-1, 8}}, img[8];
	const double noise[8][2] = {{0.5, -0.3}, {-0.4, 0.2}, {0.3, 0.5}, {-0.5, -0.4}, {0.2, 0.4}, {-0.3, -0.5},
				    {0.4, 0.1}, {-0.1, 0.3}};
	char text[2048];
	int len = 0;
	for (int i = 0; i < 8; i++) {
		fcw_apply(G, ground[i].x, ground[i].y, &img[i].x, &img[i].y);
		len += snprintf(text + len, sizeof text - len, "point %.6f %.6f %g %g\n", img[i].x + noise[i][0],
				img[i].y + noise[i][1], ground[i].x, ground[i].y);
	}
	fcw_calib c;
	char err[256];
	CHECK_MSG(!fcw_calib_parse(text, "noisy", &c, err, sizeof err), "%s", err);
	CHECK_MSG(c.rms_px > 0.05 && c.rms_px < 1.0, "rms %g px for noise of ~0.4 px", c.rms_px);
	CHECK(c.max_px >= c.rms_px && c.max_m >= c.rms_m && c.rms_m > 0);
	CHECK(grid_error(c.H, G) < 0.05);
}

static void test_birdseye(void)
{
	double G[9], Gi[9];
	true_ground_to_image(G);
	CHECK(!fcw_mat3_inv(G, Gi));
	/* the bird's-eye image: 20 px/m across, 15 px/m along, the ego at (400, 900) */
	const double kx = 20, ky = 15, eu = 400, ev = 900;
	fcw_pt src[4] = {{500, 600}, {780, 600}, {700, 420}, {580, 420}};
	char text[2048];
	int len = 0;
	for (int i = 0; i < 4; i++) {
		double X, Y;
		CHECK(!fcw_apply(Gi, src[i].x, src[i].y, &X, &Y));
		len += snprintf(text + len, sizeof text - len, "warp_src %.17g %.17g\nwarp_dst %.17g %.17g\n", src[i].x,
				src[i].y, eu + kx * X, ev - ky * Y);
	}
	/* A at (-1, 8), B 3.5 m across, C 10 m along */
	const fcw_pt ref[3] = {{-1, 8}, {2.5, 8}, {-1, 18}};
	for (int i = 0; i < 3; i++) {
		double u, v;
		CHECK(!fcw_apply(G, ref[i].x, ref[i].y, &u, &v));
		len += snprintf(text + len, sizeof text - len, "ref %.17g %.17g\n", u, v);
	}
	len += snprintf(text + len, sizeof text - len, "ref_distances 3.5 10\nego %g %g\nzone corridor 3 0 25\n", eu, ev);
	fcw_calib c;
	char err[256];
	CHECK_MSG(!fcw_calib_parse(text, "be", &c, err, sizeof err), "%s", err);
	CHECK(c.form == FCW_FORM_BIRDSEYE);
	CHECK_MSG(fabs(c.kx - kx) < 1e-6 * kx && fabs(c.ky - ky) < 1e-6 * ky, "kx %.9g ky %.9g", c.kx, c.ky);
	CHECK(fabs(c.ref_angle_deg - 90) < 1e-6);
	double e = grid_error(c.H, G);
	CHECK_MSG(e < 1e-6, "bird's-eye form: worst relative error %g", e);
	/* a reference pair not aligned with the bird's-eye axes still gives the length ratio */
	CHECK(c.zone.kind == FCW_ZONE_CORRIDOR && c.zone.width == 3 && c.zone.far == 25);
}

/* parse must fail with a message containing each of the needles */
static void refused(const char *text, const char *n1, const char *n2)
{
	fcw_calib c;
	char err[512] = "";
	int rc = fcw_calib_parse(text, "cal.txt", &c, err, sizeof err);
	CHECK_MSG(rc == -1, "accepted: %s", text);
	CHECK_MSG(strstr(err, n1) && (!n2 || strstr(err, n2)), "message '%s' lacks '%s' / '%s'", err, n1, n2 ? n2 : "");
}

#define QUAD "point 100 500 -2 5\npoint 500 500 2 5\npoint 400 300 2 20\npoint 200 300 -2 20\n"

static void test_refusals(void)
{
	fcw_calib c;
	char err[512];
	CHECK(!fcw_calib_parse(QUAD, "ok", &c, err, sizeof err));
	/* degenerate geometry */
	refused("point 100 500 -2 5\npoint 300 500 2 5\npoint 500 500 2 20\npoint 200 300 -2 20\n", "collinear",
		"'point'");
	refused("point 100 500 -2 5\npoint 500 500 2 5\npoint 400 300 2 20\npoint 200 300 -2 5\n", "collinear", "lines 1-4");
	refused("point 100 500 -2 5\npoint 100 500 2 5\npoint 400 300 2 20\npoint 200 300 -2 20\n", "collinear", NULL);
	/* a horizon between the points: a convex image quad onto a ground quad whose order
	 * flips (a bow-tie), which only a map through infinity does */
	refused("point 100 500 -2 5\npoint 500 500 2 5\npoint 400 300 -2 20\npoint 200 300 2 20\n", "infinity", "'point'");
	refused("point 1e400 500 -2 5\npoint 500 500 2 5\npoint 400 300 2 20\npoint 200 300 -2 20\n", "cal.txt:1",
		"not a finite number");
	refused("point inf 500 -2 5\n" QUAD, "cal.txt:1", "not a finite number");
	/* counts and keys */
	refused("image_size 640 480\nzone corridor 3 0 20\n", "missing key 'point'", NULL);
	refused("point 100 500 -2 5\npoint 500 500 2 5\npoint 400 300 2\n", "cal.txt:3", "expects 4 numbers");
	refused("point 100 500 -2 5\npoint 500 500 2 5\npoint 400 300 2 20\n", "'point': 3 lines", "at least 4");
	refused(QUAD "frobnicate 1\n", "cal.txt:5", "unknown key 'frobnicate'");
	refused(QUAD "ttc_warning 2\nttc_warning 3\n", "cal.txt:6", "given twice (first at line 5)");
	refused(QUAD "ttc_warning 3\nttc_clear 2\n", "cal.txt:6", "ttc_clear");
	refused(QUAD "ttc_warning -1\n", "cal.txt:5", "'ttc_warning' must be > 0");
	refused(QUAD "zone corridor 3 10 5\n", "cal.txt:5", "FAR > NEAR");
	refused(QUAD "zone corridor 3 10\n", "cal.txt:5", "expects 3 numbers");
	refused(QUAD "zone polygon 0 0 1 1\n", "cal.txt:5", "3 or more X Y pairs");
	refused(QUAD "zone polygon 0 0 1 1 2 2\n", "cal.txt:5", "no area");
	refused(QUAD "zone circle 3\n", "cal.txt:5", "'corridor' or 'polygon'");
	refused(QUAD "image_size 640.5 480\n", "cal.txt:5", "image_size");
	refused(QUAD "ego 1 2\n", "cal.txt:5", "mixed with 'point'");
	refused("warp_src 100 500\nwarp_src 500 500\nwarp_src 400 300\nwarp_src 200 300\n"
		"warp_dst 0 400\nwarp_dst 200 400\nwarp_dst 200 0\nwarp_dst 0 0\n"
		"ref 150 480\nref 300 480\nref 250 350\nref_distances 2 5\n",
		"missing key 'ego'", NULL);
	refused("warp_src 100 500\nwarp_src 500 500\nwarp_src 400 300\n"
		"warp_dst 0 400\nwarp_dst 200 400\nwarp_dst 200 0\nwarp_dst 0 0\n"
		"ref 150 480\nref 300 480\nref 250 350\nref_distances 2 5\nego 100 450\n",
		"'warp_src': 3 lines", "exactly 4");
	refused("warp_src 100 500\nwarp_src 500 500\nwarp_src 400 300\nwarp_src 200 300\n"
		"warp_dst 0 400\nwarp_dst 200 400\nwarp_dst 200 0\nwarp_dst 0 0\n"
		"ref 150 480\nref 300 480\nref 450 480\nref_distances 2 5\nego 100 450\n",
		"'ref'", "collinear");
	refused("warp_src 100 500\nwarp_src 300 500\nwarp_src 500 500\nwarp_src 200 300\n"
		"warp_dst 0 400\nwarp_dst 200 400\nwarp_dst 200 0\nwarp_dst 0 0\n"
		"ref 150 480\nref 300 480\nref 250 350\nref_distances 2 5\nego 100 450\n",
		"'warp_src' / 'warp_dst'", "collinear");
	/* the loader: missing file, binary data */
	CHECK(fcw_calib_load("/nonexistent/cal.txt", &c, err, sizeof err) == -1 && strstr(err, "/nonexistent/cal.txt"));
	char path[] = "/tmp/fcw_calib_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, "point 1 2\0 3 4\n", 16) == 16);
		close(fd);
		CHECK(fcw_calib_load(path, &c, err, sizeof err) == -1 && strstr(err, "binary"));
		remove(path);
	}
}

static void test_speed_csv(void)
{
	char path[] = "/tmp/fcw_speed_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	const char *csv = "time_s,speed_mps\n0,10\n# comment\n2, 14\n4,14\n";
	CHECK(write(fd, csv, strlen(csv)) == (ssize_t)strlen(csv));
	close(fd);
	fcw_speed s;
	char err[256];
	CHECK_MSG(!fcw_speed_load_csv(path, &s, err, sizeof err), "%s", err);
	CHECK(s.n == 3);
	CHECK(fabs(fcw_speed_at(&s, -1) - 10) < 1e-12 && fabs(fcw_speed_at(&s, 1) - 12) < 1e-12 &&
	      fabs(fcw_speed_at(&s, 3) - 14) < 1e-12 && fabs(fcw_speed_at(&s, 9) - 14) < 1e-12);
	fcw_speed_free(&s);
	fd = open(path, O_WRONLY | O_TRUNC);
	const char *bad = "0,10\n1,abc\n";
	CHECK(fd >= 0 && write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
	close(fd);
	CHECK(fcw_speed_load_csv(path, &s, err, sizeof err) == -1 && strstr(err, ":2:"));
	fd = open(path, O_WRONLY | O_TRUNC);
	const char *back = "0,10\n2,11\n1,12\n";
	CHECK(fd >= 0 && write(fd, back, strlen(back)) == (ssize_t)strlen(back));
	close(fd);
	CHECK(fcw_speed_load_csv(path, &s, err, sizeof err) == -1 && strstr(err, "increase"));
	remove(path);
	fcw_speed k = {.constant = 7.5};
	CHECK(fcw_speed_at(&k, 3) == 7.5);
}

int main(void)
{
	test_known_homography();
	test_noisy_residuals();
	test_birdseye();
	test_refusals();
	test_speed_csv();
	return test_summary("fcw_calib");
}
