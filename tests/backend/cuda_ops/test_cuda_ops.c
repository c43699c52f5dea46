/*
 * test_cuda_ops.c — every CUDA kernel of src/backend/cuda (other than Conv, Gemm/MatMul,
 * pooling and BatchNormalization, tested with the CUDA core) against the CPU backend.
 *
 * Each case is a builder that makes a one-node graph (inputs with seeded random data or
 * given values, attributes); shape inference sets the outputs. The CPU reference is
 * be_eval_node(odet_backend_cpu()) on the float32 graph; the CUDA run calls
 * cuda_kernel_<ID> (check, prepare, run, release) on device copies of the inputs, outputs
 * pre-filled with garbage. Float cases run twice:
 *   fp32: CUDA float32 graph vs CPU, |got - want| <= 1e-6 |want| + 1e-6 (per-case override);
 *   fp16: float data rounded to float16 values; CUDA runs the float16 graph, the CPU the
 *         float32 graph on the same (rounded) values; |got - want| <= 1e-2 |want| + 1e-3.
 * Integer/bool outputs must match exactly. Cases named big_* use detector-sized shapes and
 * also print the mean time of 20 more runs of the kernel (information, never asserted).
 * Prints a per-op table and the summary line.
 * Without a CUDA device (cudaGetDeviceCount fails or finds none) it prints
 * "skipped: no CUDA device" and exits 77 (ctest: skipped).
 * Usage: test_cuda_ops [--dry] [NAME_SUBSTRING]   (--dry: no device needed; builds every case,
 * runs the CPU reference and the CUDA kernels' check functions only)
 */
#include "backend/backend.h"
#include "backend/cuda/cuda.h"
#include "test.h"

#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#define TB_FT ODET_DTYPE_UNDEFINED /* "the build's float type" */
#define TB_CONST 1
#define TB_INTLIKE 2

typedef struct tb {
	odet_ctx *ctx;
	ir_graph *g;
	odet_dtype ft;   /* float type of this build: F32 or F16 */
	bool round16;    /* float data rounded to float16 values */
	uint64_t rng;
	int n_in;
	int in_v[IR_MAX_IO];
	void *in_data[IR_MAX_IO]; /* host data in the value's dtype; NULL = omitted */
	int node;
	bool broken;
} tb;

typedef void (*build_fn)(tb *b);

static double rnd(tb *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (double)(b->rng >> 11) / 9007199254740992.0;
}

static int64_t numel_of(int rank, const int64_t *dims)
{
	int64_t n = 1;
	for (int d = 0; d < rank; d++)
		n *= dims[d];
	return n;
}

/* Add input value with host data (copied); CONST values also get the data in the graph. */
static int tb_add(tb *b, odet_dtype dt, int rank, const int64_t *dims, const void *data, int flags)
{
	size_t bytes = (size_t)numel_of(rank, dims) * odet_dtype_size(dt);
	void *host = malloc(bytes + 1);
	memcpy(host, data, bytes);
	int v;
	if (flags & TB_CONST) {
		void *copy = malloc(bytes + 1);
		memcpy(copy, data, bytes);
		v = ir_const_add(b->g, NULL, dt, rank, dims, copy);
	} else {
		v = ir_value_add(b->g, NULL, dt, rank, dims);
		if (v >= 0)
			b->g->values[v].kind = IR_VALUE_INPUT;
	}
	if (v < 0)
		b->broken = true;
	b->in_v[b->n_in] = v;
	b->in_data[b->n_in++] = host;
	return v;
}

static void tb_omit(tb *b)
{
	b->in_v[b->n_in] = -1;
	b->in_data[b->n_in++] = NULL;
}

/* Store float values into dtype dt (F32, F16), rounding to f16 first when asked. */
static void *floats_as(tb *b, odet_dtype dt, const double *v, int64_t n)
{
	void *p = malloc((size_t)n * 4 + 4);
	for (int64_t i = 0; i < n; i++) {
		float f = (float)v[i];
		if (b->round16)
			f = odet_f16_to_f32(odet_f32_to_f16(f));
		if (dt == ODET_F16)
			((uint16_t *)p)[i] = odet_f32_to_f16(f);
		else
			((float *)p)[i] = f;
	}
	return p;
}

/* Random float input in [lo, hi) (integers with TB_INTLIKE), dtype dt (TB_FT: the build's). */
static int tb_fin(tb *b, odet_dtype dt, int rank, const int64_t *dims, double lo, double hi, int flags)
{
	int64_t n = numel_of(rank, dims);
	double *v = malloc((size_t)n * sizeof *v + 8);
	if (dt == TB_FT)
		dt = b->ft;
	for (int64_t i = 0; i < n; i++) {
		v[i] = lo + (hi - lo) * rnd(b);
		if (flags & TB_INTLIKE)
			v[i] = floor(v[i]);
	}
	void *p = floats_as(b, dt, v, n);
	int r = tb_add(b, dt, rank, dims, p, flags);
	free(p);
	free(v);
	return r;
}

/* Given float values. */
static int tb_fvals(tb *b, odet_dtype dt, int rank, const int64_t *dims, const double *vals, int flags)
{
	if (dt == TB_FT)
		dt = b->ft;
	void *p = floats_as(b, dt, vals, numel_of(rank, dims));
	int r = tb_add(b, dt, rank, dims, p, flags);
	free(p);
	return r;
}

static void *ints_as(odet_dtype dt, const int64_t *v, int64_t n)
{
	size_t esz = odet_dtype_size(dt);
	char *p = malloc((size_t)n * esz + 8);
	for (int64_t i = 0; i < n; i++) {
		switch (dt) {
		case ODET_I8: ((int8_t *)p)[i] = (int8_t)v[i]; break;
		case ODET_I16: ((int16_t *)p)[i] = (int16_t)v[i]; break;
		case ODET_I32: ((int32_t *)p)[i] = (int32_t)v[i]; break;
		case ODET_I64: ((int64_t *)p)[i] = v[i]; break;
		case ODET_U8: ((uint8_t *)p)[i] = (uint8_t)v[i]; break;
		case ODET_BOOL: ((uint8_t *)p)[i] = v[i] != 0; break;
		default: break;
		}
	}
	return p;
}

/* Random integer input in [lo, hi]. */
static int tb_iin(tb *b, odet_dtype dt, int rank, const int64_t *dims, int64_t lo, int64_t hi, int flags)
{
	int64_t n = numel_of(rank, dims);
	int64_t *v = malloc((size_t)n * 8 + 8);
	for (int64_t i = 0; i < n; i++)
		v[i] = lo + (int64_t)(rnd(b) * (double)(hi - lo + 1));
	void *p = ints_as(dt, v, n);
	int r = tb_add(b, dt, rank, dims, p, flags);
	free(p);
	free(v);
	return r;
}

/* Given integers (rank 1 of n, or a scalar when n < 0). */
static int tb_ivals(tb *b, odet_dtype dt, int n, const int64_t *vals, int flags)
{
	int64_t dims[1] = {n};
	void *p = ints_as(dt, vals, n < 0 ? 1 : n);
	int r = tb_add(b, dt, n < 0 ? 0 : 1, dims, p, flags);
	free(p);
	return r;
}

static void tb_node(tb *b, ir_op op, int n_out)
{
	int out[IR_MAX_IO];
	for (int i = 0; i < n_out; i++)
		out[i] = ir_value_add(b->g, NULL, ODET_DTYPE_UNDEFINED, -1, NULL);
	b->node = ir_node_add(b->g, op, "n0", b->n_in, b->in_v, n_out, out);
	if (b->node < 0)
		b->broken = true;
}

#define NODE(b) ((b)->node)
#define SET_I(b, name, v) ir_attr_set_int((b)->g, (b)->node, name, v)
#define SET_F(b, name, v) ir_attr_set_float((b)->g, (b)->node, name, v)
#define SET_S(b, name, v) ir_attr_set_string((b)->g, (b)->node, name, v)
#define SET_IS(b, name, ...) do { int64_t v_[] = {__VA_ARGS__}; ir_attr_set_ints((b)->g, (b)->node, name, v_, (int)(sizeof v_ / 8)); } while (0)
#define SET_FS(b, name, ...) do { float v_[] = {__VA_ARGS__}; ir_attr_set_floats((b)->g, (b)->node, name, v_, (int)(sizeof v_ / 4)); } while (0)
#define D(...) (const int64_t[]){__VA_ARGS__}
#define R(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / 8), D(__VA_ARGS__)

/* ---------------------------------------------------------------- cases */
static const int64_t U_DIMS[4] = {3, 5, 7, 9};

#define UNARY_CASE(ID, LO, HI)                                             \
	static void c_##ID(tb *b)                                          \
	{                                                                  \
		tb_fin(b, TB_FT, 4, U_DIMS, LO, HI, 0);                    \
		tb_node(b, IR_OP_##ID, 1);                                 \
	}
UNARY_CASE(RELU, -3, 3)
UNARY_CASE(SIGMOID, -6, 6)
UNARY_CASE(HARDSWISH, -5, 5)
UNARY_CASE(TANH, -3, 3)
UNARY_CASE(EXP, -4, 3)
UNARY_CASE(LOG, 0.01, 20)
UNARY_CASE(SQRT, 0, 50)
UNARY_CASE(NEG, -3, 3)
UNARY_CASE(ABS, -3, 3)
UNARY_CASE(FLOOR, -30, 30)
UNARY_CASE(CEIL, -30, 30)

static void c_leakyrelu(tb *b) { tb_fin(b, TB_FT, 3, D(7, 11, 13), -3, 3, 0); tb_node(b, IR_OP_LEAKYRELU, 1); SET_F(b, "alpha", 0.13f); }
static void c_hardsigmoid(tb *b) { tb_fin(b, TB_FT, 2, D(33, 65), -5, 5, 0); tb_node(b, IR_OP_HARDSIGMOID, 1); SET_F(b, "alpha", 0.3f); SET_F(b, "beta", 0.45f); }
static void c_clip(tb *b)
{
	tb_fin(b, TB_FT, 3, D(4, 9, 31), -6, 6, 0);
	tb_fvals(b, TB_FT, 0, NULL, (double[]){-1.5}, TB_CONST);
	tb_fvals(b, TB_FT, 0, NULL, (double[]){2.25}, TB_CONST);
	tb_node(b, IR_OP_CLIP, 1);
}
static void c_clip_max(tb *b)
{
	tb_fin(b, TB_FT, 2, D(17, 19), -6, 6, 0);
	tb_omit(b);
	tb_fvals(b, TB_FT, 0, NULL, (double[]){0.5}, 0);
	tb_node(b, IR_OP_CLIP, 1);
}
static void c_relu_i32(tb *b) { tb_iin(b, ODET_I32, 2, D(17, 33), -100, 100, 0); tb_node(b, IR_OP_RELU, 1); }
static void c_neg_i64(tb *b) { tb_iin(b, ODET_I64, 2, D(5, 77), -1000000000000LL, 1000000000000LL, 0); tb_node(b, IR_OP_NEG, 1); }
static void c_abs_i8(tb *b) { tb_iin(b, ODET_I8, 1, D(301), -128, 127, 0); tb_node(b, IR_OP_ABS, 1); }
static void c_clip_i32(tb *b)
{
	tb_iin(b, ODET_I32, 2, D(9, 41), -50, 50, 0);
	tb_ivals(b, ODET_I32, -1, (int64_t[]){-7}, TB_CONST);
	tb_ivals(b, ODET_I32, -1, (int64_t[]){20}, TB_CONST);
	tb_node(b, IR_OP_CLIP, 1);
}
static void c_not(tb *b) { tb_iin(b, ODET_BOOL, 3, D(3, 5, 67), 0, 1, 0); tb_node(b, IR_OP_NOT, 1); }

#define BINARY_CASE(ID, LO, HI)                                                   \
	static void c_##ID(tb *b)                                                 \
	{                                                                         \
		tb_fin(b, TB_FT, 4, D(2, 1, 5, 7), LO, HI, 0);                    \
		tb_fin(b, TB_FT, 3, D(3, 1, 7), LO, HI, 0);                       \
		tb_node(b, IR_OP_##ID, 1);                                        \
	}
BINARY_CASE(ADD, -3, 3)
BINARY_CASE(SUB, -3, 3)
BINARY_CASE(MUL, -3, 3)
BINARY_CASE(DIV, 0.5, 3)
BINARY_CASE(MAX, -3, 3)
BINARY_CASE(MIN, -3, 3)
static void c_add_scalar(tb *b) { tb_fin(b, TB_FT, 2, D(4, 333), -3, 3, 0); tb_fin(b, TB_FT, 0, NULL, -3, 3, TB_CONST); tb_node(b, IR_OP_ADD, 1); }
static void c_mul_chan(tb *b) { tb_fin(b, TB_FT, 4, D(2, 6, 9, 11), -3, 3, 0); tb_fin(b, TB_FT, 3, D(6, 1, 1), -3, 3, TB_CONST); tb_node(b, IR_OP_MUL, 1); }
static void c_max3(tb *b)
{
	tb_fin(b, TB_FT, 2, D(5, 7), -3, 3, 0);
	tb_fin(b, TB_FT, 1, D(7), -3, 3, 0);
	tb_fin(b, TB_FT, 3, D(2, 1, 7), -3, 3, 0);
	tb_node(b, IR_OP_MAX, 1);
}
static void c_min1(tb *b) { tb_fin(b, TB_FT, 2, D(5, 7), -3, 3, 0); tb_node(b, IR_OP_MIN, 1); }
static void c_pow(tb *b) { tb_fin(b, TB_FT, 2, D(6, 35), 0.1, 3, 0); tb_fin(b, TB_FT, 1, D(35), -2, 3, 0); tb_node(b, IR_OP_POW, 1); }
static void c_pow_int_exp(tb *b) { tb_fin(b, TB_FT, 2, D(6, 35), -3, 3, 0); tb_ivals(b, ODET_I64, -1, (int64_t[]){3}, TB_CONST); tb_node(b, IR_OP_POW, 1); }
static void c_add_i32(tb *b) { tb_iin(b, ODET_I32, 3, D(4, 1, 9), -2147483647, 2147483647, 0); tb_iin(b, ODET_I32, 2, D(5, 9), -2147483647, 2147483647, 0); tb_node(b, IR_OP_ADD, 1); }
static void c_div_i32(tb *b) { tb_iin(b, ODET_I32, 2, D(13, 17), -1000, 1000, 0); tb_iin(b, ODET_I32, 2, D(13, 1), -3, 3, 0); tb_node(b, IR_OP_DIV, 1); }
static void c_mul_i64(tb *b) { tb_iin(b, ODET_I64, 2, D(13, 17), -100000, 100000, 0); tb_iin(b, ODET_I64, 1, D(17), -100000, 100000, 0); tb_node(b, IR_OP_MUL, 1); }
static void c_sub_u8(tb *b) { tb_iin(b, ODET_U8, 2, D(13, 17), 0, 255, 0); tb_iin(b, ODET_U8, 1, D(17), 0, 255, 0); tb_node(b, IR_OP_SUB, 1); }

#define COMPARE_CASE(ID)                                                              \
	static void c_##ID(tb *b)                                                     \
	{                                                                             \
		tb_fin(b, TB_FT, 3, D(4, 1, 9), -3, 3, TB_INTLIKE);                   \
		tb_fin(b, TB_FT, 2, D(5, 9), -3, 3, TB_INTLIKE);                      \
		tb_node(b, IR_OP_##ID, 1);                                            \
	}
COMPARE_CASE(EQUAL)
COMPARE_CASE(LESS)
COMPARE_CASE(GREATER)
static void c_equal_i64(tb *b) { tb_iin(b, ODET_I64, 2, D(7, 9), -3, 3, 0); tb_iin(b, ODET_I64, 0, NULL, -3, 3, 0); tb_node(b, IR_OP_EQUAL, 1); }
static void c_equal_bool(tb *b) { tb_iin(b, ODET_BOOL, 2, D(7, 9), 0, 1, 0); tb_iin(b, ODET_BOOL, 1, D(9), 0, 1, 0); tb_node(b, IR_OP_EQUAL, 1); }
static void c_less_i32(tb *b) { tb_iin(b, ODET_I32, 2, D(7, 9), -3, 3, 0); tb_iin(b, ODET_I32, 2, D(7, 1), -3, 3, 0); tb_node(b, IR_OP_LESS, 1); }

static void c_where(tb *b)
{
	tb_iin(b, ODET_BOOL, 3, D(5, 1, 7), 0, 1, 0);
	tb_fin(b, TB_FT, 3, D(1, 6, 7), -3, 3, 0);
	tb_fin(b, TB_FT, 3, D(5, 6, 1), -3, 3, 0);
	tb_node(b, IR_OP_WHERE, 1);
}
static void c_where_i64(tb *b)
{
	tb_iin(b, ODET_BOOL, 1, D(11), 0, 1, 0);
	tb_iin(b, ODET_I64, 2, D(3, 11), -1000000000000LL, 1000000000000LL, 0);
	tb_iin(b, ODET_I64, 0, NULL, -5, 5, 0);
	tb_node(b, IR_OP_WHERE, 1);
}

#define CAST_CASE(NAME, FROM, TO, LO, HI)                                              \
	static void c_cast_##NAME(tb *b)                                               \
	{                                                                              \
		if (FROM == ODET_F32 || FROM == ODET_F16)                              \
			tb_fin(b, FROM, 2, D(9, 37), LO, HI, 0);                       \
		else                                                                   \
			tb_iin(b, FROM, 2, D(9, 37), (int64_t)(LO), (int64_t)(HI), 0); \
		tb_node(b, IR_OP_CAST, 1);                                             \
		SET_I(b, "to", TO);                                                    \
	}
CAST_CASE(f32_i32, ODET_F32, ODET_I32, -1000, 1000)
CAST_CASE(f32_f16, ODET_F32, ODET_F16, -1000, 1000)
CAST_CASE(f16_f32, ODET_F16, ODET_F32, -1000, 1000)
CAST_CASE(f32_bool, ODET_F32, ODET_BOOL, -2, 2)
CAST_CASE(f32_u8, ODET_F32, ODET_U8, -300, 300)
CAST_CASE(i64_f32, ODET_I64, ODET_F32, -100000000, 100000000)
CAST_CASE(i32_i64, ODET_I32, ODET_I64, -2147483647, 2147483647)
CAST_CASE(i64_i8, ODET_I64, ODET_I8, -100000, 100000)
CAST_CASE(u8_f16, ODET_U8, ODET_F16, 0, 255)
CAST_CASE(bool_f32, ODET_BOOL, ODET_F32, 0, 1)
CAST_CASE(f32_bf16, ODET_F32, ODET_BF16, -1000, 1000)

static void c_softmax_last(tb *b) { tb_fin(b, TB_FT, 2, D(6, 37), -5, 5, 0); tb_node(b, IR_OP_SOFTMAX, 1); }
static void c_softmax_axis1(tb *b) { tb_fin(b, TB_FT, 4, D(2, 13, 5, 3), -5, 5, 0); tb_node(b, IR_OP_SOFTMAX, 1); SET_I(b, "axis", 1); }
static void c_softmax_coerce(tb *b) { tb_fin(b, TB_FT, 3, D(3, 4, 5), -5, 5, 0); tb_node(b, IR_OP_SOFTMAX, 1); SET_I(b, "axis", 1); SET_I(b, "odet_coerce2d", 1); }
static void c_softmax_long(tb *b) { tb_fin(b, TB_FT, 2, D(3, 2001), -5, 5, 0); tb_node(b, IR_OP_SOFTMAX, 1); }

static void c_rsum(tb *b) { tb_fin(b, TB_FT, 4, D(3, 5, 4, 7), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){1, 3}, TB_CONST); tb_node(b, IR_OP_REDUCESUM, 1); }
static void c_rmean(tb *b) { tb_fin(b, TB_FT, 4, D(2, 3, 17, 19), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){2, 3}, TB_CONST); tb_node(b, IR_OP_REDUCEMEAN, 1); }
static void c_rmax_all(tb *b) { tb_fin(b, TB_FT, 3, D(3, 50, 7), -3, 3, 0); tb_node(b, IR_OP_REDUCEMAX, 1); SET_I(b, "keepdims", 0); }
static void c_rmax_02(tb *b) { tb_fin(b, TB_FT, 3, D(3, 5, 7), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){0, -1}, TB_CONST); tb_node(b, IR_OP_REDUCEMAX, 1); SET_I(b, "keepdims", 0); }
static void c_rsum_i32(tb *b) { tb_iin(b, ODET_I32, 3, D(3, 40, 7), -1000, 1000, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){1}, TB_CONST); tb_node(b, IR_OP_REDUCESUM, 1); }
static void c_rmean_i64(tb *b) { tb_iin(b, ODET_I64, 2, D(9, 7), -1000, 1000, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){1}, TB_CONST); tb_node(b, IR_OP_REDUCEMEAN, 1); }
static void c_rnoop(tb *b) { tb_fin(b, TB_FT, 2, D(3, 5), -3, 3, 0); tb_node(b, IR_OP_REDUCESUM, 1); SET_I(b, "noop_with_empty_axes", 1); }

static void c_argmax(tb *b) { tb_fin(b, TB_FT, 3, D(4, 19, 6), -3, 3, 0); tb_node(b, IR_OP_ARGMAX, 1); SET_I(b, "axis", 1); }
static void c_argmax_last(tb *b) { tb_fin(b, TB_FT, 2, D(8, 33), -3, 3, TB_INTLIKE); tb_node(b, IR_OP_ARGMAX, 1); SET_I(b, "axis", -1); SET_I(b, "select_last_index", 1); SET_I(b, "keepdims", 0); }
static void c_argmax_i32(tb *b) { tb_iin(b, ODET_I32, 2, D(33, 8), -3, 3, 0); tb_node(b, IR_OP_ARGMAX, 1); }

static void c_topk(tb *b) { tb_fin(b, TB_FT, 2, D(3, 50), -3, 3, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){7}, TB_CONST); tb_node(b, IR_OP_TOPK, 2); }
static void c_topk_small(tb *b)
{
	tb_fin(b, TB_FT, 3, D(4, 33, 5), -4, 4, TB_INTLIKE); /* ties */
	tb_ivals(b, ODET_I64, 1, (int64_t[]){10}, TB_CONST);
	tb_node(b, IR_OP_TOPK, 2);
	SET_I(b, "axis", 1);
	SET_I(b, "largest", 0);
}
static void c_topk_i64(tb *b) { tb_iin(b, ODET_I64, 1, D(1000), -50, 50, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){100}, TB_CONST); tb_node(b, IR_OP_TOPK, 2); }

static void c_concat(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 3, 5), -3, 3, 0);
	tb_fin(b, TB_FT, 3, D(2, 1, 5), -3, 3, 0);
	tb_fin(b, TB_FT, 3, D(2, 4, 5), -3, 3, TB_CONST);
	tb_node(b, IR_OP_CONCAT, 1);
	SET_I(b, "axis", 1);
}
static void c_concat_i64(tb *b)
{
	tb_iin(b, ODET_I64, 2, D(3, 2), -9, 9, 0);
	tb_iin(b, ODET_I64, 2, D(3, 0), -9, 9, 0);
	tb_iin(b, ODET_I64, 2, D(3, 7), -9, 9, 0);
	tb_node(b, IR_OP_CONCAT, 1);
	SET_I(b, "axis", -1);
}
static void c_reshape(tb *b) { tb_fin(b, TB_FT, 3, D(2, 3, 4), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){4, -1}, TB_CONST); tb_node(b, IR_OP_RESHAPE, 1); }
static void c_flatten(tb *b) { tb_fin(b, TB_FT, 4, D(2, 3, 4, 5), -3, 3, 0); tb_node(b, IR_OP_FLATTEN, 1); SET_I(b, "axis", 2); }
static void c_squeeze(tb *b) { tb_iin(b, ODET_I64, 3, D(3, 1, 5), -9, 9, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){1}, TB_CONST); tb_node(b, IR_OP_SQUEEZE, 1); }
static void c_unsqueeze(tb *b) { tb_fin(b, TB_FT, 2, D(3, 5), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){0, 3}, TB_CONST); tb_node(b, IR_OP_UNSQUEEZE, 1); }
static void c_identity(tb *b) { tb_iin(b, ODET_U8, 2, D(3, 5), 0, 255, 0); tb_node(b, IR_OP_IDENTITY, 1); }

static void c_tr_nhwc(tb *b) { tb_fin(b, TB_FT, 4, D(2, 37, 5, 33), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 0, 2, 3, 1); }
static void c_tr_2d(tb *b) { tb_fin(b, TB_FT, 2, D(67, 45), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); }
static void c_tr_img(tb *b) { tb_fin(b, TB_FT, 4, D(2, 3, 17, 19), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 0, 2, 3, 1); }
static void c_tr_short5(tb *b) { tb_fin(b, TB_FT, 5, D(2, 5, 3, 7, 4), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 3, 0, 2, 4, 1); }
static void c_tr_rev3(tb *b) { tb_fin(b, TB_FT, 3, D(5, 6, 7), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 2, 1, 0); }
static void c_tr_keeplast(tb *b) { tb_fin(b, TB_FT, 4, D(3, 4, 5, 6), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 2, 0, 1, 3); }
static void c_tr_i64(tb *b) { tb_iin(b, ODET_I64, 4, D(2, 9, 10, 3), -9, 9, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 0, 3, 1, 2); }
static void c_tr_u8_5d(tb *b) { tb_iin(b, ODET_U8, 5, D(2, 3, 4, 5, 6), 0, 255, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 4, 2, 0, 3, 1); }

static void c_slice(tb *b)
{
	tb_fin(b, TB_FT, 3, D(5, 7, 9), -3, 3, 0);
	tb_ivals(b, ODET_I64, 2, (int64_t[]){1, -8}, TB_CONST);
	tb_ivals(b, ODET_I64, 2, (int64_t[]){4, 100}, TB_CONST);
	tb_ivals(b, ODET_I64, 2, (int64_t[]){0, 2}, TB_CONST);
	tb_ivals(b, ODET_I64, 2, (int64_t[]){1, 2}, TB_CONST);
	tb_node(b, IR_OP_SLICE, 1);
}
static void c_slice_neg(tb *b)
{
	tb_iin(b, ODET_I32, 2, D(6, 11), -99, 99, 0);
	tb_ivals(b, ODET_I32, 1, (int64_t[]){-2}, TB_CONST);
	tb_ivals(b, ODET_I32, 1, (int64_t[]){-1000}, TB_CONST);
	tb_ivals(b, ODET_I32, 1, (int64_t[]){1}, TB_CONST);
	tb_ivals(b, ODET_I32, 1, (int64_t[]){-3}, TB_CONST);
	tb_node(b, IR_OP_SLICE, 1);
}
static void c_gather(tb *b) { tb_fin(b, TB_FT, 3, D(3, 7, 5), -3, 3, 0); tb_ivals(b, ODET_I64, 4, (int64_t[]){0, -1, 3, 6}, 0); tb_node(b, IR_OP_GATHER, 1); SET_I(b, "axis", 1); }
static void c_gather_i32(tb *b)
{
	int64_t dims[2] = {2, 3};
	tb_iin(b, ODET_I64, 2, D(9, 4), -9, 9, 0);
	int64_t v[6] = {8, 0, -9, 4, 4, 1};
	void *p = ints_as(ODET_I32, v, 6);
	tb_add(b, ODET_I32, 2, dims, p, 0);
	free(p);
	tb_node(b, IR_OP_GATHER, 1);
}
static void c_split(tb *b) { tb_fin(b, TB_FT, 3, D(3, 9, 5), -3, 3, 0); tb_ivals(b, ODET_I64, 3, (int64_t[]){2, 3, 4}, TB_CONST); tb_node(b, IR_OP_SPLIT, 3); SET_I(b, "axis", 1); }
static void c_split_eq(tb *b) { tb_iin(b, ODET_I32, 2, D(4, 12), -9, 9, 0); tb_node(b, IR_OP_SPLIT, 3); SET_I(b, "axis", -1); }
static void c_expand(tb *b) { tb_fin(b, TB_FT, 3, D(3, 1, 5), -3, 3, 0); tb_ivals(b, ODET_I64, 4, (int64_t[]){2, 3, 4, 1}, TB_CONST); tb_node(b, IR_OP_EXPAND, 1); }
static void c_tile(tb *b) { tb_fin(b, TB_FT, 3, D(2, 3, 4), -3, 3, 0); tb_ivals(b, ODET_I64, 3, (int64_t[]){2, 1, 3}, TB_CONST); tb_node(b, IR_OP_TILE, 1); }
static void c_pad_const(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 5, 6), -3, 3, 0);
	tb_ivals(b, ODET_I64, 6, (int64_t[]){0, 1, 2, 0, 2, 1}, TB_CONST);
	tb_fvals(b, TB_FT, 0, NULL, (double[]){1.5}, TB_CONST);
	tb_node(b, IR_OP_PAD, 1);
}
#define PAD_MODE_CASE(MODE)                                                                 \
	static void c_pad_##MODE(tb *b)                                                     \
	{                                                                                   \
		tb_fin(b, TB_FT, 4, D(1, 3, 4, 5), -3, 3, 0);                               \
		tb_ivals(b, ODET_I64, 4, (int64_t[]){3, 2, 2, 4}, TB_CONST);                \
		tb_omit(b);                                                                 \
		tb_ivals(b, ODET_I64, 2, (int64_t[]){2, -1}, TB_CONST);                     \
		tb_node(b, IR_OP_PAD, 1);                                                   \
		SET_S(b, "mode", #MODE);                                                    \
	}
PAD_MODE_CASE(reflect)
PAD_MODE_CASE(edge)
PAD_MODE_CASE(wrap)
static void c_pad_crop_i64(tb *b)
{
	tb_iin(b, ODET_I64, 2, D(6, 7), -9, 9, 0);
	tb_ivals(b, ODET_I64, 4, (int64_t[]){-1, 2, 3, -2}, TB_CONST);
	tb_node(b, IR_OP_PAD, 1);
}

static void resize_base(tb *b, const int64_t *xdims, const double *scales, const int64_t *sizes, const char *mode,
			const char *ctm, const char *nn)
{
	tb_fin(b, TB_FT, 4, xdims, -3, 3, 0);
	tb_omit(b);
	if (scales)
		tb_fvals(b, ODET_F32, 1, D(4), scales, TB_CONST);
	else
		tb_omit(b);
	if (sizes)
		tb_ivals(b, ODET_I64, 4, sizes, TB_CONST);
	tb_node(b, IR_OP_RESIZE, 1);
	SET_S(b, "mode", mode);
	SET_S(b, "coordinate_transformation_mode", ctm);
	if (nn)
		SET_S(b, "nearest_mode", nn);
}
/* tf_crop_and_resize with a roi far outside the image: most coordinates extrapolate, the rest
 * clamp (backend/resize_geom.h limits a coordinate before it becomes an index) */
static void c_rs_crop_far(tb *b)
{
	tb_fin(b, TB_FT, 4, D(1, 2, 6, 5), -3, 3, 0);
	tb_fvals(b, ODET_F32, 1, D(8), (double[]){0, 0, -1e30, 0.2, 1, 1, 1e30, 0.8}, TB_CONST);
	tb_omit(b);
	tb_ivals(b, ODET_I64, 4, (int64_t[]){1, 2, 7, 4}, TB_CONST);
	tb_node(b, IR_OP_RESIZE, 1);
	SET_S(b, "mode", "linear");
	SET_S(b, "coordinate_transformation_mode", "tf_crop_and_resize");
	SET_F(b, "extrapolation_value", 0.5f);
}
static void c_rs_nearest2x(tb *b) { resize_base(b, D(1, 3, 5, 7), (double[]){1, 1, 2, 2}, NULL, "nearest", "asymmetric", "floor"); }
static void c_rs_nearest_down(tb *b) { resize_base(b, D(2, 3, 11, 9), NULL, (int64_t[]){2, 3, 5, 4}, "nearest", "half_pixel", "round_prefer_floor"); }
static void c_rs_linear(tb *b) { resize_base(b, D(1, 3, 5, 7), NULL, (int64_t[]){1, 3, 9, 13}, "linear", "half_pixel", NULL); }
static void c_rs_linear_pt(tb *b) { resize_base(b, D(2, 2, 6, 4), (double[]){1, 1, 1.5, 2.5}, NULL, "linear", "pytorch_half_pixel", NULL); }
static void c_rs_cubic(tb *b) { resize_base(b, D(1, 2, 6, 5), NULL, (int64_t[]){1, 2, 11, 8}, "cubic", "align_corners", NULL); }

static void c_shape(tb *b) { tb_fin(b, TB_FT, 3, D(2, 3, 4), -3, 3, 0); tb_node(b, IR_OP_SHAPE, 1); SET_I(b, "start", 1); }
static void c_constant(tb *b) { tb_node(b, IR_OP_CONSTANT, 1); SET_FS(b, "value_floats", 1.5f, -2.0f, 3.25f); }
static void c_cos_i64(tb *b)
{
	tb_ivals(b, ODET_I64, 2, (int64_t[]){2, 3}, TB_CONST);
	tb_node(b, IR_OP_CONSTANTOFSHAPE, 1);
	int64_t *v = malloc(8);
	*v = 7;
	int c = ir_const_add(b->g, NULL, ODET_I64, 1, D(1), v);
	ir_attr a = {.name = strdup("value"), .type = IR_ATTR_TENSOR, .tensor = c};
	ir_attr_append(b->g, b->node, &a);
}
static void c_cos_f32(tb *b) { tb_ivals(b, ODET_I64, 3, (int64_t[]){2, 3, 5}, TB_CONST); tb_node(b, IR_OP_CONSTANTOFSHAPE, 1); }
static void c_range_f32(tb *b)
{
	tb_fvals(b, ODET_F32, 0, NULL, (double[]){0.5}, TB_CONST);
	tb_fvals(b, ODET_F32, 0, NULL, (double[]){71.3}, TB_CONST);
	tb_fvals(b, ODET_F32, 0, NULL, (double[]){0.7}, TB_CONST);
	tb_node(b, IR_OP_RANGE, 1);
}
static void c_range_i64(tb *b)
{
	tb_ivals(b, ODET_I64, -1, (int64_t[]){10}, TB_CONST);
	tb_ivals(b, ODET_I64, -1, (int64_t[]){-20}, TB_CONST);
	tb_ivals(b, ODET_I64, -1, (int64_t[]){-3}, TB_CONST);
	tb_node(b, IR_OP_RANGE, 1);
}

/* ---- heads */
static int tb_anchors(tb *b, int64_t N, bool xyxy, int flags)
{
	double *v = malloc(sizeof *v * (size_t)N * 4);
	for (int64_t i = 0; i < N; i++) {
		double cx = 300 * rnd(b), cy = 300 * rnd(b), w = 10 + 90 * rnd(b), h = 10 + 90 * rnd(b);
		if (xyxy) {
			v[i * 4 + 0] = cx - w / 2, v[i * 4 + 1] = cy - h / 2, v[i * 4 + 2] = cx + w / 2, v[i * 4 + 3] = cy + h / 2;
		} else {
			v[i * 4 + 0] = cx / 300, v[i * 4 + 1] = cy / 300, v[i * 4 + 2] = w / 300, v[i * 4 + 3] = h / 300;
		}
	}
	int r = tb_fvals(b, TB_FT, 2, D(N, 4), v, flags);
	free(v);
	return r;
}
static void c_box_ssd(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 50, 4), -2, 2, 0);
	tb_anchors(b, 50, false, TB_CONST);
	tb_node(b, IR_OP_BOX_DECODE, 1);
	SET_F(b, "out_scale_x", 300.0f);
	SET_F(b, "out_scale_y", 300.0f);
}
static void c_box_tv(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 4, 77), -2, 2, 0);
	tb_anchors(b, 77, true, TB_CONST);
	tb_node(b, IR_OP_BOX_DECODE, 1);
	SET_I(b, "coder", 1);
	SET_I(b, "layout", 1);
	SET_FS(b, "weights", 10.0f, 10.0f, 5.0f, 5.0f);
	SET_F(b, "xform_clip", 4.135f);
	SET_F(b, "clip_w", 320.0f);
	SET_F(b, "clip_h", 240.0f);
}
static void c_scores_softmax(tb *b) { tb_fin(b, TB_FT, 3, D(2, 7, 50), -4, 4, 0); tb_node(b, IR_OP_CLASS_SCORES, 1); SET_I(b, "layout", 1); SET_I(b, "activation", 1); }
static void c_scores_sigmoid(tb *b) { tb_fin(b, TB_FT, 3, D(2, 41, 9), -4, 4, 0); tb_node(b, IR_OP_CLASS_SCORES, 1); SET_I(b, "activation", 2); }
static void c_scores_softmax0(tb *b) { tb_fin(b, TB_FT, 3, D(3, 70, 81), -4, 4, 0); tb_node(b, IR_OP_CLASS_SCORES, 1); SET_I(b, "activation", 1); }
static void c_scores_big(tb *b) { tb_fin(b, TB_FT, 3, D(8, 81, 8732), -4, 4, 0); tb_node(b, IR_OP_CLASS_SCORES, 1); SET_I(b, "layout", 1); SET_I(b, "activation", 1); }
/* L2Normalize: NCHW over the channels (strided kernel), NHWC rows of 64 (float16: 16-byte
 * vectors), odd rows without scale; eps above some norms */
static void c_l2n_nchw(tb *b) { tb_fin(b, TB_FT, 4, D(2, 24, 5, 7), -2, 2, 0); tb_fin(b, TB_FT, 1, D(24), 1, 20, TB_CONST); tb_node(b, IR_OP_L2_NORMALIZE, 1); SET_F(b, "eps", 1e-3f); }
static void c_l2n_nhwc(tb *b) { tb_fin(b, TB_FT, 4, D(3, 6, 7, 64), -2, 2, 0); tb_fin(b, TB_FT, 1, D(64), 1, 20, TB_CONST); tb_node(b, IR_OP_L2_NORMALIZE, 1); SET_I(b, "axis", 3); }
static void c_l2n_odd(tb *b) { tb_fin(b, TB_FT, 3, D(4, 5, 37), -0.01, 0.01, 0); tb_node(b, IR_OP_L2_NORMALIZE, 1); SET_I(b, "axis", -1); SET_F(b, "eps", 0.02f); }
static void c_l2n_big(tb *b) { tb_fin(b, TB_FT, 4, D(32, 38, 38, 512), 0, 2, 0); tb_fin(b, TB_FT, 1, D(512), 1, 20, TB_CONST); tb_node(b, IR_OP_L2_NORMALIZE, 1); SET_I(b, "axis", 3); SET_F(b, "eps", 1e-10f); }
static void c_yolo5(tb *b)
{
	tb_fin(b, TB_FT, 4, D(2, 3 * (5 + 4), 6, 7), -4, 4, 0);
	tb_node(b, IR_OP_YOLO_DECODE, 2);
	SET_I(b, "version", 5);
	SET_F(b, "stride", 16.0f);
	SET_FS(b, "anchors", 10, 13, 16, 30, 33, 23);
}
static void c_yolo8(tb *b)
{
	tb_fin(b, TB_FT, 4, D(1, 4 * 16 + 3, 5, 6), -4, 4, 0);
	tb_node(b, IR_OP_YOLO_DECODE, 2);
	SET_I(b, "version", 8);
	SET_F(b, "stride", 32.0f);
}
static void c_yolo5_decoded(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 40, 5 + 3), 0, 100, 0);
	tb_node(b, IR_OP_YOLO_DECODE, 2);
	SET_I(b, "version", 5);
	SET_I(b, "decoded", 1);
}
static void c_nms(tb *b)
{
	int64_t B = 2, N = 100, C = 5;
	double *v = malloc(sizeof *v * (size_t)(B * N * 4));
	for (int64_t i = 0; i < B * N; i++) {
		double x = 200 * rnd(b), y = 200 * rnd(b), w = 10 + 60 * rnd(b), h = 10 + 60 * rnd(b);
		v[i * 4 + 0] = x, v[i * 4 + 1] = y, v[i * 4 + 2] = x + w, v[i * 4 + 3] = y + h;
	}
	tb_fvals(b, TB_FT, 3, D(B, N, 4), v, 0);
	free(v);
	tb_fin(b, TB_FT, 3, D(B, N, C), 0, 1, 0);
	tb_node(b, IR_OP_BATCHED_NMS, 4);
	SET_F(b, "score_threshold", 0.3f);
	SET_F(b, "iou_threshold", 0.5f);
	SET_I(b, "max_detections", 20);
	SET_I(b, "topk", 50);
}
static void c_centernet(tb *b)
{
	tb_fin(b, TB_FT, 4, D(2, 12, 13, 3), 0, 1, 0);
	tb_fin(b, TB_FT, 4, D(2, 12, 13, 4), 0, 30, 0);
	tb_node(b, IR_OP_CENTERNET_DECODE, 2);
	SET_I(b, "k", 20);
	SET_I(b, "layout", 1);
}
static void c_centernet_nchw(tb *b)
{
	tb_fin(b, TB_FT, 4, D(1, 4, 9, 10), 0, 1, 0);
	tb_fin(b, TB_FT, 4, D(1, 4, 9, 10), 0, 30, 0);
	tb_node(b, IR_OP_CENTERNET_DECODE, 2);
	SET_I(b, "k", 300); /* likely more than the peaks: zero rows */
	SET_I(b, "layout", 0);
	SET_I(b, "pool", 5);
}
static void c_dist(tb *b)
{
	tb_fin(b, TB_FT, 3, D(2, 30, 4 * 8), -4, 4, 0);
	tb_node(b, IR_OP_DIST_DECODE, 1);
	SET_I(b, "grid_w", 6);
	SET_F(b, "stride", 16.0f);
}

/* ---- detector-sized shapes */
static void c_tr_big(tb *b) { tb_fin(b, TB_FT, 4, D(2, 64, 80, 80), -3, 3, 0); tb_node(b, IR_OP_TRANSPOSE, 1); SET_IS(b, "perm", 0, 2, 3, 1); }
static void c_softmax_big(tb *b) { tb_fin(b, TB_FT, 3, D(1, 8400, 80), -5, 5, 0); tb_node(b, IR_OP_SOFTMAX, 1); }
static void c_rmean_big(tb *b) { tb_fin(b, TB_FT, 4, D(1, 256, 40, 40), -3, 3, 0); tb_ivals(b, ODET_I64, 2, (int64_t[]){2, 3}, TB_CONST); tb_node(b, IR_OP_REDUCEMEAN, 1); }
static void c_rs_big(tb *b) { resize_base(b, D(1, 128, 40, 40), (double[]){1, 1, 2, 2}, NULL, "nearest", "asymmetric", "floor"); }
static void c_topk_big(tb *b) { tb_fin(b, TB_FT, 2, D(1, 8400), 0, 1, 0); tb_ivals(b, ODET_I64, 1, (int64_t[]){100}, TB_CONST); tb_node(b, IR_OP_TOPK, 2); }
static void c_centernet_big(tb *b)
{
	tb_fin(b, TB_FT, 4, D(1, 128, 128, 80), 0, 1, 0);
	tb_fin(b, TB_FT, 4, D(1, 128, 128, 4), 0, 30, 0);
	tb_node(b, IR_OP_CENTERNET_DECODE, 2);
	SET_I(b, "k", 100);
}
static void c_nms_big(tb *b)
{
	int64_t N = 8400, C = 80;
	double *v = malloc(sizeof *v * (size_t)(N * 4));
	for (int64_t i = 0; i < N; i++) {
		double x = 600 * rnd(b), y = 600 * rnd(b), w = 10 + 100 * rnd(b), h = 10 + 100 * rnd(b);
		v[i * 4 + 0] = x, v[i * 4 + 1] = y, v[i * 4 + 2] = x + w, v[i * 4 + 3] = y + h;
	}
	tb_fvals(b, TB_FT, 3, D(1, N, 4), v, 0);
	free(v);
	tb_fin(b, TB_FT, 3, D(1, N, C), 0, 1, 0);
	tb_node(b, IR_OP_BATCHED_NMS, 4);
	SET_F(b, "score_threshold", 0.9f);
	SET_F(b, "iou_threshold", 0.6f);
	SET_I(b, "max_detections", 300);
	SET_I(b, "topk", 1000);
}

/* flags: F16 = also run the float16 variant; SCALED = the fp32 tolerance is relative to the
 * output's largest magnitude (box coordinates: x - w/2 after expf/sigmoid, whose last bits
 * differ between CUDA and glibc, cancels into small values) */
#define F16 1
#define SCALED 2
typedef struct tcase {
	const char *name;
	build_fn fn;
	int flags;
	double rtol;   /* fp32 tolerance (0: 1e-6) */
} tcase;

static const tcase cases[] = {
	{"relu", c_RELU, F16, 0}, {"sigmoid", c_SIGMOID, F16, 0}, {"hardswish", c_HARDSWISH, F16, 0},
	{"tanh", c_TANH, F16, 0}, {"exp", c_EXP, F16, 0}, {"log", c_LOG, F16, 0}, {"sqrt", c_SQRT, F16, 0},
	{"neg", c_NEG, F16, 0}, {"abs", c_ABS, F16, 0}, {"floor", c_FLOOR, F16, 0}, {"ceil", c_CEIL, F16, 0},
	{"leakyrelu", c_leakyrelu, F16, 0}, {"hardsigmoid", c_hardsigmoid, F16, 0}, {"clip", c_clip, F16, 0},
	{"clip_max", c_clip_max, F16, 0}, {"relu_i32", c_relu_i32, 0, 0}, {"neg_i64", c_neg_i64, 0, 0},
	{"abs_i8", c_abs_i8, 0, 0}, {"clip_i32", c_clip_i32, 0, 0}, {"not", c_not, 0, 0},
	{"add", c_ADD, F16, 0}, {"sub", c_SUB, F16, 0}, {"mul", c_MUL, F16, 0}, {"div", c_DIV, F16, 0},
	{"max", c_MAX, F16, 0}, {"min", c_MIN, F16, 0}, {"add_scalar", c_add_scalar, F16, 0},
	{"mul_chan", c_mul_chan, F16, 0}, {"max3", c_max3, F16, 0}, {"min1", c_min1, F16, 0},
	{"pow", c_pow, F16, 0}, {"pow_int_exp", c_pow_int_exp, F16, 0}, {"add_i32", c_add_i32, 0, 0},
	{"div_i32", c_div_i32, 0, 0}, {"mul_i64", c_mul_i64, 0, 0}, {"sub_u8", c_sub_u8, 0, 0},
	{"equal", c_EQUAL, F16, 0}, {"less", c_LESS, F16, 0}, {"greater", c_GREATER, F16, 0},
	{"equal_i64", c_equal_i64, 0, 0}, {"equal_bool", c_equal_bool, 0, 0}, {"less_i32", c_less_i32, 0, 0},
	{"where", c_where, F16, 0}, {"where_i64", c_where_i64, 0, 0},
	{"cast_f32_i32", c_cast_f32_i32, 0, 0}, {"cast_f32_f16", c_cast_f32_f16, 0, 0},
	{"cast_f16_f32", c_cast_f16_f32, 0, 0}, {"cast_f32_bool", c_cast_f32_bool, 0, 0},
	{"cast_f32_u8", c_cast_f32_u8, 0, 0}, {"cast_i64_f32", c_cast_i64_f32, 0, 0},
	{"cast_i32_i64", c_cast_i32_i64, 0, 0}, {"cast_i64_i8", c_cast_i64_i8, 0, 0},
	{"cast_u8_f16", c_cast_u8_f16, 0, 0}, {"cast_bool_f32", c_cast_bool_f32, 0, 0},
	{"cast_f32_bf16", c_cast_f32_bf16, 0, 0},
	{"softmax_last", c_softmax_last, F16, 0}, {"softmax_axis1", c_softmax_axis1, F16, 0},
	{"softmax_coerce", c_softmax_coerce, F16, 0}, {"softmax_long", c_softmax_long, F16, 0},
	{"reducesum", c_rsum, F16, 0}, {"reducemean", c_rmean, F16, 0}, {"reducemax_all", c_rmax_all, F16, 0},
	{"reducemax_02", c_rmax_02, F16, 0}, {"reducesum_i32", c_rsum_i32, 0, 0},
	{"reducemean_i64", c_rmean_i64, 0, 0}, {"reduce_noop", c_rnoop, F16, 0},
	{"argmax", c_argmax, F16, 0}, {"argmax_last", c_argmax_last, F16, 0}, {"argmax_i32", c_argmax_i32, 0, 0},
	{"topk", c_topk, F16, 0}, {"topk_small", c_topk_small, F16, 0}, {"topk_i64", c_topk_i64, 0, 0},
	{"concat", c_concat, F16, 0}, {"concat_i64", c_concat_i64, 0, 0}, {"reshape", c_reshape, F16, 0},
	{"flatten", c_flatten, F16, 0}, {"squeeze", c_squeeze, 0, 0}, {"unsqueeze", c_unsqueeze, F16, 0},
	{"identity", c_identity, 0, 0},
	{"transpose_nhwc", c_tr_nhwc, F16, 0}, {"transpose_img", c_tr_img, F16, 0},
	{"transpose_short5", c_tr_short5, F16, 0}, {"transpose_2d", c_tr_2d, F16, 0}, {"transpose_rev3", c_tr_rev3, F16, 0},
	{"transpose_keeplast", c_tr_keeplast, F16, 0}, {"transpose_i64", c_tr_i64, 0, 0},
	{"transpose_u8_5d", c_tr_u8_5d, 0, 0},
	{"slice", c_slice, F16, 0}, {"slice_neg", c_slice_neg, 0, 0}, {"gather", c_gather, F16, 0},
	{"gather_i32", c_gather_i32, 0, 0}, {"split", c_split, F16, 0}, {"split_eq", c_split_eq, 0, 0},
	{"expand", c_expand, F16, 0}, {"tile", c_tile, F16, 0}, {"pad_const", c_pad_const, F16, 0},
	{"pad_reflect", c_pad_reflect, F16, 0}, {"pad_edge", c_pad_edge, F16, 0}, {"pad_wrap", c_pad_wrap, F16, 0},
	{"pad_crop_i64", c_pad_crop_i64, 0, 0},
	{"resize_nearest2x", c_rs_nearest2x, F16, 0}, {"resize_nearest_down", c_rs_nearest_down, F16, 0},
	{"resize_linear", c_rs_linear, F16, 1e-5}, {"resize_linear_pt", c_rs_linear_pt, F16, 1e-5},
	{"resize_cubic", c_rs_cubic, F16, 1e-5}, {"resize_crop_far", c_rs_crop_far, F16, 1e-5},
	{"shape", c_shape, 0, 0}, {"constant", c_constant, 0, 0}, {"cos_i64", c_cos_i64, 0, 0},
	{"cos_f32", c_cos_f32, 0, 0}, {"range_f32", c_range_f32, 0, 0}, {"range_i64", c_range_i64, 0, 0},
	{"box_ssd", c_box_ssd, F16 | SCALED, 0}, {"box_tv", c_box_tv, F16 | SCALED, 0}, {"scores_softmax", c_scores_softmax, F16, 0},
	{"scores_sigmoid", c_scores_sigmoid, F16, 0}, {"scores_softmax0", c_scores_softmax0, F16, 0},
	{"l2n_nchw", c_l2n_nchw, F16, 0}, {"l2n_nhwc", c_l2n_nhwc, F16, 0}, {"l2n_odd", c_l2n_odd, F16, 0},
	{"yolo5", c_yolo5, F16 | SCALED, 0}, {"yolo8", c_yolo8, F16 | SCALED, 0},
	{"yolo5_decoded", c_yolo5_decoded, F16 | SCALED, 0}, {"nms", c_nms, F16, 0}, {"centernet", c_centernet, F16, 0},
	{"centernet_nchw", c_centernet_nchw, F16, 0}, {"dist", c_dist, F16 | SCALED, 0},
	{"big_transpose", c_tr_big, F16, 0}, {"big_softmax", c_softmax_big, F16, 0}, {"big_reducemean", c_rmean_big, F16, 0},
	{"big_resize", c_rs_big, F16, 0}, {"big_topk", c_topk_big, F16, 0}, {"big_centernet", c_centernet_big, F16, 0},
	{"big_nms", c_nms_big, F16, 0}, {"big_scores", c_scores_big, F16, 0}, {"big_l2norm", c_l2n_big, F16, 0},
};

/* ---------------------------------------------------------------- harness */
static const cuda_kernel *cuda_kernel_of(ir_op op)
{
	static const cuda_kernel *const table[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = &cuda_kernel_##id,
#include "graph/ops.def"
#undef OP
	};
	return (unsigned)op < IR_OP_COUNT ? table[op] : NULL;
}

typedef struct outs {
	int n;
	odet_tensor t[IR_MAX_IO];
} outs;

static void outs_free(outs *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->t[i].data);
	o->n = 0;
}

static void tb_free(tb *b)
{
	for (int i = 0; i < b->n_in; i++)
		free(b->in_data[i]);
	ir_graph_free(b->g);
	b->g = NULL;
}

/* Build case c into b (fresh graph; the data depends only on the case index). */
static bool tb_build(odet_ctx *ctx, tb *b, const tcase *c, int idx, odet_dtype ft, bool round16, char *why, size_t wn)
{
	memset(b, 0, sizeof *b);
	b->ctx = ctx;
	b->ft = ft;
	b->round16 = round16;
	b->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(idx + 1) * 0x2545f4914f6cdd1dull);
	b->node = -1;
	if (ir_graph_create(ctx, &b->g)) {
		snprintf(why, wn, "graph create");
		return false;
	}
	c->fn(b);
	if (b->broken || b->node < 0) {
		snprintf(why, wn, "building the graph: %s", odet_ctx_last_error(ctx));
		return false;
	}
	ir_node *n = &b->g->nodes[b->node];
	odet_status rc = ir_shape_fn_of(n->op)(b->g, n);
	if (rc) {
		snprintf(why, wn, "shape inference: %s", odet_ctx_last_error(ctx));
		return false;
	}
	for (int i = 0; i < n->n_out; i++)
		if (!ir_value_shape_known(ir_out(b->g, n, i))) {
			snprintf(why, wn, "output %d shape unknown", i);
			return false;
		}
	return true;
}

static void tensor_of(const ir_value *v, void *data, odet_tensor *t)
{
	memset(t, 0, sizeof *t);
	t->dtype = v->dtype;
	t->rank = v->rank;
	memcpy(t->dims, v->dims, sizeof(int64_t) * (size_t)(v->rank > 0 ? v->rank : 0));
	t->data = data;
	t->device = -1;
}

static size_t value_bytes(const ir_value *v)
{
	return (size_t)ir_value_numel(v) * odet_dtype_size(v->dtype);
}

static bool eval_cpu(odet_ctx *ctx, tb *b, outs *o, char *why, size_t wn)
{
	const ir_node *n = &b->g->nodes[b->node];
	odet_tensor in[IR_MAX_IO];
	memset(in, 0, sizeof in);
	for (int i = 0; i < n->n_in; i++)
		if (n->in[i] >= 0)
			tensor_of(&b->g->values[n->in[i]], b->in_data[i], &in[i]);
	o->n = n->n_out;
	for (int i = 0; i < n->n_out; i++) {
		const ir_value *v = ir_out(b->g, n, i);
		void *d = malloc(value_bytes(v) + 1);
		memset(d, 0xcd, value_bytes(v) + 1);
		tensor_of(v, d, &o->t[i]);
	}
	odet_status rc = be_eval_node(odet_backend_cpu(), ctx, b->g, n, in, o->t);
	if (rc)
		snprintf(why, wn, "CPU: %s", odet_ctx_last_error(ctx));
	return rc == ODET_OK;
}

static bool eval_cuda(odet_ctx *ctx, const odet_build_opts *bo, tb *b, outs *o, const char *timed, char *why,
		      size_t wn)
{
	const ir_node *n = &b->g->nodes[b->node];
	const cuda_kernel *k = cuda_kernel_of(n->op);
	odet_tensor in[IR_MAX_IO], dout[IR_MAX_IO];
	void *dev_in[IR_MAX_IO] = {0};
	void *state = NULL, *ws = NULL;
	size_t ws_size = 0;
	bool ok = false, prepared = false;
	cudaStream_t st = NULL;
	memset(in, 0, sizeof in);
	memset(dout, 0, sizeof dout);
	o->n = 0;
	if (!k || !k->run) {
		snprintf(why, wn, "no CUDA kernel for %s", ir_op_name(n->op));
		return false;
	}
	if (k->check && k->check(ctx, b->g, n)) {
		snprintf(why, wn, "check refused: %s", odet_ctx_last_error(ctx));
		return false;
	}
	if (cudaStreamCreate(&st) != cudaSuccess) {
		snprintf(why, wn, "cudaStreamCreate");
		return false;
	}
	for (int i = 0; i < n->n_in; i++) {
		if (n->in[i] < 0)
			continue;
		const ir_value *v = &b->g->values[n->in[i]];
		size_t bytes = value_bytes(v);
		if (cudaMalloc(&dev_in[i], bytes + 1) != cudaSuccess ||
		    cudaMemcpy(dev_in[i], b->in_data[i], bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
			snprintf(why, wn, "input upload");
			goto out_free;
		}
		tensor_of(v, dev_in[i], &in[i]);
	}
	for (int i = 0; i < n->n_out; i++) {
		const ir_value *v = ir_out(b->g, n, i);
		void *d = NULL;
		if (cudaMalloc(&d, value_bytes(v) + 1) != cudaSuccess) {
			snprintf(why, wn, "output alloc");
			goto out_free;
		}
		cudaMemset(d, 0xcd, value_bytes(v) + 1); /* garbage: kernels must write everything */
		tensor_of(v, d, &dout[i]);
	}
	b->g->build = bo; /* kernel choices, as an engine's build options give them */
	if (k->prepare) {
		if (k->prepare(ctx, b->g, n, &state, &ws_size)) {
			snprintf(why, wn, "prepare: %s", odet_ctx_last_error(ctx));
			goto out_free;
		}
		prepared = true;
		if (ws_size && cudaMalloc(&ws, ws_size) != cudaSuccess) {
			snprintf(why, wn, "workspace alloc");
			goto out_free;
		}
	}
	be_run_args a = {.ctx = ctx, .g = b->g, .node = n, .state = state, .in = in, .n_in = n->n_in, .out = dout,
			 .n_out = n->n_out, .workspace = ws, .workspace_size = ws_size, .stream = st};
	if (k->run(&a)) {
		snprintf(why, wn, "run: %s", odet_ctx_last_error(ctx));
		goto out_free;
	}
	cudaError_t e = cudaStreamSynchronize(st);
	if (e != cudaSuccess) {
		snprintf(why, wn, "device error: %s", cudaGetErrorString(e));
		goto out_free;
	}
	if (timed) { /* information only: mean of 20 runs after the first, CUDA events */
		cudaEvent_t t0, t1;
		float ms = 0;
		cudaEventCreate(&t0);
		cudaEventCreate(&t1);
		cudaEventRecord(t0, st);
		for (int r = 0; r < 20; r++)
			k->run(&a);
		cudaEventRecord(t1, st);
		cudaEventSynchronize(t1);
		cudaEventElapsedTime(&ms, t0, t1);
		printf("time %-24s %s %9.2f us\n", timed, b->ft == ODET_F16 ? "fp16" : "fp32", ms * 1000 / 20);
		cudaEventDestroy(t0);
		cudaEventDestroy(t1);
	}
	o->n = n->n_out;
	for (int i = 0; i < n->n_out; i++) {
		const ir_value *v = ir_out(b->g, n, i);
		void *h = malloc(value_bytes(v) + 1);
		cudaMemcpy(h, dout[i].data, value_bytes(v), cudaMemcpyDeviceToHost);
		tensor_of(v, h, &o->t[i]);
	}
	ok = true;
out_free:
	if (prepared && k->release)
		k->release(state);
	cudaFree(ws);
	for (int i = 0; i < IR_MAX_IO; i++) {
		cudaFree(dev_in[i]);
		cudaFree(dout[i].data);
	}
	cudaStreamDestroy(st);
	return ok;
}

static bool is_float(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F16 || t == ODET_BF16;
}

static double as_double(const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_F32: return ((const float *)t->data)[i];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	case ODET_BF16: {
		uint32_t u = (uint32_t)((const uint16_t *)t->data)[i] << 16;
		float f;
		memcpy(&f, &u, 4);
		return f;
	}
	default: return 0;
	}
}

static bool compare(const odet_tensor *got, const odet_tensor *want, double rtol, double atol, char *why, size_t wn)
{
	int64_t n = odet_tensor_numel(want);
	if (odet_tensor_numel(got) != n || got->rank != want->rank) {
		snprintf(why, wn, "shape differs");
		return false;
	}
	if (is_float(want->dtype) != is_float(got->dtype) ||
	    (!is_float(want->dtype) && want->dtype != got->dtype)) {
		snprintf(why, wn, "dtype %s vs %s", odet_dtype_name(got->dtype), odet_dtype_name(want->dtype));
		return false;
	}
	size_t esz = odet_dtype_size(want->dtype);
	for (int64_t i = 0; i < n; i++) {
		if (is_float(want->dtype)) {
			double g = as_double(got, i), w = as_double(want, i);
			if (isnan(w) ? !isnan(g) : (g != w && !(fabs(g - w) <= atol + rtol * fabs(w)))) {
				snprintf(why, wn, "element %lld: got %.9g, want %.9g", (long long)i, g, w);
				return false;
			}
		} else if (memcmp((const char *)got->data + i * (int64_t)esz, (const char *)want->data + i * (int64_t)esz,
				  esz)) {
			int64_t g = 0, w = 0;
			memcpy(&g, (const char *)got->data + i * (int64_t)esz, esz);
			memcpy(&w, (const char *)want->data + i * (int64_t)esz, esz);
			snprintf(why, wn, "element %lld: got %lld, want %lld", (long long)i, (long long)g, (long long)w);
			return false;
		}
	}
	return true;
}

/* One variant of a case: CPU on the float32 graph, CUDA on the ft graph. */
static bool run_variant(odet_ctx *ctx, const odet_build_opts *bo, const tcase *c, int idx, bool half, bool dry,
			ir_op *op, char *why, size_t wn)
{
	tb bc, bg;
	outs ref = {0}, got = {0};
	bool ok = false;
	double rtol = half ? 1e-2 : c->rtol > 0 ? c->rtol : 1e-6, atol = half ? 1e-3 : 1e-6;
	*op = IR_OP_COUNT;
	if (!tb_build(ctx, &bc, c, idx, ODET_F32, half, why, wn))
		goto out_free_c;
	*op = bc.g->nodes[bc.node].op;
	if (!eval_cpu(ctx, &bc, &ref, why, wn))
		goto out_free_c;
	if (!tb_build(ctx, &bg, c, idx, half ? ODET_F16 : ODET_F32, half, why, wn))
		goto out_free_g;
	if (dry) { /* no device: the CUDA kernel's check only */
		const ir_node *n = &bg.g->nodes[bg.node];
		const cuda_kernel *k = cuda_kernel_of(n->op);
		ok = k && k->run && (!k->check || !k->check(ctx, bg.g, n));
		if (!ok)
			snprintf(why, wn, "no kernel or check refused: %s", odet_ctx_last_error(ctx));
		goto out_free_g;
	}
	if (!eval_cuda(ctx, bo, &bg, &got, strncmp(c->name, "big_", 4) ? NULL : c->name, why, wn))
		goto out_free_g;
	ok = true;
	for (int i = 0; i < ref.n && ok; i++) {
		char msg[200];
		double scale = 0;
		for (int64_t e = 0; (c->flags & SCALED) && !half && is_float(ref.t[i].dtype) && e < odet_tensor_numel(&ref.t[i]); e++)
			scale = fmax(scale, fabs(as_double(&ref.t[i], e)));
		if (!compare(&got.t[i], &ref.t[i], rtol, atol + rtol * scale, msg, sizeof msg)) {
			snprintf(why, wn, "output %d: %s", i, msg);
			ok = false;
		}
	}
out_free_g:
	outs_free(&got);
	tb_free(&bg);
out_free_c:
	outs_free(&ref);
	tb_free(&bc);
	return ok;
}

/* Every variant (fp32, and fp16 where flagged) of the cases whose name contains `filter` and
 * `only` (NULL: any); `note` goes into failure messages; pass/fail[op][half] (optional) count
 * the outcomes per op. Returns the variants run. */
static int run_cases(odet_ctx *ctx, const odet_build_opts *bo, const char *filter, const char *only, const char *note,
		     bool dry,
		     int (*pass)[2], int (*fail)[2])
{
	int runs = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const tcase *c = &cases[i];
		if ((filter && !strstr(c->name, filter)) || (only && !strstr(c->name, only)))
			continue;
		for (int half = 0; half <= ((c->flags & F16) ? 1 : 0); half++) {
			char why[512] = "";
			ir_op op;
			bool ok = run_variant(ctx, bo, c, (int)i, half, dry, &op, why, sizeof why);
			CHECK_MSG(ok, "%s (%s%s): %s", c->name, half ? "fp16" : "fp32", note, why);
			runs++;
			if (pass && op < IR_OP_COUNT)
				(ok ? pass : fail)[op][half]++;
		}
	}
	return runs;
}

int main(int argc, char **argv)
{
	int ndev = 0;
	bool dry = argc > 1 && !strcmp(argv[1], "--dry");
	if (dry) {
		argc--;
		argv++;
	} else if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev < 1) {
		printf("skipped: no CUDA device (--dry runs the checks only)\n");
		return 77;
	}
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 2;
	o.log_level = ODET_LOG_ERROR;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	static int pass[IR_OP_COUNT][2], fail[IR_OP_COUNT][2];
	const char *filter = argc > 1 ? argv[1] : NULL;
	odet_build_opts bo = odet_build_opts_default();
	run_cases(ctx, &bo, filter, NULL, "", dry, pass, fail);
	/* the NMS cases again through the CUB pipeline (odet_build_opts.nms_sort, read when a
	 * node is prepared) */
	bo.nms_sort = ODET_NMS_SORT_CUB;
	int cub_runs = run_cases(ctx, &bo, filter, "nms", ", CUB pipeline", dry, NULL, NULL);
	printf("BatchedNms through the CUB pipeline too: %d variants\n", cub_runs);
	printf("%-18s %-9s %-9s\n", "op", "fp32", "fp16");
	for (int op = 0; op < IR_OP_COUNT; op++) {
		char s32[32], s16[32];
		if (!pass[op][0] && !fail[op][0] && !pass[op][1] && !fail[op][1])
			continue;
		snprintf(s32, sizeof s32, "%s %d/%d", fail[op][0] ? "FAIL" : "ok", pass[op][0], pass[op][0] + fail[op][0]);
		if (pass[op][1] + fail[op][1])
			snprintf(s16, sizeof s16, "%s %d/%d", fail[op][1] ? "FAIL" : "ok", pass[op][1], pass[op][1] + fail[op][1]);
		else
			snprintf(s16, sizeof s16, "-");
		printf("%-18s %-9s %-9s\n", ir_op_name((ir_op)op), s32, s16);
	}
	odet_ctx_destroy(ctx);
	return test_summary("cuda_ops");
}
