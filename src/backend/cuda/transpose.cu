/*
 * transpose.cu — Transpose(X) with attr perm (default: reversed dims) on CUDA (spec:
 *   backend/cpu/transpose.c). Any element size 1/2/4/8.
 *   Output dims are merged where they stay adjacent in X (NCHW->NHWC becomes [N, HW, C]
 *   reading strides [CHW, 1, HW]). When X's contiguous dim p is not the output's last one,
 *   32x32 tiles over (dim p, the output's last dim) go through shared memory so that both
 *   the reads (along p) and the writes (along the last dim) are coalesced; grid z walks
 *   the remaining dims; when the output's last dim is <= 8 (a 3-channel image to NHWC), one
 *   thread per output row writes it whole. Otherwise a gather with one thread per output element (both sides
 *   contiguous along the last dim).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

#define TR_TILE 32
#define TR_ROWS 8

typedef struct tr_geom {
	int rank, p;             /* merged rank; dim read with stride 1 */
	int64_t dims[ODET_MAX_RANK];
	int64_t xs[ODET_MAX_RANK]; /* input strides per output dim */
	int64_t ys[ODET_MAX_RANK]; /* output strides */
	int64_t rest;            /* product of the dims other than p and rank-1 */
} tr_geom;

template <typename T>
__global__ void tr_tiled(tr_geom g, const T *x, T *y)
{
	__shared__ T tile[TR_TILE][TR_TILE + 1];
	const int r = g.rank, p = g.p;
	const int64_t ni = g.dims[p], nj = g.dims[r - 1], sj = g.xs[r - 1], osi = g.ys[p];
	const int64_t i0 = (int64_t)blockIdx.y * TR_TILE, j0 = (int64_t)blockIdx.x * TR_TILE;
	for (int64_t z = blockIdx.z; z < g.rest; z += gridDim.z) {
		int64_t xo = 0, yo = 0, t = z;
		for (int d = r - 2; d >= 0; d--) {
			if (d == p)
				continue;
			int64_t c = t % g.dims[d];
			t /= g.dims[d];
			xo += c * g.xs[d];
			yo += c * g.ys[d];
		}
		for (int k = threadIdx.y; k < TR_TILE; k += TR_ROWS) {
			int64_t i = i0 + threadIdx.x, j = j0 + k;
			if (i < ni && j < nj)
				tile[k][threadIdx.x] = x[xo + i + j * sj];
		}
		__syncthreads();
		for (int k = threadIdx.y; k < TR_TILE; k += TR_ROWS) {
			int64_t i = i0 + k, j = j0 + threadIdx.x;
			if (i < ni && j < nj)
				y[yo + i * osi + j] = tile[threadIdx.x][k];
		}
		__syncthreads();
	}
}

/* The output's last dim is short (NCHW->NHWC of a 3-channel image): a 32-wide tile would
 * leave most threads idle, so one thread per (rest, i) reads the nj values along j (each read
 * coalesced across the warp along i) and writes them next to each other. */
template <typename T>
__global__ void tr_short_last(tr_geom g, const T *x, T *y)
{
	const int r = g.rank, p = g.p;
	const int64_t ni = g.dims[p], nj = g.dims[r - 1], sj = g.xs[r - 1], osi = g.ys[p];
	CU_FOR(t, g.rest * ni) {
		int64_t i = t % ni, z = t / ni, xo = i, yo = i * osi;
		for (int d = r - 2; d >= 0; d--) {
			if (d == p)
				continue;
			int64_t c = z % g.dims[d];
			z /= g.dims[d];
			xo += c * g.xs[d];
			yo += c * g.ys[d];
		}
		for (int64_t j = 0; j < nj; j++)
			y[yo + j] = x[xo + j * sj];
	}
}

template <typename T>
__global__ void tr_gather(be_bcast b, const T *x, T *y)
{
	CU_FOR(i, b.numel) {
		int64_t off[1];
		cu_bcast_off<1>(b, i, off);
		y[i] = x[off[0]];
	}
}

template <typename T>
void tr_launch(const be_bcast *b, const tr_geom *g, const void *x, void *y, cudaStream_t st)
{
	int64_t tj = (g->dims[g->rank - 1] + TR_TILE - 1) / TR_TILE, ti = g->p < 0 ? 0 : (g->dims[g->p] + TR_TILE - 1) / TR_TILE;
	if (g->p < 0 || ti > 65535) { /* grid y limit: very long dims take the gather */
		tr_gather<T><<<cu_grid(b->numel, CU_BLOCK), CU_BLOCK, 0, st>>>(*b, (const T *)x, (T *)y);
		return;
	}
	if (g->dims[g->rank - 1] <= 8) {
		tr_short_last<T><<<cu_grid(g->rest * g->dims[g->p], CU_BLOCK), CU_BLOCK, 0, st>>>(*g, (const T *)x, (T *)y);
		return;
	}
	dim3 grid((unsigned)tj, (unsigned)ti, (unsigned)(g->rest < 65535 ? g->rest : 65535));
	tr_tiled<T><<<grid, dim3(TR_TILE, TR_ROWS), 0, st>>>(*g, (const T *)x, (T *)y);
}

odet_status transpose_perm(odet_ctx *ctx, const ir_node *n, int rank, int *perm)
{
	const int64_t *p;
	int np = ir_attr_ints(n, "perm", &p);
	bool seen[ODET_MAX_RANK] = {false};
	if (rank > ODET_MAX_RANK)
		return cu_refuse(ctx, n, "rank above 8");
	if (np == 0) {
		for (int d = 0; d < rank; d++)
			perm[d] = rank - 1 - d;
		return ODET_OK;
	}
	if (np != rank)
		return cu_refuse(ctx, n, "perm does not match the rank");
	for (int d = 0; d < rank; d++) {
		if (p[d] < 0 || p[d] >= rank || seen[p[d]])
			return cu_refuse(ctx, n, "perm is not a permutation");
		seen[p[d]] = true;
		perm[d] = (int)p[d];
	}
	return ODET_OK;
}

odet_status transpose_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	int perm[ODET_MAX_RANK];
	if (!x || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs an input of element size 1, 2, 4 or 8");
	return x->rank >= 0 ? transpose_perm(ctx, n, x->rank, perm) : ODET_OK;
}

odet_status transpose_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int perm[ODET_MAX_RANK];
	int64_t xs[ODET_MAX_RANK], s[ODET_MAX_RANK];
	odet_status rc = transpose_perm(a->ctx, a->node, x->rank, perm);
	if (rc)
		return rc;
	if (y->rank != x->rank || y->dtype != x->dtype)
		return cu_bad(a, "output mismatch");
	cu_strides(x, xs);
	for (int d = 0; d < y->rank; d++) {
		if (y->dims[d] != x->dims[perm[d]])
			return cu_bad(a, "output dims do not match the permutation");
		s[d] = xs[perm[d]];
	}
	be_bcast b;
	if (be_bcast_strided(&b, y->rank, y->dims, s) <= 0)
		return ODET_OK;
	tr_geom g;
	memset(&g, 0, sizeof g);
	g.rank = b.rank;
	g.p = -1;
	g.rest = 1;
	for (int d = 0; d < b.rank - 1; d++)
		if (b.s[0][d] == 1)
			g.p = d;
	int64_t os = 1;
	for (int d = b.rank - 1; d >= 0; d--) {
		g.dims[d] = b.dims[d];
		g.xs[d] = b.s[0][d];
		g.ys[d] = os;
		os *= b.dims[d];
		if (d != g.p && d != b.rank - 1)
			g.rest *= b.dims[d];
	}
	CU_BY_SIZE(odet_dtype_size(x->dtype), rc, tr_launch<T>(&b, &g, x->data, y->data, (cudaStream_t)a->stream));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_TRANSPOSE = {transpose_check, NULL, NULL, transpose_run};
