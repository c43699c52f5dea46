/*
 * cast.c — Cast(X) to attr `to`: any of float32, float16, bfloat16, float64, int8..int64,
 * uint8..uint64, bool (strings are refused).
 *   Elements go through a block of doubles (from or to a float type) or of int64 (between
 *   integer/bool types, so 64-bit values stay exact).
 *   float -> int: truncation toward zero as C does, through int64, then wrapping to the
 *                 target width; NaN, ±inf and values outside int64 (undefined in ONNX)
 *                 become INT64_MIN, i.e. 0 in narrower types.
 *   -> bool: x != 0 (NaN is true). -> float16: round to nearest even. -> bfloat16: truncation
 *   of the float32 bits (what ONNX 1.12's reference and its node tests do; NaN stays NaN).
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>
#include <string.h>

#define CAST_BLOCK 256

static uint16_t f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
	return (uint16_t)(x >> 16);
}

static float bf16_to_f32(uint16_t h)
{
	uint32_t x = (uint32_t)h << 16;
	float f;
	memcpy(&f, &x, 4);
	return f;
}

static int64_t f2i(double d)
{
	if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
		return INT64_MIN;
	return (int64_t)d;
}

/* One loop per dtype case (the switch stays outside the element loop). */
#define EACH(stmt)                                  \
	for (int k = 0; k < n; k++) {               \
		int64_t j = i + k;                  \
		stmt;                               \
	}

static bool is_float(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F64 || t == ODET_F16 || t == ODET_BF16;
}

/* Load n elements of src (dtype t) starting at element i into doubles. */
static void load_f(odet_dtype t, const void *src, int64_t i, int n, double *d)
{
	switch (t) {
	case ODET_F32: EACH(d[k] = ((const float *)src)[j]); break;
	case ODET_F64: EACH(d[k] = ((const double *)src)[j]); break;
	case ODET_F16: EACH(d[k] = odet_f16_to_f32(((const uint16_t *)src)[j])); break;
	case ODET_BF16: EACH(d[k] = bf16_to_f32(((const uint16_t *)src)[j])); break;
	case ODET_I8: EACH(d[k] = ((const int8_t *)src)[j]); break;
	case ODET_I16: EACH(d[k] = ((const int16_t *)src)[j]); break;
	case ODET_I32: EACH(d[k] = ((const int32_t *)src)[j]); break;
	case ODET_I64: EACH(d[k] = (double)((const int64_t *)src)[j]); break;
	case ODET_U8: case ODET_BOOL: EACH(d[k] = ((const uint8_t *)src)[j]); break;
	case ODET_U16: EACH(d[k] = ((const uint16_t *)src)[j]); break;
	case ODET_U32: EACH(d[k] = ((const uint32_t *)src)[j]); break;
	case ODET_U64: EACH(d[k] = (double)((const uint64_t *)src)[j]); break;
	default:
		for (int k = 0; k < n; k++)
			d[k] = 0;
		break;
	}
}

/* Load integer/bool elements as int64 (uint64 keeps its bits). */
static void load_i(odet_dtype t, const void *src, int64_t i, int n, int64_t *d)
{
	switch (t) {
	case ODET_I8: EACH(d[k] = ((const int8_t *)src)[j]); break;
	case ODET_I16: EACH(d[k] = ((const int16_t *)src)[j]); break;
	case ODET_I32: EACH(d[k] = ((const int32_t *)src)[j]); break;
	case ODET_I64: EACH(d[k] = ((const int64_t *)src)[j]); break;
	case ODET_U8: case ODET_BOOL: EACH(d[k] = ((const uint8_t *)src)[j]); break;
	case ODET_U16: EACH(d[k] = ((const uint16_t *)src)[j]); break;
	case ODET_U32: EACH(d[k] = ((const uint32_t *)src)[j]); break;
	case ODET_U64: EACH(d[k] = (int64_t)((const uint64_t *)src)[j]); break;
	default:
		for (int k = 0; k < n; k++)
			d[k] = 0;
		break;
	}
}

/* Store int64 values into an integer/bool dtype (wrapping to the width). */
static void store_i(odet_dtype t, void *dst, int64_t i, int n, const int64_t *v)
{
	switch (t) {
	case ODET_I8: EACH(((int8_t *)dst)[j] = (int8_t)v[k]); break;
	case ODET_I16: EACH(((int16_t *)dst)[j] = (int16_t)v[k]); break;
	case ODET_I32: EACH(((int32_t *)dst)[j] = (int32_t)v[k]); break;
	case ODET_I64: EACH(((int64_t *)dst)[j] = v[k]); break;
	case ODET_U8: EACH(((uint8_t *)dst)[j] = (uint8_t)v[k]); break;
	case ODET_BOOL: EACH(((uint8_t *)dst)[j] = v[k] != 0); break;
	case ODET_U16: EACH(((uint16_t *)dst)[j] = (uint16_t)v[k]); break;
	case ODET_U32: EACH(((uint32_t *)dst)[j] = (uint32_t)v[k]); break;
	case ODET_U64: EACH(((uint64_t *)dst)[j] = (uint64_t)v[k]); break;
	default:
		break;
	}
}

static void store_f(odet_dtype t, void *dst, int64_t i, int n, const double *v)
{
	int64_t tmp[CAST_BLOCK];
	if (!is_float(t)) {
		for (int k = 0; k < n; k++) {
			tmp[k] = t == ODET_BOOL ? v[k] != 0 : f2i(v[k]);
			if (t == ODET_U64 && v[k] >= 9223372036854775808.0 && v[k] < 18446744073709551616.0)
				tmp[k] = (int64_t)(uint64_t)v[k]; /* the upper half of uint64 */
		}
		store_i(t, dst, i, n, tmp);
		return;
	}
	switch (t) {
	case ODET_F32: EACH(((float *)dst)[j] = (float)v[k]); break;
	case ODET_F64: EACH(((double *)dst)[j] = v[k]); break;
	case ODET_F16: EACH(((uint16_t *)dst)[j] = odet_f32_to_f16((float)v[k])); break;
	case ODET_BF16: EACH(((uint16_t *)dst)[j] = f32_to_bf16((float)v[k])); break;
	default: break;
	}
}

typedef struct cast_job {
	odet_dtype from, to;
	const void *x;
	void *y;
} cast_job;

static void cast_range(void *arg, int64_t b, int64_t e, int thread)
{
	const cast_job *j = arg;
	double fb[CAST_BLOCK];
	int64_t ib[CAST_BLOCK];
	bool via_int = !is_float(j->from) && !is_float(j->to);
	/* the common float32 <-> float16 casts skip the double block */
	if (j->from == ODET_F32 && j->to == ODET_F16) {
		for (int64_t i = b; i < e; i++)
			((uint16_t *)j->y)[i] = odet_f32_to_f16(((const float *)j->x)[i]);
		return;
	}
	if (j->from == ODET_F16 && j->to == ODET_F32) {
		for (int64_t i = b; i < e; i++)
			((float *)j->y)[i] = odet_f16_to_f32(((const uint16_t *)j->x)[i]);
		return;
	}
	for (int64_t i = b; i < e; i += CAST_BLOCK) {
		int n = e - i < CAST_BLOCK ? (int)(e - i) : CAST_BLOCK;
		if (via_int) {
			load_i(j->from, j->x, i, n, ib);
			store_i(j->to, j->y, i, n, ib);
		} else {
			/* float64 -> float16 goes via float32: a rare double rounding numpy does not do */
			load_f(j->from, j->x, i, n, fb);
			store_f(j->to, j->y, i, n, fb);
		}
	}
}

static bool castable(odet_dtype t)
{
	/* float8e4m3: only CUDA fp8 engines make it (QuantizeLinear), never a Cast */
	return t != ODET_STRING && t != ODET_F8E4M3 && odet_dtype_size(t) > 0;
}

static odet_status cast_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Cast needs one input", n->name);
	int64_t to = ir_attr_int(n, "to", 0);
	if (!castable(x->dtype) || !castable(y->dtype) || to != y->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Cast from %s to %s (to=%lld) is not supported on CPU",
				  n->name, odet_dtype_name(x->dtype), odet_dtype_name(y->dtype), (long long)to);
	return ODET_OK;
}

static odet_status cast_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t n = odet_tensor_numel(x);
	if (n < 0 || n != odet_tensor_numel(y) || !castable(x->dtype) || !castable(y->dtype))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Cast): bad tensors", a->node->name);
	if (x->dtype == y->dtype) {
		if (n)
			memcpy(y->data, x->data, (size_t)n * odet_dtype_size(x->dtype));
		return ODET_OK;
	}
	cast_job j = {.from = x->dtype, .to = y->dtype, .x = x->data, .y = y->data};
	odet_parallel_for(a->pool, n, CPU_GRAIN, cast_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CAST = {.check = cast_check, .run = cast_run};
