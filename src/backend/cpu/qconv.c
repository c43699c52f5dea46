/*
 * qconv.c — QConv (ops.def): y = act(A[m] * acc + B[m] + r_scale * R), acc the exact int32 sum
 * of int8 products, int8 outputs rounded half to even and saturated.
 *
 * Two paths:
 *   oneDNN (built with it, CPU with AVX-512 VNNI; NCHW, X int8, Y and R both int8 or both
 *     float32, A > 0): an int8
 *     convolution primitive (AVX-512 VNNI's x8s8s32x kernels here) made at prepare: W reordered
 *     once into its layout (with the s8s8 compensation), output scales A per channel, bias B / A
 *     (oneDNN adds the bias to the converted sum before scaling: A * (acc + B / A), a float
 *     rounding away from the reference's A * acc + B, so an int8 output may differ by one step),
 *     post-ops sum (R prefilled into dst, times r_scale) and the activation; X, Y and R reordered
 *     per run between NCHW and the primitive's layout (nhwc), on OpenMP with the context's
 *     threads. oneDNN's reference implementations are refused.
 *   reference (everything else, and odet_conv_algo = 1): NCHW, or NHWC (odet_nhwc: X [N,H,W,C],
 *     W [M,kh,kw,C], Y [N,oh,ow,M]); direct loops, threaded over output rows; exact.
 */
#include "backend/cpu/act.h"
#include "backend/cpu/conv.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef ODET_HAVE_DNNL
#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#endif

typedef struct qconv_job {
	const be_run_args *a;
	cpu_window w;
	bool nhwc;
	int64_t n, c, m, h, wd, oh, ow;
	cpu_act act;
	float r_scale;
} qconv_job;

static float load(const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_I8: return ((const int8_t *)t->data)[i];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	default: return ((const float *)t->data)[i];
	}
}

static void store(odet_tensor *t, int64_t i, float v)
{
	switch (t->dtype) {
	case ODET_I8: {
		float r = nearbyintf(v);
		((int8_t *)t->data)[i] = (int8_t)(r > 127.f ? 127 : (r < -128.f ? -128 : (isnan(r) ? 0 : (int)r)));
		break;
	}
	case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(v); break;
	default: ((float *)t->data)[i] = v; break;
	}
}

/* rows [begin, end) of n * m * oh (one output row of one channel each) */
static void qconv_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const qconv_job *j = arg;
	const be_run_args *a = j->a;
	const int8_t *x = a->in[0].data, *wt = a->in[1].data;
	const float *bias = a->n_in > 2 ? a->in[2].data : NULL, *scale = a->in[4].data;
	const odet_tensor *r = a->n_in > 3 && a->in[3].data ? &a->in[3] : NULL;
	const int64_t kh = j->w.k[0], kw = j->w.k[1];
	(void)thread;
	for (int64_t row = begin; row < end; row++) {
		int64_t oy = row % j->oh, mm = (row / j->oh) % j->m, b = row / (j->oh * j->m);
		for (int64_t ox = 0; ox < j->ow; ox++) {
			int32_t acc = 0;
			for (int64_t ky = 0; ky < kh; ky++) {
				int64_t iy = oy * j->w.s[0] - j->w.pb[0] + ky * j->w.d[0];
				if (iy < 0 || iy >= j->h)
					continue;
				for (int64_t kx = 0; kx < kw; kx++) {
					int64_t ix = ox * j->w.s[1] - j->w.pb[1] + kx * j->w.d[1];
					if (ix < 0 || ix >= j->wd)
						continue;
					for (int64_t ci = 0; ci < j->c; ci++) {
						int64_t xi = j->nhwc ? ((b * j->h + iy) * j->wd + ix) * j->c + ci
								     : ((b * j->c + ci) * j->h + iy) * j->wd + ix;
						int64_t wi = j->nhwc ? ((mm * kh + ky) * kw + kx) * j->c + ci
								     : ((mm * j->c + ci) * kh + ky) * kw + kx;
						acc += (int32_t)x[xi] * (int32_t)wt[wi];
					}
				}
			}
			int64_t yi = j->nhwc ? ((b * j->oh + oy) * j->ow + ox) * j->m + mm
					     : ((b * j->m + mm) * j->oh + oy) * j->ow + ox;
			float v = scale[mm] * (float)acc + (bias ? bias[mm] : 0.0f);
			if (r)
				v += j->r_scale * load(r, yi);
			store(&a->out[0], yi, cpu_act_apply1(&j->act, v));
		}
	}
}

static odet_status qconv_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
	cpu_act act;
	if (!x || !w || x->rank != 4 || w->rank != 4)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): 2-D convolutions only", n->name);
	if (!cpu_act_from_node(n, &act))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): unknown fused activation", n->name);
	return ODET_OK;
}

static odet_status qconv_ref_run(const be_run_args *a)
{
	qconv_job j = {.a = a};
	const odet_tensor *x = &a->in[0], *w = &a->in[1], *y = &a->out[0];
	j.nhwc = ir_attr_int(a->node, "odet_nhwc", 0) != 0;
	j.n = x->dims[0];
	j.c = j.nhwc ? x->dims[3] : x->dims[1];
	j.h = j.nhwc ? x->dims[1] : x->dims[2];
	j.wd = j.nhwc ? x->dims[2] : x->dims[3];
	j.m = w->dims[0];
	j.oh = j.nhwc ? y->dims[1] : y->dims[2];
	j.ow = j.nhwc ? y->dims[2] : y->dims[3];
	int64_t sp[2] = {j.h, j.wd}, k[2] = {j.nhwc ? w->dims[1] : w->dims[2], j.nhwc ? w->dims[2] : w->dims[3]};
	odet_status rc = cpu_window_init(a->ctx, a->node, 2, sp, k, &j.w);
	if (rc)
		return rc;
	if (j.w.out[0] != j.oh || j.w.out[1] != j.ow)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): output size disagrees with the window",
				  a->node->name);
	cpu_act_from_node(a->node, &j.act);
	j.r_scale = ir_attr_float(a->node, "odet_r_scale", 1.0f);
	odet_parallel_for(a->pool, j.n * j.m * j.oh, 1, qconv_rows, &j);
	return ODET_OK;
}

/* ---------------------------------------------------------------- oneDNN (VNNI) path */

#ifdef ODET_HAVE_DNNL
/* One oneDNN int8 convolution: s8 X (NCHW, reordered to the primitive's layout, nhwc on
 * AVX-512 VNNI), s8 W reordered once at prepare (with oneDNN's s8s8 compensation), bias B / A
 * in float (oneDNN adds it to the int32 sum before the output scale), output scales A [M] per
 * channel, post-ops sum (the residual, prefilled into dst, times r_scale) and the activation,
 * dst int8 (rounded half to even and saturated, as the reference) or float32. */
typedef struct qconv_dnnl {
	dnnl_engine_t eng;
	dnnl_primitive_t conv, src_reorder, dst_reorder, res_reorder;
	dnnl_memory_desc_t src_user, dst_user, res_user, src_md, dst_md, wei_md, bias_md, scratch_md;
	void *wei_packed;
	float *bias;          /* B / A, or NULL */
	int nthr;
	size_t off_src, off_dst, off_scratch, ws;
} qconv_dnnl;

static size_t qws_take(size_t *total, size_t bytes)
{
	size_t off = (*total + 63) & ~(size_t)63;
	*total = off + bytes;
	return off;
}

static void qconv_dnnl_free(void *state)
{
	qconv_dnnl *q = state;
	if (!q)
		return;
	dnnl_primitive_t p[4] = {q->conv, q->src_reorder, q->dst_reorder, q->res_reorder};
	for (int i = 0; i < 4; i++)
		if (p[i])
			dnnl_primitive_destroy(p[i]);
	odet_aligned_free(q->wei_packed);
	free(q->bias);
	if (q->eng)
		dnnl_engine_destroy(q->eng);
	free(q);
}

static dnnl_status_t q_reorder_make(dnnl_engine_t eng, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
				    dnnl_primitive_t *out)
{
	dnnl_primitive_desc_t pd;
	dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL);
	if (s == dnnl_success) {
		s = dnnl_primitive_create(out, pd);
		dnnl_primitive_desc_destroy(pd);
	}
	return s;
}

static dnnl_status_t q_reorder_run(dnnl_engine_t eng, dnnl_stream_t st, dnnl_primitive_t r,
				   const dnnl_memory_desc_t *from, const void *src, const dnnl_memory_desc_t *to, void *dst)
{
	dnnl_memory_t ms = NULL, md = NULL;
	dnnl_status_t s = dnnl_memory_create(&ms, from, eng, (void *)src);
	if (s == dnnl_success)
		s = dnnl_memory_create(&md, to, eng, dst);
	if (s == dnnl_success) {
		dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
		s = dnnl_primitive_execute(r, st, 2, args);
	}
	if (md)
		dnnl_memory_destroy(md);
	if (ms)
		dnnl_memory_destroy(ms);
	return s;
}

static dnnl_data_type_t q_dt(odet_dtype t)
{
	return t == ODET_I8 ? dnnl_s8 : t == ODET_F32 ? dnnl_f32 : dnnl_data_type_undef;
}

/* NULL *out (and ODET_OK) when oneDNN has no fast implementation for this node: the reference runs */
static odet_status qconv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, qconv_dnnl **out)
{
	*out = NULL;
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *r = ir_in(g, n, 3);
	const ir_value *a = ir_in(g, n, 4), *y = ir_out(g, n, 0);
	if (ir_attr_int(n, "odet_nhwc", 0) || ir_attr_int(n, "odet_conv_algo", 0) == 1 || !x || !w || !a || !y ||
	    x->dtype != ODET_I8 || w->dtype != ODET_I8 || w->kind != IR_VALUE_CONST || !w->data ||
	    a->kind != IR_VALUE_CONST || !a->data || a->dtype != ODET_F32 || (b && (b->kind != IR_VALUE_CONST ||
	    !b->data || b->dtype != ODET_F32)) || q_dt(y->dtype) == dnnl_data_type_undef ||
	    (r && r->dtype != y->dtype) || !ir_value_shape_known(x) || !ir_value_shape_known(y))
		return ODET_OK;
	/* without VNNI oneDNN's int8 kernels sum pairs of products in saturating int16 (vpmaddubsw):
	 * not exact, so the reference runs there (measured under valgrind, which hides AVX-512) */
	const unsigned vnni = (unsigned)dnnl_cpu_isa_avx512_core_vnni;
	if (((unsigned)dnnl_get_effective_cpu_isa() & vnni) != vnni)
		return ODET_OK;
	const int64_t m = w->dims[0];
	const float *A = a->data, *B = b ? b->data : NULL;
	if (ir_value_numel(a) != m)
		return ODET_OK;
	for (int64_t i = 0; i < m; i++)
		if (!(A[i] > 0) || !isfinite(A[i]))
			return ODET_OK; /* B / A undefined: the reference keeps B exact */
	cpu_window win;
	odet_status rc = cpu_window_init(ctx, n, 2, x->dims + 2, w->dims + 2, &win);
	if (rc)
		return rc;
	qconv_dnnl *q = calloc(1, sizeof *q);
	dnnl_primitive_attr_t attr = NULL;
	dnnl_post_ops_t po = NULL;
	dnnl_primitive_desc_t pd = NULL;
	dnnl_status_t s;
	if (!q)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s' (QConv): out of memory", n->name);
	int T = ctx->opts.n_threads > 0 ? ctx->opts.n_threads : 1;
	q->nthr = T;
	omp_set_num_threads(T);
	dnnl_dims_t xd = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]}, yd = {y->dims[0], y->dims[1], y->dims[2], y->dims[3]};
	dnnl_dims_t wd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, bd = {m};
	dnnl_dims_t st = {win.s[0], win.s[1]}, dl = {win.d[0] - 1, win.d[1] - 1}, pl = {win.pb[0], win.pb[1]},
		    pr = {win.pe[0], win.pe[1]};
	dnnl_memory_desc_t src_any, dst_any, wei_any, wei_user;
	dnnl_convolution_desc_t cd;
	cpu_act act = {0};
	cpu_act_from_node(n, &act);
	if ((s = dnnl_engine_create(&q->eng, dnnl_cpu, 0)) ||
	    (s = dnnl_memory_desc_init_by_tag(&q->src_user, 4, xd, dnnl_s8, dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&q->dst_user, 4, yd, q_dt(y->dtype), dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&q->res_user, 4, yd, q_dt(y->dtype), dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&wei_user, 4, wd, dnnl_s8, dnnl_oihw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&q->bias_md, 1, bd, dnnl_f32, dnnl_x)) ||
	    (s = dnnl_memory_desc_init_by_tag(&src_any, 4, xd, dnnl_s8, dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dst_any, 4, yd, q_dt(y->dtype), dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&wei_any, 4, wd, dnnl_s8, dnnl_format_tag_any)) ||
	    (s = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
							    &src_any, &wei_any, B ? &q->bias_md : NULL, &dst_any, st, dl,
							    pl, pr)) ||
	    (s = dnnl_primitive_attr_create(&attr)) || (s = dnnl_post_ops_create(&po)) ||
	    (s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)) ||
	    (s = dnnl_primitive_attr_set_output_scales(attr, m, 1 << 1, A)) ||
	    (r && (s = dnnl_post_ops_append_sum(po, ir_attr_float(n, "odet_r_scale", 1.0f)))) ||
	    (s = cpu_act_dnnl_append(po, &act)) || (s = dnnl_primitive_attr_set_post_ops(attr, po)))
		goto out;
	s = dnnl_primitive_desc_create(&pd, &cd, attr, q->eng, NULL);
	const char *impl = NULL;
	if (s == dnnl_success && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
	    impl && strncmp(impl, "ref", 3) == 0)
		s = dnnl_unimplemented;
	if (s)
		goto out;
	q->src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
	q->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
	q->wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	q->scratch_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	if ((s = dnnl_primitive_create(&q->conv, pd)))
		goto out;
	size_t ws = 0;
	if (!dnnl_memory_desc_equal(&q->src_md, &q->src_user)) {
		if ((s = q_reorder_make(q->eng, &q->src_user, &q->src_md, &q->src_reorder)))
			goto out;
		q->off_src = qws_take(&ws, dnnl_memory_desc_get_size(&q->src_md));
	}
	if (!dnnl_memory_desc_equal(&q->dst_md, &q->dst_user)) {
		if ((s = q_reorder_make(q->eng, &q->dst_md, &q->dst_user, &q->dst_reorder)))
			goto out;
		q->off_dst = qws_take(&ws, dnnl_memory_desc_get_size(&q->dst_md));
	}
	if (r && !dnnl_memory_desc_equal(&q->res_user, &q->dst_md) &&
	    (s = q_reorder_make(q->eng, &q->res_user, &q->dst_md, &q->res_reorder)))
		goto out;
	q->off_scratch = qws_take(&ws, dnnl_memory_desc_get_size(&q->scratch_md));
	q->ws = ws;
	/* W once into the primitive's layout (the reorder adds the s8s8 compensation) */
	q->wei_packed = odet_aligned_alloc(ctx, dnnl_memory_desc_get_size(&q->wei_md));
	if (B)
		q->bias = malloc(sizeof(float) * (size_t)m);
	if (!q->wei_packed || (B && !q->bias)) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s' (QConv): out of memory", n->name);
		goto out_free;
	}
	for (int64_t i = 0; B && i < m; i++)
		q->bias[i] = B[i] / A[i];
	dnnl_primitive_t wr = NULL;
	dnnl_stream_t stream = NULL;
	if (!(s = q_reorder_make(q->eng, &wei_user, &q->wei_md, &wr)) &&
	    !(s = dnnl_stream_create(&stream, q->eng, dnnl_stream_default_flags)) &&
	    !(s = q_reorder_run(q->eng, stream, wr, &wei_user, w->data, &q->wei_md, q->wei_packed)))
		s = dnnl_stream_wait(stream);
	if (stream)
		dnnl_stream_destroy(stream);
	if (wr)
		dnnl_primitive_destroy(wr);
	if (s)
		goto out;
	*out = q;
	q = NULL;
	goto out_free;
out:
	/* not an error: the exact reference runs this node */
	odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv): oneDNN: %s; the reference runs it", n->name,
		 dnnl_status2str(s));
out_free:
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (po)
		dnnl_post_ops_destroy(po);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	qconv_dnnl_free(q);
	return rc;
}

static odet_status qconv_dnnl_run(const be_run_args *a, const qconv_dnnl *q)
{
	const void *x = a->in[0].data, *res = a->n_in > 3 ? a->in[3].data : NULL;
	void *y = a->out[0].data;
	char *ws = a->workspace;
	int nthr = odet_threadpool_size(a->pool);
	omp_set_num_threads(q->nthr < nthr ? q->nthr : nthr);
	dnnl_stream_t st = NULL;
	dnnl_memory_t mem[5] = {0};
	const char *what = "stream";
	dnnl_status_t s;
	if ((s = dnnl_stream_create(&st, q->eng, dnnl_stream_default_flags)))
		goto out;
	const void *src = x;
	void *dst = q->dst_reorder ? (void *)(ws + q->off_dst) : y;
	what = "input reorder";
	if (q->src_reorder) {
		src = ws + q->off_src;
		if ((s = q_reorder_run(q->eng, st, q->src_reorder, &q->src_user, x, &q->src_md, (void *)src)))
			goto out;
	}
	what = "residual reorder";
	if (res && q->res_reorder) {
		if ((s = q_reorder_run(q->eng, st, q->res_reorder, &q->res_user, res, &q->dst_md, dst)))
			goto out;
	} else if (res && res != dst) {
		memcpy(dst, res, dnnl_memory_desc_get_size(&q->dst_md));
	}
	what = "memory";
	if ((s = dnnl_memory_create(&mem[0], &q->src_md, q->eng, (void *)src)) ||
	    (s = dnnl_memory_create(&mem[1], &q->wei_md, q->eng, q->wei_packed)) ||
	    (s = dnnl_memory_create(&mem[2], &q->dst_md, q->eng, dst)) ||
	    (s = dnnl_memory_create(&mem[3], &q->scratch_md, q->eng, ws ? ws + q->off_scratch : NULL)) ||
	    (q->bias && (s = dnnl_memory_create(&mem[4], &q->bias_md, q->eng, q->bias))))
		goto out;
	dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]},
				   {DNNL_ARG_SCRATCHPAD, mem[3]}, {DNNL_ARG_BIAS, mem[4]}};
	what = "convolution";
	if ((s = dnnl_primitive_execute(q->conv, st, q->bias ? 5 : 4, args)))
		goto out;
	what = "output reorder";
	if (q->dst_reorder && (s = q_reorder_run(q->eng, st, q->dst_reorder, &q->dst_md, dst, &q->dst_user, y)))
		goto out;
	s = dnnl_stream_wait(st);
out:
	for (int i = 0; i < 5; i++)
		if (mem[i])
			dnnl_memory_destroy(mem[i]);
	if (st)
		dnnl_stream_destroy(st);
	if (s)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): oneDNN %s failed: %s", a->node->name,
				  what, dnnl_status2str(s));
	return ODET_OK;
}

static odet_status qconv_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *workspace)
{
	qconv_dnnl *q = NULL;
	odet_status rc = qconv_dnnl_prepare(ctx, g, n, &q);
	*state = q;
	*workspace = q ? q->ws : 0;
	return rc;
}

static odet_status qconv_run(const be_run_args *a)
{
	return a->state ? qconv_dnnl_run(a, a->state) : qconv_ref_run(a);
}

const char *cpu_qconv_impl_name(const void *state)
{
	const qconv_dnnl *q = state;
	const_dnnl_primitive_desc_t pd;
	const char *name = "reference";
	if (q && dnnl_primitive_get_primitive_desc(q->conv, &pd) == dnnl_success)
		dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
	return name;
}

const cpu_kernel cpu_kernel_QCONV = {
	.check = qconv_check, .prepare = qconv_prepare, .release = qconv_dnnl_free, .run = qconv_run};
#else
const char *cpu_qconv_impl_name(const void *state)
{
	(void)state;
	return "reference";
}

static odet_status qconv_run(const be_run_args *a)
{
	return qconv_ref_run(a);
}

const cpu_kernel cpu_kernel_QCONV = {.check = qconv_check, .run = qconv_run};
#endif
