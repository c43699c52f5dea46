/*
 * pad.cu — Pad(data, pads, constant_value?, axes?) with attr mode constant (default),
 *   reflect, edge or wrap on CUDA (spec: backend/cpu/pad.c). Any element size 1/2/4/8.
 *   pads (and axes) must be constants of the graph; constant_value is a one-element device
 *   tensor of data's dtype read by the kernel (default 0). One thread per output element
 *   maps each coordinate back to the input (or to the constant).
 */
#include "backend/cuda/cuda_ops.h"
#include "backend/pad_geom.h"

namespace {

typedef struct pad_geom {
	int rank, mode;
	int64_t ydims[ODET_MAX_RANK], xdims[ODET_MAX_RANK], xstr[ODET_MAX_RANK], begin[ODET_MAX_RANK];
	int64_t numel;
} pad_geom;

template <typename T>
__global__ void pad_kernel(pad_geom g, const T *x, const T *cv, T *y)
{
	T c = cv ? *cv : T(0);
	CU_FOR(i, g.numel) {
		int64_t off = 0, t = i;
		bool fill = false;
		for (int d = g.rank - 1; d >= 0; d--) {
			int64_t s = pad_src(g.mode, t % g.ydims[d], g.begin[d], g.xdims[d]);
			t /= g.ydims[d];
			fill |= s < 0;
			off += s * g.xstr[d];
		}
		y[i] = fill ? c : x[off];
	}
}

/* pads and axes from the graph: begin[] per dim and the expected output dims (pad_geom.h) */
bool pad_read(const ir_graph *g, const ir_node *n, int rank, const int64_t *xdims, int64_t *begin, int64_t *want)
{
	int64_t pads[2 * ODET_MAX_RANK], axes[ODET_MAX_RANK];
	int np, na = rank;
	bool all_axes = !(n->n_in > 3 && n->in[3] >= 0);
	if (rank < 0 || rank > ODET_MAX_RANK || !cu_const_ints(g, n, 1, pads, 2 * ODET_MAX_RANK, &np) ||
	    (!all_axes && !cu_const_ints(g, n, 3, axes, ODET_MAX_RANK, &na)))
		return false;
	return !pad_geometry(rank, xdims, pads, np, all_axes ? NULL : axes, na, begin, want);
}

odet_status pad_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *cv = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	int64_t begin[ODET_MAX_RANK], want[ODET_MAX_RANK];
	if (!x || !ir_in(g, n, 1) || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs data of element size 1, 2, 4 or 8 and pads");
	if (pad_mode_of(n) < 0)
		return cu_refuse(ctx, n, "mode not supported");
	if (cv && cv->dtype != x->dtype)
		return cu_refuse(ctx, n, "constant_value has another dtype than data");
	if (x->rank >= 0 && !pad_read(g, n, x->rank, x->dims, begin, want))
		return cu_refuse(ctx, n, "pads/axes must be constants of the graph");
	return ODET_OK;
}

odet_status pad_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	odet_status rc = ODET_OK;
	pad_geom g;
	int64_t want[ODET_MAX_RANK];
	memset(&g, 0, sizeof g);
	g.mode = pad_mode_of(a->node);
	g.rank = x->rank;
	if (g.mode < 0 || !pad_read(a->g, a->node, x->rank, x->dims, g.begin, want))
		return cu_bad(a, "pads/axes/mode not usable");
	for (int d = 0; d < x->rank; d++) {
		if (y->rank != x->rank || y->dims[d] != want[d] || y->dtype != x->dtype)
			return cu_bad(a, "output shape mismatch");
		if (g.mode != PAD_CONSTANT && x->dims[d] == 0 && want[d] > 0)
			return cu_bad(a, "reflect/edge/wrap on an empty dim");
		g.ydims[d] = y->dims[d];
		g.xdims[d] = x->dims[d];
	}
	cu_strides(x, g.xstr);
	g.numel = odet_tensor_numel(y);
	if (g.numel <= 0)
		return ODET_OK;
	const void *cv = a->n_in > 2 && a->in[2].data && odet_tensor_numel(&a->in[2]) >= 1 ? a->in[2].data : NULL;
	if (cv && a->in[2].dtype != x->dtype)
		return cu_bad(a, "constant_value dtype differs");
	CU_BY_SIZE(odet_dtype_size(x->dtype), rc,
		   (pad_kernel<T><<<cu_grid(g.numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			   g, (const T *)x->data, (const T *)cv, (T *)y->data)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_PAD = {pad_check, NULL, NULL, pad_run};
