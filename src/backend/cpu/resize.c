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
#include "backend/resize_geom.h"

#include <stdlib.h>
#include <string.h>

static odet_status rs_params_of(odet_ctx *ctx, const ir_node *n, resize_params *p)
{
	const char *why = resize_params_of(n, p);
	if (why)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': Resize with %s is not supported (mode '%s', coordinate mode '%s', "
				  "nearest mode '%s')",
				  n->name, why, ir_attr_string(n, "mode", "nearest"),
				  ir_attr_string(n, "coordinate_transformation_mode", "half_pixel"),
				  ir_attr_string(n, "nearest_mode", "round_prefer_floor"));
	return ODET_OK;
}

static odet_status resize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	resize_params p;
	if (!x || !y || !odet_dtype_size(x->dtype) || y->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Resize needs X of a fixed-size dtype", n->name);
	odet_status rc = rs_params_of(ctx, n, &p);
	if (rc)
		return rc;
	if (p.mode != RS_NEAREST && x->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Resize %s on %s is not supported (float32 only)",
				  n->name, resize_mode_name(&p), odet_dtype_name(x->dtype));
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

static odet_status resize_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				  size_t *workspace)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	resize_params p;
	odet_status rc = rs_params_of(ctx, n, &p);
	if (rc)
		return rc;
	if (!ir_value_shape_known(x) || !ir_value_shape_known(y) || x->rank != y->rank ||
	    !rs_ws_size(x->rank, x->dims, y->dims, resize_n_taps(&p), workspace))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Resize needs known, matching input/output shapes",
				  n->name);
	return ODET_OK;
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

static void rs_make_taps(const resize_params *p, rs_taps *t, double scale, double roi0, double roi1)
{
	t->identity = t->in == t->out;
	for (int64_t j = 0; j < t->out; j++) {
		bool outside;
		if (!resize_taps(p, t->n, j, t->in, scale, roi0, roi1, t->idx + j * t->n, t->w + j * t->n, &outside))
			t->identity = false;
		t->ext[j] = outside;
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
	resize_params p;
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
	for (int d = 0; nz && d < r; d++)
		if (sizes[d] != y->dims[d])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Resize): sizes differ from the output shape",
					  nd->name);
	int bad = resize_scales_roi(r, x->dims, y->dims, ns, scales, nr, roi);
	if (bad >= 0)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Resize): bad scale for dim %d", nd->name, bad);
	int64_t numel = odet_tensor_numel(y), total = 0;
	if (numel <= 0)
		return ODET_OK;
	for (int d = 0; d < r; d++)
		total += y->dims[d];
	int n_taps = resize_n_taps(&p);
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
			resize_taps(&p, 1, j, t->in, scales[d], roi[d], roi[r + d], &t->idx[j], &t->w[j], &outside);
			t->idx[j] = outside ? -1 : t->idx[j] * xs[d];
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
