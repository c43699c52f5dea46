/*
 * conv_plan.h — the CPU Conv's prepared plan, shared by conv.c (checks, the choice of
 * algorithm, the im2col+GEMM and direct paths) and dnnl_conv.c (the oneDNN path: primitives,
 * parts split over the pool). Without oneDNN (dnnl_*.c not built) the stubs below refuse the
 * oneDNN algorithms, so conv.c falls back to its own paths.
 */
#ifndef ODET_CPU_CONV_PLAN_H
#define ODET_CPU_CONV_PLAN_H

#include "backend/cpu/act.h"
#include "backend/cpu/cpu.h"

/* oneDNN convs below this many FLOPs run as one task: a split's fork/join (and a worker the
 * OS has not scheduled yet, on a busy machine) costs more than it saves */
#define CONV_SERIAL_FLOPS 3.0e7
#define CONV_MAX_PARTS 8

enum {
	CONV_AUTO = 0, CONV_GEMM = 1, CONV_DNNL_PLAIN = 2, CONV_DNNL_BLOCKED = 3, CONV_DIRECT = 4,
	CONV_DNNL_BLOCK16 = 5, CONV_DNNL_WINO = 6,
};

struct cpu_dnnl_prim;

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
	/* oneDNN path (dnnl_conv.c) */
	struct cpu_dnnl_prim *dn;     /* = part[0]; NULL: the GEMM / direct path runs */
	/* split (threads > 1, not small): parts over output channels (and their groups' input
	 * channels), each a N=1 (or N=n when not split) single-threaded primitive, run as tasks
	 * (image, part) on odet's pool; each thread has its own workspace copy of part_ws bytes */
	struct cpu_dnnl_prim *part[CONV_MAX_PARTS];
	int64_t part_m0[CONV_MAX_PARTS], part_c0[CONV_MAX_PARTS]; /* first output / input channel */
	int n_parts, n_ws;
	bool split;
	size_t part_ws, off_parts;
} conv_plan;

#ifdef ODET_HAVE_DNNL
enum { CPU_CONV_HAVE_DNNL = 1 };
/* All primitives of p (its algo, bf16 and layouts set): split over images and output-channel
 * parts when threads > 1 and the conv is not small, else one; workspace from *ws. */
odet_status cpu_conv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p, size_t *ws);
odet_status cpu_conv_dnnl_run(const be_run_args *a, const conv_plan *p);
void cpu_conv_dnnl_free(conv_plan *p);
/* bf16 needs oneDNN's avx512_core_bf16 kernels: refused naming the instruction set */
odet_status cpu_conv_bf16_check(odet_ctx *ctx, const ir_node *n);
/* oneDNN's implementation string of part 0 */
const char *cpu_conv_dnnl_impl(const conv_plan *p);
#else
enum { CPU_CONV_HAVE_DNNL = 0 };
static inline odet_status cpu_conv_dnnl_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, conv_plan *p,
						size_t *ws)
{
	(void)g, (void)p, (void)ws;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Conv: built without oneDNN", n->name);
}
static inline odet_status cpu_conv_dnnl_run(const be_run_args *a, const conv_plan *p)
{
	(void)p;
	return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': Conv: built without oneDNN", a->node->name);
}
static inline void cpu_conv_dnnl_free(conv_plan *p)
{
	(void)p;
}
static inline odet_status cpu_conv_bf16_check(odet_ctx *ctx, const ir_node *n)
{
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "node '%s': precision bf16 needs oneDNN (AVX512_BF16 kernels); this build has none", n->name);
}
static inline const char *cpu_conv_dnnl_impl(const conv_plan *p)
{
	(void)p;
	return "oneDNN";
}
#endif

#endif
