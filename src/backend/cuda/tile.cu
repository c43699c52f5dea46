/*
 * tile.cu — Tile(X, repeats) on CUDA (spec: backend/cpu/tile.c): Y[c] = X[c mod X.dims].
 *   The repeats are implied by the shapes (Y.dims[d] = X.dims[d] * repeats[d], checked);
 *   the device tensor `repeats` is not read. Any element size 1/2/4/8; one thread per
 *   output element.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

typedef struct tile_geom {
	int rank;
	int64_t ydims[ODET_MAX_RANK], xdims[ODET_MAX_RANK], xstr[ODET_MAX_RANK];
	int64_t numel;
} tile_geom;

template <typename T>
__global__ void tile_kernel(tile_geom g, const T *x, T *y)
{
	CU_FOR(i, g.numel) {
		int64_t off = 0, t = i;
		for (int d = g.rank - 1; d >= 0; d--) {
			off += (t % g.ydims[d]) % g.xdims[d] * g.xstr[d];
			t /= g.ydims[d];
		}
		y[i] = x[off];
	}
}

odet_status tile_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !ir_in(g, n, 1) || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs X of element size 1, 2, 4 or 8 and repeats");
	return ODET_OK;
}

odet_status tile_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	tile_geom g;
	odet_status rc = ODET_OK;
	memset(&g, 0, sizeof g);
	bool ok = y->rank == x->rank && y->dtype == x->dtype;
	for (int d = 0; ok && d < x->rank; d++)
		ok = (x->dims[d] == 0 && y->dims[d] == 0) || (x->dims[d] > 0 && y->dims[d] % x->dims[d] == 0);
	if (!ok)
		return cu_bad(a, "output shape is not a tiling of the input");
	g.rank = x->rank;
	g.numel = odet_tensor_numel(y);
	cu_strides(x, g.xstr);
	for (int d = 0; d < x->rank; d++) {
		g.ydims[d] = y->dims[d];
		g.xdims[d] = x->dims[d];
	}
	if (g.numel <= 0)
		return ODET_OK;
	CU_BY_SIZE(odet_dtype_size(y->dtype), rc,
		   (tile_kernel<T><<<cu_grid(g.numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			   g, (const T *)x->data, (T *)y->data)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_TILE = {tile_check, NULL, NULL, tile_run};
