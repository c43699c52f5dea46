/*
 * permute_concat.cu — PermuteConcat on CUDA (spec: backend/cpu/permute_concat.c).
 *
 * Each input's canonical view (vshape, vperm, vstride, voffset) is classified once at prepare:
 *   copy       one dense atom: the input's flat order from voffset is the view's;
 *   transpose  vperm = [0,2,1] over [B,R,C] (or [1,0] over [R,C]) with C's stride 1 (B's and
 *              R's strides free: a channel slice of a merged conv's output): a batched 2-D transpose,
 *              32x32 tiles through shared memory, reads coalesced along C, writes along R
 *              (SSD's head: [N, H*W, A*k] NHWC conv outputs -> [N, A, k*H*W]);
 *   generic    anything else: one thread per element, the source index from the view's dims.
 * Copy and transpose inputs of one node run in ONE launch (a block finds its input in a table
 * of up to PC_JOBS entries passed by value; more inputs take more launches), generic inputs
 * one launch each. Element f of view i lands at (f / seg_i) * ystride + yoff_i + f % seg_i
 * (Y viewed as [outer, sum L_i, inner], seg_i = L_i * inner); 32-bit index math when every
 * index fits, 64-bit otherwise. Same dtype: elements copied as 1/2/4/8-byte words; float16
 * <-> float32 converted with round to nearest even (as the CPU).
 */
#include "backend/cuda/cuda_ops.h"

#include <stdlib.h>

namespace {

enum { PC_COPY = 0, PC_TRANSPOSE = 1, PC_GENERIC = 2 };
#define PC_JOBS 32
#define PC_COPY_CHUNK 2048 /* elements per block of a copy job: 256 threads x 8 */

struct pc_job {
	int kind, input;
	long long begin;             /* first block of the job in the launch */
	long long b, r, c;           /* transpose: [b, r, c]; copy: numel in c */
	long long sb, sr;            /* transpose: source strides of b and r (c's is 1) */
	long long xoff;              /* source element offset */
	long long seg, yoff;         /* elements per output row of this input, offset in a row */
};

struct pc_jobs {
	int n;
	long long ystride;
	pc_job j[PC_JOBS];
	const void *src[PC_JOBS];
};

struct pc_generic {
	int r;
	long long numel, seg, yoff, ystride, xoff;
	long long vd[IR_VIEW_MAX], st[IR_VIEW_MAX]; /* view dims, their strides in the source */
};

struct pc_state {
	int n_launch;                /* batched launches */
	pc_jobs *batched;            /* n_launch tables (src pointers filled per run) */
	long long *blocks;           /* per batched launch */
	int n_gen;
	pc_generic *gen;
	int *gen_input;
	bool wide;                   /* 64-bit index math */
	int in_es, out_es;
	odet_dtype in_t, out_t;
};

template <typename TI, typename TO> struct pc_cvt {
	static __device__ __forceinline__ TO f(TI x) { return x; }
};
template <> struct pc_cvt<__half, float> {
	static __device__ __forceinline__ float f(__half x) { return __half2float(x); }
};
template <> struct pc_cvt<float, __half> {
	static __device__ __forceinline__ __half f(float x) { return __float2half_rn(x); }
};

template <typename IT>
static __device__ __forceinline__ IT ypos(IT f, IT seg, IT ystride, IT yoff)
{
	return (f / seg) * ystride + yoff + f % seg;
}

template <typename TI, typename TO, typename IT>
static __global__ void __launch_bounds__(256) pc_batched_kernel(pc_jobs jobs, TO *__restrict__ y)
{
	__shared__ TI tile[32][33];
	long long bid = blockIdx.x;
	int q = 0;
	while (q + 1 < jobs.n && bid >= jobs.j[q + 1].begin)
		q++;
	const pc_job &jb = jobs.j[q];
	const TI *__restrict__ x = (const TI *)jobs.src[q];
	IT lb = (IT)(bid - jb.begin), seg = (IT)jb.seg, ys = (IT)jobs.ystride, yoff = (IT)jb.yoff;
	int t = threadIdx.x;
	if (jb.kind == PC_COPY) {
		IT n = (IT)jb.c, base = lb * PC_COPY_CHUNK;
		for (int k = 0; k < PC_COPY_CHUNK / 256; k++) {
			IT e = base + (IT)(k * 256 + t);
			if (e < n)
				y[ypos<IT>(e, seg, ys, yoff)] = pc_cvt<TI, TO>::f(x[e]);
		}
		return;
	}
	IT R = (IT)jb.r, C = (IT)jb.c, sb = (IT)jb.sb, sr = (IT)jb.sr;
	IT tc_n = (C + 31) / 32, tr_n = (R + 31) / 32;
	IT tcol = lb % tc_n, trow = (lb / tc_n) % tr_n, b = lb / (tc_n * tr_n);
	IT r0 = trow * 32, c0 = tcol * 32;
	int tx = t & 31, ty = t >> 5;
	for (int k = 0; k < 4; k++) {
		IT r = r0 + (IT)(ty + 8 * k), c = c0 + (IT)tx;
		if (r < R && c < C)
			tile[ty + 8 * k][tx] = x[b * sb + r * sr + c];
	}
	__syncthreads();
	for (int k = 0; k < 4; k++) {
		IT c = c0 + (IT)(ty + 8 * k), r = r0 + (IT)tx;
		if (r < R && c < C)
			y[ypos<IT>((b * C + c) * R + r, seg, ys, yoff)] = pc_cvt<TI, TO>::f(tile[tx][ty + 8 * k]);
	}
}

template <typename TI, typename TO, typename IT>
static __global__ void pc_generic_kernel(pc_generic g, const TI *__restrict__ x, TO *__restrict__ y)
{
	for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < g.numel;
	     i += (long long)gridDim.x * blockDim.x) {
		IT f = (IT)i, rest = f, src = 0;
		for (int j = g.r - 1; j >= 0; j--) {
			IT d = (IT)g.vd[j];
			src += (rest % d) * (IT)g.st[j];
			rest /= d;
		}
		y[ypos<IT>(f, (IT)g.seg, (IT)g.ystride, (IT)g.yoff)] = pc_cvt<TI, TO>::f(x[src]);
	}
}

bool conv_ok(odet_dtype a, odet_dtype b)
{
	return a == b || ((a == ODET_F16 || a == ODET_F32) && (b == ODET_F16 || b == ODET_F32));
}

odet_status pc_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || !conv_ok(x->dtype, y->dtype))
		return cu_refuse(ctx, n, "dtype change not supported");
	size_t es = odet_dtype_size(x->dtype);
	if (es != 1 && es != 2 && es != 4 && es != 8)
		return cu_refuse(ctx, n, "element size not supported");
	for (int i = 0; i < n->n_in; i++)
		if (!ir_in(g, n, i) || !ir_value_shape_known(ir_in(g, n, i)))
			return cu_refuse(ctx, n, "an input's shape is unknown");
	return ODET_OK;
}

void pc_release(void *s)
{
	pc_state *st = (pc_state *)s;
	if (!st)
		return;
	free(st->batched);
	free(st->blocks);
	free(st->gen);
	free(st->gen_input);
	free(st);
}

odet_status pc_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *workspace)
{
	(void)workspace;
	odet_status rc = pc_check(ctx, g, n);
	if (rc)
		return rc;
	const ir_value *y = ir_out(g, n, 0);
	int axis;
	if (!odet_norm_axis(ir_attr_int(n, "axis", 0), y->rank, &axis))
		return cu_refuse(ctx, n, "bad attributes");
	int64_t outer, inner;
	odet_dims_split(y->dims, y->rank, axis, &outer, &inner);
	pc_state *st = (pc_state *)calloc(1, sizeof *st);
	int nin = n->n_in, maxl = (nin + PC_JOBS - 1) / PC_JOBS;
	if (!st || !(st->batched = (pc_jobs *)calloc((size_t)maxl, sizeof(pc_jobs))) ||
	    !(st->blocks = (long long *)calloc((size_t)maxl, sizeof(long long))) ||
	    !(st->gen = (pc_generic *)calloc((size_t)nin, sizeof(pc_generic))) ||
	    !(st->gen_input = (int *)calloc((size_t)nin, sizeof(int)))) {
		pc_release(st);
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': out of memory", n->name);
	}
	st->in_t = ir_in(g, n, 0)->dtype;
	st->out_t = y->dtype;
	st->in_es = (int)odet_dtype_size(st->in_t);
	st->out_es = (int)odet_dtype_size(st->out_t);
	int64_t ystride = y->dims[axis] * inner, off = 0, ynumel = ir_value_numel(y);
	st->wide = ynumel > (int64_t)INT32_MAX;
	for (int i = 0; i < nin; i++) {
		const ir_value *x = ir_in(g, n, i);
		ir_view v;
		if (!ir_permute_view(n, i, &v)) {
			pc_release(st);
			return cu_refuse(ctx, n, "bad view attributes");
		}
		int r = v.r;
		const int64_t *ss = v.strides, *vs = v.dims, *vp = v.perm;
		int64_t numel = v.numel, xoff = v.off, last = v.last;
		if (numel % (outer * inner) || last >= ir_value_numel(x)) {
			pc_release(st);
			return cu_refuse(ctx, n, "an input's view does not fit the input or the output");
		}
		if (numel > (int64_t)INT32_MAX || last > (int64_t)INT32_MAX)
			st->wide = true;
		int64_t seg = numel / outer, yoff = off * inner;
		off += seg / inner;
		int64_t b = 1, rr = 0, cc = 0, sb = 0, sr = 0;
		int kind = PC_GENERIC;
		if (r == 1 && ss[0] == 1) {
			kind = PC_COPY;
		} else if (r == 2 && vp[0] == 1 && vp[1] == 0 && ss[1] == 1) {
			kind = PC_TRANSPOSE, rr = vs[0], cc = vs[1], sr = ss[0];
		} else if (r == 3 && vp[0] == 0 && vp[1] == 2 && vp[2] == 1 && ss[2] == 1) {
			kind = PC_TRANSPOSE, b = vs[0], rr = vs[1], cc = vs[2], sb = ss[0], sr = ss[1];
		}
		if (kind == PC_GENERIC) {
			pc_generic *ge = &st->gen[st->n_gen];
			st->gen_input[st->n_gen++] = i;
			ge->r = r;
			ge->numel = numel;
			ge->seg = seg;
			ge->yoff = yoff;
			ge->ystride = ystride;
			ge->xoff = xoff;
			for (int j = 0; j < r; j++) {
				ge->vd[j] = vs[vp[j]];
				ge->st[j] = ss[vp[j]];
			}
		} else {
			pc_jobs *L = &st->batched[st->n_launch > 0 ? st->n_launch - 1 : 0];
			if (st->n_launch == 0 || L->n == PC_JOBS)
				L = &st->batched[st->n_launch++];
			L->ystride = ystride;
			pc_job *jb = &L->j[L->n++];
			jb->kind = kind;
			jb->input = i;
			jb->begin = st->blocks[st->n_launch - 1];
			jb->seg = seg;
			jb->yoff = yoff;
			jb->xoff = xoff;
			jb->sb = sb;
			jb->sr = sr;
			long long nb;
			if (kind == PC_COPY) {
				jb->b = 1, jb->r = 1, jb->c = numel;
				nb = (numel + PC_COPY_CHUNK - 1) / PC_COPY_CHUNK;
			} else {
				jb->b = b, jb->r = rr, jb->c = cc;
				nb = b * ((rr + 31) / 32) * ((cc + 31) / 32);
			}
			st->blocks[st->n_launch - 1] += nb;
		}
	}
	for (int l = 0; l < st->n_launch; l++)
		if (st->blocks[l] > INT32_MAX) {
			pc_release(st);
			return cu_refuse(ctx, n, "too many blocks");
		}
	*state = st;
	return ODET_OK;
}

template <typename TI, typename TO>
odet_status pc_launch(const be_run_args *a, const pc_state *st)
{
	cudaStream_t s = (cudaStream_t)a->stream;
	TO *y = (TO *)a->out[0].data;
	for (int l = 0; l < st->n_launch; l++) {
		pc_jobs jobs = st->batched[l];
		for (int q = 0; q < jobs.n; q++)
			jobs.src[q] = (const TI *)a->in[jobs.j[q].input].data + jobs.j[q].xoff;
		unsigned grid = (unsigned)st->blocks[l];
		if (!grid)
			continue;
		if (st->wide)
			pc_batched_kernel<TI, TO, unsigned long long><<<grid, 256, 0, s>>>(jobs, y);
		else
			pc_batched_kernel<TI, TO, unsigned><<<grid, 256, 0, s>>>(jobs, y);
		if (cudaPeekAtLastError() != cudaSuccess)
			return cu_launched(a);
	}
	for (int k = 0; k < st->n_gen; k++) {
		const pc_generic &ge = st->gen[k];
		const TI *x = (const TI *)a->in[st->gen_input[k]].data + ge.xoff;
		if (st->wide)
			pc_generic_kernel<TI, TO, unsigned long long><<<cu_grid(ge.numel, CU_BLOCK), CU_BLOCK, 0, s>>>(ge, x, y);
		else
			pc_generic_kernel<TI, TO, unsigned><<<cu_grid(ge.numel, CU_BLOCK), CU_BLOCK, 0, s>>>(ge, x, y);
		if (cudaPeekAtLastError() != cudaSuccess)
			return cu_launched(a);
	}
	return ODET_OK;
}

odet_status pc_run(const be_run_args *a)
{
	const pc_state *st = (const pc_state *)a->state;
	if (st->in_t == ODET_F16 && st->out_t == ODET_F32)
		return pc_launch<__half, float>(a, st);
	if (st->in_t == ODET_F32 && st->out_t == ODET_F16)
		return pc_launch<float, __half>(a, st);
	switch (st->in_es) {
	case 1: return pc_launch<uint8_t, uint8_t>(a, st);
	case 2: return pc_launch<uint16_t, uint16_t>(a, st);
	case 4: return pc_launch<uint32_t, uint32_t>(a, st);
	default: return pc_launch<uint64_t, uint64_t>(a, st);
	}
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_PERMUTE_CONCAT = {pc_check, pc_prepare, pc_release, pc_run};
