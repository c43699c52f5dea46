/* dnnl_prim.c — one oneDNN convolution primitive and its reorders (see dnnl_prim.h). */
#include "backend/cpu/dnnl_prim.h"

#include "core/core.h"

#include <string.h>

size_t cpu_dnnl_ws_take(size_t *total, size_t bytes)
{
	size_t off = (*total + 63) & ~(size_t)63;
	*total = off + bytes;
	return off;
}

static dnnl_status_t reorder_make(dnnl_engine_t eng, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
				  dnnl_primitive_t *out)
{
	dnnl_primitive_desc_t pd;
	dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL);
	if (s != dnnl_success)
		return s;
	s = dnnl_primitive_create(out, pd);
	dnnl_primitive_desc_destroy(pd);
	return s;
}

/* Run one reorder from src (layout from) to dst (layout to). */
static dnnl_status_t reorder_run(dnnl_engine_t eng, dnnl_stream_t st, dnnl_primitive_t r,
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

dnnl_status_t cpu_dnnl_prim_pd(const cpu_dnnl_prim *dn, const dnnl_convolution_desc_t *cd,
			       const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd)
{
	*pd = NULL;
	dnnl_status_t s = dnnl_primitive_desc_create(pd, cd, attr, dn->eng, NULL);
	const char *impl = NULL;
	if (s == dnnl_success && dnnl_primitive_desc_query(*pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
	    impl && strncmp(impl, "ref", 3) == 0) {
		dnnl_primitive_desc_destroy(*pd);
		*pd = NULL;
		s = dnnl_unimplemented;
	}
	return s;
}

/* W (user layout) once into wei_packed */
static dnnl_status_t pack_weights(odet_ctx *ctx, cpu_dnnl_prim *dn, const void *w)
{
	dn->wei_packed = odet_aligned_alloc(ctx, dnnl_memory_desc_get_size(&dn->wei_md));
	if (!dn->wei_packed)
		return dnnl_out_of_memory;
	dnnl_stream_t stream;
	dnnl_status_t s = dnnl_stream_create(&stream, dn->eng, dnnl_stream_default_flags);
	if (s)
		return s;
	s = reorder_run(dn->eng, stream, dn->wei_reorder, &dn->wei_user, w, &dn->wei_md, dn->wei_packed);
	if (!s)
		s = dnnl_stream_wait(stream);
	dnnl_stream_destroy(stream);
	return s;
}

dnnl_status_t cpu_dnnl_prim_init(odet_ctx *ctx, cpu_dnnl_prim *dn, const_dnnl_primitive_desc_t pd, bool has_res,
				 const void *w_const, size_t *ws, const char **what)
{
	dnnl_status_t s;
	dn->src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
	dn->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
	dn->wei_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	dn->scratch_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	*what = "convolution primitive";
	if ((s = dnnl_primitive_create(&dn->conv, pd)))
		return s;
	*what = "reorder";
	if (!dnnl_memory_desc_equal(&dn->src_md, &dn->src_user)) {
		if ((s = reorder_make(dn->eng, &dn->src_user, &dn->src_md, &dn->src_reorder)))
			return s;
		dn->off_src = cpu_dnnl_ws_take(ws, dnnl_memory_desc_get_size(&dn->src_md));
	}
	if (!dnnl_memory_desc_equal(&dn->dst_md, &dn->dst_user)) {
		if ((s = reorder_make(dn->eng, &dn->dst_md, &dn->dst_user, &dn->dst_reorder)))
			return s;
		dn->off_dst = cpu_dnnl_ws_take(ws, dnnl_memory_desc_get_size(&dn->dst_md));
	}
	if (has_res && !dn->res_binary && !dnnl_memory_desc_equal(&dn->res_user, &dn->dst_md) &&
	    (s = reorder_make(dn->eng, &dn->res_user, &dn->dst_md, &dn->res_reorder)))
		return s;
	const bool wei_same = dnnl_memory_desc_equal(&dn->wei_md, &dn->wei_user);
	if (!wei_same && (s = reorder_make(dn->eng, &dn->wei_user, &dn->wei_md, &dn->wei_reorder)))
		return s;
	dn->off_scratch = cpu_dnnl_ws_take(ws, dnnl_memory_desc_get_size(&dn->scratch_md));
	*what = "weight reorder";
	if (w_const && !wei_same)
		return pack_weights(ctx, dn, w_const);
	if (!wei_same)
		dn->off_wei = cpu_dnnl_ws_take(ws, dnnl_memory_desc_get_size(&dn->wei_md));
	return dnnl_success;
}

dnnl_status_t cpu_dnnl_prim_exec(const cpu_dnnl_prim *dn, const void *x, const void *w, const void *b,
				 const void *res, void *y, char *ws, const char **what_out)
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
		if ((s = reorder_run(dn->eng, st, dn->src_reorder, &dn->src_user, x, &dn->src_md, (void *)src)))
			goto out;
	}
	what = "weight reorder";
	if (dn->wei_packed) {
		wei = dn->wei_packed;
	} else if (dn->wei_reorder) {
		wei = ws + dn->off_wei;
		if ((s = reorder_run(dn->eng, st, dn->wei_reorder, &dn->wei_user, w, &dn->wei_md, (void *)wei)))
			goto out;
	}
	if (dn->dst_reorder)
		dst = ws + dn->off_dst;
	if (res && !dn->res_binary) {
		what = "residual reorder";
		if (dn->res_reorder) {
			if ((s = reorder_run(dn->eng, st, dn->res_reorder, &dn->res_user, res, &dn->dst_md, dst)))
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
		if ((s = reorder_run(dn->eng, st, dn->dst_reorder, &dn->dst_md, dst, &dn->dst_user, y)))
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

void cpu_dnnl_build_free(dnnl_primitive_desc_t pd, dnnl_post_ops_t po, dnnl_primitive_attr_t attr)
{
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (po)
		dnnl_post_ops_destroy(po);
	if (attr)
		dnnl_primitive_attr_destroy(attr);
}

void cpu_dnnl_prim_fini(cpu_dnnl_prim *dn)
{
	dnnl_primitive_t p[5] = {dn->conv, dn->src_reorder, dn->dst_reorder, dn->res_reorder, dn->wei_reorder};
	for (int i = 0; i < 5; i++)
		if (p[i])
			dnnl_primitive_destroy(p[i]);
	odet_aligned_free(dn->wei_packed);
	if (dn->eng)
		dnnl_engine_destroy(dn->eng);
	memset(dn, 0, sizeof *dn);
}
