/*
 * binary.cu — the broadcasting binary family on CUDA, generated from one op list x one
 * dtype list (the CPU's binary.c is the spec):
 *   C = A op B with numpy broadcasting (up to 8 dims); A, B, C of one dtype: float32 and
 *   float16 (computed in float32), int8, int32, int64, uint8.
 *   Add Sub Mul   integer overflow wraps (two's complement)
 *   Div           floats IEEE; integers truncate toward zero, x / 0 = 0, MIN / -1 = MIN
 *   Max Min       variadic (1..N inputs, folded pairwise into the output); NaN propagates
 *   Pow           base float32/float16/int32/int64 x exponent of those: pow() in double,
 *                 converted to the base dtype (integers truncate; non-finite or huge -> 0)
 * One thread per output element; operand offsets from be_bcast (merged dims).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T> struct cu_unsigned { typedef T t; };
template <> struct cu_unsigned<int8_t> { typedef uint8_t t; };
template <> struct cu_unsigned<int32_t> { typedef uint32_t t; };
template <> struct cu_unsigned<int64_t> { typedef uint64_t t; };

/* X(ID, expression of a, b (compute type A; UT unsigned twin; IS_INT, IS_SIGNED)) */
#define BINARY_OPS(X)                                                                         \
	X(ADD, IS_INT ? A(UT(a) + UT(b)) : A(a + b))                                          \
	X(SUB, IS_INT ? A(UT(a) - UT(b)) : A(a - b))                                          \
	X(MUL, IS_INT ? A(UT(a) * UT(b)) : A(a * b))                                          \
	X(DIV, !IS_INT ? A(a / b) : b == A(0) ? A(0) : (IS_SIGNED && b == A(-1)) ? A(UT(0) - UT(a)) : A(a / b)) \
	X(MAX, (a > b || a != a) ? a : b)                                                     \
	X(MIN, (a < b || a != a) ? a : b)

#define DEF_OP(ID, EXPR)                                                                      \
	struct op_##ID {                                                                      \
		template <typename A>                                                         \
		__device__ __forceinline__ A operator()(A a, A b) const                       \
		{                                                                             \
			typedef typename cu_unsigned<A>::t UT;                                \
			const bool IS_INT = A(0.5) == A(0);                                   \
			const bool IS_SIGNED = A(-1) < A(0);                                  \
			(void)IS_INT; (void)IS_SIGNED;                                        \
			return (EXPR);                                                        \
		}                                                                             \
	};
BINARY_OPS(DEF_OP)

template <typename T, typename OP>
__global__ void binary_kernel(be_bcast b, const T *x0, const T *x1, T *y)
{
	typedef cu_num<T> N;
	CU_FOR(i, b.numel) {
		int64_t off[2];
		cu_bcast_off<2>(b, i, off);
		y[i] = N::st(OP()(N::ld(x0[off[0]]), N::ld(x1[off[1]])));
	}
}

/* Pow in double, converted to the base type like the CPU. */
template <typename T> __device__ __forceinline__ double pw_ld(T x) { return (double)x; }
template <> __device__ __forceinline__ double pw_ld<__half>(__half x) { return (double)__half2float(x); }
template <typename T> __device__ __forceinline__ T pw_st(double r)
{
	return isfinite(r) && fabs(r) < 9.2e18 ? (T)(int64_t)r : (T)0;
}
template <> __device__ __forceinline__ float pw_st<float>(double r) { return (float)r; }
template <> __device__ __forceinline__ __half pw_st<__half>(double r) { return __float2half_rn((float)r); }

template <typename T, typename TE>
__global__ void pow_kernel(be_bcast b, const T *x0, const TE *x1, T *y)
{
	CU_FOR(i, b.numel) {
		int64_t off[2];
		cu_bcast_off<2>(b, i, off);
		y[i] = pw_st<T>(pow(pw_ld<T>(x0[off[0]]), pw_ld<TE>(x1[off[1]])));
	}
}

/* Launcher: raw device pointers, broadcast layout b (operands 0, 1). */
typedef odet_status (*binary_launch_fn)(const be_bcast *b, const void *x0, const void *x1, void *y, cudaStream_t st);

template <typename T, typename OP>
odet_status binary_launch(const be_bcast *b, const void *x0, const void *x1, void *y, cudaStream_t st)
{
	if (b->numel <= 0)
		return ODET_OK;
	binary_kernel<T, OP><<<cu_grid(b->numel, CU_BLOCK), CU_BLOCK, 0, st>>>(*b, (const T *)x0, (const T *)x1, (T *)y);
	return ODET_CUDA(cudaGetLastError());
}

template <typename T, typename TE>
odet_status pow_launch(const be_bcast *b, const void *x0, const void *x1, void *y, cudaStream_t st)
{
	if (b->numel <= 0)
		return ODET_OK;
	pow_kernel<T, TE><<<cu_grid(b->numel, CU_BLOCK), CU_BLOCK, 0, st>>>(*b, (const T *)x0, (const TE *)x1, (T *)y);
	return ODET_CUDA(cudaGetLastError());
}

/* Broadcast copy (Max/Min of one input): any element size. */
template <typename T>
__global__ void bcast_copy_kernel(be_bcast b, const T *x, T *y)
{
	CU_FOR(i, b.numel) {
		int64_t off[1];
		cu_bcast_off<1>(b, i, off);
		y[i] = x[off[0]];
	}
}

typedef struct binary_entry {
	ir_op op;
	odet_dtype a, b;
	binary_launch_fn fn;
} binary_entry;

#define ENTRY(S, T, ID) {IR_OP_##ID, ODET_##S, ODET_##S, binary_launch<T, op_##ID>},
#define EACH_TYPE(ID, EXPR) ENTRY(F32, float, ID) ENTRY(F16, __half, ID) ENTRY(I8, int8_t, ID) \
	ENTRY(I32, int32_t, ID) ENTRY(I64, int64_t, ID) ENTRY(U8, uint8_t, ID)
#define POW_BASE_TYPES(X) X(F32, float) X(F16, __half) X(I32, int32_t) X(I64, int64_t)
#define POW_EXP_TYPES(X, S, T) X(S, T, F32, float) X(S, T, F16, __half) X(S, T, I32, int32_t) X(S, T, I64, int64_t)
#define ENTRY_POW(S, T, S2, T2) {IR_OP_POW, ODET_##S, ODET_##S2, pow_launch<T, T2>},
#define ENTRY_POW_BASE(S, T) POW_EXP_TYPES(ENTRY_POW, S, T)

const binary_entry binary_table[] = {
	BINARY_OPS(EACH_TYPE)
	POW_BASE_TYPES(ENTRY_POW_BASE)
};

binary_launch_fn binary_lookup(ir_op op, odet_dtype a, odet_dtype b)
{
	for (size_t i = 0; i < sizeof binary_table / sizeof binary_table[0]; i++)
		if (binary_table[i].op == op && binary_table[i].a == a && binary_table[i].b == b)
			return binary_table[i].fn;
	return NULL;
}

odet_status binary_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	bool variadic = n->op == IR_OP_MAX || n->op == IR_OP_MIN;
	const ir_value *a = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!a || !y || n->n_in < (variadic ? 1 : 2) || (!variadic && n->n_in != 2))
		return cu_refuse(ctx, n, "wrong number of inputs");
	if (a->rank > ODET_MAX_RANK || y->rank > ODET_MAX_RANK)
		return cu_refuse(ctx, n, "rank above 8");
	for (int i = 0; i < n->n_in; i++) {
		const ir_value *b = ir_in(g, n, i);
		if (!b)
			return cu_refuse(ctx, n, "an input is missing");
		odet_dtype bt = n->op == IR_OP_POW ? b->dtype : a->dtype;
		if (b->dtype != bt || !binary_lookup(n->op, a->dtype, bt))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s on CUDA: dtypes %s, %s are not supported",
					  n->name, ir_op_name(n->op), odet_dtype_name(a->dtype), odet_dtype_name(b->dtype));
	}
	if (y->dtype != a->dtype)
		return cu_refuse(ctx, n, "output dtype differs from the input's");
	return ODET_OK;
}

odet_status binary_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	odet_tensor *y = &a->out[0];
	cudaStream_t st = (cudaStream_t)a->stream;
	be_bcast b;
	odet_status rc = ODET_OK;
	if (a->n_in == 1) {
		const odet_tensor *ins[1] = {&a->in[0]};
		if (!be_bcast_init(&b, y, ins, 1) || a->in[0].dtype != y->dtype)
			return cu_bad(a, "input does not broadcast to the output");
		if (b.numel == 0)
			return ODET_OK;
		CU_BY_SIZE(odet_dtype_size(y->dtype), rc,
			   (bcast_copy_kernel<T><<<cu_grid(b.numel, CU_BLOCK), CU_BLOCK, 0, st>>>(b, (const T *)a->in[0].data,
											   (T *)y->data)));
		return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
	}
	binary_launch_fn fn = binary_lookup(n->op, a->in[0].dtype, a->in[1].dtype);
	if (!fn)
		return cu_bad(a, "dtypes not supported");
	for (int i = 1; i < a->n_in && !rc; i++) {
		const odet_tensor *ins[2] = {i == 1 ? &a->in[0] : y, &a->in[i]};
		if ((i > 1 && a->in[i].dtype != y->dtype) || !be_bcast_init(&b, y, ins, 2))
			return cu_bad(a, "inputs do not broadcast to the output");
		/* Max/Min of more inputs: fold the rest into the output in place */
		rc = fn(&b, ins[0]->data, ins[1]->data, y->data, st);
	}
	return rc ? cu_launched(a) : ODET_OK;
}

} /* namespace */

#define KERNEL(ID) extern "C" const cuda_kernel cuda_kernel_##ID = {binary_check, NULL, NULL, binary_run};
KERNEL(ADD)
KERNEL(SUB)
KERNEL(MUL)
KERNEL(DIV)
KERNEL(POW)
KERNEL(MAX)
KERNEL(MIN)
