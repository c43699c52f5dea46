/*
 * conv.c — Conv (ONNX opset 11+) with odet's fusion: y = act(conv(x, W) + B + residual).
 *
 * Inputs: X [N][C][spatial...] f32 (1 to 3 spatial dims), W [M][C/group][k...] f32 (constant
 * or fed at run time), optional B [M], optional residual (input 3, Y's shape).
 * Attributes: group, strides, dilations, pads, auto_pad, kernel_shape, odet_act/_alpha/_beta
 * (act.h); odet_conv_algo (odet-internal, for tests and benchmarks): 0 auto, 1 im2col+GEMM,
 * 2 oneDNN on plain NCHW tensors, 3 oneDNN on the layout it prefers, 4 direct (C/group == 1
 * only), 5 oneDNN on nChw16c, 6 oneDNN's Winograd on nChw16c; 3, 5 and 6 reorder input, output
 * and residual around the conv. odet_bf16 = 1 (precision bf16): X and W in bf16 inside oneDNN
 * (W converted once, X per run), fp32 accumulation, bias and Y, except where the auto choice is
 * Winograd (fp32, as fast here); refused without AVX512_BF16.
 *
 * Layout: X, Y and the residual are NCHW, except values cpu_value_nchw16c() keeps in oneDNN's
 * nChw16c between convs (and MaxPools): then this conv reads/writes that layout directly.
 *
 * Algorithms (auto: 6 for 3x3 stride-1 group-1 convs with C >= 16 in fp32, else 5, else 3, else
 * GEMM/direct — whichever first gets a fast implementation):
 *   oneDNN (when built with it): convolution primitives created at prepare with post-ops for the residual (binary add reading the NCHW tensor where a fast
 *     implementation takes it, else sum into a dst prefilled with the residual) and the
 *     activation (eltwise); oneDNN's reference implementations are refused (far slower than
 *     the GEMM path). Constant weights are reordered once into the primitive's layout; input,
 *     output and residual are reordered per run (unless kept in nChw16c). Threads: every
 *     primitive is single-threaded (OpenMP at 1 thread, set before it is created, since its
 *     jit kernels fix the count there, and on every thread that runs it); with more than one
 *     thread and at least CONV_SERIAL_FLOPS, the conv is split into tasks on odet's pool:
 *     one per image when N >= threads, else one per part of the output channels at N = 1
 *     (multiples of 16; with groups, whole groups filling 16-channel blocks, e.g. 16
 *     channels of a depthwise conv); each pool thread has its own workspace copy. No OpenMP
 *     team ever: its workers spin after each region (libgomp), and on a busy 2-core machine
 *     that made the convs 2-6x slower (measured; CenterNet, all depthwise, 1.5x its CPU time).
 *   im2col + GEMM (sgemm.c): per image and group, the input patch matrix
 *     [C/g * prod(k)][prod(out)] (skipped for 1x1/stride 1/no pad) times W_g; then one
 *     epilogue pass (bias, residual, activation) per output channel.
 *   direct: channel-wise convolutions (C/group == 1, e.g. depthwise), one plane per task.
 */
#include "backend/cpu/conv.h"

#include "backend/cpu/act.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/sgemm.h"
#include "backend/cpu/window.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef ODET_HAVE_DNNL
#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#endif

/* oneDNN convs below this many FLOPs run on one thread: a parallel region's fork/join (and a
 * worker the OS has not scheduled yet, on a busy machine) costs more than the split saves */
#define CONV_SERIAL_FLOPS 3.0e7
#define CONV_MAX_PARTS 8

enum {
	CONV_AUTO = 0, CONV_GEMM = 1, CONV_DNNL_PLAIN = 2, CONV_DNNL_BLOCKED = 3, CONV_DIRECT = 4,
	CONV_DNNL_BLOCK16 = 5, CONV_DNNL_WINO = 6,
};

#ifdef ODET_HAVE_DNNL
typedef struct conv_dnnl {
	dnnl_engine_t eng;
	dnnl_primitive_t conv;
	dnnl_primitive_t src_reorder, dst_reorder, res_reorder, wei_reorder; /* NULL = not needed */
	dnnl_memory_desc_t src_user, dst_user, res_user, wei_user, bias_md;
	dnnl_memory_desc_t src_md, dst_md, wei_md, scratch_md;
	void *wei_packed;  /* constant W in wei_md (NULL when W is fed at run time) */
	bool res_binary;   /* residual read by a binary post-op (else: sum into prefilled dst) */
	size_t off_src, off_dst, off_wei, off_scratch; /* workspace offsets */
} conv_dnnl;
#endif

typedef struct conv_plan {
	int nd;                       /* spatial dims of the tensors (1..3) */
	int64_t n, c, m, group, cg, mg;
	/* geometry padded to 3 spatial dims (leading dims 1) */
	int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
	int64_t in_sp, out_sp, kk;
	cpu_act act;
	bool has_bias, has_res, pointwise;
	bool x_blocked, y_blocked, r_blocked; /* tensors kept in nChw16c between convs */
	bool bf16;                    /* odet_bf16: X and W in bf16 inside oneDNN, fp32 accumulation and Y */
	int algo;
	size_t off_col, off_sgemm;    /* GEMM path workspace */
#ifdef ODET_HAVE_DNNL
	conv_dnnl *dn;                /* = part[0] */
	/* split (threads > 1, not small): parts over output channels (and their groups' input
	 * channels), each a N=1 (or N=n when not split) single-threaded primitive, run as tasks
	 * (image, part) on odet's pool; each thread has its own workspace copy of part_ws bytes */
	conv_dnnl *part[CONV_MAX_PARTS];
	int64_t part_m0[CONV_MAX_PARTS], part_c0[CONV_MAX_PARTS]; /* first output / input channel */
	int n_parts, n_ws;
	bool split;
	size_t part_ws, off_parts;
#endif
} conv_plan;

static size_t ws_take(size_t *total, size_t bytes)
{
	size_t off = (*total + 63) & ~(size_t)63;
	*total = off + bytes;
	return off;
}

/* ---------------------------------------------------------------- check */

static odet_status conv_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *r = ir_in(g, n, 3);
	const ir_value *y = ir_out(g, n, 0);
	if (!x || !w || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Conv needs X, W and Y", n->name);
	const ir_value *all[5] = {x, w, b, r, y};
	for (int i = 0; i < 5; i++)
		if (all[i] && all[i]->dtype != ODET_F32)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv on %s (only float32 on CPU)",
					  n->name, odet_dtype_name(all[i]->dtype));
	if (!ir_value_shape_known(x) || !ir_value_shape_known(w) || !ir_value_shape_known(y))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv with unknown shapes", n->name);
	if (x->rank < 3 || x->rank > 5 || w->rank != x->rank || y->rank != x->rank)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': Conv with X rank %d, W rank %d (1 to 3 spatial dims)", n->name,
				  x->rank, w->rank);
	int64_t group = ir_attr_int(n, "group", 1);
	if (group < 1 || w->dims[0] % group || x->dims[1] != w->dims[1] * group || y->dims[1] != w->dims[0] ||
	    y->dims[0] != x->dims[0])
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Conv channels/group inconsistent", n->name);
	if (b && (b->rank != 1 || b->dims[0] != w->dims[0]))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Conv bias is not [M]", n->name);
	if (r) {
		if (r->rank != y->rank)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Conv residual shape differs from Y",
					  n->name);
		for (int i = 0; i < y->rank; i++)
			if (r->dims[i] != y->dims[i])
				return odet_error(ctx, ODET_ERR_BAD_INPUT,
						  "node '%s': Conv residual shape differs from Y", n->name);
	}
	cpu_act act;
	if (!cpu_act_from_node(n, &act))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv with unknown fused activation %lld",
				  n->name, (long long)ir_attr_int(n, "odet_act", 0));
	cpu_window win;
	odet_status rc = cpu_window_init(ctx, n, x->rank - 2, x->dims + 2, w->dims + 2, &win);
	if (rc)
		return rc;
	return cpu_window_check_out(ctx, n, &win, y->dims + 2);
}

/* ---------------------------------------------------------------- oneDNN */

#ifdef ODET_HAVE_DNNL
static odet_status dnnl_fail(odet_ctx *ctx, const ir_node *n, const char *what, dnnl_status_t s)
{
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv: oneDNN %s failed: %s", n->name, what,
			  dnnl_status2str(s));
}

static void conv_dnnl_free(conv_dnnl *dn)
{
	if (!dn)
		return;
	dnnl_primitive_t p[5] = {dn->conv, dn->src_reorder, dn->dst_reorder, dn->res_reorder, dn->wei_reorder};
	for (int i = 0; i < 5; i++)
		if (p[i])
			dnnl_primitive_destroy(p[i]);
	odet_aligned_free(dn->wei_packed);
	if (dn->eng)
		dnnl_engine_destroy(dn->eng);
	free(dn);
}

static dnnl_status_t make_reorder(dnnl_engine_t eng, const dnnl_memory_desc_t *from,
				  const dnnl_memory_desc_t *to, dnnl_primitive_t *out)
{
	dnnl_primitive_desc_t pd;
	dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL);
	if (s != dnnl_success)
		return s;
	s = dnnl_primitive_create(out, pd);
	dnnl_primitive_desc_destroy(pd);
	return s;
}

/* Run one reorder (or any 2-argument primitive) from src to dst pointers. */
static dnnl_status_t run_reorder(conv_dnnl *dn, dnnl_stream_t st, dnnl_primitive_t r, const dnnl_memory_desc_t *from,
				 const void *src, const dnnl_memory_desc_t *to, void *dst)
{
	dnnl_memory_t ms = NULL, md = NULL;
	dnnl_status_t s = dnnl_memory_create(&ms, from, dn->eng, (void *)src);
	if (s == dnnl_success)
		s = dnnl_memory_create(&md, to, dn->eng, dst);
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

/* One single-threaded primitive for images [nimg] and output channels [m0, m0 + mp): with
 * group 1 all input channels, else the groups of those channels (m0, mp multiples of M/group)
 * and their input channels; workspace offsets taken from *ws. */
static odet_status conv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p,
				     int64_t nimg, int64_t m0, int64_t mp, size_t *ws, conv_dnnl **out)
{
	conv_dnnl *dn = calloc(1, sizeof *dn);
	if (!dn)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': Conv: out of memory", n->name);
	dnnl_primitive_attr_t attr = NULL;
	dnnl_post_ops_t po = NULL;
	dnnl_primitive_desc_t pd = NULL;
	odet_status rc = ODET_OK;
	dnnl_status_t s;
	const char *what = "engine";
	int nd = p->nd, r = nd + 2, k0 = 3 - nd;
	bool blocked = p->algo == CONV_DNNL_BLOCKED;
	bool wino = p->algo == CONV_DNNL_WINO;
	bool b16 = p->algo == CONV_DNNL_BLOCK16 || wino;
	static const dnnl_format_tag_t b16_tag[4] = {0, dnnl_nCw16c, dnnl_nChw16c, dnnl_nCdhw16c};
	static const dnnl_format_tag_t act_tag[4] = {0, dnnl_ncw, dnnl_nchw, dnnl_ncdhw};
	static const dnnl_format_tag_t wei_tag[4] = {0, dnnl_oiw, dnnl_oihw, dnnl_oidhw};
	static const dnnl_format_tag_t gwei_tag[4] = {0, dnnl_goiw, dnnl_goihw, dnnl_goidhw};
	const int64_t gp = p->group > 1 ? mp / p->mg : 1; /* groups in this primitive */
	dnnl_dims_t xd = {nimg, p->group > 1 ? gp * p->cg : p->c}, yd = {nimg, mp}, wd, bd = {mp}, st, dl, pl, pr;
	for (int i = 0; i < nd; i++) {
		xd[2 + i] = p->in[k0 + i];
		yd[2 + i] = p->out[k0 + i];
		st[i] = p->s[k0 + i];
		dl[i] = p->d[k0 + i] - 1;
		pl[i] = p->pb[k0 + i];
		pr[i] = p->pe[k0 + i];
	}
	int wr = r;
	if (p->group > 1) {
		wd[0] = gp;
		wd[1] = p->mg;
		wd[2] = p->cg;
		for (int i = 0; i < nd; i++)
			wd[3 + i] = p->k[k0 + i];
		wr = r + 1;
	} else {
		wd[0] = mp;
		wd[1] = p->c;
		for (int i = 0; i < nd; i++)
			wd[2 + i] = p->k[k0 + i];
	}
	dnnl_memory_desc_t src_any, dst_any, wei_any;
	/* oneDNN's jit kernels fix their thread count when the primitive is created: 1 (odet's
	 * pool runs the parts; an OpenMP team's spinning workers made a busy machine 2-6x slower) */
	omp_set_num_threads(1);
	if ((s = dnnl_engine_create(&dn->eng, dnnl_cpu, 0)) != dnnl_success)
		goto out_dnnl;
	what = "memory descriptors";
	if ((s = dnnl_memory_desc_init_by_tag(&dn->src_user, r, xd, dnnl_f32,
					      p->x_blocked ? b16_tag[nd] : act_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->dst_user, r, yd, dnnl_f32,
					      p->y_blocked ? b16_tag[nd] : act_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->res_user, r, yd, dnnl_f32,
					      p->r_blocked ? b16_tag[nd] : act_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->wei_user, wr, wd, dnnl_f32,
					      p->group > 1 ? gwei_tag[nd] : wei_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&dn->bias_md, 1, bd, dnnl_f32, dnnl_x)) ||
	    (s = dnnl_memory_desc_init_by_tag(&src_any, r, xd, p->bf16 ? dnnl_bf16 : dnnl_f32,
					      blocked ? dnnl_format_tag_any : b16 && p->c >= 16 ? b16_tag[nd] : act_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&dst_any, r, yd, dnnl_f32,
					      blocked ? dnnl_format_tag_any : b16 ? b16_tag[nd] : act_tag[nd])) ||
	    (s = dnnl_memory_desc_init_by_tag(&wei_any, wr, wd, p->bf16 ? dnnl_bf16 : dnnl_f32,
					      dnnl_format_tag_any)))
		goto out_dnnl;
	dnnl_convolution_desc_t cd;
	what = "convolution descriptor";
	s = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
						      wino ? dnnl_convolution_winograd : dnnl_convolution_direct,
						      &src_any, &wei_any, p->has_bias ? &dn->bias_md : NULL,
						      &dst_any, st, dl, pl, pr);
	if (s)
		goto out_dnnl;
	/* residual: first as a binary-add post-op reading the NCHW tensor directly (no reorder,
	 * no copy); if no implementation takes that, as a sum post-op into a prefilled dst */
	for (int attempt = p->has_res ? 0 : 1; attempt < 2; attempt++) {
		what = "post-ops";
		if (po)
			dnnl_post_ops_destroy(po);
		if (attr)
			dnnl_primitive_attr_destroy(attr);
		po = NULL;
		attr = NULL;
		if ((s = dnnl_primitive_attr_create(&attr)) || (s = dnnl_post_ops_create(&po)) ||
		    (s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)))
			goto out_dnnl;
		dn->res_binary = p->has_res && attempt == 0;
		if (dn->res_binary)
			s = dnnl_post_ops_append_binary(po, dnnl_binary_add, &dn->res_user);
		else if (p->has_res)
			s = dnnl_post_ops_append_sum(po, 1.0f);
		if (s || (s = cpu_act_dnnl_append(po, &p->act)) || (s = dnnl_primitive_attr_set_post_ops(attr, po)))
			goto out_dnnl;
		what = "convolution primitive descriptor";
		pd = NULL;
		s = dnnl_primitive_desc_create(&pd, &cd, attr, dn->eng, NULL);
		/* oneDNN's reference implementations are far slower than odet's own path */
		const char *impl = NULL;
		if (s == dnnl_success && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
		    impl && strncmp(impl, "ref", 3) == 0) {
			dnnl_primitive_desc_destroy(pd);
			pd = NULL;
			s = dnnl_unimplemented;
		}
		if (s == dnnl_success)
			break;
	}
	if (s)
		goto out_dnnl;
	dn->src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
	dn->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
	dn->wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	dn->scratch_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	what = "convolution primitive";
	if ((s = dnnl_primitive_create(&dn->conv, pd)))
		goto out_dnnl;
	what = "reorder";
	if (!dnnl_memory_desc_equal(&dn->src_md, &dn->src_user)) {
		if ((s = make_reorder(dn->eng, &dn->src_user, &dn->src_md, &dn->src_reorder)))
			goto out_dnnl;
		dn->off_src = ws_take(ws, dnnl_memory_desc_get_size(&dn->src_md));
	}
	if (!dnnl_memory_desc_equal(&dn->dst_md, &dn->dst_user)) {
		if ((s = make_reorder(dn->eng, &dn->dst_md, &dn->dst_user, &dn->dst_reorder)))
			goto out_dnnl;
		dn->off_dst = ws_take(ws, dnnl_memory_desc_get_size(&dn->dst_md));
	}
	if (p->has_res && !dn->res_binary && !dnnl_memory_desc_equal(&dn->res_user, &dn->dst_md) &&
	    (s = make_reorder(dn->eng, &dn->res_user, &dn->dst_md, &dn->res_reorder)))
		goto out_dnnl;
	bool wei_same = dnnl_memory_desc_equal(&dn->wei_md, &dn->wei_user);
	if (!wei_same && (s = make_reorder(dn->eng, &dn->wei_user, &dn->wei_md, &dn->wei_reorder)))
		goto out_dnnl;
	dn->off_scratch = ws_take(ws, dnnl_memory_desc_get_size(&dn->scratch_md));
	const ir_value *w = ir_in(g, n, 1);
	if (w->kind == IR_VALUE_CONST && w->data && !wei_same) {
		size_t bytes = dnnl_memory_desc_get_size(&dn->wei_md);
		dn->wei_packed = odet_aligned_alloc(ctx, bytes);
		if (!dn->wei_packed) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		dnnl_stream_t stream;
		what = "weight reorder";
		if ((s = dnnl_stream_create(&stream, dn->eng, dnnl_stream_default_flags)))
			goto out_dnnl;
		s = run_reorder(dn, stream, dn->wei_reorder, &dn->wei_user,
				(const float *)w->data + m0 * p->cg * p->kk, &dn->wei_md, dn->wei_packed);
		if (!s)
			s = dnnl_stream_wait(stream);
		dnnl_stream_destroy(stream);
		if (s)
			goto out_dnnl;
	} else if (!wei_same) {
		dn->off_wei = ws_take(ws, dnnl_memory_desc_get_size(&dn->wei_md));
	}
	*out = dn;
	dn = NULL;
	goto out_free;
out_dnnl:
	rc = dnnl_fail(ctx, n, what, s);
out_free:
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (po)
		dnnl_post_ops_destroy(po);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
	conv_dnnl_free(dn);
	return rc;
}

/* Run one primitive on the given pointers; *what names the failing step. */
static dnnl_status_t conv_dnnl_exec(conv_dnnl *dn, const float *x, const float *w, const float *b,
				    const float *res, float *y, char *ws, const char **what_out)
{
	dnnl_stream_t st = NULL;
	dnnl_memory_t mem[6] = {0};
	const char *what = "stream";
	dnnl_status_t s;
	if ((s = dnnl_stream_create(&st, dn->eng, dnnl_stream_default_flags)))
		goto out;
	const void *src = x, *wei = w;
	void *dst = y;
	what = "input reorder";
	if (dn->src_reorder) {
		src = ws + dn->off_src;
		if ((s = run_reorder(dn, st, dn->src_reorder, &dn->src_user, x, &dn->src_md, (void *)src)))
			goto out;
	}
	if (dn->wei_packed) {
		wei = dn->wei_packed;
	} else if (dn->wei_reorder) {
		wei = ws + dn->off_wei;
		if ((s = run_reorder(dn, st, dn->wei_reorder, &dn->wei_user, w, &dn->wei_md, (void *)wei)))
			goto out;
	}
	if (dn->dst_reorder)
		dst = ws + dn->off_dst;
	if (res && !dn->res_binary) {
		what = "residual reorder";
		if (dn->res_reorder) {
			if ((s = run_reorder(dn, st, dn->res_reorder, &dn->res_user, res, &dn->dst_md, dst)))
				goto out;
		} else if (res != dst) {
			memcpy(dst, res, dnnl_memory_desc_get_size(&dn->dst_md));
		}
	}
	what = "memory";
	if ((s = dnnl_memory_create(&mem[0], &dn->src_md, dn->eng, (void *)src)) ||
	    (s = dnnl_memory_create(&mem[1], &dn->wei_md, dn->eng, (void *)wei)) ||
	    (s = dnnl_memory_create(&mem[2], &dn->dst_md, dn->eng, dst)) ||
	    (s = dnnl_memory_create(&mem[3], &dn->scratch_md, dn->eng, ws ? ws + dn->off_scratch : NULL)) ||
	    (b && (s = dnnl_memory_create(&mem[4], &dn->bias_md, dn->eng, (void *)b))) ||
	    (res && dn->res_binary && (s = dnnl_memory_create(&mem[5], &dn->res_user, dn->eng, (void *)res))))
		goto out;
	dnnl_exec_arg_t args[6];
	int n_args = 0;
	args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem[0]};
	args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem[1]};
	args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem[2]};
	args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mem[3]};
	if (mem[4])
		args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem[4]};
	if (mem[5])
		args[n_args++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mem[5]};
	what = "convolution";
	if ((s = dnnl_primitive_execute(dn->conv, st, n_args, args)))
		goto out;
	if (dn->dst_reorder) {
		what = "output reorder";
		if ((s = run_reorder(dn, st, dn->dst_reorder, &dn->dst_md, dst, &dn->dst_user, y)))
			goto out;
	}
	s = dnnl_stream_wait(st);
out:
	for (int i = 0; i < 6; i++)
		if (mem[i])
			dnnl_memory_destroy(mem[i]);
	if (st)
		dnnl_stream_destroy(st);
	*what_out = what;
	return s;
}

typedef struct split_job {
	const conv_plan *p;
	const float *x, *w, *b, *res;
	float *y;
	char *ws;
	atomic_int failed;
	dnnl_status_t s;
	const char *what;
} split_job;

/* tasks t = image * n_parts + part, each on its thread's workspace copy */
static void split_range(void *arg, int64_t begin, int64_t end, int thread)
{
	split_job *j = arg;
	const conv_plan *p = j->p;
	/* this pool thread's own OpenMP setting: the reorders (and any primitive) would otherwise
	 * open a team of the default size inside every task (measured: 3.7x the CPU time at
	 * NanoDet batch 8, the workers spinning against each other) */
	omp_set_num_threads(1);
	for (int64_t t = begin; t < end; t++) {
		int64_t img = t / p->n_parts, k = t % p->n_parts, m0 = p->part_m0[k];
		const float *x = j->x + (img * p->c + p->part_c0[k]) * p->in_sp;
		const float *w = j->w + m0 * p->cg * p->kk;
		const float *b = j->b ? j->b + m0 : NULL;
		const float *res = j->res ? j->res + (img * p->m + m0) * p->out_sp : NULL;
		float *y = j->y + (img * p->m + m0) * p->out_sp;
		const char *what;
		dnnl_status_t s = conv_dnnl_exec(p->part[k], x, w, b, res, y, j->ws + (size_t)thread * p->part_ws, &what);
		int expect = 0;
		if (s != dnnl_success && atomic_compare_exchange_strong(&j->failed, &expect, 1)) {
			j->s = s;
			j->what = what;
		}
	}
}

static odet_status conv_dnnl_run(const be_run_args *a, const conv_plan *p)
{
	const float *x = a->in[0].data, *w = a->in[1].data;
	const float *b = p->has_bias ? a->in[2].data : NULL, *res = p->has_res ? a->in[3].data : NULL;
	float *y = a->out[0].data;
	int nthr = odet_threadpool_size(a->pool);
	dnnl_status_t s;
	const char *what = "convolution";
	omp_set_num_threads(1);
	if (!p->split) {
		s = conv_dnnl_exec(p->dn, x, w, b, res, y, a->workspace, &what);
	} else {
		if (nthr > p->n_ws)
			return odet_error(a->ctx, ODET_ERR_INTERNAL,
					  "node '%s': Conv prepared for %d threads runs on %d", a->node->name, p->n_ws,
					  nthr);
		split_job j = {.p = p, .x = x, .w = w, .b = b, .res = res, .y = y,
			       .ws = (char *)a->workspace + p->off_parts};
		atomic_init(&j.failed, 0);
		odet_parallel_for(a->pool, p->n * p->n_parts, 1, split_range, &j);
		s = atomic_load(&j.failed) ? j.s : dnnl_success;
		if (s)
			what = j.what;
	}
	if (s)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': Conv: oneDNN %s failed: %s",
				  a->node->name, what, dnnl_status2str(s));
	return ODET_OK;
}

static void conv_parts_free(conv_plan *p)
{
	for (int k = 0; k < p->n_parts; k++)
		conv_dnnl_free(p->part[k]);
	memset(p->part, 0, sizeof p->part);
	p->n_parts = 0;
	p->dn = NULL;
}

/* All primitives of the plan: split over images and output-channel parts when threads > 1
 * and the conv is not small, else one single-threaded primitive. */
static odet_status conv_dnnl_prepare_all(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p,
					 size_t *ws)
{
	int T = ctx->opts.n_threads > 0 ? ctx->opts.n_threads : 1;
	double flops = 2.0 * (double)p->n * (double)p->m * (double)p->cg * (double)p->kk * (double)p->out_sp;
	/* a part's unit: 16 output channels (an nChw16c block); with groups, the fewest whole
	 * groups whose input and output channels both fill 16-channel blocks (none: no parts) */
	int64_t unit = 16;
	if (p->group > 1) {
		int64_t u = 1;
		while (u <= p->group && ((u * p->cg) % 16 || (u * p->mg) % 16))
			u++;
		unit = u * p->mg;
	}
	int64_t blocks = (p->m + unit - 1) / unit;
	int parts = 1;
	p->split = false;
	if (T > 1 && flops >= CONV_SERIAL_FLOPS) {
		if (p->n >= T) {
			p->split = true;
		} else {
			parts = T < CONV_MAX_PARTS ? T : CONV_MAX_PARTS;
			if (parts > blocks)
				parts = (int)blocks;
			p->split = parts > 1;
			if (!p->split)
				parts = 1;
		}
	}
	odet_status rc = ODET_OK;
	if (!p->split) {
		p->n_parts = 1;
		p->part_m0[0] = p->part_c0[0] = 0;
		rc = conv_dnnl_prepare(ctx, g, n, p, p->n, 0, p->m, ws, &p->part[0]);
		if (rc)
			p->n_parts = 0;
		p->dn = p->part[0];
		return rc;
	}
	size_t part_ws = 0;
	for (int k = 0; k < parts && !rc; k++) {
		int64_t b0 = blocks * k / parts, b1 = blocks * (k + 1) / parts;
		int64_t m0 = unit * b0, m1 = unit * b1 < p->m ? unit * b1 : p->m;
		size_t pws = 0;
		p->part_m0[k] = m0;
		p->part_c0[k] = p->group > 1 ? m0 / p->mg * p->cg : 0;
		rc = conv_dnnl_prepare(ctx, g, n, p, 1, m0, m1 - m0, &pws, &p->part[k]);
		if (!rc)
			p->n_parts = k + 1;
		part_ws = pws > part_ws ? pws : part_ws;
	}
	p->dn = p->part[0];
	if (rc) {
		conv_parts_free(p);
		return rc;
	}
	p->part_ws = (part_ws + 63) & ~(size_t)63;
	p->n_ws = T;
	p->off_parts = ws_take(ws, p->part_ws * (size_t)T);
	return ODET_OK;
}

/* bf16 runs on oneDNN's avx512_core_bf16 kernels only: never an emulation or a silent fp32 */
static odet_status conv_bf16_check(odet_ctx *ctx, const ir_node *n)
{
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) != (unsigned)dnnl_cpu_isa_avx512_core_bf16)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': precision bf16 needs the AVX512_BF16 instructions (and AVX-512 VNNI), "
				  "which this CPU lacks (oneDNN ISA %s); use fp32", n->name, dnnl_cpu_isa2str(isa));
	return ODET_OK;
}

int cpu_conv_split(const void *state)
{
	const conv_plan *p = state;
	return p && p->split ? p->n_parts : 0;
}

const char *cpu_conv_impl_name(const void *state)
{
	const conv_plan *p = state;
	if (!p || !p->dn)
		return p && p->algo == CONV_DIRECT ? "direct" : "im2col+sgemm";
	const_dnnl_primitive_desc_t pd;
	const char *name = "oneDNN";
	if (dnnl_primitive_get_primitive_desc(p->dn->conv, &pd) == dnnl_success)
		dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
	return name;
}
#else
static odet_status conv_bf16_check(odet_ctx *ctx, const ir_node *n)
{
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "node '%s': precision bf16 needs oneDNN (AVX512_BF16 kernels); this build has none", n->name);
}

int cpu_conv_split(const void *state)
{
	(void)state;
	return 0;
}

const char *cpu_conv_impl_name(const void *state)
{
	const conv_plan *p = state;
	return p && p->algo == CONV_DIRECT ? "direct" : "im2col+sgemm";
}
#endif

/* ---------------------------------------------------------------- prepare / release */

static void conv_release(void *state)
{
	conv_plan *p = state;
	if (!p)
		return;
#ifdef ODET_HAVE_DNNL
	conv_parts_free(p);
#endif
	free(p);
}

static odet_status conv_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				size_t *workspace)
{
	odet_status rc = conv_check(ctx, g, n);
	if (rc)
		return rc;
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
	conv_plan *p = calloc(1, sizeof *p);
	if (!p)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': Conv: out of memory", n->name);
	cpu_window win;
	cpu_window_init(ctx, n, x->rank - 2, x->dims + 2, w->dims + 2, &win);
	cpu_window_check_out(ctx, n, &win, ir_out(g, n, 0)->dims + 2);
	p->nd = win.nd;
	p->n = x->dims[0];
	p->c = x->dims[1];
	p->m = w->dims[0];
	p->group = ir_attr_int(n, "group", 1);
	p->cg = p->c / p->group;
	p->mg = p->m / p->group;
	int k0 = 3 - p->nd;
	for (int i = 0; i < 3; i++) {
		bool real = i >= k0;
		p->in[i] = real ? win.in[i - k0] : 1;
		p->out[i] = real ? win.out[i - k0] : 1;
		p->k[i] = real ? win.k[i - k0] : 1;
		p->s[i] = real ? win.s[i - k0] : 1;
		p->d[i] = real ? win.d[i - k0] : 1;
		p->pb[i] = real ? win.pb[i - k0] : 0;
		p->pe[i] = real ? win.pe[i - k0] : 0;
	}
	p->in_sp = p->in[0] * p->in[1] * p->in[2];
	p->out_sp = p->out[0] * p->out[1] * p->out[2];
	p->kk = p->k[0] * p->k[1] * p->k[2];
	cpu_act_from_node(n, &p->act);
	p->has_bias = ir_in(g, n, 2) != NULL;
	p->has_res = ir_in(g, n, 3) != NULL;
	p->pointwise = p->kk == 1;
	for (int i = 0; i < 3; i++)
		p->pointwise = p->pointwise && p->s[i] == 1 && p->pb[i] == 0 && p->pe[i] == 0;
	/* im2col buffer for one image and group: checked, it can be large */
	int64_t col;
	if (!odet_mul_i64(p->cg * p->kk, p->out_sp, &col) || col > ODET_LIMIT_MAX_TENSOR_BYTES / 4) {
		conv_release(p);
		return odet_error(ctx, ODET_ERR_LIMIT, "node '%s': Conv patch matrix too large", n->name);
	}
	p->algo = (int)ir_attr_int(n, "odet_conv_algo", CONV_AUTO);
	/* Auto: oneDNN on nChw16c (src stays NCHW when C < 16), reorders included, measured
	 * 1.5-4x faster than oneDNN on plain NCHW and than im2col+sgemm on ResNet-50 shapes and
	 * a little faster than oneDNN's own layout choice (nhwc); bench_conv.c. If oneDNN
	 * refuses a shape, its own layout choice is tried, then im2col+GEMM / direct. */
	bool autoselect = p->algo == CONV_AUTO;
	p->bf16 = ir_attr_int(n, "odet_bf16", 0) != 0;
	if (p->bf16 && (rc = conv_bf16_check(ctx, n))) {
		conv_release(p);
		return rc;
	}
	/* tensors kept in nChw16c between convs: cpu_value_nchw16c (cpu_util.c) */
	if (autoselect) {
		p->x_blocked = cpu_value_nchw16c(g, n->in[0]);
		p->y_blocked = cpu_value_nchw16c(g, n->out[0]);
		p->r_blocked = p->has_res && cpu_value_nchw16c(g, n->in[3]);
	}
	/* 3x3 stride 1: oneDNN's Winograd F(4x4, 3x3) (about 2x on SSD/RetinaNet shapes, bench_conv;
	 * its rounding stays within the 1e-4 ORT tolerance, tests/e2e) */
	bool wino_shape = p->nd == 2 && p->group == 1 && p->k[1] == 3 && p->k[2] == 3 && p->s[1] == 1 &&
			  p->s[2] == 1 && p->d[1] == 1 && p->d[2] == 1 && p->c >= 16;
	/* bf16 too: there Winograd's fp32 is as fast as oneDNN's bf16 kernels on these shapes
	 * (bench_conv) and exact to 1e-6; only a shape Winograd refuses runs in bf16 */
	const bool want_bf16 = p->bf16;
	if (autoselect && wino_shape) {
		p->algo = CONV_DNNL_WINO;
		p->bf16 = false;
	} else if (autoselect) {
		p->algo = CONV_DNNL_BLOCK16;
	}
#ifndef ODET_HAVE_DNNL
	if (p->algo == CONV_DNNL_PLAIN || p->algo == CONV_DNNL_BLOCKED || p->algo == CONV_DNNL_BLOCK16 ||
	    p->algo == CONV_DNNL_WINO)
		p->algo = p->cg == 1 ? CONV_DIRECT : CONV_GEMM;
#endif
	if (p->algo < CONV_GEMM || p->algo > CONV_DNNL_WINO)
		p->algo = CONV_GEMM;
	if (p->algo == CONV_DIRECT && p->cg != 1)
		p->algo = CONV_GEMM;
	size_t ws = 0;
#ifdef ODET_HAVE_DNNL
	if (p->algo == CONV_DNNL_PLAIN || p->algo == CONV_DNNL_BLOCKED || p->algo == CONV_DNNL_BLOCK16 ||
	    p->algo == CONV_DNNL_WINO) {
		const bool blocked_io = p->x_blocked || p->y_blocked || p->r_blocked;
		/* a refusal here is not the caller's error: keep the context's message as it was */
		odet_status saved_status = ctx->last_status;
		char saved[sizeof ctx->last_error];
		memcpy(saved, ctx->last_error, sizeof saved);
		rc = conv_dnnl_prepare_all(ctx, g, n, p, &ws);
		if (rc && autoselect && p->algo == CONV_DNNL_WINO) {
			ws = 0;
			p->algo = CONV_DNNL_BLOCK16;
			p->bf16 = want_bf16;
			rc = conv_dnnl_prepare_all(ctx, g, n, p, &ws);
		}
		if (rc && autoselect) {
			ws = 0;
			p->algo = CONV_DNNL_BLOCKED;
			rc = conv_dnnl_prepare_all(ctx, g, n, p, &ws);
		}
		if (rc && blocked_io) {
			conv_release(p);
			return rc;
		}
		if (rc) {
			/* a shape oneDNN refuses still runs on the GEMM / direct path */
			odet_log(ctx, ODET_LOG_DEBUG, "%s; using im2col+GEMM or direct", odet_ctx_last_error(ctx));
			p->algo = p->cg == 1 ? CONV_DIRECT : CONV_GEMM;
			ws = 0;
		}
		ctx->last_status = saved_status;
		memcpy(ctx->last_error, saved, sizeof saved);
	}
#endif
	if (p->algo == CONV_GEMM) {
		if (!p->pointwise)
			p->off_col = ws_take(&ws, (size_t)col * sizeof(float));
		p->off_sgemm = ws_take(&ws, cpu_sgemm_workspace(ctx->opts.n_threads));
	}
	*state = p;
	*workspace = ws;
	return ODET_OK;
}

/* ---------------------------------------------------------------- GEMM and direct paths */

typedef struct conv_job {
	const conv_plan *p;
	const float *x, *w, *b, *res;
	float *y, *col;
} conv_job;

/* rows [begin, end) of the patch matrix of image/group slice j->x */
static void im2col_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const conv_job *j = arg;
	const conv_plan *p = j->p;
	int64_t k12 = p->k[1] * p->k[2];
	for (int64_t r = begin; r < end; r++) {
		int64_t c = r / p->kk, ki = r % p->kk;
		int64_t kz = ki / k12, ky = (ki / p->k[2]) % p->k[1], kx = ki % p->k[2];
		const float *xc = j->x + c * p->in_sp;
		float *dst = j->col + r * p->out_sp;
		for (int64_t oz = 0; oz < p->out[0]; oz++) {
			int64_t iz = oz * p->s[0] - p->pb[0] + kz * p->d[0];
			for (int64_t oy = 0; oy < p->out[1]; oy++, dst += p->out[2]) {
				int64_t iy = oy * p->s[1] - p->pb[1] + ky * p->d[1];
				if (iz < 0 || iz >= p->in[0] || iy < 0 || iy >= p->in[1]) {
					memset(dst, 0, sizeof(float) * (size_t)p->out[2]);
					continue;
				}
				const float *src = xc + (iz * p->in[1] + iy) * p->in[2];
				int64_t ix0 = kx * p->d[2] - p->pb[2];
				for (int64_t ox = 0; ox < p->out[2]; ox++) {
					int64_t ix = ix0 + ox * p->s[2];
					dst[ox] = (ix >= 0 && ix < p->in[2]) ? src[ix] : 0.0f;
				}
			}
		}
	}
}

/* bias + residual + activation over output channels [begin, end) of all images */
static void epilogue_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const conv_job *j = arg;
	const conv_plan *p = j->p;
	for (int64_t t = begin; t < end; t++) {
		int64_t m = t % p->m;
		cpu_act_apply(&p->act, j->y + t * p->out_sp, p->out_sp, j->b ? j->b[m] : 0.0f,
			      j->res ? j->res + t * p->out_sp : NULL);
	}
}

/* direct convolution of output planes [begin, end) (t = image * M + channel), C/group == 1 */
static void direct_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const conv_job *j = arg;
	const conv_plan *p = j->p;
	for (int64_t t = begin; t < end; t++) {
		int64_t img = t / p->m, m = t % p->m, ic = m / p->mg;
		const float *xc = j->x + (img * p->c + ic) * p->in_sp;
		const float *wm = j->w + m * p->kk;
		float *y = j->y + t * p->out_sp;
		for (int64_t oz = 0; oz < p->out[0]; oz++)
			for (int64_t oy = 0; oy < p->out[1]; oy++)
				for (int64_t ox = 0; ox < p->out[2]; ox++) {
					float acc = 0;
					const float *wk = wm;
					for (int64_t kz = 0; kz < p->k[0]; kz++) {
						int64_t iz = oz * p->s[0] - p->pb[0] + kz * p->d[0];
						if (iz < 0 || iz >= p->in[0]) {
							wk += p->k[1] * p->k[2];
							continue;
						}
						for (int64_t ky = 0; ky < p->k[1]; ky++, wk += p->k[2]) {
							int64_t iy = oy * p->s[1] - p->pb[1] + ky * p->d[1];
							if (iy < 0 || iy >= p->in[1])
								continue;
							const float *row = xc + (iz * p->in[1] + iy) * p->in[2];
							int64_t ix = ox * p->s[2] - p->pb[2];
							for (int64_t kx = 0; kx < p->k[2]; kx++, ix += p->d[2])
								if (ix >= 0 && ix < p->in[2])
									acc += wk[kx] * row[ix];
						}
					}
					y[(oz * p->out[1] + oy) * p->out[2] + ox] = acc;
				}
		cpu_act_apply(&p->act, y, p->out_sp, j->b ? j->b[m] : 0.0f,
			      j->res ? j->res + t * p->out_sp : NULL);
	}
}

static odet_status conv_run(const be_run_args *a)
{
	const conv_plan *p = a->state;
	const odet_tensor *x = &a->in[0];
	if (!p || x->rank != p->nd + 2 || x->dims[0] != p->n || x->dims[1] != p->c)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': Conv run with a shape it was not prepared for",
				  a->node->name);
#ifdef ODET_HAVE_DNNL
	if (p->dn)
		return conv_dnnl_run(a, p);
#endif
	conv_job j = {
		.p = p, .x = x->data, .w = a->in[1].data,
		.b = p->has_bias ? a->in[2].data : NULL, .res = p->has_res ? a->in[3].data : NULL,
		.y = a->out[0].data,
	};
	if (p->algo == CONV_DIRECT) {
		odet_parallel_for(a->pool, p->n * p->m, 1, direct_range, &j);
		return ODET_OK;
	}
	char *ws = a->workspace;
	j.col = (float *)(ws + p->off_col);
	for (int64_t img = 0; img < p->n; img++) {
		for (int64_t g = 0; g < p->group; g++) {
			const float *xg = (const float *)x->data + (img * p->c + g * p->cg) * p->in_sp;
			const float *bm = xg;
			if (!p->pointwise) {
				j.x = xg;
				odet_parallel_for(a->pool, p->cg * p->kk, 4, im2col_range, &j);
				bm = j.col;
			}
			cpu_sgemm_args ga = {
				.m = p->mg, .n = p->out_sp, .k = p->cg * p->kk, .alpha = 1, .beta = 0,
				.a = j.w + g * p->mg * p->cg * p->kk, .lda = p->cg * p->kk,
				.b = bm, .ldb = p->out_sp,
				.c = j.y + (img * p->m + g * p->mg) * p->out_sp, .ldc = p->out_sp,
			};
			cpu_sgemm(a->pool, &ga, ws + p->off_sgemm);
		}
	}
	odet_parallel_for(a->pool, p->n * p->m, 1, epilogue_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CONV = {
	.check = conv_check,
	.prepare = conv_prepare,
	.release = conv_release,
	.run = conv_run,
};
