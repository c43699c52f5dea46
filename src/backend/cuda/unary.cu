/*
 * unary.cu — the unary elementwise family on CUDA, generated from one op list x one dtype
 * list (the CPU's unary.c is the spec):
 *   Y = f(X), same shape and dtype. float32/float16 (computed in float32) for every op of
 *   UNARY_FLOAT_OPS; Relu, Clip, Neg, Abs, Floor, Ceil also for the integer types of
 *   CU_INT_TYPES (UNARY_INT_OPS; Neg/Abs wrap: -INT_MIN = INT_MIN).
 *   LeakyRelu attr alpha (0.01); HardSigmoid attrs alpha (0.2), beta (0.5); Clip optional
 *   inputs 1 (min), 2 (max): one-element device tensors of X's dtype, read by the kernel
 *   (hi wins when lo > hi; NaN propagates). Not: bool -> bool.
 * One thread per element (grid-stride).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

typedef struct unary_params {
	float alpha, beta;
	bool has_lo, has_hi;
} unary_params;

template <typename T> struct cu_unsigned { typedef T t; };
template <> struct cu_unsigned<int8_t> { typedef uint8_t t; };
template <> struct cu_unsigned<int32_t> { typedef uint32_t t; };
template <> struct cu_unsigned<int64_t> { typedef uint64_t t; };

__device__ __forceinline__ float clamp01(float v)
{
	return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
}

/* X(ID, expression of x (compute type A), p, lo, hi) — float32/float16 in float32 */
#define UNARY_FLOAT_OPS(X)                                                                   \
	X(RELU, x < 0 ? 0.0f : x)                                                            \
	X(LEAKYRELU, x >= 0 ? x : p.alpha * x)                                               \
	X(CLIP, CLIP_EXPR)                                                                   \
	X(SIGMOID, 1.0f / (1.0f + expf(-x)))                                                 \
	X(HARDSIGMOID, clamp01((float)((double)p.alpha * x + (double)p.beta)))              \
	X(HARDSWISH, x * clamp01(x / 6.0f + 0.5f))                                           \
	X(TANH, tanhf(x))                                                                    \
	X(EXP, expf(x))                                                                      \
	X(LOG, logf(x))                                                                      \
	X(SQRT, sqrtf(x))                                                                    \
	X(NEG, -x)                                                                           \
	X(ABS, fabsf(x))                                                                     \
	X(FLOOR, floorf(x))                                                                  \
	X(CEIL, ceilf(x))

/* X(ID, expression) — integer types (UT: unsigned twin) */
#define UNARY_INT_OPS(X)                                                                     \
	X(RELU, x < 0 ? A(0) : x)                                                            \
	X(CLIP, CLIP_EXPR)                                                                   \
	X(NEG, A(UT(0) - UT(x)))                                                             \
	X(ABS, x < 0 ? A(UT(0) - UT(x)) : x)                                                 \
	X(FLOOR, x)                                                                          \
	X(CEIL, x)

/* lower bound first, then the upper one wins; NaN x stays NaN */
#define CLIP_EXPR ((p.has_hi && (p.has_lo && x < lo ? lo : x) > hi) ? hi : (p.has_lo && x < lo ? lo : x))

#define DEF_FLOAT_OP(ID, EXPR)                                                               \
	struct fop_##ID {                                                                    \
		template <typename A, typename UT>                                           \
		__device__ __forceinline__ A operator()(A x, const unary_params &p, A lo, A hi) const \
		{                                                                            \
			return (EXPR);                                                       \
		}                                                                            \
	};
#define DEF_INT_OP(ID, EXPR)                                                                 \
	struct iop_##ID {                                                                    \
		template <typename A, typename UT>                                           \
		__device__ __forceinline__ A operator()(A x, const unary_params &p, A lo, A hi) const \
		{                                                                            \
			(void)p; (void)lo; (void)hi;                                         \
			return (EXPR);                                                       \
		}                                                                            \
	};
UNARY_FLOAT_OPS(DEF_FLOAT_OP)
UNARY_INT_OPS(DEF_INT_OP)

template <typename T, typename OP>
__global__ void unary_kernel(const T *x, T *y, int64_t n, unary_params p, const T *plo, const T *phi)
{
	typedef cu_num<T> N;
	typedef typename N::acc A;
	typedef typename cu_unsigned<A>::t UT;
	A lo = p.has_lo ? N::ld(*plo) : A(0), hi = p.has_hi ? N::ld(*phi) : A(0);
	CU_FOR(i, n)
		y[i] = N::st(OP().template operator()<A, UT>(N::ld(x[i]), p, lo, hi));
}

/* Launcher: raw device pointers (lo/hi may be NULL). */
typedef odet_status (*unary_launch_fn)(const void *x, void *y, int64_t n, const unary_params *p, const void *lo,
				       const void *hi, cudaStream_t st);

template <typename T, typename OP>
odet_status unary_launch(const void *x, void *y, int64_t n, const unary_params *p, const void *lo, const void *hi,
			 cudaStream_t st)
{
	if (n <= 0)
		return ODET_OK;
	unary_kernel<T, OP><<<cu_grid(n, CU_BLOCK), CU_BLOCK, 0, st>>>((const T *)x, (T *)y, n, *p, (const T *)lo,
								      (const T *)hi);
	return ODET_CUDA(cudaGetLastError());
}

typedef struct unary_entry {
	ir_op op;
	odet_dtype dtype;
	unary_launch_fn fn;
} unary_entry;

#define ENTRY_F(S, T, ID) {IR_OP_##ID, ODET_##S, unary_launch<T, fop_##ID>},
#define ENTRY_I(S, T, ID) {IR_OP_##ID, ODET_##S, unary_launch<T, iop_##ID>},
/* expand op list x type list: one entry per (op, dtype) */
#define EACH_FLOAT_TYPE(ID, EXPR) ENTRY_F(F32, float, ID) ENTRY_F(F16, __half, ID)
#define EACH_INT_TYPE(ID, EXPR) ENTRY_I(I8, int8_t, ID) ENTRY_I(I32, int32_t, ID) ENTRY_I(I64, int64_t, ID) \
	ENTRY_I(U8, uint8_t, ID)

const unary_entry unary_table[] = {
	UNARY_FLOAT_OPS(EACH_FLOAT_TYPE)
	UNARY_INT_OPS(EACH_INT_TYPE)
};

unary_launch_fn unary_lookup(ir_op op, odet_dtype t)
{
	for (size_t i = 0; i < sizeof unary_table / sizeof unary_table[0]; i++)
		if (unary_table[i].op == op && unary_table[i].dtype == t)
			return unary_table[i].fn;
	return NULL;
}

odet_status unary_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return cu_refuse(ctx, n, "needs one input and one output");
	if (!unary_lookup(n->op, x->dtype) || y->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s on CUDA: dtype %s is not supported", n->name,
				  ir_op_name(n->op), odet_dtype_name(x->dtype));
	for (int i = 1; i < n->n_in && n->op == IR_OP_CLIP; i++) {
		const ir_value *b = ir_in(g, n, i);
		if (b && (b->dtype != x->dtype || (ir_value_shape_known(b) && ir_value_numel(b) != 1)))
			return cu_refuse(ctx, n, "Clip bounds must be one element of X's dtype");
	}
	return ODET_OK;
}

odet_status unary_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	unary_launch_fn fn = unary_lookup(n->op, x->dtype);
	int64_t numel = odet_tensor_numel(x);
	if (!fn || numel < 0 || numel != odet_tensor_numel(y) || y->dtype != x->dtype)
		return cu_bad(a, "bad input/output tensors");
	unary_params p = {0, 0, false, false};
	const void *lo = NULL, *hi = NULL;
	if (n->op == IR_OP_LEAKYRELU) {
		p.alpha = ir_attr_float(n, "alpha", 0.01f);
	} else if (n->op == IR_OP_HARDSIGMOID) {
		p.alpha = ir_attr_float(n, "alpha", 0.2f);
		p.beta = ir_attr_float(n, "beta", 0.5f);
	} else if (n->op == IR_OP_CLIP) {
		for (int i = 1; i <= 2; i++) {
			if (i >= a->n_in || !a->in[i].data)
				continue;
			if (odet_tensor_numel(&a->in[i]) != 1 || a->in[i].dtype != x->dtype)
				return cu_bad(a, "Clip bound must be one element of X's dtype");
			if (i == 1)
				lo = a->in[i].data;
			else
				hi = a->in[i].data;
		}
		p.has_lo = lo != NULL;
		p.has_hi = hi != NULL;
	}
	odet_status rc = fn(x->data, y->data, numel, &p, lo, hi, (cudaStream_t)a->stream);
	return rc ? cu_launched(a) : ODET_OK;
}

/* Not: bool -> bool */
__global__ void not_kernel(const uint8_t *x, uint8_t *y, int64_t n)
{
	CU_FOR(i, n)
		y[i] = !x[i];
}

odet_status not_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || x->dtype != ODET_BOOL || y->dtype != ODET_BOOL)
		return cu_refuse(ctx, n, "needs bool input and output");
	return ODET_OK;
}

odet_status not_run(const be_run_args *a)
{
	int64_t n = odet_tensor_numel(&a->in[0]);
	if (n < 0 || n != odet_tensor_numel(&a->out[0]))
		return cu_bad(a, "bad input/output tensors");
	if (n == 0)
		return ODET_OK;
	not_kernel<<<cu_grid(n, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>((const uint8_t *)a->in[0].data,
										(uint8_t *)a->out[0].data, n);
	return cu_launched(a);
}

} /* namespace */

#define KERNEL(ID, EXPR) extern "C" const cuda_kernel cuda_kernel_##ID = {unary_check, NULL, NULL, unary_run};
UNARY_FLOAT_OPS(KERNEL)
#undef KERNEL
extern "C" const cuda_kernel cuda_kernel_NOT = {not_check, NULL, NULL, not_run};
