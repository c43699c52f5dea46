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
 *     per run between NCHW and the primitive's layout (nhwc) (the primitive and its reorders:
 *     dnnl_prim.c, shared with Conv), except int8 values between two such QConvs, which stay
 *     NHWC (qconv_value_nhwc: no reorder on either side). Split over odet's pool as the CPU
 *     Conv, every primitive single-threaded: no OpenMP team. oneDNN's reference implementations
 *     are refused.
 *   reference (everything else, and odet_conv_algo = 1): NCHW, or NHWC (odet_nhwc: X [N,H,W,C],
 *     W [M,kh,kw,C], Y [N,oh,ow,M]), or NCHW W with the NHWC X / Y / R of an int8 chain (when
 *     oneDNN refuses a primitive there); direct loops, threaded over output rows; exact.
 * FP8 E4M3 X and W: the reference loops with E4M3 elements (definition and check: qconv_fp8.c).
 */
#include "backend/cpu/act.h"
#include "backend/cpu/conv.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/fp8.h"
#include "backend/cpu/window.h"
#include "quant/fp8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef ODET_HAVE_DNNL
#include "backend/cpu/dnnl_prim.h"

#include "backend/cpu/conv_plan.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdatomic.h>
#endif

/* The reference loops, one for both element types: int8 (exact int32 sums) and FP8 E4M3
 * (qconv_fp8.c's definition: products of E4M3 values, each exact in float, summed in double). */
typedef struct qconv_job {
	const be_run_args *a;
	cpu_window w;
	bool nhwc;                     /* odet_nhwc: every tensor (and W [M,kh,kw,C]) NHWC */
	bool x_nhwc, y_nhwc, r_nhwc;   /* each tensor's memory NHWC (odet_nhwc, or an int8 chain) */
	int64_t n, c, m, h, wd, oh, ow;
	cpu_act act;
	float r_scale;
	float lut[256];                /* FP8: E4M3 code -> value */
} qconv_job;

/* Element i of t (int8, E4M3, float16 or float32) as a float. */
static float load(const qconv_job *j, const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_I8: return ((const int8_t *)t->data)[i];
	case ODET_F8E4M3: return j->lut[((const uint8_t *)t->data)[i]];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	default: return ((const float *)t->data)[i];
	}
}

/* v into element i of t: int8 rounded half to even and saturated, E4M3 nearest even and
 * saturated to +-448 (quant_fp8_from_float), float16, float32. */
static void store(odet_tensor *t, int64_t i, float v)
{
	switch (t->dtype) {
	case ODET_I8: {
		float r = nearbyintf(v);
		((int8_t *)t->data)[i] = (int8_t)(r > 127.f ? 127 : (r < -128.f ? -128 : (isnan(r) ? 0 : (int)r)));
		break;
	}
	case ODET_F8E4M3: ((uint8_t *)t->data)[i] = quant_fp8_from_float(v); break;
	case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(v); break;
	default: ((float *)t->data)[i] = v; break;
	}
}

/* rows [begin, end) of n * m * oh (one output row of one channel each); fp8 a constant at both
 * call sites, so each gets its own loop (int32 or double sums, no test inside) */
static inline __attribute__((always_inline)) void qconv_rows_of(const qconv_job *j, int64_t begin, int64_t end,
								  bool fp8)
{
	const be_run_args *a = j->a;
	const int8_t *x = a->in[0].data, *wt = a->in[1].data;
	const uint8_t *x8 = a->in[0].data, *w8 = a->in[1].data;
	const float *bias = a->n_in > 2 ? a->in[2].data : NULL, *scale = a->in[4].data;
	const odet_tensor *r = a->n_in > 3 && a->in[3].data ? &a->in[3] : NULL;
	const int64_t kh = j->w.k[0], kw = j->w.k[1];
	for (int64_t row = begin; row < end; row++) {
		int64_t oy = row % j->oh, mm = (row / j->oh) % j->m, b = row / (j->oh * j->m);
		for (int64_t ox = 0; ox < j->ow; ox++) {
			int32_t acc = 0;
			double acc8 = 0;
			for (int64_t ky = 0; ky < kh; ky++) {
				int64_t iy = oy * j->w.s[0] - j->w.pb[0] + ky * j->w.d[0];
				if (iy < 0 || iy >= j->h)
					continue;
				for (int64_t kx = 0; kx < kw; kx++) {
					int64_t ix = ox * j->w.s[1] - j->w.pb[1] + kx * j->w.d[1];
					if (ix < 0 || ix >= j->wd)
						continue;
					for (int64_t ci = 0; ci < j->c; ci++) {
						int64_t xi = j->x_nhwc ? ((b * j->h + iy) * j->wd + ix) * j->c + ci
								       : ((b * j->c + ci) * j->h + iy) * j->wd + ix;
						int64_t wi = j->nhwc ? ((mm * kh + ky) * kw + kx) * j->c + ci
								     : ((mm * j->c + ci) * kh + ky) * kw + kx;
						if (fp8)
							acc8 += (double)(j->lut[x8[xi]] * j->lut[w8[wi]]);
						else
							acc += (int32_t)x[xi] * (int32_t)wt[wi];
					}
				}
			}
			int64_t yh = ((b * j->oh + oy) * j->ow + ox) * j->m + mm, yc = ((b * j->m + mm) * j->oh + oy) * j->ow + ox;
			int64_t yi = j->y_nhwc ? yh : yc;
			float v = (fp8 ? (float)((double)scale[mm] * acc8) : scale[mm] * (float)acc) + (bias ? bias[mm] : 0.0f);
			if (r)
				v += j->r_scale * load(j, r, j->r_nhwc ? yh : yc);
			store(&a->out[0], yi, cpu_act_apply1(&j->act, v));
		}
	}
}

static void qconv_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	(void)thread;
	qconv_rows_of(arg, begin, end, false);
}

static void qconv_rows_fp8(void *arg, int64_t begin, int64_t end, int thread)
{
	(void)thread;
	qconv_rows_of(arg, begin, end, true);
}

static odet_status qconv_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
	cpu_act act;
	if (!x || !w || x->rank != 4 || w->rank != 4)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): 2-D convolutions only", n->name);
	if (x->dtype == ODET_F8E4M3)
		return cpu_qconv_fp8_check(ctx, g, n);
	if (x->dtype != ODET_I8 || w->dtype != ODET_I8)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): the CPU backend runs int8 only (this one is %s)",
				  n->name, odet_dtype_name(x->dtype));
	if (!cpu_act_from_node(n, &act))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (QConv): unknown fused activation", n->name);
	return ODET_OK;
}

/* chain: QCONV_X/Y/R bits, those tensors' memory NHWC (int8 values between oneDNN QConvs) */
enum { QCONV_X = 1, QCONV_Y = 2, QCONV_R = 4 };

static odet_status qconv_ref_run(const be_run_args *a, unsigned chain)
{
	bool fp8 = a->in[0].dtype == ODET_F8E4M3;
	qconv_job job = {.a = a}, *j = &job;
	const odet_tensor *x = &a->in[0], *w = &a->in[1], *y = &a->out[0];
	j->nhwc = ir_attr_int(a->node, "odet_nhwc", 0) != 0;
	j->x_nhwc = j->nhwc || (chain & QCONV_X);
	j->y_nhwc = j->nhwc || (chain & QCONV_Y);
	j->r_nhwc = j->nhwc || (chain & QCONV_R);
	j->n = x->dims[0];
	j->c = j->nhwc ? x->dims[3] : x->dims[1];
	j->h = j->nhwc ? x->dims[1] : x->dims[2];
	j->wd = j->nhwc ? x->dims[2] : x->dims[3];
	j->m = w->dims[0];
	j->oh = j->nhwc ? y->dims[1] : y->dims[2];
	j->ow = j->nhwc ? y->dims[2] : y->dims[3];
	int64_t sp[2] = {j->h, j->wd}, k[2] = {j->nhwc ? w->dims[1] : w->dims[2], j->nhwc ? w->dims[2] : w->dims[3]};
	odet_status rc = cpu_window_init(a->ctx, a->node, 2, sp, k, &j->w);
	if (rc)
		return rc;
	if (j->w.out[0] != j->oh || j->w.out[1] != j->ow)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): output size disagrees with the window",
				  a->node->name);
	for (int c = 0; fp8 && c < 256; c++)
		j->lut[c] = quant_fp8_to_float((uint8_t)c);
	cpu_act_from_node(a->node, &j->act);
	j->r_scale = ir_attr_float(a->node, "odet_r_scale", 1.0f);
	odet_parallel_for(a->pool, j->n * j->m * j->oh, 1, fp8 ? qconv_rows_fp8 : qconv_rows, j);
	return ODET_OK;
}

/* ---------------------------------------------------------------- oneDNN (VNNI) path */

#ifdef ODET_HAVE_DNNL
/* oneDNN int8 convolutions: s8 X (NCHW, reordered to the primitive's layout, nhwc on AVX-512
 * VNNI), s8 W reordered once at prepare (with oneDNN's s8s8 compensation), bias B / A in float
 * (oneDNN adds it to the int32 sum before the output scale), output scales A [M] per channel,
 * post-ops sum (the residual, prefilled into dst, times r_scale) and the activation, dst int8
 * (rounded half to even and saturated, as the reference) or float32.
 * As the CPU Conv (dnnl_conv.c), never an OpenMP team (its spinning helpers slow a busy
 * machine): with threads > 1 and >= CONV_SERIAL_FLOPS, tasks (image, part) on odet's pool,
 * each part a single-threaded batch-1 primitive over output channels [part_m0[k],
 * part_m0[k + 1]) (16-channel units; one part per image when N >= threads); else one
 * single-threaded primitive over the whole batch. */
typedef struct qconv_dnnl {
	cpu_dnnl_prim part[CONV_MAX_PARTS];
	int64_t part_m0[CONV_MAX_PARTS + 1];
	int n_parts, n_ws;
	bool split;
	int64_t n, c, m, in_sp, out_sp, wk; /* wk: weights per output channel */
	size_t ysz;                         /* bytes per element of Y and R */
	float *bias;                        /* B / A, or NULL */
	size_t part_ws, ws;
	unsigned chain;                     /* QCONV_X/Y/R: kept NHWC (no reorder); n_parts 0: the reference */
} qconv_dnnl;

static void qconv_dnnl_free(void *state)
{
	qconv_dnnl *q = state;
	if (!q)
		return;
	for (int k = 0; k < q->n_parts; k++)
		cpu_dnnl_prim_fini(&q->part[k]);
	free(q->bias);
	free(q);
}

static dnnl_data_type_t q_dt(odet_dtype t)
{
	return t == ODET_I8 ? dnnl_s8 : t == ODET_F32 ? dnnl_f32 : dnnl_data_type_undef;
}

/* one primitive: images nb, output channels [m0, m0 + mc) */
static dnnl_status_t qconv_prim(odet_ctx *ctx, const ir_graph *g, const ir_node *n, const cpu_window *win,
				int64_t nb, int64_t m0, int64_t mc, unsigned chain, cpu_dnnl_prim *dn, size_t *ws,
				const char **what)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *r = ir_in(g, n, 3);
	const ir_value *a = ir_in(g, n, 4), *y = ir_out(g, n, 0);
	dnnl_primitive_attr_t attr = NULL;
	dnnl_post_ops_t po = NULL;
	dnnl_primitive_desc_t pd = NULL;
	dnnl_status_t s;
	dnnl_dims_t xd = {nb, x->dims[1], x->dims[2], x->dims[3]}, yd = {nb, mc, y->dims[2], y->dims[3]};
	dnnl_dims_t wd = {mc, w->dims[1], w->dims[2], w->dims[3]}, bd = {mc};
	dnnl_dims_t st = {win->s[0], win->s[1]}, dl = {win->d[0] - 1, win->d[1] - 1}, pl = {win->pb[0], win->pb[1]},
		    pr = {win->pe[0], win->pe[1]};
	dnnl_memory_desc_t src_any, dst_any, wei_any;
	dnnl_convolution_desc_t cd;
	cpu_act act = {0};
	cpu_act_from_node(n, &act);
	const int64_t wk = w->dims[1] * w->dims[2] * w->dims[3];
	*what = "descriptors";
	/* oneDNN's jit kernels fix their thread count when the primitive is created: 1 (dnnl_conv.c) */
	omp_set_num_threads(1);
	if ((s = dnnl_engine_create(&dn->eng, dnnl_cpu, 0)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->src_user, 4, xd, dnnl_s8, chain & QCONV_X ? dnnl_nhwc : dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->dst_user, 4, yd, q_dt(y->dtype),
					      chain & QCONV_Y ? dnnl_nhwc : dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->res_user, 4, yd, q_dt(y->dtype),
					      chain & QCONV_R ? dnnl_nhwc : dnnl_nchw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->wei_user, 4, wd, dnnl_s8, dnnl_oihw)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->bias_md, 1, bd, dnnl_f32, dnnl_x)) ||
	    (s = dnnl_memory_desc_init_by_tag(&src_any, 4, xd, dnnl_s8, dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&dst_any, 4, yd, q_dt(y->dtype), dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&wei_any, 4, wd, dnnl_s8, dnnl_format_tag_any)) ||
	    (s = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
							    &src_any, &wei_any, b ? &dn->bias_md : NULL, &dst_any, st, dl,
							    pl, pr)) ||
	    (s = dnnl_primitive_attr_create(&attr)) || (s = dnnl_post_ops_create(&po)) ||
	    (s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)) ||
	    (s = dnnl_primitive_attr_set_output_scales(attr, mc, 1 << 1, (const float *)a->data + m0)) ||
	    (r && (s = dnnl_post_ops_append_sum(po, ir_attr_float(n, "odet_r_scale", 1.0f)))) ||
	    (s = cpu_act_dnnl_append(po, &act)) || (s = dnnl_primitive_attr_set_post_ops(attr, po)))
		goto out;
	if ((s = cpu_dnnl_prim_pd(dn, &cd, attr, &pd)))
		goto out;
	/* W once into the primitive's layout (the reorder adds the s8s8 compensation) */
	s = cpu_dnnl_prim_init(ctx, dn, pd, r != NULL, (const int8_t *)w->data + m0 * wk, ws, what);
out:
	cpu_dnnl_build_free(pd, po, attr);
	return s;
}

/* The static conditions of the oneDNN path (CPU with AVX-512 VNNI; the primitive itself may still
 * be refused, then the reference runs with the same layouts) */
static bool qconv_fast(const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *r = ir_in(g, n, 3);
	const ir_value *a = ir_in(g, n, 4), *y = ir_out(g, n, 0);
	if (n->dead || n->op != IR_OP_QCONV || ir_attr_int(n, "odet_nhwc", 0) || ir_attr_int(n, "odet_conv_algo", 0) == 1 ||
	    !x || !w || !a || !y || x->rank != 4 || w->rank != 4 || y->rank != 4 ||
	    x->dtype != ODET_I8 || w->dtype != ODET_I8 || w->kind != IR_VALUE_CONST || !w->data ||
	    a->kind != IR_VALUE_CONST || !a->data || a->dtype != ODET_F32 || (b && (b->kind != IR_VALUE_CONST ||
	    !b->data || b->dtype != ODET_F32)) || q_dt(y->dtype) == dnnl_data_type_undef ||
	    (r && r->dtype != y->dtype) || !ir_value_shape_known(x) || !ir_value_shape_known(y))
		return false;
	/* without VNNI oneDNN's int8 kernels sum pairs of products in saturating int16 (vpmaddubsw):
	 * not exact, so the reference runs there (measured under valgrind, which hides AVX-512) */
	const unsigned vnni = (unsigned)dnnl_cpu_isa_avx512_core_vnni;
	if (((unsigned)dnnl_get_effective_cpu_isa() & vnni) != vnni)
		return false;
	const int64_t m = w->dims[0];
	const float *A = a->data;
	if (ir_value_numel(a) != m)
		return false;
	for (int64_t i = 0; i < m; i++)
		if (!(A[i] > 0) || !isfinite(A[i]))
			return false; /* B / A undefined: the reference keeps B exact */
	return true;
}

/* Parts of the output channels per image on T threads (1: whole images), and whether the conv
 * is split over the pool at all (as the CPU Conv's split, dnnl_conv.c) */
static int qconv_parts(const ir_graph *g, const ir_node *n, int T, bool *split)
{
	const ir_value *w = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	const int64_t nb = y->dims[0], m = w->dims[0], blocks = (m + 15) / 16;
	const double flops = 2.0 * (double)nb * (double)m * (double)(w->dims[1] * w->dims[2] * w->dims[3]) *
			     (double)(y->dims[2] * y->dims[3]);
	int parts = 1;
	*split = false;
	if (T > 1 && flops >= CONV_SERIAL_FLOPS) {
		parts = nb >= T ? 1 : T < CONV_MAX_PARTS ? T : CONV_MAX_PARTS;
		if (parts > blocks)
			parts = (int)blocks;
		*split = nb >= T || parts > 1;
	}
	return parts;
}

/* int8 value v kept NHWC (oneDNN's int8 layout) between QConvs: an inner value (not a graph
 * input or output) written by a oneDNN QConv over all its output channels at once and read only
 * by oneDNN QConvs, as X or as the residual of one not split over its output channels. No
 * reorder on either side; every QConv's prepare asks the same question of its own values. */
static bool qconv_value_nhwc(const ir_graph *g, int v, int T)
{
	if (v < 0 || v >= g->n_values)
		return false;
	const ir_value *val = &g->values[v];
	if (val->kind != IR_VALUE_INTERMEDIATE || val->is_output || val->dtype != ODET_I8 || val->rank != 4)
		return false;
	for (int i = 0; i < g->n_inputs; i++)
		if (g->inputs[i] == v)
			return false;
	int producers = 0, readers = 0;
	bool split;
	for (int k = 0; k < g->n_nodes; k++) {
		const ir_node *n = &g->nodes[k];
		if (n->dead)
			continue;
		for (int o = 0; o < n->n_out; o++) {
			if (n->out[o] != v)
				continue;
			if (o != 0 || !qconv_fast(g, n) || qconv_parts(g, n, T, &split) != 1)
				return false;
			producers++;
		}
		for (int i = 0; i < n->n_in; i++) {
			if (n->in[i] != v)
				continue;
			if ((i != 0 && i != 3) || !qconv_fast(g, n) || (i == 3 && qconv_parts(g, n, T, &split) != 1))
				return false;
			readers++;
		}
	}
	return producers == 1 && readers > 0;
}

static unsigned qconv_chain(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const int T = ctx->opts.n_threads > 0 ? ctx->opts.n_threads : 1;
	if (!qconv_fast(g, n))
		return 0;
	return (qconv_value_nhwc(g, n->in[0], T) ? QCONV_X : 0) | (qconv_value_nhwc(g, n->out[0], T) ? QCONV_Y : 0) |
	       (n->n_in > 3 && qconv_value_nhwc(g, n->in[3], T) ? QCONV_R : 0);
}

/* *out NULL (and ODET_OK) when the plain reference runs this node; a state without parts when
 * the reference runs it with NHWC neighbours (oneDNN refused the primitive) */
static odet_status qconv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, qconv_dnnl **out)
{
	*out = NULL;
	if (!qconv_fast(g, n))
		return ODET_OK;
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *a = ir_in(g, n, 4);
	const ir_value *y = ir_out(g, n, 0);
	const int64_t m = w->dims[0];
	const float *A = a->data, *B = b ? b->data : NULL;
	cpu_window win;
	odet_status rc = cpu_window_init(ctx, n, 2, x->dims + 2, w->dims + 2, &win);
	if (rc)
		return rc;
	qconv_dnnl *q = calloc(1, sizeof *q);
	if (!q)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s' (QConv): out of memory", n->name);
	q->n = x->dims[0], q->c = x->dims[1], q->m = m;
	q->in_sp = x->dims[2] * x->dims[3], q->out_sp = y->dims[2] * y->dims[3];
	q->wk = w->dims[1] * w->dims[2] * w->dims[3];
	q->ysz = odet_dtype_size(y->dtype);
	q->chain = qconv_chain(ctx, g, n);
	const int T = ctx->opts.n_threads > 0 ? ctx->opts.n_threads : 1;
	const int parts = qconv_parts(g, n, T, &q->split);
	const int64_t blocks = (m + 15) / 16;
	const char *what = "descriptors";
	dnnl_status_t s = dnnl_success;
	for (int k = 0; k < parts && !s; k++) {
		int64_t m0 = 16 * (blocks * k / parts), m1 = 16 * (blocks * (k + 1) / parts);
		size_t pws = 0;
		q->part_m0[k] = m0;
		q->part_m0[k + 1] = m1 < m ? m1 : m;
		s = qconv_prim(ctx, g, n, &win, q->split ? 1 : q->n, m0, q->part_m0[k + 1] - m0, q->chain, &q->part[k],
			       &pws, &what);
		if (!s || q->part[k].eng)
			q->n_parts = k + 1; /* what it made is freed with q */
		q->part_ws = pws > q->part_ws ? pws : q->part_ws;
	}
	if (s == dnnl_out_of_memory) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	if (s) {
		/* not an error: the exact reference runs this node (with the chain's layouts, if any) */
		odet_log(ctx, ODET_LOG_DEBUG, "node '%s' (QConv): oneDNN %s: %s; the reference runs it", n->name, what,
			 dnnl_status2str(s));
		if (!q->chain)
			goto out_free;
		for (int k = 0; k < q->n_parts; k++)
			cpu_dnnl_prim_fini(&q->part[k]);
		q->n_parts = 0;
		q->split = false;
		q->part_ws = q->ws = 0;
		*out = q;
		return ODET_OK;
	}
	q->part_ws = (q->part_ws + 63) & ~(size_t)63;
	q->n_ws = q->split ? T : 1;
	q->ws = q->part_ws * (size_t)q->n_ws;
	if (B && !(q->bias = malloc(sizeof(float) * (size_t)m))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s' (QConv): out of memory", n->name);
		goto out_free;
	}
	for (int64_t i = 0; B && i < m; i++)
		q->bias[i] = B[i] / A[i];
	*out = q;
	q = NULL;
out_free:
	qconv_dnnl_free(q);
	return rc;
}

typedef struct qsplit_job {
	const qconv_dnnl *q;
	const int8_t *x, *w;
	const char *res;
	char *y, *ws;
	atomic_int failed;
	dnnl_status_t s;
	const char *what;
} qsplit_job;

/* tasks t = image * n_parts + part, each on its thread's workspace copy */
static void qsplit_range(void *arg, int64_t begin, int64_t end, int thread)
{
	qsplit_job *j = arg;
	const qconv_dnnl *q = j->q;
	omp_set_num_threads(1); /* this pool thread's reorders: no OpenMP team (dnnl_conv.c) */
	for (int64_t t = begin; t < end; t++) {
		int64_t img = t / q->n_parts, k = t % q->n_parts, m0 = q->part_m0[k];
		size_t yoff = (size_t)((img * q->m + m0) * q->out_sp) * q->ysz;
		const char *what;
		dnnl_status_t s = cpu_dnnl_prim_exec(&q->part[k], j->x + img * q->c * q->in_sp, j->w + m0 * q->wk,
						     q->bias ? q->bias + m0 : NULL, j->res ? j->res + yoff : NULL,
						     j->y + yoff, j->ws + (size_t)thread * q->part_ws, &what);
		int expect = 0;
		if (s != dnnl_success && atomic_compare_exchange_strong(&j->failed, &expect, 1)) {
			j->s = s;
			j->what = what;
		}
	}
}

static odet_status qconv_dnnl_run(const be_run_args *a, const qconv_dnnl *q)
{
	const char *res = a->n_in > 3 ? a->in[3].data : NULL;
	const char *what = "convolution";
	dnnl_status_t s;
	omp_set_num_threads(1);
	if (!q->split) {
		s = cpu_dnnl_prim_exec(&q->part[0], a->in[0].data, a->in[1].data, q->bias, res, a->out[0].data,
				       a->workspace, &what);
	} else {
		if (odet_threadpool_size(a->pool) > q->n_ws)
			return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (QConv): prepared for %d threads runs on %d",
					  a->node->name, q->n_ws, odet_threadpool_size(a->pool));
		qsplit_job j = {.q = q, .x = a->in[0].data, .w = a->in[1].data, .res = res, .y = a->out[0].data,
				.ws = a->workspace};
		atomic_init(&j.failed, 0);
		odet_parallel_for(a->pool, q->n * q->n_parts, 1, qsplit_range, &j);
		s = atomic_load(&j.failed) ? j.s : dnnl_success;
		if (s)
			what = j.what;
	}
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
	const qconv_dnnl *q = a->state;
	if (q && q->n_parts > 0)
		return qconv_dnnl_run(a, q);
	return qconv_ref_run(a, q ? q->chain : 0);
}

unsigned cpu_qconv_nhwc(const void *state)
{
	const qconv_dnnl *q = state;
	return q ? q->chain : 0;
}

int cpu_qconv_split(const void *state)
{
	const qconv_dnnl *q = state;
	return q && q->split ? q->n_parts : 0;
}

const char *cpu_qconv_impl_name(const void *state)
{
	const qconv_dnnl *q = state;
	const_dnnl_primitive_desc_t pd;
	const char *name = "reference";
	if (q && dnnl_primitive_get_primitive_desc(q->part[0].conv, &pd) == dnnl_success)
		dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
	return name;
}

const cpu_kernel cpu_kernel_QCONV = {
	.check = qconv_check, .prepare = qconv_prepare, .release = qconv_dnnl_free, .run = qconv_run};
#else
int cpu_qconv_split(const void *state)
{
	(void)state;
	return 0;
}

const char *cpu_qconv_impl_name(const void *state)
{
	(void)state;
	return "reference";
}

static odet_status qconv_run(const be_run_args *a)
{
	return qconv_ref_run(a, 0);
}

unsigned cpu_qconv_nhwc(const void *state)
{
	(void)state;
	return 0;
}

const cpu_kernel cpu_kernel_QCONV = {.check = qconv_check, .run = qconv_run};
#endif
