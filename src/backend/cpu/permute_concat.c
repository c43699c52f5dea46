/*
 * permute_concat.c — PermuteConcat (ops.def; made by passes/fuse_concat_views.c):
 *   Y = Cast_to(Concat_axis(view_0(X_0), ..., view_n(X_n))), view_i = X_i seen as the shape
 *   vshape_i with strides vstride_i from element voffset_i (default: row-major, offset 0),
 *   permuted by vperm_i (view dim j = vshape_i[vperm_i[j]]), flattened and read as Y's dims
 *   with L_i = prod(vshape_i) / (outer * inner) at the axis.
 *   Y viewed as [outer, sum L_i, inner]: element f of view_i's flat order lands at
 *   (f / (L_i*inner)) * (sum L_i * inner) + off_i * inner + f % (L_i*inner).
 *   Same dtype: bytes copied (any fixed-size dtype); float16 <-> float32: converted, round to
 *   nearest even.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status pc_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0), *x = ir_in(g, n, 0);
	if (!x || !y || !odet_dtype_size(x->dtype) || !odet_dtype_size(y->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (PermuteConcat): unsupported dtype", n->name);
	if (x->dtype != y->dtype && !((x->dtype == ODET_F16 || x->dtype == ODET_F32) &&
				      (y->dtype == ODET_F16 || y->dtype == ODET_F32)))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (PermuteConcat): dtype change not supported",
				  n->name);
	return ODET_OK;
}

static void put(void *y, int64_t yi, const void *x, int64_t xi, odet_dtype xt, odet_dtype yt, size_t es)
{
	if (xt == yt) {
		memcpy((char *)y + (size_t)yi * es, (const char *)x + (size_t)xi * es, es);
	} else if (xt == ODET_F16) {
		((float *)y)[yi] = odet_f16_to_f32(((const uint16_t *)x)[xi]);
	} else {
		((uint16_t *)y)[yi] = odet_f32_to_f16(((const float *)x)[xi]);
	}
}

static odet_status pc_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	odet_tensor *y = &a->out[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(n, "axis", 0), y->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PermuteConcat): bad attributes", n->name);
	int64_t outer, inner;
	odet_dims_split(y->dims, y->rank, axis, &outer, &inner);
	size_t es = odet_dtype_size(y->dtype);
	int64_t ystride = y->dims[axis] * inner, off = 0;
	for (int i = 0; i < a->n_in; i++) {
		const odet_tensor *x = &a->in[i];
		int64_t xn = odet_tensor_numel(x), vd[IR_VIEW_MAX], st[IR_VIEW_MAX];
		ir_view v;
		if (!ir_permute_view(n, i, &v))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PermuteConcat): bad attributes", n->name);
		int r = v.r;
		int64_t numel = v.numel;
		if (v.last >= xn || (v.dense && numel != xn) || outer * inner <= 0 || numel % (outer * inner))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PermuteConcat): input %d's view (%lld elements) does not fit the input (%lld) or the output",
					  n->name, i, (long long)numel, (long long)xn);
		for (int j = 0; j < r; j++) {
			vd[j] = v.dims[v.perm[j]];
			st[j] = v.strides[v.perm[j]];
		}
		int64_t seg = numel / outer, idx[IR_VIEW_MAX] = {0}, src = v.off, o = 0, rem = 0;
		if (off + seg / inner > y->dims[axis])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PermuteConcat): inputs exceed the output",
					  n->name);
		/* rows of the innermost view dim: one memcpy per run when it is contiguous in the
		 * source and the dtype stays (a run also ends at an output row's end) */
		bool runs = st[r - 1] == 1 && x->dtype == y->dtype;
		int64_t row = runs ? vd[r - 1] : 1;
		for (int64_t f = 0; f < numel; f += row) {
			if (runs) {
				for (int64_t done = 0; done < row;) {
					int64_t n_ = row - done < seg - rem ? row - done : seg - rem;
					memcpy((char *)y->data + (size_t)(o * ystride + off * inner + rem) * es,
					       (const char *)x->data + (size_t)(src + done) * es, (size_t)n_ * es);
					done += n_;
					if ((rem += n_) == seg) {
						rem = 0;
						o++;
					}
				}
			} else {
				put(y->data, o * ystride + off * inner + rem, x->data, src, x->dtype, y->dtype, es);
				if (++rem == seg) {
					rem = 0;
					o++;
				}
			}
			for (int j = r - (runs ? 2 : 1); j >= 0; j--) { /* odometer over the view's dims */
				src += st[j];
				if (++idx[j] < vd[j])
					break;
				src -= st[j] * vd[j];
				idx[j] = 0;
			}
		}
		off += seg / inner;
	}
	if (off != y->dims[axis])
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (PermuteConcat): inputs add up to %lld along the axis, the output has %lld",
				  n->name, (long long)off, (long long)y->dims[axis]);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_PERMUTE_CONCAT = {.check = pc_check, .run = pc_run};
