/*
 * slice.cu — Slice(data, starts, ends, axes?, steps?) on CUDA (spec: backend/cpu/slice.c).
 *   Any element size 1/2/4/8. starts/ends/axes/steps must be constants of the graph
 *   (int32/int64; read on the host from the graph, never from device memory), else the node
 *   is refused. ONNX clamping rules as on the CPU; negative steps allowed. The output is a
 *   strided gather (one thread per output element; dims merged where strides chain).
 */
#include "backend/cuda/cuda_ops.h"

namespace {

template <typename T>
__global__ void slice_kernel(be_bcast b, const T *x, T *y)
{
	CU_FOR(i, b.numel) {
		int64_t off[1];
		cu_bcast_off<1>(b, i, off);
		y[i] = x[off[0]];
	}
}

typedef struct slice_args {
	int64_t starts[ODET_MAX_RANK], ends[ODET_MAX_RANK], axes[ODET_MAX_RANK], steps[ODET_MAX_RANK];
	int n;
} slice_args;

bool slice_read(const ir_graph *g, const ir_node *n, slice_args *s)
{
	int ns, ne, na, nst;
	if (!cu_const_ints(g, n, 1, s->starts, ODET_MAX_RANK, &ns) || !cu_const_ints(g, n, 2, s->ends, ODET_MAX_RANK, &ne))
		return false;
	if (n->n_in > 3 && n->in[3] >= 0) {
		if (!cu_const_ints(g, n, 3, s->axes, ODET_MAX_RANK, &na))
			return false;
	} else {
		for (na = 0; na < ns; na++)
			s->axes[na] = na;
	}
	if (n->n_in > 4 && n->in[4] >= 0) {
		if (!cu_const_ints(g, n, 4, s->steps, ODET_MAX_RANK, &nst))
			return false;
	} else {
		for (nst = 0; nst < ns; nst++)
			s->steps[nst] = 1;
	}
	s->n = ns;
	return ne == ns && na == ns && nst == ns;
}

odet_status slice_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	slice_args s;
	if (!x || !y || !cu_esz_ok(odet_dtype_size(x->dtype)) || y->dtype != x->dtype)
		return cu_refuse(ctx, n, "needs data of element size 1, 2, 4 or 8");
	if (!slice_read(g, n, &s))
		return cu_refuse(ctx, n, "starts/ends/axes/steps must be constants of the graph, of one length");
	return ODET_OK;
}

odet_status slice_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	slice_args sa;
	odet_status rc = ODET_OK;
	if (!slice_read(a->g, a->node, &sa))
		return cu_bad(a, "starts/ends/axes/steps are not constants");
	int64_t start[ODET_MAX_RANK], step[ODET_MAX_RANK], count[ODET_MAX_RANK], xs[ODET_MAX_RANK];
	bool seen[ODET_MAX_RANK] = {false};
	for (int d = 0; d < x->rank; d++) {
		start[d] = 0;
		step[d] = 1;
		count[d] = x->dims[d];
	}
	for (int i = 0; i < sa.n; i++) {
		int ax;
		if (!odet_norm_axis(sa.axes[i], x->rank, &ax) || seen[ax] || sa.steps[i] == 0)
			return cu_bad(a, "bad axis or step 0");
		seen[ax] = true;
		count[ax] = odet_slice_range(x->dims[ax], sa.starts[i], sa.ends[i], sa.steps[i], &start[ax]);
		step[ax] = count[ax] > 1 ? sa.steps[i] : 1; /* a huge unused step must not overflow the stride */
	}
	cu_strides(x, xs);
	int64_t base = 0, st[ODET_MAX_RANK];
	for (int d = 0; d < x->rank; d++) {
		if (y->rank != x->rank || y->dims[d] != count[d])
			return cu_bad(a, "output shape does not match the slice");
		base += start[d] * xs[d];
		st[d] = step[d] * xs[d];
	}
	be_bcast b;
	if (be_bcast_strided(&b, x->rank, count, st) <= 0)
		return ODET_OK;
	size_t esz = odet_dtype_size(x->dtype);
	CU_BY_SIZE(esz, rc,
		   (slice_kernel<T><<<cu_grid(b.numel, CU_BLOCK), CU_BLOCK, 0, (cudaStream_t)a->stream>>>(
			   b, (const T *)x->data + base, (T *)y->data)));
	return rc ? cu_bad(a, "dtype not supported") : cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_SLICE = {slice_check, NULL, NULL, slice_run};
