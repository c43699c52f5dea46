/*
 * slice.c — Slice(data, starts, ends, axes?, steps?) (opset 10+ form). Any fixed-size dtype;
 *   starts/ends/axes/steps: int32 or int64 tensors read at run time.
 *   Per ONNX: negative starts/ends count from the back, then are clamped to [0, dim]
 *   (step > 0) or [-1, dim - 1] (step < 0); steps may be negative, never 0; axes may be
 *   negative; omitted axes = 0..n-1, omitted steps = 1. The output is a strided gather.
 */
#include "backend/cpu/cpu_util.h"

static odet_status slice_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || !ir_in(g, n, 1) || !ir_in(g, n, 2) || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Slice needs data, starts, ends of a fixed-size dtype",
				  n->name);
	if (ir_attr_get(n, "starts"))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Slice-1 attributes (want inputs)", n->name);
	return ODET_OK;
}

static odet_status slice_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t starts[ODET_MAX_RANK], ends[ODET_MAX_RANK], axes[ODET_MAX_RANK], steps[ODET_MAX_RANK];
	int ns, ne, na = 0, nst = 0;
	odet_status rc = cpu_read_ints(a, 1, starts, ODET_MAX_RANK, &ns);
	if (!rc)
		rc = cpu_read_ints(a, 2, ends, ODET_MAX_RANK, &ne);
	if (!rc && a->n_in > 3 && a->in[3].data)
		rc = cpu_read_ints(a, 3, axes, ODET_MAX_RANK, &na);
	if (!rc && a->n_in > 4 && a->in[4].data)
		rc = cpu_read_ints(a, 4, steps, ODET_MAX_RANK, &nst);
	if (rc)
		return rc;
	if (a->n_in <= 3 || !a->in[3].data)
		for (na = 0; na < ns; na++)
			axes[na] = na;
	if (a->n_in <= 4 || !a->in[4].data)
		for (nst = 0; nst < ns; nst++)
			steps[nst] = 1;
	if (ne != ns || na != ns || nst != ns)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Slice): starts/ends/axes/steps lengths differ",
				  nd->name);
	int64_t start[ODET_MAX_RANK], step[ODET_MAX_RANK], count[ODET_MAX_RANK], xs[ODET_MAX_RANK];
	bool seen[ODET_MAX_RANK] = {false};
	for (int d = 0; d < x->rank; d++) {
		start[d] = 0;
		step[d] = 1;
		count[d] = x->dims[d];
	}
	for (int i = 0; i < ns; i++) {
		int ax;
		if (!odet_norm_axis(axes[i], x->rank, &ax) || seen[ax] || steps[i] == 0)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Slice): bad axis %lld or step 0", nd->name,
					  (long long)axes[i]);
		seen[ax] = true;
		count[ax] = odet_slice_range(x->dims[ax], starts[i], ends[i], steps[i], &start[ax]);
		step[ax] = count[ax] > 1 ? steps[i] : 1; /* a huge unused step must not overflow the stride */
	}
	cpu_strides(x, xs);
	int64_t base = 0, s[ODET_MAX_RANK];
	for (int d = 0; d < x->rank; d++) {
		if (y->rank != x->rank || y->dims[d] != count[d])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Slice): output dim %d is %lld, slice gives %lld",
					  nd->name, d, (long long)(y->rank == x->rank ? y->dims[d] : -1), (long long)count[d]);
		if (count[d] == 0)
			return ODET_OK;
		base += start[d] * xs[d];
		s[d] = step[d] * xs[d];
	}
	size_t esz = odet_dtype_size(x->dtype);
	cpu_strided_copy(a->pool, y->data, (const char *)x->data + base * (int64_t)esz, esz, y->rank, y->dims, s);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_SLICE = {.check = slice_check, .run = slice_run};
