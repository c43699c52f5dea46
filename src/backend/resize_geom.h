/*
 * resize_geom.h — Resize's parameters and taps, shared by every backend (header only, host
 * code: both backends compute the taps on the host, the CUDA one at prepare). Spec:
 * backend/cpu/resize.c.
 *   Per dim, output coordinate x maps to x_original (coordinate_transformation_mode), limited
 *   to [-4, in + 3]: taps further out clamp to the same edge values (or are all excluded), and
 *   absurd scales or NaN roi values from untrusted inputs cannot overflow the indices. Nearest picks one source
 *   index (nearest_mode, clamped to the edge); linear/cubic use 2/4 taps around x_original with
 *   edge replication (weights zeroed and renormalized outside with exclude_outside).
 */
#ifndef ODET_BACKEND_RESIZE_GEOM_H
#define ODET_BACKEND_RESIZE_GEOM_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "graph/ir.h"

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CTM_HALF_PIXEL, CTM_PYTORCH, CTM_ALIGN, CTM_ASYM, CTM_TF_NN, CTM_TF_CROP };
enum { NN_PREFER_FLOOR, NN_PREFER_CEIL, NN_FLOOR, NN_CEIL };

typedef struct resize_params {
	int mode, ctm, nn; /* RS_*, CTM_*, NN_* */
	double a;          /* cubic_coeff_a */
	bool exclude_outside;
	float extrapolation;
} resize_params;

static inline int resize_lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* The attributes of Resize node n into p: NULL when supported, else what is not. */
static inline const char *resize_params_of(const ir_node *n, resize_params *p)
{
	static const char *const modes[] = {"nearest", "linear", "cubic"};
	static const char *const ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
					   "tf_half_pixel_for_nn", "tf_crop_and_resize"};
	static const char *const nns[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
	p->mode = resize_lookup(ir_attr_string(n, "mode", "nearest"), modes, 3);
	p->ctm = resize_lookup(ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"), ctms, 6);
	p->nn = resize_lookup(ir_attr_string(n, "nearest_mode", "round_prefer_floor"), nns, 4);
	p->a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
	p->exclude_outside = ir_attr_int(n, "exclude_outside", 0) != 0;
	p->extrapolation = ir_attr_float(n, "extrapolation_value", 0.0f);
	if (p->mode < 0)
		return "this mode (nearest, linear and cubic are)";
	if (p->ctm < 0)
		return "this coordinate_transformation_mode";
	if (p->nn < 0)
		return "this nearest_mode";
	if (ir_attr_int(n, "antialias", 0) != 0)
		return "antialias=1";
	if (strcmp(ir_attr_string(n, "keep_aspect_ratio_policy", "stretch"), "stretch"))
		return "keep_aspect_ratio_policy other than stretch";
	if (ir_attr_get(n, "axes"))
		return "the axes attribute";
	return NULL;
}

static inline const char *resize_mode_name(const resize_params *p)
{
	return p->mode == RS_NEAREST ? "nearest" : p->mode == RS_LINEAR ? "linear" : "cubic";
}

/* taps per output coordinate: 1 (nearest), 2 (linear), 4 (cubic) */
static inline int resize_n_taps(const resize_params *p)
{
	return p->mode == RS_NEAREST ? 1 : p->mode == RS_LINEAR ? 2 : 4;
}

/* Per-dim scales and roi of a rank-r resize from xdims to ydims: ns scales given (0: out / in),
 * nr roi values given (0: [0..., 1...]). Returns the first dim whose scale is unusable, else -1. */
static inline int resize_scales_roi(int r, const int64_t *xdims, const int64_t *ydims, int ns, double *scales,
				    int nr, double *roi)
{
	for (int d = 0; d < r; d++) {
		if (!nr) {
			roi[d] = 0;
			roi[r + d] = 1;
		}
		if (!ns)
			scales[d] = xdims[d] ? (double)ydims[d] / (double)xdims[d] : 1;
		if (!(scales[d] > 0) || (xdims[d] == 0 && ydims[d] != 0))
			return d;
	}
	return -1;
}

/* x_original of output coordinate x of a dim with `in` elements, limited to [-4, in + 3];
 * *outside where tf_crop_and_resize extrapolates. */
static inline double resize_coord(const resize_params *p, double x, double scale, int64_t in, double roi0,
				  double roi1, bool *outside)
{
	double out_w = scale * (double)in, r = 0;
	*outside = false;
	switch (p->ctm) {
	case CTM_HALF_PIXEL: r = (x + 0.5) / scale - 0.5; break;
	case CTM_PYTORCH: r = out_w > 1 ? (x + 0.5) / scale - 0.5 : 0; break;
	case CTM_ALIGN: r = out_w == 1 ? 0 : x * (double)(in - 1) / (out_w - 1); break;
	case CTM_ASYM: r = x / scale; break;
	case CTM_TF_NN: r = (x + 0.5) / scale; break;
	case CTM_TF_CROP:
		if (out_w == 1)
			r = (roi1 - roi0) * (double)(in - 1) / 2;
		else
			r = x * (roi1 - roi0) * (double)(in - 1) / (out_w - 1);
		r += roi0 * (double)(in - 1);
		*outside = r < 0 || r > (double)(in - 1);
		break;
	}
	return !(r >= -4) ? -4 : r > (double)in + 3 ? (double)in + 3 : r; /* NaN (a NaN roi) too */
}

static inline int64_t resize_clamp(int64_t i, int64_t n)
{
	return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Taps of output coordinate j of one dim: n = resize_n_taps source indices idx[0..n) (clamped
 * to [0, in)) with weights w[0..n); *outside where the extrapolation value is written instead.
 * Returns whether the taps are the identity (weight 1 on source j alone, not outside). */
static inline bool resize_taps(const resize_params *p, int n, int64_t j, int64_t in, double scale, double roi0,
			       double roi1, int64_t *idx, float *w, bool *outside)
{
	double xo = resize_coord(p, (double)j, scale, in, roi0, roi1, outside);
	double f = floor(xo);
	if (n == 1) {
		int64_t i = (int64_t)f;
		if (xo != f) {
			double r = xo - f;
			i += p->nn == NN_PREFER_FLOOR ? r > 0.5 : p->nn == NN_PREFER_CEIL ? r >= 0.5 : p->nn == NN_CEIL;
		}
		idx[0] = resize_clamp(i, in);
		w[0] = 1;
		return !*outside && idx[0] == j;
	}
	double c[4];
	double cl = ceil(xo);
	double r = xo == cl ? 1.0 : xo - f;
	int64_t base = (int64_t)cl - n / 2;
	if (n == 2) {
		c[0] = 1 - r;
		c[1] = r;
	} else {
		double A = p->a, s = r + 1, q = 1 - r, u = 2 - r;
		c[0] = ((A * s - 5 * A) * s + 8 * A) * s - 4 * A;
		c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
		c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
		c[3] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
	}
	if (p->exclude_outside) {
		double sum = 0;
		for (int k = 0; k < n; k++) {
			if (base + k < 0 || base + k >= in)
				c[k] = 0;
			sum += c[k];
		}
		for (int k = 0; k < n && sum != 0; k++)
			c[k] /= sum;
	}
	bool identity = !*outside;
	for (int k = 0; k < n; k++) {
		idx[k] = resize_clamp(base + k, in);
		w[k] = (float)c[k];
		if (c[k] != (base + k == j ? 1.0 : 0.0))
			identity = false;
	}
	return identity;
}

#endif
