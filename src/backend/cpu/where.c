/*
 * where.c — Where(C, X, Y) = C ? X : Y with numpy broadcasting of all three.
 *   C: bool; X, Y, output: any one fixed-size dtype (selected by element size).
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

#define DEF_ROW(T, name)                                                                      \
	static void name(const void *p, void *yv, const void *const *x, const int64_t *sx, int64_t n) \
	{                                                                                     \
		T *y = yv;                                                                    \
		const uint8_t *c = x[0];                                                      \
		const T *a = x[1], *b = x[2];                                                 \
		for (int64_t i = 0; i < n; i++)                                               \
			y[i] = c[i * sx[0]] ? a[i * sx[1]] : b[i * sx[2]];                    \
	}
DEF_ROW(uint8_t, where_row1)
DEF_ROW(uint16_t, where_row2)
DEF_ROW(uint32_t, where_row4)
DEF_ROW(uint64_t, where_row8)

static odet_status where_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *c = ir_in(g, n, 0), *x = ir_in(g, n, 1), *y = ir_in(g, n, 2), *o = ir_out(g, n, 0);
	if (!c || !x || !y || !o)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Where needs 3 inputs", n->name);
	size_t esz = odet_dtype_size(x->dtype);
	if (c->dtype != ODET_BOOL || x->dtype != y->dtype || o->dtype != x->dtype ||
	    !(esz == 1 || esz == 2 || esz == 4 || esz == 8))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Where: dtypes %s, %s, %s are not supported on CPU",
				  n->name, odet_dtype_name(c->dtype), odet_dtype_name(x->dtype), odet_dtype_name(y->dtype));
	return ODET_OK;
}

static odet_status where_run(const be_run_args *a)
{
	size_t esz = odet_dtype_size(a->in[1].dtype);
	cpu_row_fn fn = esz == 1 ? where_row1 : esz == 2 ? where_row2 : esz == 4 ? where_row4 :
			esz == 8 ? where_row8 : NULL;
	if (!fn || a->in[0].dtype != ODET_BOOL || a->in[2].dtype != a->in[1].dtype)
		return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (Where): dtypes not supported", a->node->name);
	const odet_tensor *ins[3] = {&a->in[0], &a->in[1], &a->in[2]};
	return cpu_bcast_node(a, ins, 3, &a->out[0], fn, NULL);
}

const cpu_kernel cpu_kernel_WHERE = {.check = where_check, .run = where_run};
