/*
 * dnnl_prim.h — one oneDNN convolution primitive with what runs around it, shared by the CPU
 * Conv (dnnl_conv.c) and QConv (qconv.c): the primitive made from a descriptor (oneDNN's
 * reference implementations refused), reorders of X, Y and the residual between the caller's
 * layout and the primitive's, W reordered once (constant) or per run, workspace offsets, and
 * one run on given pointers. Built only with oneDNN (CMakeLists.txt: src/backend/cpu/dnnl_*.c).
 */
#ifndef ODET_CPU_DNNL_PRIM_H
#define ODET_CPU_DNNL_PRIM_H

#include "core/core.h"

#include <dnnl.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cpu_dnnl_prim {
	dnnl_engine_t eng;
	dnnl_primitive_t conv;
	dnnl_primitive_t src_reorder, dst_reorder, res_reorder, wei_reorder; /* NULL = not needed */
	/* the caller's layouts (user) and the primitive's */
	dnnl_memory_desc_t src_user, dst_user, res_user, wei_user, bias_md;
	dnnl_memory_desc_t src_md, dst_md, wei_md, scratch_md;
	void *wei_packed;  /* constant W in wei_md (NULL when W is fed at run time or needs no reorder) */
	bool res_binary;   /* residual read by a binary post-op (else: sum into a dst prefilled with it) */
	size_t off_src, off_dst, off_wei, off_scratch; /* workspace offsets */
} cpu_dnnl_prim;

/* 64-byte aligned offset of a new region of bytes in a workspace of *total bytes (grown) */
size_t cpu_dnnl_ws_take(size_t *total, size_t bytes);

/* The primitive descriptor of cd with attr on dn->eng; dnnl_unimplemented (and no pd) when
 * oneDNN has only its reference implementation (far slower than odet's own paths). */
dnnl_status_t cpu_dnnl_prim_pd(const cpu_dnnl_prim *dn, const dnnl_convolution_desc_t *cd,
			       const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd);

/* From pd (its user descriptors set beforehand): the primitive, the reorders X, Y and (has_res,
 * summed into dst) the residual need, workspace offsets taken from *ws; W: the constant w_const
 * (its user layout) reordered once into wei_packed, or (w_const NULL) a per-run reorder.
 * *what names the failing step; dnnl_out_of_memory when wei_packed cannot be allocated (ctx's
 * allocator; its message set). */
dnnl_status_t cpu_dnnl_prim_init(odet_ctx *ctx, cpu_dnnl_prim *dn, const_dnnl_primitive_desc_t pd, bool has_res,
				 const void *w_const, size_t *ws, const char **what);

/* One run on the caller's pointers (x, w when not packed, bias b or NULL, residual res or NULL,
 * y; ws the workspace of cpu_dnnl_prim_init's offsets), on the thread's OpenMP setting; *what
 * names the failing step. */
dnnl_status_t cpu_dnnl_prim_exec(const cpu_dnnl_prim *dn, const void *x, const void *w, const void *b,
				 const void *res, void *y, char *ws, const char **what);

/* Destroy what building a primitive used (each may be NULL). */
void cpu_dnnl_build_free(dnnl_primitive_desc_t pd, dnnl_post_ops_t po, dnnl_primitive_attr_t attr);

/* Free what dn holds (not dn itself). */
void cpu_dnnl_prim_fini(cpu_dnnl_prim *dn);

#endif
