/*
 * reduce.c — ReduceSum, ReduceMean, ReduceMax, ReduceL2 (opset 18 form; L2 = sqrt of the sum
 * of squares, float dtypes only).
 *   X: float32/float64/int8..int64/uint8..uint64. Optional input 1 `axes` (int64, may be
 *   empty or omitted: all axes, or with attr noop_with_empty_axes = 1 the identity).
 *   attr keepdims (1). Y has X's dtype.
 *   Sums accumulate in double (floats; a contiguous run in four partial sums) or 64-bit
 *   integers; Mean of integers truncates toward zero; Max of an empty set is -inf (floats) /
 *   the dtype's minimum; Max propagates NaN.
 *   Each output element walks its reduced sub-space (adjacent reduced dims merged);
 *   output elements are split over the thread pool.
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wtype-limits"

typedef struct reduce_job {
	const void *x;
	void *y;
	ir_op op;
	int nk, nr;                         /* kept / reduced dims */
	int64_t kdims[ODET_MAX_RANK], kstr[ODET_MAX_RANK];
	int64_t rdims[ODET_MAX_RANK], rstr[ODET_MAX_RANK];
	int64_t rcount;                     /* elements per reduction */
} reduce_job;

/* Offset (elements) into X of the first element of output o's reduction. */
static int64_t reduce_base(const reduce_job *j, int64_t o)
{
	int64_t off = 0;
	for (int d = j->nk - 1; d >= 0; d--) {
		off += (o % j->kdims[d]) * j->kstr[d];
		o /= j->kdims[d];
	}
	return off;
}

/* Sum of n contiguous elements in double, four partial sums (the inner loop of Mean and Sum
 * over the last dims, e.g. NCHW's H*W: a single running sum waits on each add's latency) */
#define DEF_SUM_CONTIG(S, TYPE, UTYPE)                                                          \
	static double sum_contig_##S(const TYPE *p, int64_t n)                                 \
	{                                                                                       \
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                          \
		int64_t i = 0;                                                                  \
		for (; i + 4 <= n; i += 4) {                                                    \
			s0 += (double)p[i];                                                     \
			s1 += (double)p[i + 1];                                                 \
			s2 += (double)p[i + 2];                                                 \
			s3 += (double)p[i + 3];                                                 \
		}                                                                               \
		for (; i < n; i++)                                                              \
			s0 += (double)p[i];                                                     \
		return (s0 + s1) + (s2 + s3);                                                   \
	}
CPU_NUM_TYPES(DEF_SUM_CONTIG)

#define DEF_REDUCE(S, TYPE, UTYPE)                                                              \
	static void reduce_##S(const reduce_job *j, int64_t b, int64_t e)                      \
	{                                                                                       \
		typedef TYPE T;                                                                 \
		const bool is_int = (T)0.5 == 0;                                                \
		const T *x = j->x;                                                              \
		T *y = j->y;                                                                    \
		int r = j->nr;                                                                  \
		int64_t in = r ? j->rdims[r - 1] : 1, is = r ? j->rstr[r - 1] : 0;             \
		for (int64_t o = b; o < e; o++) {                                               \
			int64_t base = reduce_base(j, o), c[ODET_MAX_RANK] = {0}, off = 0;     \
			double fs = 0;                                                          \
			uint64_t us = 0; /* integer sums wrap like the output dtype */         \
			T m = is_int ? (T)((T)-1 < 0 ? -(int64_t)(((uint64_t)1 << (sizeof(T) * 8 - 1)) - 1) - 1 : 0) \
				     : (T)-INFINITY;                                            \
			if (j->rcount == 0)                                                     \
				goto store;                                                     \
			for (;;) {                                                              \
				const T *p = x + base + off;                                    \
				if (j->op == IR_OP_REDUCEMAX) {                                 \
					for (int64_t i = 0; i < in; i++) {                      \
						T v = p[i * is];                                \
						if (v > m || v != v)                            \
							m = v;                                  \
					}                                                       \
				} else if (is_int) {                                            \
					for (int64_t i = 0; i < in; i++)                        \
						us += (uint64_t)(int64_t)p[i * is];             \
				} else if (is == 1 && j->op != IR_OP_REDUCEL2) {                \
					fs += sum_contig_##S(p, in);                            \
				} else {                                                        \
					for (int64_t i = 0; i < in; i++)                        \
						fs += j->op == IR_OP_REDUCEL2 ? (double)p[i * is] * (double)p[i * is] \
									       : (double)p[i * is];             \
				}                                                               \
				int d = r - 2;                                                  \
				for (; d >= 0; d--) {                                           \
					off += j->rstr[d];                                      \
					if (++c[d] < j->rdims[d])                               \
						break;                                          \
					off -= c[d] * j->rstr[d];                               \
					c[d] = 0;                                               \
				}                                                               \
				if (d < 0)                                                      \
					break;                                                  \
			}                                                                       \
		store:                                                                          \
			if (j->op == IR_OP_REDUCEMAX)                                           \
				y[o] = m;                                                       \
			else if (is_int)                                                        \
				y[o] = j->op != IR_OP_REDUCEMEAN ? (T)us :                      \
				       (T)-1 < 0 ? (T)((int64_t)us / j->rcount) : (T)(us / (uint64_t)j->rcount); \
			else                                                                    \
				y[o] = (T)(j->op == IR_OP_REDUCEMEAN ? fs / (double)j->rcount     \
					   : j->op == IR_OP_REDUCEL2 ? sqrt(fs) : fs);            \
		}                                                                               \
	}
CPU_NUM_TYPES(DEF_REDUCE)

typedef void (*reduce_fn)(const reduce_job *j, int64_t b, int64_t e);

static reduce_fn reduce_lookup(odet_dtype t)
{
	switch (t) {
#define CASE(S, T, UT) case ODET_##S: return reduce_##S;
	CPU_NUM_TYPES(CASE)
#undef CASE
	default: return NULL;
	}
}

typedef struct reduce_task {
	reduce_fn fn;
	const reduce_job *j;
} reduce_task;

static void reduce_range(void *arg, int64_t b, int64_t e, int thread)
{
	const reduce_task *t = arg;
	t->fn(t->j, b, e);
}

static odet_status reduce_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || !ir_out(g, n, 0))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': %s needs an input", n->name, ir_op_name(n->op));
	if (ir_attr_get(n, "axes"))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s: attribute axes (want input 1)", n->name,
				  ir_op_name(n->op));
	bool is_float = x->dtype == ODET_F32 || x->dtype == ODET_F64;
	if (!reduce_lookup(x->dtype) || ir_out(g, n, 0)->dtype != x->dtype || (n->op == IR_OP_REDUCEL2 && !is_float))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s: dtype %s is not supported on CPU", n->name,
				  ir_op_name(n->op), odet_dtype_name(x->dtype));
	return ODET_OK;
}

static odet_status reduce_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t axes[ODET_MAX_RANK];
	int n_axes = 0;
	bool red[ODET_MAX_RANK] = {false};
	if (a->n_in > 1 && a->in[1].data) {
		odet_status rc = cpu_read_ints(a, 1, axes, ODET_MAX_RANK, &n_axes);
		if (rc)
			return rc;
	}
	int64_t numel = odet_tensor_numel(x), ynumel = odet_tensor_numel(y);
	size_t esz = odet_dtype_size(x->dtype);
	if (n_axes == 0 && ir_attr_int(nd, "noop_with_empty_axes", 0)) {
		if (numel != ynumel || y->dtype != x->dtype)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): output shape mismatch", nd->name,
					  ir_op_name(nd->op));
		if (numel > 0)
			memcpy(y->data, x->data, (size_t)numel * esz);
		return ODET_OK;
	}
	for (int i = 0; i < n_axes; i++) {
		int ax;
		if (!odet_norm_axis(axes[i], x->rank, &ax))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): axis %lld out of range", nd->name,
					  ir_op_name(nd->op), (long long)axes[i]);
		red[ax] = true;
	}
	if (n_axes == 0)
		for (int d = 0; d < x->rank; d++)
			red[d] = true;
	reduce_job j = {.x = x->data, .y = y->data, .op = nd->op, .rcount = 1};
	int64_t str[ODET_MAX_RANK], kept = 1;
	cpu_strides(x, str);
	for (int d = 0; d < x->rank; d++) {
		if (red[d]) {
			j.rcount *= x->dims[d];
			if (x->dims[d] == 1)
				continue;
			if (j.nr > 0 && red[d - 1] && j.rstr[j.nr - 1] == str[d] * x->dims[d]) {
				j.rdims[j.nr - 1] *= x->dims[d];
				j.rstr[j.nr - 1] = str[d];
				continue;
			}
			j.rdims[j.nr] = x->dims[d];
			j.rstr[j.nr++] = str[d];
		} else {
			kept *= x->dims[d];
			j.kdims[j.nk] = x->dims[d];
			j.kstr[j.nk++] = str[d];
		}
	}
	if (numel < 0 || kept != ynumel || y->dtype != x->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): output shape mismatch", nd->name,
				  ir_op_name(nd->op));
	if (j.rcount == 0)
		j.nr = 0;
	reduce_task t = {.fn = reduce_lookup(x->dtype), .j = &j};
	if (!t.fn)
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): dtype not supported", nd->name,
				  ir_op_name(nd->op));
	int64_t grain = CPU_GRAIN / (j.rcount ? j.rcount : 1) + 1;
	odet_parallel_for(a->pool, kept, grain, reduce_range, &t);
	return ODET_OK;
}

#define KERNEL(ID) const cpu_kernel cpu_kernel_##ID = {.check = reduce_check, .run = reduce_run};
KERNEL(REDUCESUM)
KERNEL(REDUCEMEAN)
KERNEL(REDUCEMAX)
KERNEL(REDUCEL2)
