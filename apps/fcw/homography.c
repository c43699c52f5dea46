/*
 * homography.c — plane-to-plane homographies for odet-fcw: normalized DLT (Hartley), 3x3
 * inverse and application. Double precision throughout.
 *
 * DLT: each correspondence (x, y) -> (X, Y) gives two rows of A h = 0 (h: H row-major):
 *   [x y 1 0 0 0 -X x -X y -X]   and   [0 0 0 x y 1 -Y x -Y y -Y]
 * Both point sets are first normalized (centroid to the origin, mean distance sqrt 2), h is
 * the eigenvector of A^T A (9x9) with the smallest eigenvalue (cyclic Jacobi), and
 * H = Td^-1 Hn Ts. Unique when the smallest eigenvalue is well separated from the next.
 */
#include "calib.h"

#include <math.h>
#include <string.h>

/* Similarity T (row-major 3x3) taking pts to centroid 0, mean distance sqrt(2). -1 when all coincide. */
static int normalize(const fcw_pt *p, int n, double T[9])
{
	double cx = 0, cy = 0, d = 0;
	for (int i = 0; i < n; i++) {
		cx += p[i].x;
		cy += p[i].y;
	}
	cx /= n;
	cy /= n;
	for (int i = 0; i < n; i++)
		d += hypot(p[i].x - cx, p[i].y - cy);
	d /= n;
	if (!(d > 0) || !isfinite(d))
		return -1;
	double s = sqrt(2.0) / d;
	double t[9] = {s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1};
	memcpy(T, t, sizeof t);
	return 0;
}

static void mat3_mul(const double a[9], const double b[9], double out[9])
{
	double r[9];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
	memcpy(out, r, sizeof r);
}

int fcw_mat3_inv(const double m[9], double out[9])
{
	double c[9] = {
		m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
		m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
		m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
	};
	double det = m[0] * c[0] + m[1] * c[3] + m[2] * c[6];
	double scale = 0;
	for (int i = 0; i < 9; i++)
		scale = fmax(scale, fabs(m[i]));
	if (!isfinite(det) || fabs(det) <= 1e-12 * scale * scale * scale)
		return -1;
	for (int i = 0; i < 9; i++)
		out[i] = c[i] / det;
	return 0;
}

int fcw_apply(const double H[9], double x, double y, double *ox, double *oy)
{
	double w = H[6] * x + H[7] * y + H[8];
	double scale = fabs(H[6] * x) + fabs(H[7] * y) + fabs(H[8]);
	if (!(w > 1e-12 * scale))
		return -1;
	*ox = (H[0] * x + H[1] * y + H[2]) / w;
	*oy = (H[3] * x + H[4] * y + H[5]) / w;
	return 0;
}

/* Cyclic Jacobi on the symmetric n x n matrix a (destroyed): eigenvalues in ev, eigenvectors
 * in the columns of v. */
static void jacobi_eigen(double *a, int n, double *ev, double *v)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			v[i * n + j] = i == j;
	for (int sweep = 0; sweep < 100; sweep++) {
		double off = 0, diag = 0;
		for (int i = 0; i < n; i++) {
			diag += a[i * n + i] * a[i * n + i];
			for (int j = i + 1; j < n; j++)
				off += a[i * n + j] * a[i * n + j];
		}
		if (off <= 1e-32 * diag || off == 0)
			break;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++) {
				double apq = a[p * n + q];
				if (apq == 0)
					continue;
				double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
				double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
				double c = 1 / sqrt(t * t + 1), s = t * c;
				for (int k = 0; k < n; k++) { /* columns p, q */
					double akp = a[k * n + p], akq = a[k * n + q];
					a[k * n + p] = c * akp - s * akq;
					a[k * n + q] = s * akp + c * akq;
				}
				for (int k = 0; k < n; k++) { /* rows p, q */
					double apk = a[p * n + k], aqk = a[q * n + k];
					a[p * n + k] = c * apk - s * aqk;
					a[q * n + k] = s * apk + c * aqk;
				}
				for (int k = 0; k < n; k++) {
					double vkp = v[k * n + p], vkq = v[k * n + q];
					v[k * n + p] = c * vkp - s * vkq;
					v[k * n + q] = s * vkp + c * vkq;
				}
			}
	}
	for (int i = 0; i < n; i++)
		ev[i] = a[i * n + i];
}

/* Twice the area of triangle abc over the squared longest side: 0 for collinear points. */
static double flatness(fcw_pt a, fcw_pt b, fcw_pt c)
{
	double cross = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
	double l = fmax(fmax(hypot(b.x - a.x, b.y - a.y), hypot(c.x - a.x, c.y - a.y)), hypot(c.x - b.x, c.y - b.y));
	return l > 0 ? fabs(cross) / (l * l) : 0;
}

/* Three of the four points (first four when n == 4; of all n, every triple, when n > 4 only
 * whether all points lie on one line) collinear: the index triple in *bad, 1. */
static int collinear(const fcw_pt *p, int n, int bad[3])
{
	const double tol = 1e-3;
	if (n == 4) {
		static const int tri[4][3] = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}};
		for (int k = 0; k < 4; k++)
			if (flatness(p[tri[k][0]], p[tri[k][1]], p[tri[k][2]]) < tol) {
				memcpy(bad, tri[k], sizeof tri[k]);
				return 1;
			}
		return 0;
	}
	/* all on one line: no triple is flat-free */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			for (int k = j + 1; k < n; k++)
				if (flatness(p[i], p[j], p[k]) >= tol)
					return 0;
	bad[0] = 0, bad[1] = 1, bad[2] = 2;
	return 1;
}

int fcw_homography_fit(const fcw_pt *src, const fcw_pt *dst, int n, double H[9], char *err, size_t errn)
{
	if (n < 4)
		return fcw_fail(err, errn, "a homography needs at least 4 point pairs, got %d", n);
	if (n > FCW_MAX_POINTS)
		return fcw_fail(err, errn, "at most %d point pairs, got %d", FCW_MAX_POINTS, n);
	for (int i = 0; i < n; i++)
		if (!isfinite(src[i].x) || !isfinite(src[i].y) || !isfinite(dst[i].x) || !isfinite(dst[i].y))
			return fcw_fail(err, errn, "point %d is not finite (a point at infinity)", i + 1);
	int bad[3];
	if (collinear(src, n, bad))
		return fcw_fail(err, errn, "points %d, %d and %d of the image are collinear (degenerate)", bad[0] + 1,
			    bad[1] + 1, bad[2] + 1);
	if (collinear(dst, n, bad))
		return fcw_fail(err, errn, "points %d, %d and %d of the target plane are collinear (degenerate)", bad[0] + 1,
			    bad[1] + 1, bad[2] + 1);
	double Ts[9], Td[9], Tdi[9];
	if (normalize(src, n, Ts) || normalize(dst, n, Td) || fcw_mat3_inv(Td, Tdi))
		return fcw_fail(err, errn, "the points coincide (degenerate)");
	double M[81] = {0};
	for (int i = 0; i < n; i++) {
		double x = Ts[0] * src[i].x + Ts[2], y = Ts[4] * src[i].y + Ts[5];
		double X = Td[0] * dst[i].x + Td[2], Y = Td[4] * dst[i].y + Td[5];
		double r1[9] = {x, y, 1, 0, 0, 0, -X * x, -X * y, -X};
		double r2[9] = {0, 0, 0, x, y, 1, -Y * x, -Y * y, -Y};
		for (int a = 0; a < 9; a++)
			for (int b = 0; b < 9; b++)
				M[9 * a + b] += r1[a] * r1[b] + r2[a] * r2[b];
	}
	double ev[9], V[81];
	jacobi_eigen(M, 9, ev, V);
	int lo = 0, lo2 = -1;
	double emax = 0;
	for (int i = 0; i < 9; i++) {
		emax = fmax(emax, fabs(ev[i]));
		if (ev[i] < ev[lo])
			lo = i;
	}
	for (int i = 0; i < 9; i++)
		if (i != lo && (lo2 < 0 || ev[i] < ev[lo2]))
			lo2 = i;
	if (!(ev[lo2] > 1e-9 * emax))
		return fcw_fail(err, errn, "the points do not determine a unique homography (degenerate)");
	double Hn[9];
	for (int i = 0; i < 9; i++)
		Hn[i] = V[i * 9 + lo];
	double tmp[9];
	mat3_mul(Tdi, Hn, tmp);
	mat3_mul(tmp, Ts, H);
	double inv[9];
	if (fcw_mat3_inv(H, inv))
		return fcw_fail(err, errn, "the homography is singular (degenerate points)");
	/* sign: w > 0 at the points (the side of the horizon they are on); all on one side */
	int pos = 0, neg = 0;
	for (int i = 0; i < n; i++)
		if (H[6] * src[i].x + H[7] * src[i].y + H[8] > 0)
			pos++;
		else
			neg++;
	if (neg > pos)
		for (int i = 0; i < 9; i++)
			H[i] = -H[i];
	if (pos && neg)
		for (int i = 0; i < n; i++)
			if (!(H[6] * src[i].x + H[7] * src[i].y + H[8] > 0))
				return fcw_fail(err, errn, "the horizon line passes between the points: point %d maps through "
						  "infinity (degenerate)", i + 1);
	double norm = 0;
	for (int i = 0; i < 9; i++)
		norm += H[i] * H[i];
	norm = sqrt(norm);
	for (int i = 0; i < 9; i++)
		H[i] /= norm;
	return 0;
}
