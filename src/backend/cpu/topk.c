/*
 * topk.c — TopK(X, K) along attr axis (-1): the K largest (attr largest = 1) or smallest
 *   elements. X: float32/float64/int32/int64; K: int64 tensor of one element, 0 <= K <= dim.
 *   Outputs Values (X's dtype) and Indices (int64), both X's shape with dim axis = K.
 *   Order: by value (descending for largest), ties broken by the lower index; the output
 *   is always sorted (attr sorted = 0 allows any order). NaN counts as larger than any
 *   number (it comes first for largest, last for smallest), like numpy's sort order.
 *   int64 values are compared as doubles (exact up to 2^53).
 *   Per slice: (value, index) pairs in the workspace, sorted with qsort; the first K are kept.
 */
#include "backend/cpu/cpu_util.h"

#include <stdlib.h>
#include <string.h>

typedef struct topk_pair {
	double v;
	int64_t i;
} topk_pair;

/* a before b? (largest first) */
static int cmp_largest(const void *pa, const void *pb)
{
	const topk_pair *a = pa, *b = pb;
	bool an = a->v != a->v, bn = b->v != b->v;
	if (an != bn)
		return an ? -1 : 1;
	if (!an && a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_smallest(const void *pa, const void *pb)
{
	const topk_pair *a = pa, *b = pb;
	bool an = a->v != a->v, bn = b->v != b->v;
	if (an != bn)
		return an ? 1 : -1;
	if (!an && a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static double load(odet_dtype t, const void *x, int64_t i)
{
	switch (t) {
	case ODET_F32: return ((const float *)x)[i];
	case ODET_F64: return ((const double *)x)[i];
	case ODET_I32: return ((const int32_t *)x)[i];
	default: return 0;
	}
}

static odet_status topk_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	static const odet_dtype ok[] = {ODET_F32, ODET_F64, ODET_I32, ODET_I64, 0};
	if (!ir_in(g, n, 0) || !ir_in(g, n, 1) || n->n_out != 2)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': TopK needs inputs X, K and two outputs", n->name);
	return cpu_check_dtype(ctx, g, n, false, 0, ok);
}

/* Workspace: one (value, index) pair per element of the sorted axis. */
static odet_status topk_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	const ir_value *x = ir_in(g, n, 0);
	int axis;
	*workspace = 0;
	if (!ir_value_shape_known(x) || !cpu_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis) ||
	    !cpu_ws_add(workspace, (size_t)x->dims[axis], sizeof(topk_pair)))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': TopK needs a known input shape and a valid axis",
				  n->name);
	return ODET_OK;
}

static odet_status topk_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *vals = &a->out[0], *idx = &a->out[1];
	int64_t kv[1];
	int nk, axis;
	odet_status rc = cpu_read_ints(a, 1, kv, 1, &nk);
	if (rc)
		return rc;
	if (!cpu_norm_axis(ir_attr_int(nd, "axis", -1), x->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): axis out of range", nd->name);
	int64_t n = x->dims[axis], k = nk == 1 ? kv[0] : -1;
	if (k < 0 || k > n)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): K = %lld outside [0, %lld]", nd->name,
				  (long long)k, (long long)n);
	int64_t outer = 1, inner = 1;
	for (int d = 0; d < x->rank; d++) {
		if (d < axis)
			outer *= x->dims[d];
		else if (d > axis)
			inner *= x->dims[d];
	}
	if (odet_tensor_numel(vals) != outer * k * inner || odet_tensor_numel(idx) != outer * k * inner ||
	    vals->dtype != x->dtype || idx->dtype != ODET_I64)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): output shape/dtype mismatch", nd->name);
	if (outer * inner * k == 0)
		return ODET_OK;
	cpu_ws ws = {a->workspace, a->workspace_size};
	topk_pair *buf = cpu_ws_take(&ws, (size_t)n, sizeof *buf);
	if (!buf)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (TopK): workspace of %zu bytes is too small",
				  nd->name, a->workspace_size);
	bool largest = ir_attr_int(nd, "largest", 1) != 0;
	size_t esz = odet_dtype_size(x->dtype);
	for (int64_t o = 0; o < outer; o++) {
		for (int64_t i = 0; i < inner; i++) {
			int64_t base = o * n * inner + i;
			for (int64_t e = 0; e < n; e++) {
				int64_t src = base + e * inner;
				buf[e].v = x->dtype == ODET_I64 ? (double)((const int64_t *)x->data)[src]
								: load(x->dtype, x->data, src);
				buf[e].i = e;
			}
			qsort(buf, (size_t)n, sizeof *buf, largest ? cmp_largest : cmp_smallest);
			int64_t obase = o * k * inner + i;
			for (int64_t e = 0; e < k; e++) {
				int64_t dst = obase + e * inner, src = base + buf[e].i * inner;
				memcpy((char *)vals->data + dst * (int64_t)esz, (const char *)x->data + src * (int64_t)esz, esz);
				((int64_t *)idx->data)[dst] = buf[e].i;
			}
		}
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_TOPK = {.check = topk_check, .prepare = topk_prepare, .run = topk_run};
