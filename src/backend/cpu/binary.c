/*
 * binary.c — the broadcasting binary family, generated from one op list × one dtype list.
 *
 *   C = A op B with numpy broadcasting; A, B, C of one dtype: float32, float64, int8..int64,
 *   uint8..uint64.
 *   Add Sub Mul   integer overflow wraps (two's complement) as in numpy
 *   Div           floats: IEEE; integers truncate toward zero; x / 0 = 0 and
 *                 MIN / -1 = MIN (instead of a trap: inputs are untrusted)
 *   Max Min       variadic (1..N inputs, all broadcast); NaN propagates (numpy maximum)
 *   Pow           base float32/float64/int32/int64, exponent of those or uint32/uint64;
 *                 computed as C pow() in double, converted to the base dtype (C conversion,
 *                 truncating toward zero for integer bases); float32 ** 2 is x * x
 * Rows along the last merged dim are specialised for the contiguous/scalar cases so the
 * compiler vectorises them; large outputs are split over the thread pool (cpu_bcast_*).
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>

/* the integer variants are generic over signedness: "b < 0" is false for unsigned types */
#pragma GCC diagnostic ignored "-Wtype-limits"

/* X(..., ID, expression of a, b (type T; UT its unsigned twin)) */
#define BINARY_OPS(X, ...)                                                                   \
	X(__VA_ARGS__, ADD, IS_INT ? (T)((UT)a + (UT)b) : (T)(a + b))                        \
	X(__VA_ARGS__, SUB, IS_INT ? (T)((UT)a - (UT)b) : (T)(a - b))                        \
	X(__VA_ARGS__, MUL, IS_INT ? (T)((UT)a * (UT)b) : (T)(a * b))                        \
	X(__VA_ARGS__, DIV, !IS_INT ? (T)(a / b) : b == 0 ? (T)0 :                             \
			    (b < 0 && b == (T)-1) ? (T)(0 - (UT)a) : (T)(a / b))               \
	X(__VA_ARGS__, MAX, (a > b || a != a) ? a : b)                                       \
	X(__VA_ARGS__, MIN, (a < b || a != a) ? a : b)

/* One row: y[i] = f(a[i * sa], b[i * sb]), with the common stride patterns split out. */
#define DEF_ROW(S, TYPE, UTYPE, ID, EXPR)                                                    \
	static void binary_##ID##_##S(const void *p, void *yv, const void *const *x,        \
				      const int64_t *sx, int64_t n)                          \
	{                                                                                    \
		typedef TYPE T;                                                              \
		typedef UTYPE UT;                                                            \
		const bool IS_INT = (T)0.5 == 0;                                             \
		T *y = yv;                                                                   \
		const T *pa = x[0], *pb = x[1];                                              \
		int64_t sa = sx[0], sb = sx[1];                                              \
		(void)p; (void)IS_INT; (void)(UT)0;                                          \
		if (sa == 1 && sb == 1) {                                                    \
			for (int64_t i = 0; i < n; i++) {                                    \
				T a = pa[i], b = pb[i];                                      \
				y[i] = (EXPR);                                               \
			}                                                                    \
		} else if (sa == 1 && sb == 0) {                                             \
			const T b = pb[0];                                                   \
			for (int64_t i = 0; i < n; i++) {                                    \
				T a = pa[i];                                                 \
				y[i] = (EXPR);                                               \
			}                                                                    \
		} else if (sa == 0 && sb == 1) {                                             \
			const T a = pa[0];                                                   \
			for (int64_t i = 0; i < n; i++) {                                    \
				T b = pb[i];                                                 \
				y[i] = (EXPR);                                               \
			}                                                                    \
		} else {                                                                     \
			for (int64_t i = 0; i < n; i++) {                                    \
				T a = pa[i * sa], b = pb[i * sb];                            \
				y[i] = (EXPR);                                               \
			}                                                                    \
		}                                                                            \
	}
#define DEF_TYPE(S, T, UT) BINARY_OPS(DEF_ROW, S, T, UT)
CPU_NUM_TYPES(DEF_TYPE)

/* Pow: base dtype × exponent dtype. */
#define POW_BASE_TYPES(X) X(F32, float) X(F64, double) X(I32, int32_t) X(I64, int64_t)
#define POW_EXP_TYPES(X, ...) X(__VA_ARGS__, F32, float) X(__VA_ARGS__, F64, double)          \
	X(__VA_ARGS__, I32, int32_t) X(__VA_ARGS__, I64, int64_t) X(__VA_ARGS__, U32, uint32_t)       \
	X(__VA_ARGS__, U64, uint64_t)
#define DEF_POW(S, T, S2, T2)                                                                \
	static void pow_##S##_##S2(const void *p, void *yv, const void *const *x,           \
				   const int64_t *sx, int64_t n)                             \
	{                                                                                    \
		T *y = yv;                                                                   \
		const T *pa = x[0];                                                          \
		const T2 *pb = x[1];                                                         \
		for (int64_t i = 0; i < n; i++) {                                            \
			double r = pow((double)pa[i * sx[0]], (double)pb[i * sx[1]]);        \
			y[i] = (T)0.5 != 0 ? (T)r : isfinite(r) && fabs(r) < 9.2e18 ? (T)(int64_t)r : (T)0; \
		}                                                                            \
	}
#define DEF_POW_BASE(S, T) POW_EXP_TYPES(DEF_POW, S, T)
POW_BASE_TYPES(DEF_POW_BASE)

/* Pow of a float32 base by a constant exponent 2 (YOLO box decoding): exactly pow's result,
 * without the libm call. */
static void pow_F32_square(const void *p, void *yv, const void *const *x, const int64_t *sx, int64_t n)
{
	float *y = yv;
	const float *a = x[0];
	for (int64_t i = 0; i < n; i++)
		y[i] = a[i * sx[0]] * a[i * sx[0]];
}

/* Exponent tensor of one element equal to 2? */
static bool exponent_is_two(const odet_tensor *b)
{
	if (odet_tensor_numel(b) != 1)
		return false;
	switch (b->dtype) {
	case ODET_F32: return *(const float *)b->data == 2.0f;
	case ODET_F64: return *(const double *)b->data == 2.0;
	case ODET_I32: return *(const int32_t *)b->data == 2;
	case ODET_I64: return *(const int64_t *)b->data == 2;
	default: return false;
	}
}

typedef struct binary_entry {
	ir_op op;
	odet_dtype a, b;
	cpu_row_fn fn;
} binary_entry;

#define ENTRY(S, T, UT, ID, EXPR) {IR_OP_##ID, ODET_##S, ODET_##S, binary_##ID##_##S},
#define ENTRY_TYPE(S, T, UT) BINARY_OPS(ENTRY, S, T, UT)
#define ENTRY_POW(S, T, S2, T2) {IR_OP_POW, ODET_##S, ODET_##S2, pow_##S##_##S2},
#define ENTRY_POW_BASE(S, T) POW_EXP_TYPES(ENTRY_POW, S, T)

static const binary_entry binary_table[] = {
	CPU_NUM_TYPES(ENTRY_TYPE)
	POW_BASE_TYPES(ENTRY_POW_BASE)
};

static cpu_row_fn binary_lookup(ir_op op, odet_dtype a, odet_dtype b)
{
	for (size_t i = 0; i < sizeof binary_table / sizeof binary_table[0]; i++)
		if (binary_table[i].op == op && binary_table[i].a == a && binary_table[i].b == b)
			return binary_table[i].fn;
	return NULL;
}

static odet_status binary_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	bool variadic = n->op == IR_OP_MAX || n->op == IR_OP_MIN;
	const ir_value *a = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!a || !y || n->n_in < (variadic ? 1 : 2) || (!variadic && n->n_in != 2) || n->n_in > IR_MAX_IO)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s has %d inputs", n->name,
				  ir_op_name(n->op), n->n_in);
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *b = ir_in(g, n, i);
		if (!b)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s: input %d is missing", n->name,
					  ir_op_name(n->op), i);
		odet_dtype bt = n->op == IR_OP_POW ? b->dtype : a->dtype;
		if (!binary_lookup(n->op, a->dtype, bt))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s: dtypes %s, %s are not supported on CPU",
					  n->name, ir_op_name(n->op), odet_dtype_name(a->dtype), odet_dtype_name(b->dtype));
		if (n->op != IR_OP_POW && b->dtype != a->dtype)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s: inputs have dtypes %s and %s",
					  n->name, ir_op_name(n->op), odet_dtype_name(a->dtype), odet_dtype_name(b->dtype));
	}
	if (y->dtype != a->dtype)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s: output dtype %s differs from input's %s",
				  n->name, ir_op_name(n->op), odet_dtype_name(y->dtype), odet_dtype_name(a->dtype));
	return ODET_OK;
}

static odet_status binary_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	odet_tensor *y = &a->out[0];
	if (a->n_in == 1)
		return cpu_broadcast_copy(a, &a->in[0], y);
	cpu_row_fn fn = binary_lookup(n->op, a->in[0].dtype, a->in[1].dtype);
	if (!fn)
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): dtypes not supported", n->name,
				  ir_op_name(n->op));
	if (n->op == IR_OP_POW && a->in[0].dtype == ODET_F32 && exponent_is_two(&a->in[1]))
		fn = pow_F32_square;
	const odet_tensor *ins[2] = {&a->in[0], &a->in[1]};
	odet_status rc = cpu_bcast_node(a, ins, 2, y, fn, NULL);
	/* Max/Min of more inputs: fold the rest into the output in place */
	for (int i = 2; i < a->n_in && !rc; i++) {
		if (a->in[i].dtype != y->dtype)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): input %d has another dtype",
					  n->name, ir_op_name(n->op), i);
		ins[0] = y;
		ins[1] = &a->in[i];
		rc = cpu_bcast_node(a, ins, 2, y, fn, NULL);
	}
	return rc;
}

#define KERNEL(ID) const cpu_kernel cpu_kernel_##ID = {.check = binary_check, .run = binary_run};
KERNEL(ADD)
KERNEL(SUB)
KERNEL(MUL)
KERNEL(DIV)
KERNEL(POW)
KERNEL(MAX)
KERNEL(MIN)
