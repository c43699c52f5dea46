/*
 * unary.c — the unary elementwise family, generated from one op list × one dtype list.
 *
 *   Y = f(X), same shape and dtype. float32/float64 for every op; Relu, Clip, Neg, Abs,
 *   Floor, Ceil (marked ALL in UNARY_OPS) also for int8..int64 and uint8..uint64 (Neg/Abs
 *   wrap like numpy: -INT_MIN = INT_MIN).
 *   Relu        max(x, 0) (NaN propagates)
 *   LeakyRelu   x >= 0 ? x : alpha * x          attr alpha (0.01)
 *   Clip        min(max(x, lo), hi) (hi wins    optional inputs 1 (min), 2 (max): scalars of
 *               when lo > hi; NaN propagates)   X's dtype; omitted = no bound
 *   Sigmoid     1 / (1 + exp(-x)) (exp overflowing to inf gives the right limit 0)
 *   HardSigmoid max(0, min(1, alpha * x + beta)) attrs alpha (0.2), beta (0.5)
 *   HardSwish   x * max(0, min(1, x / 6 + 0.5))
 *   Tanh Exp Log Sqrt Neg Abs Floor Ceil         as in C's <math.h>
 *   Not         bool -> bool (separate: the only bool op)
 * Large tensors are split over the thread pool.
 */
#include "backend/cpu/cpu_util.h"

#include <tgmath.h>
#include <string.h>

/* the integer variants are generic over signedness: "x < 0" is false for unsigned types */
#pragma GCC diagnostic ignored "-Wtype-limits"

typedef struct unary_params {
	double alpha, beta;
	double lo, hi;         /* Clip bounds (float types) */
	int64_t ilo, ihi;      /* Clip bounds (signed int types) */
	uint64_t ulo, uhi;     /* Clip bounds (unsigned int types) */
} unary_params;

/* min(v, hi) and clamp to [0, 1] keeping a NaN v (fmin/fmax would drop it) */
#define fmin_nan(v, hi) ((v) > (hi) ? (hi) : (v))
#define clamp01(v) ((v) < 0 ? (T)0 : (v) > 1 ? (T)1 : (v))

typedef void (*unary_fn)(const unary_params *p, void *y, const void *x, int64_t n);

/*
 * The op list: X(..., ID, TYPES, expression of x (type T), p and
 *   IS_INT, UT (T's unsigned twin), LO/HI (Clip bounds in T))
 * TYPES: ALL = float and integer dtypes, FLOAT = float dtypes only. In ALL expressions the
 * integer-only and float-only branches sit behind IS_INT, so neither is evaluated for the
 * other kind of type.
 */
#define UNARY_OPS(X, ...)                                                                        \
	X(__VA_ARGS__, RELU, ALL, x < 0 ? (T)0 : x)                                              \
	X(__VA_ARGS__, LEAKYRELU, FLOAT, x >= 0 ? x : (T)(p->alpha * x))                         \
	X(__VA_ARGS__, CLIP, ALL, fmin_nan(x < LO ? LO : x, HI))                                 \
	X(__VA_ARGS__, SIGMOID, FLOAT, (T)1 / ((T)1 + exp(-x)))                                  \
	X(__VA_ARGS__, HARDSIGMOID, FLOAT, clamp01((T)(p->alpha * x + p->beta)))                 \
	X(__VA_ARGS__, HARDSWISH, FLOAT, x * clamp01(x / (T)6 + (T)0.5))                         \
	X(__VA_ARGS__, TANH, FLOAT, tanh(x))                                                     \
	X(__VA_ARGS__, EXP, FLOAT, exp(x))                                                       \
	X(__VA_ARGS__, LOG, FLOAT, log(x))                                                       \
	X(__VA_ARGS__, SQRT, FLOAT, sqrt(x))                                                     \
	X(__VA_ARGS__, NEG, ALL, IS_INT ? (T)(UT)(0 - (UT)x) : -x)                               \
	X(__VA_ARGS__, ABS, ALL, IS_INT ? (x < 0 ? (T)(UT)(0 - (UT)x) : x) : (T)fabs(x))         \
	X(__VA_ARGS__, FLOOR, ALL, IS_INT ? x : (T)floor(x))                                     \
	X(__VA_ARGS__, CEIL, ALL, IS_INT ? x : (T)ceil(x))

#define DEF_FN(S, TYPE, UTYPE, ID, EXPR)                                                         \
	static void unary_##ID##_##S(const unary_params *p, void *yv, const void *xv, int64_t n) \
	{                                                                                        \
		typedef TYPE T;                                                                  \
		typedef UTYPE UT;                                                                \
		T *y = yv;                                                                       \
		const T *xs = xv;                                                                \
		const bool IS_INT = (T)0.5 == 0, is_signed = (T)-1 < 0;                          \
		const T LO = !IS_INT ? (T)p->lo : is_signed ? (T)p->ilo : (T)p->ulo;             \
		const T HI = !IS_INT ? (T)p->hi : is_signed ? (T)p->ihi : (T)p->uhi;             \
		(void)LO; (void)HI; (void)(UT)0; (void)IS_INT;                                   \
		for (int64_t i = 0; i < n; i++) {                                                \
			T x = xs[i];                                                             \
			y[i] = (EXPR);                                                           \
		}                                                                                \
	}
/* float types get every op, integer types the ALL ones */
#define DEF_FLOAT_OP(S, T, UT, ID, TYPES, EXPR) DEF_FN(S, T, UT, ID, EXPR)
#define DEF_INT_OP(S, T, UT, ID, TYPES, EXPR) DEF_INT_OP_##TYPES(S, T, UT, ID, EXPR)
#define DEF_INT_OP_ALL(S, T, UT, ID, EXPR) DEF_FN(S, T, UT, ID, EXPR)
#define DEF_INT_OP_FLOAT(S, T, UT, ID, EXPR)
#define DEF_FLOAT_TYPE(S, T, UT) UNARY_OPS(DEF_FLOAT_OP, S, T, UT)
#define DEF_INT_TYPE(S, T, UT) UNARY_OPS(DEF_INT_OP, S, T, UT)
CPU_FLOAT_TYPES(DEF_FLOAT_TYPE)
CPU_INT_TYPES(DEF_INT_TYPE)

typedef struct unary_entry {
	ir_op op;
	odet_dtype dtype;
	unary_fn fn;
} unary_entry;

#define ENTRY(S, ID) {IR_OP_##ID, ODET_##S, unary_##ID##_##S},
#define ENTRY_FLOAT_OP(S, T, UT, ID, TYPES, EXPR) ENTRY(S, ID)
#define ENTRY_INT_OP(S, T, UT, ID, TYPES, EXPR) ENTRY_INT_OP_##TYPES(S, ID)
#define ENTRY_INT_OP_ALL(S, ID) ENTRY(S, ID)
#define ENTRY_INT_OP_FLOAT(S, ID)
#define ENTRY_FLOAT_TYPE(S, T, UT) UNARY_OPS(ENTRY_FLOAT_OP, S, T, UT)
#define ENTRY_INT_TYPE(S, T, UT) UNARY_OPS(ENTRY_INT_OP, S, T, UT)

static const unary_entry unary_table[] = {
	CPU_FLOAT_TYPES(ENTRY_FLOAT_TYPE)
	CPU_INT_TYPES(ENTRY_INT_TYPE)
};

static unary_fn unary_lookup(ir_op op, odet_dtype t)
{
	for (size_t i = 0; i < sizeof unary_table / sizeof unary_table[0]; i++)
		if (unary_table[i].op == op && unary_table[i].dtype == t)
			return unary_table[i].fn;
	return NULL;
}

static odet_status unary_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s needs one input and one output",
				  n->name, ir_op_name(n->op));
	if (!unary_lookup(n->op, x->dtype) || y->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s: dtype %s is not supported on CPU",
				  n->name, ir_op_name(n->op), odet_dtype_name(x->dtype));
	for (int i = 1; i < n->n_in && n->op == IR_OP_CLIP; i++) {
		const ir_value *b = ir_in(g, n, i);
		if (b && b->dtype != x->dtype)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Clip bound %d has dtype %s, X has %s",
					  n->name, i, odet_dtype_name(b->dtype), odet_dtype_name(x->dtype));
	}
	return ODET_OK;
}

typedef struct unary_job {
	unary_fn fn;
	const unary_params *p;
	char *y;
	const char *x;
	size_t esz;
} unary_job;

static void unary_range(void *arg, int64_t b, int64_t e, int thread)
{
	const unary_job *j = arg;
	j->fn(j->p, j->y + b * (int64_t)j->esz, j->x + b * (int64_t)j->esz, e - b);
}

/* Read Clip bound input i (a one-element tensor of X's dtype) into p. */
static odet_status clip_bound(const be_run_args *a, int i, unary_params *p)
{
	const odet_tensor *t = &a->in[i];
	if (i >= a->n_in || !t->data)
		return ODET_OK;
	if (odet_tensor_numel(t) != 1 || t->dtype != a->in[0].dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Clip): bound %d must be one element of X's dtype",
				  a->node->name, i);
	double f = 0;
	int64_t s = 0;
	uint64_t u = 0;
	switch (t->dtype) {
	case ODET_F32: f = *(const float *)t->data; break;
	case ODET_F64: f = *(const double *)t->data; break;
	case ODET_I8: s = *(const int8_t *)t->data; break;
	case ODET_I16: s = *(const int16_t *)t->data; break;
	case ODET_I32: s = *(const int32_t *)t->data; break;
	case ODET_I64: s = *(const int64_t *)t->data; break;
	case ODET_U8: u = *(const uint8_t *)t->data; break;
	case ODET_U16: u = *(const uint16_t *)t->data; break;
	case ODET_U32: u = *(const uint32_t *)t->data; break;
	case ODET_U64: u = *(const uint64_t *)t->data; break;
	default: break;
	}
	if (i == 1) {
		p->lo = f;
		p->ilo = s;
		p->ulo = u;
	} else {
		p->hi = f;
		p->ihi = s;
		p->uhi = u;
	}
	return ODET_OK;
}

/* Extreme values of the integer dtype t: the defaults of omitted Clip bounds. */
static void int_limits(odet_dtype t, int64_t *smin, int64_t *smax, uint64_t *umax)
{
	*smin = 0;
	*smax = 0;
	*umax = 0;
	switch (t) {
	case ODET_I8: *smin = INT8_MIN; *smax = INT8_MAX; break;
	case ODET_I16: *smin = INT16_MIN; *smax = INT16_MAX; break;
	case ODET_I32: *smin = INT32_MIN; *smax = INT32_MAX; break;
	case ODET_I64: *smin = INT64_MIN; *smax = INT64_MAX; break;
	case ODET_U8: *umax = UINT8_MAX; break;
	case ODET_U16: *umax = UINT16_MAX; break;
	case ODET_U32: *umax = UINT32_MAX; break;
	case ODET_U64: *umax = UINT64_MAX; break;
	default: break;
	}
}

static odet_status unary_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	unary_fn fn = unary_lookup(n->op, x->dtype);
	int64_t numel = odet_tensor_numel(x);
	if (!fn || numel < 0 || numel != odet_tensor_numel(y) || y->dtype != x->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): bad input/output tensors",
				  n->name, ir_op_name(n->op));
	unary_params p = {0};
	switch (n->op) {
	case IR_OP_LEAKYRELU:
		p.alpha = ir_attr_float(n, "alpha", 0.01f);
		break;
	case IR_OP_HARDSIGMOID:
		p.alpha = ir_attr_float(n, "alpha", 0.2f);
		p.beta = ir_attr_float(n, "beta", 0.5f);
		break;
	case IR_OP_CLIP: {
		p.lo = -INFINITY;
		p.hi = INFINITY;
		int_limits(x->dtype, &p.ilo, &p.ihi, &p.uhi);
		for (int i = 1; i <= 2; i++) {
			odet_status rc = clip_bound(a, i, &p);
			if (rc)
				return rc;
		}
		break;
	}
	default:
		break;
	}
	unary_job j = {.fn = fn, .p = &p, .y = y->data, .x = x->data, .esz = odet_dtype_size(x->dtype)};
	odet_parallel_for(a->pool, numel, CPU_GRAIN, unary_range, &j);
	return ODET_OK;
}

#define KERNEL(ID) const cpu_kernel cpu_kernel_##ID = {.check = unary_check, .run = unary_run};
KERNEL(RELU)
KERNEL(LEAKYRELU)
KERNEL(CLIP)
KERNEL(SIGMOID)
KERNEL(HARDSIGMOID)
KERNEL(HARDSWISH)
KERNEL(TANH)
KERNEL(EXP)
KERNEL(LOG)
KERNEL(SQRT)
KERNEL(NEG)
KERNEL(ABS)
KERNEL(FLOOR)
KERNEL(CEIL)

/* Not: bool -> bool, y = !x. */
static odet_status not_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	static const odet_dtype ok[] = {ODET_BOOL, 0};
	return cpu_check_dtype(ctx, g, n, false, 0, ok);
}

static void not_range(void *arg, int64_t b, int64_t e, int thread)
{
	const unary_job *j = arg;
	uint8_t *y = (uint8_t *)j->y;
	const uint8_t *x = (const uint8_t *)j->x;
	for (int64_t i = b; i < e; i++)
		y[i] = !x[i];
}

static odet_status not_run(const be_run_args *a)
{
	int64_t numel = odet_tensor_numel(&a->in[0]);
	if (numel < 0 || numel != odet_tensor_numel(&a->out[0]))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Not): bad input/output tensors", a->node->name);
	unary_job j = {.y = a->out[0].data, .x = a->in[0].data};
	odet_parallel_for(a->pool, numel, CPU_GRAIN, not_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_NOT = {.check = not_check, .run = not_run};
