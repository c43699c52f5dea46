/*
 * topk.c — TopK(X, K) along attr axis (-1): the K largest (attr largest = 1) or smallest
 *   elements. X: float32/float64/int32/int64; K: int64 tensor of one element, 0 <= K <= dim.
 *   Outputs Values (X's dtype) and Indices (int64), both X's shape with dim axis = K.
 *   Order: by value (descending for largest), ties broken by the lower index; the output
 *   is always sorted (attr sorted = 0 allows any order). NaN counts as larger than any
 *   number (it comes first for largest, last for smallest), like numpy's sort order.
 *   int64 values are compared as doubles (exact up to 2^53).
 *   Per slice a heap of the best K (value, index) pairs (O(n log K)), then qsort of the K;
 *   slices are split over the thread pool, one heap per thread in the workspace.
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

typedef int (*topk_cmp)(const void *, const void *);

/* Sift h[i] down a heap whose root is the element that sorts last (the one to evict). */
static void heap_down(topk_pair *h, int64_t n, int64_t i, topk_cmp cmp)
{
	for (;;) {
		int64_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && cmp(&h[c + 1], &h[c]) > 0)
			c++;
		if (cmp(&h[c], &h[i]) <= 0)
			return;
		topk_pair t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
}

static void heap_up(topk_pair *h, int64_t i, topk_cmp cmp)
{
	while (i > 0) {
		int64_t p = (i - 1) / 2;
		if (cmp(&h[i], &h[p]) <= 0)
			return;
		topk_pair t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

typedef struct topk_job {
	const odet_tensor *x;
	odet_tensor *vals, *idx;
	int64_t n, k, inner;
	topk_cmp cmp;
	topk_pair *heaps;       /* k pairs per thread */
} topk_job;

/* Slices [b, e) (slice = outer * inner + i): keep the best k in a heap, then sort them. */
static void topk_range(void *arg, int64_t b, int64_t e, int thread)
{
	const topk_job *j = arg;
	topk_pair *h = j->heaps + (int64_t)thread * j->k;
	size_t esz = odet_dtype_size(j->x->dtype);
	for (int64_t sl = b; sl < e; sl++) {
		int64_t o = sl / j->inner, i = sl % j->inner, base = o * j->n * j->inner + i, m = 0;
		for (int64_t el = 0; el < j->n; el++) {
			int64_t src = base + el * j->inner;
			topk_pair c = {j->x->dtype == ODET_I64 ? (double)((const int64_t *)j->x->data)[src]
							       : load(j->x->dtype, j->x->data, src), el};
			if (m < j->k) {
				h[m] = c;
				heap_up(h, m++, j->cmp);
			} else if (j->cmp(&c, &h[0]) < 0) {
				h[0] = c;
				heap_down(h, m, 0, j->cmp);
			}
		}
		qsort(h, (size_t)m, sizeof *h, j->cmp);
		int64_t obase = o * j->k * j->inner + i;
		for (int64_t el = 0; el < j->k; el++) {
			int64_t dst = obase + el * j->inner, src = base + h[el].i * j->inner;
			memcpy((char *)j->vals->data + dst * (int64_t)esz, (const char *)j->x->data + src * (int64_t)esz, esz);
			((int64_t *)j->idx->data)[dst] = h[el].i;
		}
	}
}

/* Workspace: per thread of the context's pool, one (value, index) pair per element of the
 * axis (K <= dim; K itself is a run-time input). */
static odet_status topk_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	const ir_value *x = ir_in(g, n, 0);
	int axis, threads = ctx->pool ? odet_threadpool_size(ctx->pool) : 1;
	*workspace = 0;
	if (!ir_value_shape_known(x) || !odet_norm_axis(ir_attr_int(n, "axis", -1), x->rank, &axis) ||
	    !cpu_ws_add(workspace, (size_t)x->dims[axis] * (size_t)threads, sizeof(topk_pair)))
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
	if (!odet_norm_axis(ir_attr_int(nd, "axis", -1), x->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): axis out of range", nd->name);
	int64_t n = x->dims[axis], k = nk == 1 ? kv[0] : -1;
	if (k < 0 || k > n)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): K = %lld outside [0, %lld]", nd->name,
				  (long long)k, (long long)n);
	int64_t outer, inner;
	odet_dims_split(x->dims, x->rank, axis, &outer, &inner);
	if (odet_tensor_numel(vals) != outer * k * inner || odet_tensor_numel(idx) != outer * k * inner ||
	    vals->dtype != x->dtype || idx->dtype != ODET_I64)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (TopK): output shape/dtype mismatch", nd->name);
	if (outer * inner * k == 0)
		return ODET_OK;
	topk_job j = {.x = x, .vals = vals, .idx = idx, .n = n, .k = k, .inner = inner,
		      .cmp = ir_attr_int(nd, "largest", 1) ? cmp_largest : cmp_smallest, .heaps = a->workspace};
	int threads = a->pool ? odet_threadpool_size(a->pool) : 1;
	size_t per = (size_t)k * sizeof(topk_pair);
	if (!a->workspace || a->workspace_size < per)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (TopK): workspace of %zu bytes is too small",
				  nd->name, a->workspace_size);
	/* one heap per thread; with less workspace than that, run on the calling thread */
	odet_threadpool *pool = a->workspace_size >= per * (size_t)threads ? a->pool : NULL;
	odet_parallel_for(pool, outer * inner, CPU_GRAIN / n + 1, topk_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_TOPK = {.check = topk_check, .prepare = topk_prepare, .run = topk_run};
