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
 *   oneDNN (when built with it; dnnl_conv.c): convolution primitives created at prepare with
 *     the bias, residual and activation fused; oneDNN's reference implementations are refused
 *     (far slower than the GEMM path). Constant weights are reordered once into the
 *     primitive's layout; input, output and residual are reordered per run (unless kept in
 *     nChw16c). Split over odet's pool (images, or parts of the output channels), each part a
 *     single-threaded primitive: no OpenMP team.
 *   im2col + GEMM (sgemm.c): per image and group, the input patch matrix
 *     [C/g * prod(k)][prod(out)] (skipped for 1x1/stride 1/no pad) times W_g; then one
 *     epilogue pass (bias, residual, activation) per output channel.
 *   direct: channel-wise convolutions (C/group == 1, e.g. depthwise), one plane per task.
 */
#include "backend/cpu/conv.h"

#include "backend/cpu/conv_plan.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/sgemm.h"
#include "backend/cpu/window.h"

#include <stdlib.h>
#include <string.h>

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
	return cpu_conv_dnnl_impl(p);
}

/* ---------------------------------------------------------------- prepare / release */

static void conv_release(void *state)
{
	conv_plan *p = state;
	if (!p)
		return;
	cpu_conv_dnnl_free(p);
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
	if (p->bf16 && (rc = cpu_conv_bf16_check(ctx, n))) {
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
	if (!CPU_CONV_HAVE_DNNL && (p->algo == CONV_DNNL_PLAIN || p->algo == CONV_DNNL_BLOCKED ||
				    p->algo == CONV_DNNL_BLOCK16 || p->algo == CONV_DNNL_WINO))
		p->algo = p->cg == 1 ? CONV_DIRECT : CONV_GEMM;
	if (p->algo < CONV_GEMM || p->algo > CONV_DNNL_WINO)
		p->algo = CONV_GEMM;
	if (p->algo == CONV_DIRECT && p->cg != 1)
		p->algo = CONV_GEMM;
	size_t ws = 0;
	if (p->algo == CONV_DNNL_PLAIN || p->algo == CONV_DNNL_BLOCKED || p->algo == CONV_DNNL_BLOCK16 ||
	    p->algo == CONV_DNNL_WINO) {
		const bool blocked_io = p->x_blocked || p->y_blocked || p->r_blocked;
		/* a refusal here is not the caller's error: keep the context's message as it was */
		odet_status saved_status = ctx->last_status;
		char saved[sizeof ctx->last_error];
		memcpy(saved, ctx->last_error, sizeof saved);
		rc = cpu_conv_dnnl_prepare(ctx, g, n, p, &ws);
		if (rc && autoselect && p->algo == CONV_DNNL_WINO) {
			ws = 0;
			p->algo = CONV_DNNL_BLOCK16;
			p->bf16 = want_bf16;
			rc = cpu_conv_dnnl_prepare(ctx, g, n, p, &ws);
		}
		if (rc && autoselect) {
			ws = 0;
			p->algo = CONV_DNNL_BLOCKED;
			rc = cpu_conv_dnnl_prepare(ctx, g, n, p, &ws);
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
	if (p->dn)
		return cpu_conv_dnnl_run(a, p);
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
