/*
 * window.h — sliding-window geometry shared by Conv, MaxPool and AveragePool:
 * kernel_shape, strides, dilations, pads / auto_pad (NOTSET, VALID, SAME_UPPER,
 * SAME_LOWER) and ceil_mode as in the ONNX spec, for 1 to 3 spatial dims.
 *
 *   out = floor_or_ceil((in + pad_begin + pad_end - ((k-1)*d + 1)) / s) + 1
 *   SAME_*: out = ceil(in / s); total pad = max(0, (out-1)*s + (k-1)*d + 1 - in),
 *           the odd unit goes at the end (UPPER) or the beginning (LOWER).
 */
#ifndef ODET_CPU_WINDOW_H
#define ODET_CPU_WINDOW_H

#include "graph/ir.h"

#include <string.h>

#define CPU_WINDOW_MAX_DIMS 3

typedef struct cpu_window {
	int nd;                                 /* spatial dims */
	int64_t in[CPU_WINDOW_MAX_DIMS], out[CPU_WINDOW_MAX_DIMS];
	int64_t k[CPU_WINDOW_MAX_DIMS], s[CPU_WINDOW_MAX_DIMS], d[CPU_WINDOW_MAX_DIMS];
	int64_t pb[CPU_WINDOW_MAX_DIMS], pe[CPU_WINDOW_MAX_DIMS]; /* pads begin / end */
} cpu_window;

/* Fill w from node n: x_spatial = the nd input spatial dims, kernel from `kernel` (Conv: W's
 * dims; NULL = attribute kernel_shape). Output dims computed per the formula above;
 * ceil_mode from the attribute. Returns ODET_ERR_UNSUPPORTED / BAD_INPUT with a message. */
static inline odet_status cpu_window_init(odet_ctx *ctx, const ir_node *n, int nd, const int64_t *x_spatial,
					  const int64_t *kernel, cpu_window *w)
{
	const char *op = ir_op_name(n->op);
	memset(w, 0, sizeof *w);
	if (nd < 1 || nd > CPU_WINDOW_MAX_DIMS)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s with %d spatial dims (1 to %d supported)",
				  n->name, op, nd, CPU_WINDOW_MAX_DIMS);
	w->nd = nd;
	const int64_t *ks = NULL, *st = NULL, *dl = NULL, *pd = NULL;
	int nks = ir_attr_ints(n, "kernel_shape", &ks);
	int nst = ir_attr_ints(n, "strides", &st);
	int ndl = ir_attr_ints(n, "dilations", &dl);
	int npd = ir_attr_ints(n, "pads", &pd);
	if ((!kernel && nks != nd) || (kernel && nks && nks != nd) || (nst && nst != nd) ||
	    (ndl && ndl != nd) || (npd && npd != 2 * nd))
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s': %s attribute lengths do not match %d spatial dims", n->name, op, nd);
	const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
	int ceil_mode = (int)ir_attr_int(n, "ceil_mode", 0);
	for (int i = 0; i < nd; i++) {
		w->in[i] = x_spatial[i];
		w->k[i] = kernel ? kernel[i] : ks[i];
		if (kernel && nks && ks[i] != kernel[i])
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s kernel_shape disagrees with W",
					  n->name, op);
		w->s[i] = nst ? st[i] : 1;
		w->d[i] = ndl ? dl[i] : 1;
		if (w->k[i] < 1 || w->s[i] < 1 || w->d[i] < 1 || w->in[i] < 0 || w->k[i] > (1 << 20) ||
		    w->s[i] > (1 << 20) || w->d[i] > (1 << 20))
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "node '%s': %s has invalid kernel/stride/dilation", n->name, op);
		int64_t ext = (w->k[i] - 1) * w->d[i] + 1;
		if (strcmp(ap, "NOTSET") == 0) {
			w->pb[i] = npd ? pd[i] : 0;
			w->pe[i] = npd ? pd[i + nd] : 0;
			if (w->pb[i] < 0 || w->pe[i] < 0 || w->pb[i] > (1 << 20) || w->pe[i] > (1 << 20))
				return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s with negative or huge pads",
						  n->name, op);
		} else if (strcmp(ap, "VALID") == 0) {
			w->pb[i] = w->pe[i] = 0;
		} else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
			int64_t o = (w->in[i] + w->s[i] - 1) / w->s[i];
			int64_t total = (o - 1) * w->s[i] + ext - w->in[i];
			if (total < 0)
				total = 0;
			bool upper = ap[5] == 'U';
			w->pb[i] = upper ? total / 2 : total - total / 2;
			w->pe[i] = total - w->pb[i];
		} else {
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s auto_pad '%s' unknown", n->name,
					  op, ap);
		}
		int64_t span = w->in[i] + w->pb[i] + w->pe[i] - ext;
		if (span < 0)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s window larger than padded input",
					  n->name, op);
		w->out[i] = (ceil_mode ? (span + w->s[i] - 1) / w->s[i] : span / w->s[i]) + 1;
		/* ceil_mode: a window must start inside the input or its begin padding */
		if (ceil_mode && (w->out[i] - 1) * w->s[i] >= w->in[i] + w->pb[i])
			w->out[i]--;
	}
	return ODET_OK;
}

/* Check out_spatial (from shape inference) against the computed output dims. With ceil_mode a
 * shape function that omits the "window starts inside" rule gives one more; that is adopted
 * (such windows then cover padding only). */
static inline odet_status cpu_window_check_out(odet_ctx *ctx, const ir_node *n, cpu_window *w,
					       const int64_t *out_spatial)
{
	int ceil_mode = (int)ir_attr_int(n, "ceil_mode", 0);
	for (int i = 0; i < w->nd; i++) {
		if (ceil_mode && out_spatial[i] == w->out[i] + 1)
			w->out[i]++;
		if (out_spatial[i] != w->out[i])
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "node '%s': %s output dim %d is %lld, window gives %lld", n->name,
					  ir_op_name(n->op), 2 + i, (long long)out_spatial[i], (long long)w->out[i]);
	}
	return ODET_OK;
}

/* MaxPool / AveragePool: check X, Y and fill the window. */
static inline odet_status cpu_pool_geometry(odet_ctx *ctx, const ir_graph *g, const ir_node *n, cpu_window *w)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	const char *op = ir_op_name(n->op);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s needs X and Y", n->name, op);
	if (x->dtype != ODET_F32 || y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s on %s (only float32 on CPU)", n->name,
				  op, odet_dtype_name(x->dtype));
	if (!ir_value_shape_known(x) || !ir_value_shape_known(y) || x->rank < 3 || y->rank != x->rank)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s needs known shapes of rank >= 3",
				  n->name, op);
	if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1])
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s output N, C differ from input", n->name, op);
	odet_status rc = cpu_window_init(ctx, n, x->rank - 2, x->dims + 2, NULL, w);
	return rc ? rc : cpu_window_check_out(ctx, n, w, y->dims + 2);
}

/* Geometry padded to 3 spatial dims (leading dims: size 1, kernel 1, stride 1, no pad), so
 * 1-D, 2-D and 3-D windows share one loop nest. */
typedef struct cpu_window3 {
	int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
	int64_t in_sp, out_sp, kk;
} cpu_window3;

static inline void cpu_window_to3(const cpu_window *w, cpu_window3 *g)
{
	int k0 = 3 - w->nd;
	for (int i = 0; i < 3; i++) {
		bool real = i >= k0;
		g->in[i] = real ? w->in[i - k0] : 1;
		g->out[i] = real ? w->out[i - k0] : 1;
		g->k[i] = real ? w->k[i - k0] : 1;
		g->s[i] = real ? w->s[i - k0] : 1;
		g->d[i] = real ? w->d[i - k0] : 1;
		g->pb[i] = real ? w->pb[i - k0] : 0;
		g->pe[i] = real ? w->pe[i - k0] : 0;
	}
	g->in_sp = g->in[0] * g->in[1] * g->in[2];
	g->out_sp = g->out[0] * g->out[1] * g->out[2];
	g->kk = g->k[0] * g->k[1] * g->k[2];
}

/* Kernel taps [*lo, *hi) of dim i that fall inside the input for output index o; *npad =
 * taps inside input + pads (AveragePool count_include_pad), clipped like ONNX Runtime. */
static inline void cpu_window3_taps(const cpu_window3 *g, int i, int64_t o, int64_t *lo, int64_t *hi,
				    int64_t *npad)
{
	int64_t start = o * g->s[i] - g->pb[i], d = g->d[i], k = g->k[i];
	*lo = start < 0 ? (-start + d - 1) / d : 0;
	int64_t last = g->in[i] - 1 - start;
	*hi = last < 0 ? 0 : (last / d + 1 < k ? last / d + 1 : k);
	if (*hi < *lo)
		*hi = *lo;
	int64_t lastp = g->in[i] + g->pe[i] - 1 - start;
	*npad = lastp < 0 ? 0 : (lastp / d + 1 < k ? lastp / d + 1 : k);
}

#endif
