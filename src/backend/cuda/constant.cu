/*
 * constant.cu — Constant and ConstantOfShape on CUDA (spec: backend/cpu/constant.c).
 *   Constant: attr value (TENSOR) or value_float(s) / value_int(s); prepare uploads the bytes
 *     once (device copy in the node's state), run copies them device-to-device into the
 *     output. (The importer normally turns Constant into a CONST value.)
 *   ConstantOfShape(shape): output (shape from shape inference; the device tensor is not
 *     read) filled with attr value's single element (default float32 0); element size
 *     1/2/4/8; the value travels as a kernel argument.
 */
#include "backend/cuda/cuda_ops.h"

#include <stdlib.h>

namespace {

const ir_value *tensor_attr(const ir_graph *g, const ir_node *n)
{
	const ir_attr *at = ir_attr_get(n, "value");
	if (!at || at->type != IR_ATTR_TENSOR || at->tensor < 0 || at->tensor >= g->n_values)
		return NULL;
	const ir_value *v = &g->values[at->tensor];
	return v->data || v->nbytes == 0 ? v : NULL;
}

/* host bytes of the Constant's value (tmp holds scalars) */
const void *constant_bytes(const ir_graph *g, const ir_node *n, size_t *bytes, float *f, int64_t *i)
{
	const ir_value *v = tensor_attr(g, n);
	const ir_attr *at;
	if (v) {
		*bytes = v->nbytes;
		return v->data;
	}
	if ((at = ir_attr_get(n, "value_float"))) {
		*f = at->f;
		*bytes = sizeof *f;
		return f;
	}
	if ((at = ir_attr_get(n, "value_floats"))) {
		*bytes = (size_t)at->n * sizeof(float);
		return at->floats;
	}
	if ((at = ir_attr_get(n, "value_int"))) {
		*i = at->i;
		*bytes = sizeof *i;
		return i;
	}
	if ((at = ir_attr_get(n, "value_ints"))) {
		*bytes = (size_t)at->n * sizeof(int64_t);
		return at->ints;
	}
	return NULL;
}

typedef struct constant_state {
	void *dev;
	size_t bytes;
} constant_state;

odet_status constant_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	size_t bytes;
	float f;
	int64_t i;
	if (!ir_out(g, n, 0) || !constant_bytes(g, n, &bytes, &f, &i))
		return cu_refuse(ctx, n, "no supported value attribute");
	return ODET_OK;
}

void constant_release(void *state)
{
	constant_state *s = (constant_state *)state;
	if (!s)
		return;
	cudaFree(s->dev);
	free(s);
}

odet_status constant_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *workspace)
{
	size_t bytes = 0;
	float f;
	int64_t i;
	const void *src = constant_bytes(g, n, &bytes, &f, &i);
	*state = NULL;
	*workspace = 0;
	if (!src)
		return cu_refuse(ctx, n, "no supported value attribute");
	constant_state *s = (constant_state *)calloc(1, sizeof *s);
	if (!s)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': Constant state", n->name);
	s->bytes = bytes;
	if (bytes && (ODET_CUDA(cudaMalloc(&s->dev, bytes)) ||
		      ODET_CUDA(cudaMemcpy(s->dev, src, bytes, cudaMemcpyHostToDevice)))) {
		constant_release(s);
		return odet_error(ctx, ODET_ERR_DEVICE, "node '%s': Constant: upload failed", n->name);
	}
	*state = s;
	return ODET_OK;
}

odet_status constant_run(const be_run_args *a)
{
	const constant_state *s = (const constant_state *)a->state;
	odet_tensor *y = &a->out[0];
	int64_t numel = odet_tensor_numel(y);
	if (!s || numel < 0 || (size_t)numel * odet_dtype_size(y->dtype) != s->bytes)
		return cu_bad(a, "value size differs from the output's");
	if (s->bytes && ODET_CUDA(cudaMemcpyAsync(y->data, s->dev, s->bytes, cudaMemcpyDeviceToDevice,
						  (cudaStream_t)a->stream)))
		return cu_launched(a);
	return ODET_OK;
}

template <typename T>
__global__ void fill_kernel(T *y, int64_t n, T v)
{
	CU_FOR(i, n)
		y[i] = v;
}

odet_status cos_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *y = ir_out(g, n, 0), *v = tensor_attr(g, n);
	if (!y || !ir_in(g, n, 0) || !cu_esz_ok(odet_dtype_size(y->dtype)))
		return cu_refuse(ctx, n, "needs a shape and an output of element size 1, 2, 4 or 8");
	if (ir_attr_get(n, "value") && (!v || v->dtype != y->dtype || ir_value_numel(v) != 1))
		return cu_refuse(ctx, n, "value must be one element of the output dtype");
	if (!v && y->dtype != ODET_F32)
		return cu_refuse(ctx, n, "without value the output must be float32");
	return ODET_OK;
}

odet_status cos_run(const be_run_args *a)
{
	odet_tensor *y = &a->out[0];
	const ir_value *v = tensor_attr(a->g, a->node);
	size_t esz = odet_dtype_size(y->dtype);
	uint64_t bits = 0;
	odet_status rc = ODET_OK;
	int64_t numel = odet_tensor_numel(y);
	if (numel < 0 || !cu_esz_ok(esz) || (v && (v->dtype != y->dtype || v->nbytes != esz)))
		return cu_bad(a, "bad value or output");
	if (v)
		memcpy(&bits, v->data, esz); /* little-endian: the low bytes */
	if (numel == 0)
		return ODET_OK;
	CU_BY_SIZE(esz, rc,
		   (fill_kernel<T><<<cu_grid(numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>((T *)y->data, numel,
												(T)bits)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_CONSTANT = {constant_check, constant_prepare, constant_release, constant_run};
extern "C" const cuda_kernel cuda_kernel_CONSTANTOFSHAPE = {cos_check, NULL, NULL, cos_run};
