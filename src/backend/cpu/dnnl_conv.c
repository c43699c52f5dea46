/*
 * dnnl_conv.c — the CPU Conv's oneDNN path (conv.c chooses it; see conv.c for the algorithms):
 * one convolution primitive per part (dnnl_prim.c: descriptors here, reorders and runs there)
 * with post-ops for the residual (binary add reading the NCHW tensor where a fast
 * implementation takes it, else sum into a dst prefilled with the residual) and the activation
 * (eltwise); W constant: reordered once. Threads: every primitive is single-threaded (OpenMP at
 * 1 thread, set before it is created, since its jit kernels fix the count there, and on every
 * thread that runs it); with more than one thread and at least CONV_SERIAL_FLOPS, the conv is
 * split into tasks on odet's pool: one per image when N >= threads, else one per part of the
 * output channels at N = 1 (multiples of 16; with groups, whole groups filling 16-channel
 * blocks, e.g. 16 channels of a depthwise conv); each pool thread has its own workspace copy.
 * No OpenMP team ever: its workers spin after each region (libgomp), and on a busy 2-core
 * machine that made the convs 2-6x slower (measured; CenterNet, all depthwise: 1.5x its CPU
 * time with a team of 2). Built only with oneDNN (CMakeLists.txt); conv_plan.h has the stubs.
 */
#include "backend/cpu/conv.h"
#include "backend/cpu/conv_plan.h"
#include "backend/cpu/dnnl_prim.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static odet_status dnnl_fail(odet_ctx *ctx, const ir_node *n, const char *what, dnnl_status_t s)
{
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv: oneDNN %s failed: %s", n->name, what,
			  dnnl_status2str(s));
}

/* One single-threaded primitive for images [nimg] and output channels [m0, m0 + mp): with
 * group 1 all input channels, else the groups of those channels (m0, mp multiples of M/group)
 * and their input channels; workspace offsets taken from *ws. */
static odet_status conv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p,
				     int64_t nimg, int64_t m0, int64_t mp, size_t *ws, cpu_dnnl_prim **out)
{
	cpu_dnnl_prim *dn = calloc(1, sizeof *dn);
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
		s = cpu_dnnl_prim_pd(dn, &cd, attr, &pd);
		if (s == dnnl_success)
			break;
	}
	if (s)
		goto out_dnnl;
	const ir_value *w = ir_in(g, n, 1);
	const float *w_const = w->kind == IR_VALUE_CONST && w->data ? (const float *)w->data + m0 * p->cg * p->kk : NULL;
	s = cpu_dnnl_prim_init(ctx, dn, pd, p->has_res, w_const, ws, &what);
	if (s == dnnl_out_of_memory) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	if (s)
		goto out_dnnl;
	*out = dn;
	dn = NULL;
	goto out_free;
out_dnnl:
	rc = dnnl_fail(ctx, n, what, s);
out_free:
	cpu_dnnl_build_free(pd, po, attr);
	if (dn)
		cpu_dnnl_prim_fini(dn);
	free(dn);
	return rc;
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
		dnnl_status_t s = cpu_dnnl_prim_exec(p->part[k], x, w, b, res, y, j->ws + (size_t)thread * p->part_ws, &what);
		int expect = 0;
		if (s != dnnl_success && atomic_compare_exchange_strong(&j->failed, &expect, 1)) {
			j->s = s;
			j->what = what;
		}
	}
}

odet_status cpu_conv_dnnl_run(const be_run_args *a, const conv_plan *p)
{
	const float *x = a->in[0].data, *w = a->in[1].data;
	const float *b = p->has_bias ? a->in[2].data : NULL, *res = p->has_res ? a->in[3].data : NULL;
	float *y = a->out[0].data;
	int nthr = odet_threadpool_size(a->pool);
	dnnl_status_t s;
	const char *what = "convolution";
	omp_set_num_threads(1);
	if (!p->split) {
		s = cpu_dnnl_prim_exec(p->dn, x, w, b, res, y, a->workspace, &what);
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

void cpu_conv_dnnl_free(conv_plan *p)
{
	for (int k = 0; k < p->n_parts; k++) {
		cpu_dnnl_prim_fini(p->part[k]);
		free(p->part[k]);
	}
	memset(p->part, 0, sizeof p->part);
	p->n_parts = 0;
	p->dn = NULL;
}

/* All primitives of the plan: split over images and output-channel parts when threads > 1
 * and the conv is not small, else one single-threaded primitive. */
odet_status cpu_conv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p, size_t *ws)
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
		cpu_conv_dnnl_free(p);
		return rc;
	}
	p->part_ws = (part_ws + 63) & ~(size_t)63;
	p->n_ws = T;
	p->off_parts = cpu_dnnl_ws_take(ws, p->part_ws * (size_t)T);
	return ODET_OK;
}

/* bf16 runs on oneDNN's avx512_core_bf16 kernels only: never an emulation or a silent fp32 */
odet_status cpu_conv_bf16_check(odet_ctx *ctx, const ir_node *n)
{
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) != (unsigned)dnnl_cpu_isa_avx512_core_bf16)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': precision bf16 needs the AVX512_BF16 instructions (and AVX-512 VNNI), "
				  "which this CPU lacks (oneDNN ISA %s); use fp32", n->name, dnnl_cpu_isa2str(isa));
	return ODET_OK;
}

const char *cpu_conv_dnnl_impl(const conv_plan *p)
{
	const_dnnl_primitive_desc_t pd;
	const char *name = "oneDNN";
	if (p->dn && dnnl_primitive_get_primitive_desc(p->dn->conv, &pd) == dnnl_success)
		dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
	return name;
}
