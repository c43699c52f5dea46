/*
 * resize.cu — Resize(X, roi?, scales?, sizes?) on CUDA (opset 11+ form; spec:
 *   backend/cpu/resize.c). Nearest: any element size 1/2/4/8; linear/cubic: float32/float16
 *   (computed in float32). Output dims from shape inference; per dim the scale is scales[d]
 *   when scales is a non-empty constant, else out / in; roi (tf_crop_and_resize) must be a
 *   constant. Same attributes and refusals as the CPU kernel.
 *   prepare computes, from the graph's shapes, the taps of every resized dim exactly as the
 *   CPU does (source index per tap, weight, extrapolation flag) and uploads them once; run
 *   launches one thread per output element: nearest gathers one element, linear/cubic sum
 *   the tensor product of the resized dims' taps (2 or 4 per dim) in one pass (the CPU runs
 *   one pass per dim: float rounding may differ in the last bits). Dims whose taps are the
 *   identity pass through, so their size (e.g. the batch) may change after prepare.
 */
#include "backend/cuda/cuda_ops.h"

#include <stdlib.h>

namespace {

enum { CTM_HALF_PIXEL, CTM_PYTORCH, CTM_ALIGN, CTM_ASYM, CTM_TF_NN, CTM_TF_CROP };
enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { NN_PREFER_FLOOR, NN_PREFER_CEIL, NN_FLOOR, NN_CEIL };

const char *const ctm_names[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
				 "tf_half_pixel_for_nn", "tf_crop_and_resize"};
const char *const mode_names[] = {"nearest", "linear", "cubic"};
const char *const nn_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

typedef struct rs_params {
	int mode, ctm, nn;
	double a;
	bool exclude_outside;
	float extrapolation;
} rs_params;

bool rs_params_of(const ir_node *n, rs_params *p)
{
	p->mode = lookup(ir_attr_string(n, "mode", "nearest"), mode_names, 3);
	p->ctm = lookup(ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"), ctm_names, 6);
	p->nn = lookup(ir_attr_string(n, "nearest_mode", "round_prefer_floor"), nn_names, 4);
	p->a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
	p->exclude_outside = ir_attr_int(n, "exclude_outside", 0) != 0;
	p->extrapolation = ir_attr_float(n, "extrapolation_value", 0.0f);
	return p->mode >= 0 && p->ctm >= 0 && p->nn >= 0 && ir_attr_int(n, "antialias", 0) == 0 &&
	       !strcmp(ir_attr_string(n, "keep_aspect_ratio_policy", "stretch"), "stretch") && !ir_attr_get(n, "axes");
}

double rs_coord(const rs_params *p, double x, double scale, int64_t in, double roi0, double roi1, bool *outside)
{
	double out_w = scale * (double)in, r = 0;
	*outside = false;
	switch (p->ctm) {
	case CTM_HALF_PIXEL: return (x + 0.5) / scale - 0.5;
	case CTM_PYTORCH: return out_w > 1 ? (x + 0.5) / scale - 0.5 : 0;
	case CTM_ALIGN: return out_w == 1 ? 0 : x * (double)(in - 1) / (out_w - 1);
	case CTM_ASYM: return x / scale;
	case CTM_TF_NN: return (x + 0.5) / scale;
	case CTM_TF_CROP:
		if (out_w == 1)
			r = (roi1 - roi0) * (double)(in - 1) / 2;
		else
			r = x * (roi1 - roi0) * (double)(in - 1) / (out_w - 1);
		r += roi0 * (double)(in - 1);
		*outside = r < 0 || r > (double)(in - 1);
		return r;
	}
	return 0;
}

int64_t clamp_idx(int64_t i, int64_t n)
{
	return i < 0 ? 0 : i >= n ? n - 1 : i;
}

int64_t rs_nearest_idx(const rs_params *p, double xo, int64_t in)
{
	double f = floor(xo);
	int64_t i;
	if (xo == f) {
		i = (int64_t)f;
	} else {
		double r = xo - f;
		bool up = p->nn == NN_PREFER_FLOOR ? r > 0.5 : p->nn == NN_PREFER_CEIL ? r >= 0.5 : p->nn == NN_CEIL;
		i = (int64_t)f + up;
	}
	return clamp_idx(i, in);
}

/* Taps of one dim of `out` coordinates: idx (source index, -1 = extrapolate), w. */
bool rs_make_taps(const rs_params *p, int n, int64_t in, int64_t out, double scale, double roi0, double roi1,
		  int64_t *idx, float *w)
{
	bool identity = in == out;
	for (int64_t j = 0; j < out; j++) {
		bool outside;
		double xo = rs_coord(p, (double)j, scale, in, roi0, roi1, &outside);
		if (n == 1) {
			idx[j] = outside ? -1 : rs_nearest_idx(p, xo, in);
			w[j] = 1;
			identity = identity && idx[j] == j;
			continue;
		}
		double c[4];
		double f = ceil(xo);
		double r = xo == f ? 1.0 : xo - floor(xo);
		int64_t base = (int64_t)f - n / 2;
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
		for (int k = 0; k < n; k++) {
			idx[j * n + k] = outside ? -1 : clamp_idx(base + k, in);
			w[j * n + k] = (float)c[k];
			if (c[k] != (base + k == j ? 1.0 : 0.0))
				identity = false;
		}
		if (outside)
			identity = false;
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
	rs_params p;
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
	rs_params p;
	double tmp[2 * ODET_MAX_RANK];
	int nt;
	if (!x || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs X of element size 1, 2, 4 or 8");
	if (!rs_params_of(n, &p))
		return cu_refuse(ctx, n, "mode/coordinate mode/nearest mode/antialias/axes not supported");
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
	if (!rs_params_of(n, &s->p) || !ir_value_shape_known(x) || !ir_value_shape_known(y) || x->rank != y->rank ||
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
		int nt = s->p.mode == RS_NEAREST ? 1 : s->p.mode == RS_LINEAR ? 2 : 4;
		size_t total = 0, off_w;
		gm->rank = r;
		gm->n_taps = nt;
		gm->ext = s->p.extrapolation;
		for (int d = 0; d < r; d++) {
			total += (size_t)y->dims[d] * nt;
			if (!nr) {
				roi[d] = 0;
				roi[r + d] = 1;
			}
			if (!ns)
				scales[d] = x->dims[d] ? (double)y->dims[d] / (double)x->dims[d] : 1;
			if (!(scales[d] > 0) || (x->dims[d] == 0 && y->dims[d] != 0)) {
				rc = cu_refuse(ctx, n, "bad scale");
				goto fail_state;
			}
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
