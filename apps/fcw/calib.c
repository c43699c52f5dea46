/*
 * calib.c — odet-fcw's calibration file: a line-oriented text format (apps/fcw/README.md),
 * one key and its numbers per line, '#' starts a comment. Every error names the file, the
 * line and the key; a key missing names itself. Also the ego-speed CSV.
 */
#include "calib.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 80
#define MAX_FILE (1 << 20)

int fcw_fail(char *err, size_t errn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errn, fmt, ap);
	va_end(ap);
	return -1;
}

fcw_params fcw_params_default(void)
{
	return (fcw_params){.ttc_warning = 2.5,
			    .ttc_clear = 3.0,
			    .hold_s = 0.5,
			    .zone_margin = 0.3,
			    .window_s = 1.0,
			    .max_gap = 0.5,
			    .min_closing = 0.2,
			    .max_range = 200};
}

/* Where each key was seen: lines (1-based) and the numbers of each occurrence. */
typedef struct key_seen {
	const char *name;
	int max_count;      /* occurrences allowed (1 for single keys) */
	int nums;           /* numbers per line; -1: variable (zone) */
	const char *what;   /* what the numbers are, for messages */
	int count;
	int lines[FCW_MAX_POINTS];
	double v[FCW_MAX_POINTS][4];
} key_seen;

enum { K_IMAGE_SIZE, K_POINT, K_WARP_SRC, K_WARP_DST, K_REF, K_REF_DIST, K_EGO, K_TTC_WARNING, K_TTC_CLEAR, K_HOLD,
       K_ZONE_MARGIN, K_WINDOW, K_MIN_CLOSING, K_MAX_RANGE, K_MAX_GAP, K_ZONE, K_COUNT };

static void keys_init(key_seen *k)
{
	static const struct {
		const char *name;
		int max_count, nums;
		const char *what;
	} spec[K_COUNT] = {
		{"image_size", 1, 2, "width height (pixels)"},
		{"point", FCW_MAX_POINTS, 4, "image u v (pixels), ground X Y (metres)"},
		{"warp_src", 4, 2, "image u v (pixels)"},
		{"warp_dst", 4, 2, "bird's-eye u v (pixels)"},
		{"ref", 3, 2, "image u v (pixels)"},
		{"ref_distances", 1, 2, "|AB| |AC| (metres)"},
		{"ego", 1, 2, "bird's-eye u v (pixels)"},
		{"ttc_warning", 1, 1, "seconds"},
		{"ttc_clear", 1, 1, "seconds"},
		{"hold", 1, 1, "seconds"},
		{"zone_margin", 1, 1, "metres"},
		{"window", 1, 1, "seconds"},
		{"min_closing", 1, 1, "metres per second"},
		{"max_range", 1, 1, "metres"},
		{"max_gap", 1, 1, "seconds"},
		{"zone", 1, -1, "corridor WIDTH NEAR FAR, or polygon X1 Y1 X2 Y2 X3 Y3 ... (metres)"},
	};
	for (int i = 0; i < K_COUNT; i++)
		k[i] = (key_seen){.name = spec[i].name, .max_count = spec[i].max_count, .nums = spec[i].nums,
				  .what = spec[i].what};
}

static int parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The zone line: tokens after "zone". */
static int parse_zone(char **tok, int nt, const char *name, int line, fcw_zone *z, char *err, size_t errn)
{
	double v[2 * FCW_MAX_POLY];
	if (nt < 1)
		return fcw_fail(err, errn, "%s:%d: 'zone' expects corridor WIDTH NEAR FAR or polygon X1 Y1 X2 Y2 ...", name,
			    line);
	int nn = nt - 1;
	if (nn > 2 * FCW_MAX_POLY)
		return fcw_fail(err, errn, "%s:%d: 'zone': at most %d polygon vertices", name, line, FCW_MAX_POLY);
	for (int i = 0; i < nn; i++)
		if (parse_number(tok[1 + i], &v[i]))
			return fcw_fail(err, errn, "%s:%d: 'zone': '%s' is not a finite number", name, line, tok[1 + i]);
	if (!strcmp(tok[0], "corridor")) {
		if (nn != 3)
			return fcw_fail(err, errn, "%s:%d: 'zone corridor' expects 3 numbers (WIDTH NEAR FAR, metres), found %d",
				    name, line, nn);
		if (!(v[0] > 0) || !(v[2] > v[1]))
			return fcw_fail(err, errn, "%s:%d: 'zone corridor': the width must be > 0 and FAR > NEAR", name, line);
		z->kind = FCW_ZONE_CORRIDOR;
		z->width = v[0], z->near = v[1], z->far = v[2];
		return 0;
	}
	if (!strcmp(tok[0], "polygon")) {
		if (nn < 6 || nn % 2)
			return fcw_fail(err, errn, "%s:%d: 'zone polygon' expects 3 or more X Y pairs (metres), found %d numbers",
				    name, line, nn);
		z->kind = FCW_ZONE_POLYGON;
		z->n = nn / 2;
		double area = 0;
		for (int i = 0; i < z->n; i++)
			z->poly[i] = (fcw_pt){v[2 * i], v[2 * i + 1]};
		for (int i = 0; i < z->n; i++) {
			fcw_pt a = z->poly[i], b = z->poly[(i + 1) % z->n];
			area += a.x * b.y - b.x * a.y;
		}
		if (!(fabs(area) > 1e-6))
			return fcw_fail(err, errn, "%s:%d: 'zone polygon' has no area (degenerate)", name, line);
		/* far / near span for drawing and the bird's-eye panel */
		z->near = z->far = z->poly[0].y;
		z->width = 0;
		for (int i = 0; i < z->n; i++) {
			z->near = fmin(z->near, z->poly[i].y);
			z->far = fmax(z->far, z->poly[i].y);
			z->width = fmax(z->width, 2 * fabs(z->poly[i].x));
		}
		return 0;
	}
	return fcw_fail(err, errn, "%s:%d: 'zone' expects 'corridor' or 'polygon', not '%s'", name, line, tok[0]);
}

static void residuals(fcw_calib *c)
{
	double s_m = 0, s_px = 0;
	c->max_m = c->max_px = 0;
	for (int i = 0; i < c->n_points; i++) {
		double X, Y, u, v;
		double em = INFINITY, ep = INFINITY;
		if (!fcw_apply(c->H, c->img[i].x, c->img[i].y, &X, &Y))
			em = hypot(X - c->ground[i].x, Y - c->ground[i].y);
		if (!fcw_apply(c->Hinv, c->ground[i].x, c->ground[i].y, &u, &v))
			ep = hypot(u - c->img[i].x, v - c->img[i].y);
		s_m += em * em;
		s_px += ep * ep;
		c->max_m = fmax(c->max_m, em);
		c->max_px = fmax(c->max_px, ep);
	}
	c->rms_m = sqrt(s_m / c->n_points);
	c->rms_px = sqrt(s_px / c->n_points);
}

static int solve_points(fcw_calib *c, key_seen *k, const char *name, char *err, size_t errn)
{
	key_seen *p = &k[K_POINT];
	if (p->count < 4)
		return fcw_fail(err, errn, "%s: key 'point': %d line%s (last at line %d), at least 4 needed", name, p->count,
			    p->count == 1 ? "" : "s", p->lines[p->count - 1]);
	c->form = FCW_FORM_POINTS;
	c->n_points = p->count;
	for (int i = 0; i < p->count; i++) {
		c->img[i] = (fcw_pt){p->v[i][0], p->v[i][1]};
		c->ground[i] = (fcw_pt){p->v[i][2], p->v[i][3]};
	}
	char e2[400];
	if (fcw_homography_fit(c->img, c->ground, c->n_points, c->H, e2, sizeof e2))
		return fcw_fail(err, errn, "%s: key 'point' (lines %d-%d): %s", name, p->lines[0], p->lines[p->count - 1], e2);
	return 0;
}

static int solve_birdseye(fcw_calib *c, key_seen *k, const char *name, char *err, size_t errn)
{
	static const int need[] = {K_WARP_SRC, K_WARP_DST, K_REF, K_REF_DIST, K_EGO};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		key_seen *s = &k[need[i]];
		if (!s->count)
			return fcw_fail(err, errn, "%s: missing key '%s' (the bird's-eye form needs %d line%s: %s)", name,
				    s->name, s->max_count, s->max_count == 1 ? "" : "s", s->what);
		if (s->count != s->max_count)
			return fcw_fail(err, errn, "%s: key '%s': %d lines (last at line %d), exactly %d needed", name, s->name,
				    s->count, s->lines[s->count - 1], s->max_count);
	}
	c->form = FCW_FORM_BIRDSEYE;
	fcw_pt src[4], dst[4], ref[3], refw[3];
	for (int i = 0; i < 4; i++) {
		src[i] = (fcw_pt){k[K_WARP_SRC].v[i][0], k[K_WARP_SRC].v[i][1]};
		dst[i] = (fcw_pt){k[K_WARP_DST].v[i][0], k[K_WARP_DST].v[i][1]};
	}
	double Hb[9];
	char e2[400];
	if (fcw_homography_fit(src, dst, 4, Hb, e2, sizeof e2))
		return fcw_fail(err, errn, "%s: keys 'warp_src' / 'warp_dst' (lines %d-%d): %s", name, k[K_WARP_SRC].lines[0],
			    k[K_WARP_DST].lines[3], e2);
	for (int i = 0; i < 3; i++) {
		ref[i] = (fcw_pt){k[K_REF].v[i][0], k[K_REF].v[i][1]};
		if (fcw_apply(Hb, ref[i].x, ref[i].y, &refw[i].x, &refw[i].y))
			return fcw_fail(err, errn, "%s:%d: key 'ref': the point is on or beyond the horizon of the warp "
				    "(it maps to infinity)", name, k[K_REF].lines[i]);
	}
	double ab = k[K_REF_DIST].v[0][0], ac = k[K_REF_DIST].v[0][1];
	if (!(ab > 0) || !(ac > 0))
		return fcw_fail(err, errn, "%s:%d: key 'ref_distances': both distances must be > 0 metres", name,
			    k[K_REF_DIST].lines[0]);
	double bx = refw[1].x - refw[0].x, by = refw[1].y - refw[0].y;
	double cx = refw[2].x - refw[0].x, cy = refw[2].y - refw[0].y;
	double lab = hypot(bx, by), lac = hypot(cx, cy);
	double cross = bx * cy - by * cx;
	if (!(lab > 1e-6) || !(lac > 1e-6) || fabs(cross) < 1e-3 * fmax(lab, lac) * fmax(lab, lac))
		return fcw_fail(err, errn, "%s: key 'ref' (lines %d-%d): A, B and C are collinear or coincide (degenerate)",
			    name, k[K_REF].lines[0], k[K_REF].lines[2]);
	c->kx = lab / ab;
	c->ky = lac / ac;
	c->ref_angle_deg = acos(fmax(-1, fmin(1, (bx * cx + by * cy) / (lab * lac)))) * 180 / M_PI;
	double eu = k[K_EGO].v[0][0], ev = k[K_EGO].v[0][1];
	/* bird's-eye pixels (u right, v down) -> metres (X right, Y ahead = up), origin at ego */
	double M[9] = {1 / c->kx, 0, -eu / c->kx, 0, -1 / c->ky, ev / c->ky, 0, 0, 1};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			c->H[3 * i + j] = M[3 * i] * Hb[j] + M[3 * i + 1] * Hb[3 + j] + M[3 * i + 2] * Hb[6 + j];
	c->n_points = 4;
	for (int i = 0; i < 4; i++) {
		c->img[i] = src[i];
		c->ground[i] = (fcw_pt){(dst[i].x - eu) / c->kx, (ev - dst[i].y) / c->ky};
	}
	return 0;
}

static int tokenize(char *s, char **tok)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(s, " \t\r\n,", &save); t; t = strtok_r(NULL, " \t\r\n,", &save)) {
		if (n == MAX_TOKENS)
			return -1;
		tok[n++] = t;
	}
	return n;
}

int fcw_calib_parse(const char *text, const char *name, fcw_calib *c, char *err, size_t errn)
{
	memset(c, 0, sizeof *c);
	c->params = fcw_params_default();
	c->zone = (fcw_zone){.kind = FCW_ZONE_CORRIDOR, .width = 3.5, .near = 0, .far = 30};
	key_seen k[K_COUNT];
	keys_init(k);
	char *buf = strdup(text);
	if (!buf)
		return fcw_fail(err, errn, "%s: out of memory", name);
	int rc = -1, line = 0;
	for (char *s = buf, *next; s; s = next) {
		line++;
		next = strchr(s, '\n');
		if (next)
			*next++ = 0;
		char *hash = strchr(s, '#');
		if (hash)
			*hash = 0;
		char *tok[MAX_TOKENS];
		int nt = tokenize(s, tok);
		if (nt < 0) {
			fcw_fail(err, errn, "%s:%d: more than %d fields", name, line, MAX_TOKENS);
			goto out;
		}
		if (!nt)
			continue;
		int key = -1;
		for (int i = 0; i < K_COUNT; i++)
			if (!strcmp(tok[0], k[i].name))
				key = i;
		if (key < 0) {
			fcw_fail(err, errn, "%s:%d: unknown key '%s'", name, line, tok[0]);
			goto out;
		}
		key_seen *ks = &k[key];
		if (ks->count == ks->max_count) {
			if (ks->max_count == 1)
				fcw_fail(err, errn, "%s:%d: key '%s' given twice (first at line %d)", name, line, ks->name, ks->lines[0]);
			else
				fcw_fail(err, errn, "%s:%d: key '%s': more than %d lines", name, line, ks->name, ks->max_count);
			goto out;
		}
		ks->lines[ks->count] = line;
		if (key == K_ZONE) {
			if (parse_zone(tok + 1, nt - 1, name, line, &c->zone, err, errn))
				goto out;
			ks->count++;
			continue;
		}
		if (nt - 1 != ks->nums) {
			fcw_fail(err, errn, "%s:%d: key '%s' expects %d number%s (%s), found %d", name, line, ks->name, ks->nums,
			     ks->nums == 1 ? "" : "s", ks->what, nt - 1);
			goto out;
		}
		for (int i = 0; i < ks->nums; i++)
			if (parse_number(tok[1 + i], &ks->v[ks->count][i])) {
				fcw_fail(err, errn, "%s:%d: key '%s': '%s' is not a finite number", name, line, ks->name, tok[1 + i]);
				goto out;
			}
		ks->count++;
	}
	int has_be = k[K_WARP_SRC].count || k[K_WARP_DST].count || k[K_REF].count || k[K_REF_DIST].count ||
		     k[K_EGO].count;
	if (k[K_POINT].count && has_be) {
		int which = k[K_WARP_SRC].count ? K_WARP_SRC : k[K_WARP_DST].count ? K_WARP_DST
						  : k[K_REF].count		 ? K_REF
						  : k[K_REF_DIST].count		 ? K_REF_DIST
										 : K_EGO;
		fcw_fail(err, errn, "%s:%d: key '%s' (the bird's-eye form) mixed with 'point' (line %d): give one form", name,
		     k[which].lines[0], k[which].name, k[K_POINT].lines[0]);
		goto out;
	}
	if (!k[K_POINT].count && !has_be) {
		fcw_fail(err, errn, "%s: missing key 'point' (4 or more lines: image u v, ground X Y) or the bird's-eye form "
				"('warp_src', 'warp_dst', 'ref', 'ref_distances', 'ego')", name);
		goto out;
	}
	if (k[K_IMAGE_SIZE].count) {
		double w = k[K_IMAGE_SIZE].v[0][0], h = k[K_IMAGE_SIZE].v[0][1];
		if (!(w >= 1 && w <= 65536 && h >= 1 && h <= 65536) || w != floor(w) || h != floor(h)) {
			fcw_fail(err, errn, "%s:%d: key 'image_size' expects two whole numbers in 1..65536", name,
			     k[K_IMAGE_SIZE].lines[0]);
			goto out;
		}
		c->image_w = (int)w, c->image_h = (int)h;
	}
	if ((k[K_POINT].count ? solve_points : solve_birdseye)(c, k, name, err, errn))
		goto out;
	if (fcw_mat3_inv(c->H, c->Hinv)) {
		fcw_fail(err, errn, "%s: the calibration gives a singular homography (degenerate)", name);
		goto out;
	}
	fcw_params *p = &c->params;
	struct {
		int key;
		double *dst, min;
		int strict;
	} nums[] = {{K_TTC_WARNING, &p->ttc_warning, 0, 1}, {K_TTC_CLEAR, &p->ttc_clear, 0, 1},
		    {K_HOLD, &p->hold_s, 0, 0},		     {K_ZONE_MARGIN, &p->zone_margin, 0, 0},
		    {K_WINDOW, &p->window_s, 0, 1},	     {K_MIN_CLOSING, &p->min_closing, 0, 1},
		    {K_MAX_RANGE, &p->max_range, 0, 1},	     {K_MAX_GAP, &p->max_gap, 0, 1}};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		key_seen *ks = &k[nums[i].key];
		if (!ks->count)
			continue;
		double v = ks->v[0][0];
		if (nums[i].strict ? !(v > nums[i].min) : !(v >= nums[i].min)) {
			fcw_fail(err, errn, "%s:%d: key '%s' must be %s 0", name, ks->lines[0], ks->name, nums[i].strict ? ">" : ">=");
			goto out;
		}
		*nums[i].dst = v;
	}
	if (!k[K_TTC_CLEAR].count && p->ttc_clear < p->ttc_warning)
		p->ttc_clear = p->ttc_warning * 1.2;
	if (p->ttc_clear < p->ttc_warning) {
		fcw_fail(err, errn, "%s:%d: key 'ttc_clear' (%g s) must be >= ttc_warning (%g s)", name, k[K_TTC_CLEAR].lines[0],
		     p->ttc_clear, p->ttc_warning);
		goto out;
	}
	residuals(c);
	rc = 0;
out:
	free(buf);
	return rc;
}

int fcw_calib_load(const char *path, fcw_calib *c, char *err, size_t errn)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fcw_fail(err, errn, "%s: %s", path, strerror(errno));
	char *text = malloc(MAX_FILE + 1);
	if (!text) {
		fclose(f);
		return fcw_fail(err, errn, "%s: out of memory", path);
	}
	size_t n = fread(text, 1, MAX_FILE + 1, f);
	int bad = ferror(f);
	fclose(f);
	int rc;
	if (bad)
		rc = fcw_fail(err, errn, "%s: read error", path);
	else if (n > MAX_FILE)
		rc = fcw_fail(err, errn, "%s: larger than %d bytes: not a calibration file", path, MAX_FILE);
	else if (memchr(text, 0, n))
		rc = fcw_fail(err, errn, "%s: binary data (a NUL byte): not a calibration file", path);
	else {
		text[n] = 0;
		rc = fcw_calib_parse(text, path, c, err, errn);
	}
	free(text);
	return rc;
}

void fcw_calib_print(const fcw_calib *c, FILE *f)
{
	if (c->form == FCW_FORM_POINTS)
		fprintf(f, "calibration: %d ground points, normalized DLT\n", c->n_points);
	else
		fprintf(f, "calibration: bird's-eye warp (4 points), kx %.4f px/m across, ky %.4f px/m along; A->B vs A->C "
			   "%.2f deg once warped (90 ideal)\n", c->kx, c->ky, c->ref_angle_deg);
	fprintf(f, "  H (image -> metres): [%.9g %.9g %.9g; %.9g %.9g %.9g; %.9g %.9g %.9g]\n", c->H[0], c->H[1], c->H[2],
		c->H[3], c->H[4], c->H[5], c->H[6], c->H[7], c->H[8]);
	for (int i = 0; i < c->n_points; i++) {
		double X = NAN, Y = NAN;
		fcw_apply(c->H, c->img[i].x, c->img[i].y, &X, &Y);
		fprintf(f, "  point %d: image (%.1f, %.1f) -> (%.4f, %.4f) m, given (%.4f, %.4f) m\n", i + 1, c->img[i].x,
			c->img[i].y, X, Y, c->ground[i].x, c->ground[i].y);
	}
	fprintf(f, "  residuals: rms %.3g m, max %.3g m on the ground; rms %.3g px, max %.3g px in the image\n", c->rms_m,
		c->max_m, c->rms_px, c->max_px);
	/* the horizon: H row 3 . (u, v, 1) = 0, shown at the image's centre column when it is not vertical */
	if (fabs(c->H[7]) > 1e-15) {
		double u = c->image_w ? c->image_w / 2.0 : 0;
		fprintf(f, "  horizon: v = %.1f px at u = %.0f\n", -(c->H[6] * u + c->H[8]) / c->H[7], u);
	}
	if (c->zone.kind == FCW_ZONE_CORRIDOR)
		fprintf(f, "  zone: corridor %.2f m wide, %.2f to %.2f m ahead\n", c->zone.width, c->zone.near, c->zone.far);
	else
		fprintf(f, "  zone: polygon of %d vertices, %.2f to %.2f m ahead\n", c->zone.n, c->zone.near, c->zone.far);
	fprintf(f, "  levels: warning below TTC %.2f s, cleared above %.2f s, hold %.2f s, zone margin %.2f m, window %.2f s, "
		   "max gap %.2f s\n",
		c->params.ttc_warning, c->params.ttc_clear, c->params.hold_s, c->params.zone_margin, c->params.window_s,
		c->params.max_gap);
}

int fcw_image_to_ground(const fcw_calib *c, double u, double v, double *X, double *Y)
{
	double x, y;
	if (fcw_apply(c->H, u, v, &x, &y) || !(fabs(x) <= c->params.max_range) || !(fabs(y) <= c->params.max_range))
		return -1;
	*X = x, *Y = y;
	return 0;
}

int fcw_ground_to_image(const fcw_calib *c, double X, double Y, double *u, double *v)
{
	return fcw_apply(c->Hinv, X, Y, u, v);
}

/* ---------------------------------------------------------------- ego speed */

int fcw_speed_load_csv(const char *path, fcw_speed *s, char *err, size_t errn)
{
	memset(s, 0, sizeof *s);
	FILE *f = fopen(path, "r");
	if (!f)
		return fcw_fail(err, errn, "%s: %s", path, strerror(errno));
	char line[512];
	int cap = 0, ln = 0, rc = -1;
	while (fgets(line, sizeof line, f)) {
		ln++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *tok[MAX_TOKENS];
		int nt = tokenize(line, tok);
		if (!nt)
			continue;
		double t, v;
		if (nt != 2 || parse_number(tok[0], &t) || parse_number(tok[1], &v)) {
			if (ln == 1 && s->n == 0) /* a header line */
				continue;
			fcw_fail(err, errn, "%s:%d: expected 'time_s,speed_mps'", path, ln);
			goto out;
		}
		if (s->n && !(t > s->t[s->n - 1])) {
			fcw_fail(err, errn, "%s:%d: times must increase (%g after %g)", path, ln, t, s->t[s->n - 1]);
			goto out;
		}
		if (s->n == cap) {
			cap = cap ? 2 * cap : 64;
			double *nt_ = realloc(s->t, cap * sizeof *nt_);
			if (!nt_)
				goto oom;
			s->t = nt_;
			double *nv = realloc(s->v, cap * sizeof *nv);
			if (!nv)
				goto oom;
			s->v = nv;
		}
		s->t[s->n] = t;
		s->v[s->n] = v;
		s->n++;
	}
	if (!s->n) {
		fcw_fail(err, errn, "%s: no 'time_s,speed_mps' lines", path);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	fcw_fail(err, errn, "%s: out of memory", path);
out:
	fclose(f);
	if (rc)
		fcw_speed_free(s);
	return rc;
}

double fcw_speed_at(const fcw_speed *s, double t)
{
	if (!s || !s->n)
		return s ? s->constant : 0;
	if (t <= s->t[0])
		return s->v[0];
	if (t >= s->t[s->n - 1])
		return s->v[s->n - 1];
	int lo = 0, hi = s->n - 1;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (s->t[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	double a = (t - s->t[lo]) / (s->t[hi] - s->t[lo]);
	return s->v[lo] + a * (s->v[hi] - s->v[lo]);
}

void fcw_speed_free(fcw_speed *s)
{
	free(s->t);
	free(s->v);
	s->t = s->v = NULL;
	s->n = 0;
}
