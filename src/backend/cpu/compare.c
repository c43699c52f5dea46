/*
 * compare.c — Equal, Less, Greater: C = A op B with numpy broadcasting.
 *   A, B: one dtype of float32, float64, int8..int64, uint8..uint64 (Equal also bool);
 *   C: bool (one byte, 0/1). Comparisons with NaN are false (Equal too), as in numpy.
 */
#include "backend/cpu/cpu_util.h"

/* X(..., ID, expression of a, b) */
#define COMPARE_OPS(X, ...)                      \
	X(__VA_ARGS__, EQUAL, a == b)            \
	X(__VA_ARGS__, LESS, a < b)              \
	X(__VA_ARGS__, GREATER, a > b)

#define DEF_ROW(S, TYPE, UTYPE, ID, EXPR)                                                    \
	static void compare_##ID##_##S(const void *p, void *yv, const void *const *x,       \
				       const int64_t *sx, int64_t n)                         \
	{                                                                                    \
		typedef TYPE T;                                                              \
		uint8_t *y = yv;                                                             \
		const T *pa = x[0], *pb = x[1];                                              \
		int64_t sa = sx[0], sb = sx[1];                                              \
		for (int64_t i = 0; i < n; i++) {                                            \
			T a = pa[i * sa], b = pb[i * sb];                                    \
			y[i] = (EXPR);                                                       \
		}                                                                            \
	}
#define COMPARE_TYPES(X) CPU_NUM_TYPES(X) X(BOOL, uint8_t, uint8_t)
#define DEF_TYPE(S, T, UT) COMPARE_OPS(DEF_ROW, S, T, UT)
COMPARE_TYPES(DEF_TYPE)

typedef struct compare_entry {
	ir_op op;
	odet_dtype dtype;
	cpu_row_fn fn;
} compare_entry;

#define ENTRY(S, T, UT, ID, EXPR) {IR_OP_##ID, ODET_##S, compare_##ID##_##S},
#define ENTRY_TYPE(S, T, UT) COMPARE_OPS(ENTRY, S, T, UT)
static const compare_entry compare_table[] = {COMPARE_TYPES(ENTRY_TYPE)};

static cpu_row_fn compare_lookup(ir_op op, odet_dtype t)
{
	/* ordering bools is allowed by numpy but not by ONNX */
	if (t == ODET_BOOL && op != IR_OP_EQUAL)
		return NULL;
	for (size_t i = 0; i < sizeof compare_table / sizeof compare_table[0]; i++)
		if (compare_table[i].op == op && compare_table[i].dtype == t)
			return compare_table[i].fn;
	return NULL;
}

static odet_status compare_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!a || !b || !y || n->n_in != 2)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': op %s needs 2 inputs", n->name, ir_op_name(n->op));
	if (a->dtype != b->dtype || y->dtype != ODET_BOOL || !compare_lookup(n->op, a->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s: dtypes %s, %s -> %s are not supported on CPU",
				  n->name, ir_op_name(n->op), odet_dtype_name(a->dtype), odet_dtype_name(b->dtype),
				  odet_dtype_name(y->dtype));
	return ODET_OK;
}

static odet_status compare_run(const be_run_args *a)
{
	cpu_row_fn fn = compare_lookup(a->node->op, a->in[0].dtype);
	if (!fn || a->in[1].dtype != a->in[0].dtype)
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): dtypes not supported", a->node->name,
				  ir_op_name(a->node->op));
	const odet_tensor *ins[2] = {&a->in[0], &a->in[1]};
	return cpu_bcast_node(a, ins, 2, &a->out[0], fn, NULL);
}

#define KERNEL(ID) const cpu_kernel cpu_kernel_##ID = {.check = compare_check, .run = compare_run};
KERNEL(EQUAL)
KERNEL(LESS)
KERNEL(GREATER)
