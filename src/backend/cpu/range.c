/*
 * range.c — Range(start, limit, delta): y[i] = start + i * delta for
 *   i < max(ceil((limit - start) / delta), 0) (the output's length, from shape inference).
 *   Scalars of one dtype: float32, float64, int16, int32, int64.
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>

#define RANGE_TYPES(X) X(F32, float) X(F64, double) X(I16, int16_t) X(I32, int32_t) X(I64, int64_t)

static odet_status range_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	static const odet_dtype ok[] = {ODET_F32, ODET_F64, ODET_I16, ODET_I32, ODET_I64, 0};
	const ir_value *s = ir_in(g, n, 0), *l = ir_in(g, n, 1), *d = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (!s || !l || !d || !y || l->dtype != s->dtype || d->dtype != s->dtype || y->dtype != s->dtype)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Range needs start, limit, delta of one dtype", n->name);
	return cpu_check_dtype(ctx, g, n, false, 0, ok);
}

/* range_F32 ...: fill y's n elements, refusing a length that is not the range's */
#define DEF_RANGE(S, T)                                                                                      \
	static odet_status range_##S(const be_run_args *a, odet_tensor *y, int64_t n)                        \
	{                                                                                                    \
		T s = *(const T *)a->in[0].data, l = *(const T *)a->in[1].data, d = *(const T *)a->in[2].data; \
		double want = d == 0 ? -1 : ceil(((double)l - (double)s) / (double)d);                       \
		if (want < 0)                                                                                \
			want = 0;                                                                            \
		if ((double)n != want)                                                                       \
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT,                                        \
					  "node '%s' (Range): output has %lld elements, range has %.0f",     \
					  a->node->name, (long long)n, want);                                \
		for (int64_t i = 0; i < n; i++)                                                              \
			((T *)y->data)[i] = (T)(s + (T)i * d);                                               \
		return ODET_OK;                                                                              \
	}
RANGE_TYPES(DEF_RANGE)
#undef DEF_RANGE

static odet_status range_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	int64_t n = odet_tensor_numel(y);
	for (int i = 0; i < 3; i++)
		if (odet_tensor_numel(&a->in[i]) != 1 || a->in[i].dtype != y->dtype)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Range): input %d must be a scalar of the output dtype",
					  a->node->name, i);
	switch (y->dtype) {
#define CASE(S, T) case ODET_##S: return range_##S(a, y, n);
	RANGE_TYPES(CASE)
#undef CASE
	default:
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Range): dtype %s", a->node->name,
				  odet_dtype_name(y->dtype));
	}
}

const cpu_kernel cpu_kernel_RANGE = {.check = range_check, .run = range_run};
