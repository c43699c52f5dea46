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

#endif
