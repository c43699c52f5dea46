/*
 * argmax.c — ArgMax over one axis.
 *   X: float32/float64/int8..int64/uint8..uint64; attrs axis (0), keepdims (1),
 *   select_last_index (0). Y: int64 indices. Ties go to the first index (or the last with
 *   select_last_index); a NaN wins like numpy's argmax. Viewed as [outer, n, inner].
 */
#include "backend/cpu/cpu_util.h"

typedef struct argmax_job {
	const void *x;
	int64_t *y;
	int64_t n, inner;
	bool last;
} argmax_job;

#define DEF_ARGMAX(S, TYPE, UTYPE)                                                          \
	static void argmax_##S(void *arg, int64_t b, int64_t e, int thread)                \
	{                                                                                   \
		const argmax_job *j = arg;                                                  \
		const TYPE *x = j->x;                                                       \
		for (int64_t t = b; t < e; t++) {                                           \
			int64_t o = t / j->inner, i = t % j->inner;                         \
			const TYPE *p = x + o * j->n * j->inner + i;                        \
			int64_t best = 0;                                                   \
			TYPE bv = p[0];                                                     \
			for (int64_t k = 1; k < j->n; k++) {                                \
				TYPE v = p[k * j->inner];                                   \
				if (bv != bv)                                               \
					break;                                              \
				if (v > bv || v != v || (j->last && v == bv)) {             \
					bv = v;                                             \
					best = k;                                           \
				}                                                           \
			}                                                                   \
			j->y[t] = best;                                                     \
		}                                                                           \
	}
CPU_NUM_TYPES(DEF_ARGMAX)

static odet_range_fn argmax_lookup(odet_dtype t)
{
	switch (t) {
#define CASE(S, T, UT) case ODET_##S: return argmax_##S;
	CPU_NUM_TYPES(CASE)
#undef CASE
	default: return NULL;
	}
}

static odet_status argmax_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': ArgMax needs one input", n->name);
	if (!argmax_lookup(x->dtype) || y->dtype != ODET_I64)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': ArgMax: dtype %s is not supported on CPU",
				  n->name, odet_dtype_name(x->dtype));
	return ODET_OK;
}

static odet_status argmax_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int axis;
	if (!odet_norm_axis(ir_attr_int(a->node, "axis", 0), x->rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (ArgMax): axis out of range", a->node->name);
	int64_t outer, inner;
	odet_dims_split(x->dims, x->rank, axis, &outer, &inner);
	if (x->dims[axis] == 0 && outer * inner > 0)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (ArgMax): empty axis", a->node->name);
	if (odet_tensor_numel(&a->out[0]) != outer * inner)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (ArgMax): output shape mismatch", a->node->name);
	argmax_job j = {.x = x->data, .y = a->out[0].data, .n = x->dims[axis], .inner = inner,
			.last = ir_attr_int(a->node, "select_last_index", 0) != 0};
	odet_parallel_for(a->pool, outer * inner, CPU_GRAIN / (j.n + 1) + 1, argmax_lookup(x->dtype), &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_ARGMAX = {.check = argmax_check, .run = argmax_run};
