/*
 * resize.c — Resize(X, roi?, scales?, sizes?) (opset 11+ form), N-D.
 *   X: nearest mode any fixed-size dtype; linear/cubic float32. Output dims come from
 *   shape inference (sizes, or floor(in * scale)); per dim the scale is scales[d] when
 *   scales is given (non-empty), else out / in.
 *   attrs: mode nearest (default) | linear | cubic;
 *     coordinate_transformation_mode half_pixel (default) | pytorch_half_pixel |
 *       align_corners | asymmetric | tf_half_pixel_for_nn | tf_crop_and_resize (roi:
 *       [starts..., ends...] normalized; outside points get extrapolation_value (0));
 *     nearest_mode round_prefer_floor (default) | round_prefer_ceil | floor | ceil;
 *     cubic_coeff_a (-0.75), exclude_outside (0).
 *   Refused: antialias = 1, keep_aspect_ratio_policy other than stretch, attr axes.
 *   Algorithm (as the ONNX reference): per dim, output coordinate x maps to x_original;
 *     nearest picks one source index (clamped to the edge); linear/cubic use 2/4 taps
 *     around x_original with edge replication (weights zeroed and renormalized outside
 *     with exclude_outside). Nearest is a gather through per-dim index maps; linear/cubic
 *     run one separable pass per resized dim (innermost first), skipping identity dims.
 *     Rows are split over the thread pool. Scratch (taps, two pass buffers) is the
 *     workspace declared by prepare from the graph's shapes.
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum rs_ctm { CTM_HALF_PIXEL, CTM_PYTORCH, CTM_ALIGN, CTM_ASYM, CTM_TF_NN, CTM_TF_CROP } rs_ctm;
typedef enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;
typedef enum rs_nearest { NN_PREFER_FLOOR, NN_PREFER_CEIL, NN_FLOOR, NN_CEIL } rs_nearest;

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static const char *const ctm_names[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
					"tf_half_pixel_for_nn", "tf_crop_and_resize"};
static const char *const mode_names[] = {"nearest", "linear", "cubic"};
static const char *const nn_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

typedef struct rs_params {
	rs_mode mode;
	rs_ctm ctm;
	rs_nearest nn;
	double a;
	bool exclude_outside;
	float extrapolation;
} rs_params;

static odet_status rs_params_of(odet_ctx *ctx, const ir_node *n, rs_params *p)
{
	int mode = lookup(ir_attr_string(n, "mode", "nearest"), mode_names, 3);
	int ctm = lookup(ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"), ctm_names, 6);
	int nn = lookup(ir_attr_string(n, "nearest_mode", "round_prefer_floor"), nn_names, 4);
	if (mode < 0 || ctm < 0 || nn < 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize mode '%s' / coordinate mode '%s' / nearest mode '%s' is not supported",
				  n->name, ir_attr_string(n, "mode", "nearest"),
				  ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"),
				  ir_attr_string(n, "nearest_mode", "round_prefer_floor"));
	if (ir_attr_int(n, "antialias", 0) != 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize antialias=1 is not supported", n->name);
	if (strcmp(ir_attr_string(n, "keep_aspect_ratio_policy", "stretch"), "stretch") || ir_attr_get(n, "axes"))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize keep_aspect_ratio_policy/axes are not supported",
				  n->name);
	p->mode = (rs_mode)mode;
	p->ctm = (rs_ctm)ctm;
	p->nn = (rs_nearest)nn;
	p->a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
	p->exclude_outside = ir_attr_int(n, "exclude_outside", 0) != 0;
	p->extrapolation = ir_attr_float(n, "extrapolation_value", 0.0f);
	return ODET_OK;
}

static odet_status resize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	rs_params p;
	if (!x || !y || !odet_dtype_size(x->dtype) || y->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Resize needs X of a fixed-size dtype", n->name);
	odet_status rc = rs_params_of(ctx, n, &p);
	if (rc)
		return rc;
	if (p.mode != RS_NEAREST && x->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize %s on %s is not supported (float32 only)",
				  n->name, mode_names[p.mode], odet_dtype_name(x->dtype));
	return ODET_OK;
}

/* Scratch of a resize from in[] to out[] dims: taps (idx, w, ext) for every output
 * coordinate and, for linear/cubic, two ping-pong buffers bounded by prod(max(in, out)). */
static bool rs_ws_size(int r, const int64_t *in, const int64_t *out, int n_taps, size_t *bytes)
{
	int64_t total = 0, big = 1;
	*bytes = 0;
	for (int d = 0; d < r; d++) {
		if (in[d] < 0 || out[d] < 0 || !odet_add_i64(total, out[d], &total) ||
		    !odet_mul_i64(big, in[d] > out[d] ? in[d] : out[d], &big))
			return false;
	}
	bool ok = cpu_ws_add(bytes, (size_t)total * (size_t)n_taps, sizeof(int64_t)) &&
		  cpu_ws_add(bytes, (size_t)total * (size_t)n_taps, sizeof(float)) &&
		  cpu_ws_add(bytes, (size_t)total, 1);
	if (n_taps > 1)
		ok = ok && cpu_ws_add(bytes, (size_t)big, sizeof(float)) && cpu_ws_add(bytes, (size_t)big, sizeof(float));
	return ok;
}

static int rs_n_taps(const rs_params *p)
{
	return p->mode == RS_NEAREST ? 1 : p->mode == RS_LINEAR ? 2 : 4;
}

static odet_status resize_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				  size_t *workspace)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	rs_params p;
	odet_status rc = rs_params_of(ctx, n, &p);
	if (rc)
		return rc;
	if (!ir_value_shape_known(x) || !ir_value_shape_known(y) || x->rank != y->rank ||
	    !rs_ws_size(x->rank, x->dims, y->dims, rs_n_taps(&p), workspace))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Resize needs known, matching input/output shapes",
				  n->name);
	return ODET_OK;
}

/* x_original for output coordinate x of a dim; *outside for tf_crop_and_resize extrapolation. */
static double rs_coord(const rs_params *p, double x, double scale, int64_t in, double roi0, double roi1,
		       bool *outside)
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

/* rs_coord limited to [-4, in + 3]: taps further out clamp to the same edge values (or are
 * all excluded), and absurd scales from untrusted inputs cannot overflow the indices. */
static double rs_coord_clamped(const rs_params *p, double x, double scale, int64_t in, double roi0, double roi1,
			       bool *outside)
{
	double r = rs_coord(p, x, scale, in, roi0, roi1, outside);
	return r < -4 ? -4 : r > (double)in + 3 ? (double)in + 3 : r;
}

static int64_t clamp_idx(int64_t i, int64_t n)
{
	return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Nearest source index for x_original (clamped). */
static int64_t rs_nearest_idx(const rs_params *p, double xo, int64_t in)
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

/* Taps of one dim: for output j, n taps at idx[j*n + t] (clamped source index) with
 * weights w[j*n + t]; ext[j] = 1 where the extrapolation value is written. */
typedef struct rs_taps {
	int n;
	int64_t in, out;
	int64_t *idx;
	float *w;
	uint8_t *ext;
	bool identity;
} rs_taps;

static void rs_make_taps(const rs_params *p, rs_taps *t, double scale, double roi0, double roi1)
{
	t->identity = t->in == t->out;
	for (int64_t j = 0; j < t->out; j++) {
		bool outside;
		double xo = rs_coord_clamped(p, (double)j, scale, t->in, roi0, roi1, &outside);
		double c[4];
		double f = ceil(xo);
		double r = xo == f ? 1.0 : xo - floor(xo);
		int64_t base = (int64_t)f - t->n / 2;
		t->ext[j] = outside;
		if (t->n == 2) {
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
			for (int k = 0; k < t->n; k++) {
				if (base + k < 0 || base + k >= t->in)
					c[k] = 0;
				sum += c[k];
			}
			for (int k = 0; k < t->n && sum != 0; k++)
				c[k] /= sum;
		}
		for (int k = 0; k < t->n; k++) {
			t->idx[j * t->n + k] = clamp_idx(base + k, t->in);
			t->w[j * t->n + k] = (float)c[k];
			if (c[k] != (base + k == j ? 1.0 : 0.0))
				t->identity = false;
		}
		if (outside)
			t->identity = false;
	}
}

typedef struct rs_pass {
	const rs_taps *t;
	const float *src;
	float *dst;
	int64_t inner;
	float ext;
} rs_pass;

/* Rows of one separable pass: row = (outer, j); each is `inner` floats. */
static void rs_pass_range(void *arg, int64_t b, int64_t e, int thread)
{
	const rs_pass *ps = arg;
	const rs_taps *t = ps->t;
	int64_t inner = ps->inner;
	for (int64_t row = b; row < e; row++) {
		int64_t o = row / t->out, j = row % t->out;
		float *d = ps->dst + row * inner;
		if (t->ext[j]) {
			for (int64_t i = 0; i < inner; i++)
				d[i] = ps->ext;
			continue;
		}
		const float *s = ps->src + o * t->in * inner;
		const int64_t *idx = t->idx + j * t->n;
		const float *w = t->w + j * t->n;
		if (t->n == 2) {
			const float *s0 = s + idx[0] * inner, *s1 = s + idx[1] * inner;
			for (int64_t i = 0; i < inner; i++)
				d[i] = w[0] * s0[i] + w[1] * s1[i];
		} else {
			const float *s0 = s + idx[0] * inner, *s1 = s + idx[1] * inner;
			const float *s2 = s + idx[2] * inner, *s3 = s + idx[3] * inner;
			for (int64_t i = 0; i < inner; i++)
				d[i] = w[0] * s0[i] + w[1] * s1[i] + w[2] * s2[i] + w[3] * s3[i];
		}
	}
}

/* The innermost dim (inner == 1): one task per outer row, taps along the row. */
static void rs_pass_last_range(void *arg, int64_t b, int64_t e, int thread)
{
	const rs_pass *ps = arg;
	const rs_taps *t = ps->t;
	for (int64_t o = b; o < e; o++) {
		const float *s = ps->src + o * t->in;
		float *d = ps->dst + o * t->out;
		for (int64_t j = 0; j < t->out; j++) {
			const int64_t *idx = t->idx + j * t->n;
			const float *w = t->w + j * t->n;
			float v = 0;
			for (int k = 0; k < t->n; k++)
				v += w[k] * s[idx[k]];
			d[j] = t->ext[j] ? ps->ext : v;
		}
	}
}

/* The extrapolation value in X's dtype (nearest works on any dtype). */
static void rs_ext_value(odet_dtype t, float v, uint8_t *out)
{
	memset(out, 0, 8);
	switch (t) {
	case ODET_F32: memcpy(out, &v, 4); break;
	case ODET_F64: { double d = v; memcpy(out, &d, 8); break; }
	case ODET_F16: { uint16_t h = odet_f32_to_f16(v); memcpy(out, &h, 2); break; }
	case ODET_I8: case ODET_U8: out[0] = (uint8_t)(int)v; break;
	case ODET_I32: { int32_t i = (int32_t)v; memcpy(out, &i, 4); break; }
	case ODET_I64: { int64_t i = (int64_t)v; memcpy(out, &i, 8); break; }
	default: break;
	}
}

static odet_status resize_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int r = x->rank;
	rs_params p;
	odet_status rc = rs_params_of(a->ctx, nd, &p);
	if (rc)
		return rc;
	double scales[ODET_MAX_RANK], roi[2 * ODET_MAX_RANK];
	int64_t sizes[ODET_MAX_RANK];
	int ns = 0, nz = 0, nr = 0;
	if (a->n_in > 2 && a->in[2].data && odet_tensor_numel(&a->in[2]) > 0)
		rc = cpu_read_floats(a, 2, scales, ODET_MAX_RANK, &ns);
	if (!rc && a->n_in > 3 && a->in[3].data && odet_tensor_numel(&a->in[3]) > 0)
		rc = cpu_read_ints(a, 3, sizes, ODET_MAX_RANK, &nz);
	if (!rc && p.ctm == CTM_TF_CROP && a->n_in > 1 && a->in[1].data && odet_tensor_numel(&a->in[1]) > 0)
		rc = cpu_read_floats(a, 1, roi, 2 * ODET_MAX_RANK, &nr);
	if (rc)
		return rc;
	if ((ns && ns != r) || (nz && nz != r) || (nr && nr != 2 * r) || y->rank != r || y->dtype != x->dtype ||
	    r < 1)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Resize): scales/sizes/roi do not match rank %d",
				  nd->name, r);
	for (int d = 0; d < r; d++) {
		if (!nr) {
			roi[d] = 0;
			roi[r + d] = 1;
		}
		if (nz && sizes[d] != y->dims[d])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Resize): sizes differ from the output shape",
					  nd->name);
		if (!ns)
			scales[d] = x->dims[d] ? (double)y->dims[d] / (double)x->dims[d] : 1;
		if (!(scales[d] > 0) || (x->dims[d] == 0 && y->dims[d] != 0))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Resize): bad scale for dim %d", nd->name, d);
	}
	int64_t numel = odet_tensor_numel(y), total = 0;
	if (numel <= 0)
		return ODET_OK;
	for (int d = 0; d < r; d++)
		total += y->dims[d];
	int n_taps = rs_n_taps(&p);
	size_t need;
	cpu_ws ws = {a->workspace, a->workspace_size};
	if (!rs_ws_size(r, x->dims, y->dims, n_taps, &need) || need > a->workspace_size)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (Resize): workspace of %zu bytes, need %zu",
				  nd->name, a->workspace_size, need);
	int64_t *idx = cpu_ws_take(&ws, (size_t)total * (size_t)n_taps, sizeof *idx);
	float *w = cpu_ws_take(&ws, (size_t)total * (size_t)n_taps, sizeof *w);
	uint8_t *ext = cpu_ws_take(&ws, (size_t)total, 1);
	rs_taps taps[ODET_MAX_RANK];
	int64_t off = 0, xs[ODET_MAX_RANK];
	cpu_strides(x, xs);
	for (int d = 0; d < r; d++) {
		rs_taps *t = &taps[d];
		t->n = n_taps;
		t->in = x->dims[d];
		t->out = y->dims[d];
		t->idx = idx + off * n_taps;
		t->w = w + off * n_taps;
		t->ext = ext + off;
		off += y->dims[d];
		if (p.mode != RS_NEAREST) {
			rs_make_taps(&p, t, scales[d], roi[d], roi[r + d]);
			continue;
		}
		for (int64_t j = 0; j < t->out; j++) {
			bool outside;
			double xo = rs_coord_clamped(&p, (double)j, scales[d], t->in, roi[d], roi[r + d], &outside);
			t->idx[j] = outside ? -1 : rs_nearest_idx(&p, xo, t->in) * xs[d];
		}
	}
	if (p.mode == RS_NEAREST) {
		int64_t *maps[ODET_MAX_RANK];
		uint8_t ev[8];
		rs_ext_value(x->dtype, p.extrapolation, ev);
		for (int d = 0; d < r; d++)
			maps[d] = taps[d].idx;
		cpu_map_gather(a->pool, r, y->dims, maps, x->data, y->data, odet_dtype_size(x->dtype), ev);
		return ODET_OK;
	}
	/* separable passes, innermost dim first; intermediate shapes shrink/grow one dim at a time */
	int64_t cur[ODET_MAX_RANK], max_numel = 0, cur_numel = odet_tensor_numel(x);
	int last = -1;
	for (int d = 0; d < r; d++)
		cur[d] = x->dims[d];
	for (int d = r - 1; d >= 0; d--) {
		if (taps[d].identity)
			continue;
		if (last < 0)
			last = d;
		cur_numel = cur_numel / cur[d] * y->dims[d];
		cur[d] = y->dims[d];
		if (cur_numel > max_numel)
			max_numel = cur_numel;
	}
	if (last < 0) {
		memcpy(y->data, x->data, (size_t)numel * sizeof(float));
		return ODET_OK;
	}
	float *buf[2];
	for (int k = 0; k < 2; k++)
		buf[k] = cpu_ws_take(&ws, (size_t)max_numel, sizeof(float));
	if (!buf[0] || !buf[1])
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (Resize): workspace too small", nd->name);
	const float *src = x->data;
	int which = 0;
	int first = -1;
	for (int d = r - 1; d >= 0; d--)
		if (!taps[d].identity)
			first = d; /* the outermost resized dim: its pass is the last one */
	for (int d = 0; d < r; d++)
		cur[d] = x->dims[d];
	for (int d = r - 1; d >= 0; d--) {
		if (taps[d].identity)
			continue;
		int64_t outer = 1, inner = 1;
		for (int k = 0; k < d; k++)
			outer *= cur[k];
		for (int k = d + 1; k < r; k++)
			inner *= cur[k];
		float *dst = d == first ? (float *)y->data : buf[which];
		rs_pass ps = {.t = &taps[d], .src = src, .dst = dst, .inner = inner, .ext = p.extrapolation};
		if (inner == 1) {
			int64_t work = taps[d].out * taps[d].n;
			odet_parallel_for(a->pool, outer, CPU_GRAIN / work + 1, rs_pass_last_range, &ps);
		} else {
			int64_t rows = outer * taps[d].out;
			odet_parallel_for(a->pool, rows, CPU_GRAIN / (inner * taps[d].n) + 1, rs_pass_range, &ps);
		}
		cur[d] = y->dims[d];
		src = dst;
		which ^= 1;
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_RESIZE = {.check = resize_check, .prepare = resize_prepare, .run = resize_run};
