/*
 * compare.cu — Equal, Less, Greater on CUDA: C = A op B with numpy broadcasting.
 *   A, B: one dtype of float32, float16 (compared in float32), int8, int32, int64, uint8
 *   (Equal also bool); C: bool (one byte, 0/1). Comparisons with NaN are false.
 * One thread per output element (be_bcast offsets). Spec: backend/cpu/compare.c.
 */
#include "backend/cuda/cuda_ops.h"

namespace {

/* X(ID, expression of a, b) */
#define COMPARE_OPS(X)              \
	X(EQUAL, a == b)            \
	X(LESS, a < b)              \
	X(GREATER, a > b)

#define DEF_OP(ID, EXPR)                                                        \
	struct op_##ID {                                                        \
		template <typename A>                                           \
		__device__ __forceinline__ bool operator()(A a, A b) const      \
		{                                                               \
			return (EXPR);                                          \
		}                                                               \
	};
COMPARE_OPS(DEF_OP)

template <typename T, typename OP>
__global__ void compare_kernel(be_bcast b, const T *x0, const T *x1, uint8_t *y)
{
	typedef cu_num<T> N;
	CU_FOR(i, b.numel) {
		int64_t off[2];
		cu_bcast_off<2>(b, i, off);
		y[i] = OP()(N::ld(x0[off[0]]), N::ld(x1[off[1]]));
	}
}

typedef odet_status (*compare_launch_fn)(const be_bcast *b, const void *x0, const void *x1, uint8_t *y,
					 cudaStream_t st);

template <typename T, typename OP>
odet_status compare_launch(const be_bcast *b, const void *x0, const void *x1, uint8_t *y, cudaStream_t st)
{
	if (b->numel <= 0)
		return ODET_OK;
	compare_kernel<T, OP><<<cu_grid(b->numel, CU_BLOCK), CU_BLOCK, 0, st>>>(*b, (const T *)x0, (const T *)x1, y);
	return ODET_CUDA(cudaGetLastError());
}

typedef struct compare_entry {
	ir_op op;
	odet_dtype dtype;
	compare_launch_fn fn;
} compare_entry;

#define COMPARE_TYPES(X, ID) CU_NUM_TYPES_OF(X, ID) X(BOOL, uint8_t, ID)
#define CU_NUM_TYPES_OF(X, ID) X(F32, float, ID) X(F16, __half, ID) X(I8, int8_t, ID) X(I32, int32_t, ID) \
	X(I64, int64_t, ID) X(U8, uint8_t, ID)
#define ENTRY(S, T, ID) {IR_OP_##ID, ODET_##S, compare_launch<T, op_##ID>},
#define EACH_TYPE(ID, EXPR) COMPARE_TYPES(ENTRY, ID)
const compare_entry compare_table[] = {COMPARE_OPS(EACH_TYPE)};

compare_launch_fn compare_lookup(ir_op op, odet_dtype t)
{
	/* ordering bools is allowed by numpy but not by ONNX */
	if (t == ODET_BOOL && op != IR_OP_EQUAL)
		return NULL;
	for (size_t i = 0; i < sizeof compare_table / sizeof compare_table[0]; i++)
		if (compare_table[i].op == op && compare_table[i].dtype == t)
			return compare_table[i].fn;
	return NULL;
}

odet_status compare_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!a || !b || !y || n->n_in != 2)
		return cu_refuse(ctx, n, "needs 2 inputs");
	if (a->dtype != b->dtype || y->dtype != ODET_BOOL || !compare_lookup(n->op, a->dtype) || y->rank > ODET_MAX_RANK)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': %s on CUDA: dtypes %s, %s -> %s are not supported",
				  n->name, ir_op_name(n->op), odet_dtype_name(a->dtype), odet_dtype_name(b->dtype),
				  odet_dtype_name(y->dtype));
	return ODET_OK;
}

odet_status compare_run(const be_run_args *a)
{
	compare_launch_fn fn = compare_lookup(a->node->op, a->in[0].dtype);
	const odet_tensor *ins[2] = {&a->in[0], &a->in[1]};
	be_bcast b;
	if (!fn || a->in[1].dtype != a->in[0].dtype)
		return cu_bad(a, "dtypes not supported");
	if (!be_bcast_init(&b, &a->out[0], ins, 2))
		return cu_bad(a, "inputs do not broadcast to the output");
	odet_status rc = fn(&b, a->in[0].data, a->in[1].data, (uint8_t *)a->out[0].data, (cudaStream_t)a->stream);
	return rc ? cu_launched(a) : ODET_OK;
}

} /* namespace */

#define KERNEL(ID) extern "C" const cuda_kernel cuda_kernel_##ID = {compare_check, NULL, NULL, compare_run};
KERNEL(EQUAL)
KERNEL(LESS)
KERNEL(GREATER)
