/*
 * resize.cu — Resize(X, roi?, scales?, sizes?) on CUDA (opset 11+ form; spec:
 *   backend/cpu/resize.c). Nearest: any element size 1/2/4/8; linear/cubic: float32/float16
 *   (computed in float32). Output dims from shape inference; per dim the scale is scales[d]
 *   when scales is a non-empty constant, else out / in; roi (tf_crop_and_resize) must be a
 *   constant. Same attributes and refusals as the CPU kernel.
 *   prepare computes, from the graph's shapes, the taps of every resized dim with the CPU's
 *   code (backend/resize_geom.h: source index per tap, weight, extrapolation) and uploads
 *   them once; run
 *   launches one thread per output element: nearest gathers one element, linear/cubic sum
 *   the tensor product of the resized dims' taps (2 or 4 per dim) in one pass (the CPU runs
 *   one pass per dim: float rounding may differ in the last bits). Dims whose taps are the
 *   identity pass through, so their size (e.g. the batch) may change after prepare.
 */
#include "backend/cuda/cuda_ops.h"
#include "backend/resize_geom.h"

#include <stdlib.h>

namespace {

/* Taps of one dim of `out` coordinates: idx (source index, -1 = extrapolate), w; returns
 * whether the dim is the identity. */
bool rs_make_taps(const resize_params *p, int n, int64_t in, int64_t out, double scale, double roi0, double roi1,
		  int64_t *idx, float *w)
{
	bool identity = in == out;
	for (int64_t j = 0; j < out; j++) {
		bool outside;
		if (!resize_taps(p, n, j, in, scale, roi0, roi1, idx + j * n, w + j * n, &outside))
			identity = false;
		for (int k = 0; outside && k < n; k++)
			idx[j * n + k] = -1;
	}
	return identity;
}

typedef struct rs_geom {
	int rank, n_taps, n_res;      /* taps per dim; number of resized dims */
	int res[ODET_MAX_RANK];        /* the resized dims */
	int64_t in[ODET_MAX_RANK], out[ODET_MAX_RANK];
	const int64_t *idx[ODET_MAX_RANK]; /* device taps of resized dims */
	const float *w[ODET_MAX_RANK];
	bool resized[ODET_MAX_RANK];
	float ext;
} rs_geom;

typedef struct rs_state {
	resize_params p;
	rs_geom g;                     /* pointers into dev */
	void *dev;
} rs_state;

/* Nearest: one source element, or the extrapolation value. */
template <typename T>
__global__ void rs_nearest_kernel(rs_geom g, int64_t numel, const int64_t *ydims, const T *x, T ext, T *y)
{
	(void)ydims;
	CU_FOR(i, numel) {
		int64_t t = i, off = 0, st = 1;
		bool outside = false;
		for (int d = g.rank - 1; d >= 0; d--) {
			int64_t c = t % g.out[d];
			t /= g.out[d];
			int64_t s = g.resized[d] ? g.idx[d][c] : c;
			outside |= s < 0;
			off += s * st;
			st *= g.in[d];
		}
		y[i] = outside ? ext : x[off];
	}
}

/* Linear/cubic: the tensor product of the resized dims' taps. */
template <typename T>
__global__ void rs_interp_kernel(rs_geom g, int64_t numel, const T *x, T *y)
{
	typedef cu_num<T> N;
	CU_FOR(i, numel) {
		int64_t t = i, base = 0, st = 1, str[ODET_MAX_RANK], c[ODET_MAX_RANK];
		bool outside = false;
		for (int d = g.rank - 1; d >= 0; d--) {
			c[d] = t % g.out[d];
			t /= g.out[d];
			str[d] = st;
			if (!g.resized[d])
				base += c[d] * st;
			else
				outside |= g.idx[d][c[d] * g.n_taps] < 0;
			st *= g.in[d];
		}
		if (outside) {
			y[i] = N::st(g.ext);
			continue;
		}
		int k[ODET_MAX_RANK] = {0};
		float acc = 0;
		for (;;) {
			float wt = 1;
			int64_t off = base;
			for (int r = 0; r < g.n_res; r++) {
				int d = g.res[r];
				int64_t q = c[d] * g.n_taps + k[r];
				wt *= g.w[d][q];
				off += g.idx[d][q] * str[d];
			}
			acc += wt * N::ld(x[off]);
			int r = g.n_res - 1;
			for (; r >= 0; r--) {
				if (++k[r] < g.n_taps)
					break;
				k[r] = 0;
			}
			if (r < 0)
				break;
		}
		y[i] = N::st(acc);
	}
}

odet_status resize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	resize_params p;
	double tmp[2 * ODET_MAX_RANK];
	int nt;
	if (!x || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs X of element size 1, 2, 4 or 8");
	const char *why = resize_params_of(n, &p);
	if (why)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize with %s is not supported", n->name, why);
	if (p.mode != RS_NEAREST && !cu_is_float(x->dtype))
		return cu_refuse(ctx, n, "linear/cubic need float32/float16");
	if (!cu_in_absent(g, n, 2) && !cu_const_floats(g, n, 2, tmp, ODET_MAX_RANK, &nt))
		return cu_refuse(ctx, n, "scales must be a constant of the graph");
	if (p.ctm == CTM_TF_CROP && !cu_in_absent(g, n, 1) && !cu_const_floats(g, n, 1, tmp, 2 * ODET_MAX_RANK, &nt))
		return cu_refuse(ctx, n, "roi must be a constant of the graph");
	return ODET_OK;
}

void resize_release(void *state)
{
	rs_state *s = (rs_state *)state;
	if (!s)
		return;
	cudaFree(s->dev);
	free(s);
}

odet_status resize_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *workspace)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	double scales[ODET_MAX_RANK], roi[2 * ODET_MAX_RANK];
	int ns = 0, nr = 0, r;
	odet_status rc = ODET_OK;
	*state = NULL;
	*workspace = 0;
	rs_state *s = (rs_state *)calloc(1, sizeof *s);
	if (!s)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': Resize state", n->name);
	if (resize_params_of(n, &s->p) || !ir_value_shape_known(x) || !ir_value_shape_known(y) || x->rank != y->rank ||
	    x->rank < 1 || x->rank > ODET_MAX_RANK) {
		rc = cu_refuse(ctx, n, "needs known, matching input/output shapes");
		goto fail_state;
	}
	r = x->rank;
	if (!cu_in_absent(g, n, 2) && !cu_const_floats(g, n, 2, scales, ODET_MAX_RANK, &ns))
		ns = -1;
	if (s->p.ctm == CTM_TF_CROP && !cu_in_absent(g, n, 1) && !cu_const_floats(g, n, 1, roi, 2 * ODET_MAX_RANK, &nr))
		nr = -1;
	if ((ns && ns != r) || (nr && nr != 2 * r)) {
		rc = cu_refuse(ctx, n, "scales/roi do not match the rank");
		goto fail_state;
	}
	{
		rs_geom *gm = &s->g;
		int nt = resize_n_taps(&s->p);
		size_t total = 0, off_w;
		gm->rank = r;
		gm->n_taps = nt;
		gm->ext = s->p.extrapolation;
		for (int d = 0; d < r; d++)
			total += (size_t)y->dims[d] * nt;
		if (resize_scales_roi(r, x->dims, y->dims, ns, scales, nr, roi) >= 0) {
			rc = cu_refuse(ctx, n, "bad scale");
			goto fail_state;
		}
		off_w = total * sizeof(int64_t);
		char *host = (char *)malloc(off_w + total * sizeof(float) + 1);
		if (!host) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': Resize taps", n->name);
			goto fail_state;
		}
		int64_t *idx = (int64_t *)host;
		float *w = (float *)(host + off_w);
		size_t pos = 0;
		size_t dpos[ODET_MAX_RANK];
		for (int d = 0; d < r; d++) {
			dpos[d] = pos;
			gm->in[d] = x->dims[d];
			gm->out[d] = y->dims[d];
			bool ident = rs_make_taps(&s->p, nt, x->dims[d], y->dims[d], scales[d], roi[d], roi[r + d], idx + pos,
						  w + pos);
			gm->resized[d] = !ident;
			if (!ident)
				gm->res[gm->n_res++] = d;
			pos += (size_t)y->dims[d] * nt;
		}
		if (ODET_CUDA(cudaMalloc(&s->dev, off_w + total * sizeof(float) + 1)) ||
		    ODET_CUDA(cudaMemcpy(s->dev, host, off_w + total * sizeof(float), cudaMemcpyHostToDevice))) {
			free(host);
			rc = odet_error(ctx, ODET_ERR_DEVICE, "node '%s': Resize: uploading taps failed", n->name);
			goto fail_state;
		}
		free(host);
		for (int d = 0; d < r; d++) {
			gm->idx[d] = (const int64_t *)s->dev + dpos[d];
			gm->w[d] = (const float *)((const char *)s->dev + off_w) + dpos[d];
		}
	}
	*state = s;
	return ODET_OK;
fail_state:
	resize_release(s);
	return rc;
}

odet_status resize_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	const rs_state *s = (const rs_state *)a->state;
	cudaStream_t st = (cudaStream_t)a->stream;
	odet_status rc = ODET_OK;
	if (!s || x->rank != s->g.rank || y->rank != x->rank || y->dtype != x->dtype)
		return cu_bad(a, "not prepared for these tensors");
	rs_geom g = s->g;
	for (int d = 0; d < x->rank; d++) {
		if (g.resized[d] ? (x->dims[d] != g.in[d] || y->dims[d] != g.out[d]) : x->dims[d] != y->dims[d])
			return cu_bad(a, "shapes differ from those prepared");
		g.in[d] = x->dims[d];
		g.out[d] = y->dims[d];
	}
	int64_t numel = odet_tensor_numel(y);
	if (numel <= 0)
		return ODET_OK;
	unsigned grid = cu_grid(numel, CU_BLOCK);
	if (s->p.mode == RS_NEAREST) {
		float e = s->p.extrapolation;
		switch (x->dtype) {
		case ODET_F32: rs_nearest_kernel<float><<<grid, CU_BLOCK, 0, st>>>(g, numel, NULL, (const float *)x->data, e, (float *)y->data); break;
		case ODET_F16: rs_nearest_kernel<__half><<<grid, CU_BLOCK, 0, st>>>(g, numel, NULL, (const __half *)x->data, __float2half(e), (__half *)y->data); break;
		case ODET_I32: rs_nearest_kernel<int32_t><<<grid, CU_BLOCK, 0, st>>>(g, numel, NULL, (const int32_t *)x->data, (int32_t)e, (int32_t *)y->data); break;
		case ODET_I64: rs_nearest_kernel<int64_t><<<grid, CU_BLOCK, 0, st>>>(g, numel, NULL, (const int64_t *)x->data, (int64_t)e, (int64_t *)y->data); break;
		default:
			CU_BY_SIZE(odet_dtype_size(x->dtype), rc,
				   (rs_nearest_kernel<T><<<grid, CU_BLOCK, 0, st>>>(g, numel, NULL, (const T *)x->data, (T)(int)e, (T *)y->data)));
			break;
		}
	} else if (x->dtype == ODET_F32) {
		rs_interp_kernel<float><<<grid, CU_BLOCK, 0, st>>>(g, numel, (const float *)x->data, (float *)y->data);
	} else {
		rs_interp_kernel<__half><<<grid, CU_BLOCK, 0, st>>>(g, numel, (const __half *)x->data, (__half *)y->data);
	}
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_RESIZE = {resize_check, resize_prepare, resize_release, resize_run};
