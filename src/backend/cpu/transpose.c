/*
 * transpose.c — Transpose(X) with attr perm (default: reversed dims). Any fixed-size dtype.
 *   Y[i0..ik] = X[i_perm^-1...]: a strided gather over the output (cpu_strided_copy merges
 *   dims that stay adjacent, so e.g. NCHW->NHWC becomes a 3-d walk), threaded when large.
 */
#include "backend/cpu/cpu_util.h"

static odet_status transpose_perm(odet_ctx *ctx, const ir_node *n, int rank, int *perm)
{
	const int64_t *p;
	int np = ir_attr_ints(n, "perm", &p);
	bool seen[ODET_MAX_RANK] = {false};
	if (np == 0) {
		for (int d = 0; d < rank; d++)
			perm[d] = rank - 1 - d;
		return ODET_OK;
	}
	if (np != rank)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Transpose perm has %d entries for rank %d", n->name,
				  np, rank);
	for (int d = 0; d < rank; d++) {
		if (p[d] < 0 || p[d] >= rank || seen[p[d]])
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Transpose perm is not a permutation", n->name);
		seen[p[d]] = true;
		perm[d] = (int)p[d];
	}
	return ODET_OK;
}

static odet_status transpose_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	int perm[ODET_MAX_RANK];
	if (!x || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Transpose: missing input or unsupported dtype", n->name);
	return x->rank >= 0 ? transpose_perm(ctx, n, x->rank, perm) : ODET_OK;
}

static odet_status transpose_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int perm[ODET_MAX_RANK];
	int64_t xs[ODET_MAX_RANK], s[ODET_MAX_RANK];
	odet_status rc = transpose_perm(a->ctx, a->node, x->rank, perm);
	if (rc)
		return rc;
	if (y->rank != x->rank || y->dtype != x->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Transpose): output mismatch", a->node->name);
	cpu_strides(x, xs);
	for (int d = 0; d < x->rank; d++) {
		if (y->dims[d] != x->dims[perm[d]])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Transpose): output dim %d mismatch",
					  a->node->name, d);
		s[d] = xs[perm[d]];
	}
	cpu_strided_copy(a->pool, y->data, x->data, odet_dtype_size(x->dtype), y->rank, y->dims, s);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_TRANSPOSE = {.check = transpose_check, .run = transpose_run};
