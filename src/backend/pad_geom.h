/*
 * pad_geom.h — Pad's geometry, shared by every backend (header only; the index rule also runs
 * on the GPU): mode from the attribute, begin pads and output dims from pads/axes with their
 * limits checked, and the input coordinate of an output coordinate.
 *   pads int64 [2 * n_axes] (begins, then ends; negative values crop); axes default to all
 *   dims, negative allowed; reflect/edge/wrap need non-empty input dims.
 */
#ifndef ODET_BACKEND_PAD_GEOM_H
#define ODET_BACKEND_PAD_GEOM_H

#include <string.h>

#include "graph/ir.h"

#ifdef __CUDACC__
#define PAD_HD __host__ __device__
#else
#define PAD_HD
#endif

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

/* |pad| above this cannot describe a tensor odet could allocate */
#define PAD_LIMIT ((int64_t)1 << 40)

/* PAD_* of attr mode, -1 when unknown */
static inline int pad_mode_of(const ir_node *n)
{
	const char *m = ir_attr_string(n, "mode", "constant");
	return !strcmp(m, "constant") ? PAD_CONSTANT : !strcmp(m, "reflect") ? PAD_REFLECT :
	       !strcmp(m, "edge") ? PAD_EDGE : !strcmp(m, "wrap") ? PAD_WRAP : -1;
}

/* begin[d] (pad in front) and want[d] (output dim) of a rank-r input xdims from np pads and
 * na axes (axes NULL: all dims, na = r). NULL when usable, else the reason. */
static inline const char *pad_geometry(int r, const int64_t *xdims, const int64_t *pads, int np,
				       const int64_t *axes, int na, int64_t *begin, int64_t *want)
{
	if (r < 0 || r > ODET_MAX_RANK || na < 0 || na > r)
		return "rank or axis count out of range";
	if (np != 2 * na)
		return "pads are not two per axis";
	for (int d = 0; d < r; d++) {
		begin[d] = 0;
		want[d] = xdims[d];
	}
	bool seen[ODET_MAX_RANK] = {false};
	for (int i = 0; i < na; i++) {
		int ax;
		if (!odet_norm_axis(axes ? axes[i] : i, r, &ax))
			return "axis out of range";
		if (seen[ax])
			return "axis repeated";
		seen[ax] = true;
		begin[ax] = pads[i];
		if (pads[i] < -PAD_LIMIT || pads[i] > PAD_LIMIT || pads[na + i] < -PAD_LIMIT || pads[na + i] > PAD_LIMIT ||
		    !odet_add_i64(xdims[ax], pads[i], &want[ax]) || !odet_add_i64(want[ax], pads[na + i], &want[ax]) ||
		    want[ax] < 0)
			return "pads do not fit the dim";
	}
	return NULL;
}

/* Input coordinate of output coordinate o along a dim of n elements padded by `begin` in front;
 * -1 = the constant. */
static inline PAD_HD int64_t pad_src(int mode, int64_t o, int64_t begin, int64_t n)
{
	int64_t i = o - begin;
	if (i >= 0 && i < n)
		return i;
	switch (mode) {
	case PAD_EDGE:
		return i < 0 ? 0 : n - 1;
	case PAD_WRAP:
		return ((i % n) + n) % n;
	case PAD_REFLECT: {
		if (n == 1)
			return 0;
		int64_t p = 2 * (n - 1);
		i = ((i % p) + p) % p;
		return i < n ? i : p - i;
	}
	default:
		return -1;
	}
}

#endif
