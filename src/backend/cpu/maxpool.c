/*
 * maxpool.c — MaxPool (ONNX opset 11-20): X [N][C][spatial...] f32, 1 to 3 spatial dims.
 * Attributes kernel_shape, strides, pads, auto_pad, dilations, ceil_mode (window.h);
 * storage_order only matters for the Indices output, which is refused.
 * y = max over the window taps inside the input (padding never wins); one (image, channel)
 * plane per task. When X (and then Y) stays in oneDNN's nChw16c layout between convs
 * (cpu_value_nchw16c, 2-d only), the same maximum over 16 channels at a time, one
 * (image, 16-channel block, output row) per task.
 */
#include "backend/cpu/cpu.h"
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/window.h"

#include <math.h>
#include <stdlib.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

static odet_status maxpool_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	if (n->n_out > 1 && n->out[1] >= 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': MaxPool Indices output not supported",
				  n->name);
	cpu_window w;
	return cpu_pool_geometry(ctx, g, n, &w);
}

typedef struct pool_state {
	cpu_window3 g;
	bool blocked; /* X and Y in nChw16c */
} pool_state;

static odet_status maxpool_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				   size_t *workspace)
{
	cpu_window w;
	odet_status rc = cpu_pool_geometry(ctx, g, n, &w);
	if (rc)
		return rc;
	pool_state *st = malloc(sizeof *st);
	if (!st)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': MaxPool: out of memory", n->name);
	cpu_window_to3(&w, &st->g);
	st->blocked = cpu_value_nchw16c(g, n->in[0]);
	*state = st;
	return ODET_OK;
}

typedef struct pool_job {
	const cpu_window3 *g;
	const float *x;
	float *y;
	void (*rowmax_s2)(float *restrict y, const float *restrict r, int64_t n);
} pool_job;

/* Output columns [lo, hi) whose windows lie wholly inside the input along W. */
static void interior_cols(const cpu_window3 *g, int64_t *lo, int64_t *hi)
{
	int64_t s = g->s[2], ext = (g->k[2] - 1) * g->d[2];
	*lo = (g->pb[2] + s - 1) / s;
	int64_t last = g->in[2] - 1 + g->pb[2] - ext; /* ox * s <= last */
	*hi = last < 0 ? 0 : last / s + 1;
	if (*hi > g->out[2])
		*hi = g->out[2];
	if (*lo > *hi)
		*lo = *hi;
}

static float max_window(const cpu_window3 *g, const float *x, int64_t oz, int64_t z0, int64_t z1, int64_t oy,
			int64_t y0, int64_t y1, int64_t ox)
{
	int64_t x0, x1, np;
	cpu_window3_taps(g, 2, ox, &x0, &x1, &np);
	float m = -INFINITY;
	for (int64_t kz = z0; kz < z1; kz++) {
		int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
		for (int64_t ky = y0; ky < y1; ky++) {
			int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
			const float *row = x + (iz * g->in[1] + iy) * g->in[2];
			int64_t ix = ox * g->s[2] - g->pb[2] + x0 * g->d[2];
			for (int64_t kx = x0; kx < x1; kx++, ix += g->d[2])
				m = row[ix] > m ? row[ix] : m;
		}
	}
	return m;
}

/* Per output row: edge columns tap by tap; interior columns row by row, one kernel column
 * at a time, without bounds checks (the loop the compiler can keep branch-free). */
/* y[i] = max(y[i], r[2 i]) for i in [0, n) */
static void rowmax_s2_c(float *restrict y, const float *restrict r, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = r[2 * i] > y[i] ? r[2 * i] : y[i];
}

#ifdef __x86_64__
__attribute__((target("avx512f"))) static void rowmax_s2_avx512(float *restrict y, const float *restrict r,
								  int64_t n)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	int64_t i = 0;
	/* i + 16 < n: the second load's last element r[2i+31] is still inside the row */
	for (; i + 16 < n; i += 16) {
		__m512 a = _mm512_loadu_ps(r + 2 * i), b = _mm512_loadu_ps(r + 2 * i + 16);
		__m512 e = _mm512_permutex2var_ps(a, even, b);
		_mm512_storeu_ps(y + i, _mm512_max_ps(e, _mm512_loadu_ps(y + i)));
	}
	rowmax_s2_c(y + i, r + 2 * i, n - i);
}
#endif

static void maxpool_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const pool_job *j = arg;
	const cpu_window3 *g = j->g;
	int64_t lo, hi;
	interior_cols(g, &lo, &hi);
	for (int64_t t = begin; t < end; t++) {
		const float *x = j->x + t * g->in_sp;
		float *y = j->y + t * g->out_sp;
		for (int64_t oz = 0; oz < g->out[0]; oz++) {
			int64_t z0, z1, np;
			cpu_window3_taps(g, 0, oz, &z0, &z1, &np);
			for (int64_t oy = 0; oy < g->out[1]; oy++, y += g->out[2]) {
				int64_t y0, y1;
				cpu_window3_taps(g, 1, oy, &y0, &y1, &np);
				for (int64_t ox = 0; ox < lo; ox++)
					y[ox] = max_window(g, x, oz, z0, z1, oy, y0, y1, ox);
				for (int64_t ox = hi; ox < g->out[2]; ox++)
					y[ox] = max_window(g, x, oz, z0, z1, oy, y0, y1, ox);
				for (int64_t ox = lo; ox < hi; ox++)
					y[ox] = -INFINITY;
				for (int64_t kz = z0; kz < z1; kz++) {
					int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
					for (int64_t ky = y0; ky < y1; ky++) {
						int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
						const float *row = x + (iz * g->in[1] + iy) * g->in[2] - g->pb[2];
						for (int64_t kx = 0; kx < g->k[2]; kx++) {
							const float *r = row + kx * g->d[2];
							if (g->s[2] == 2) {
								j->rowmax_s2(y + lo, r + 2 * lo, hi - lo);
							} else {
								for (int64_t ox = lo; ox < hi; ox++)
									y[ox] = r[ox * g->s[2]] > y[ox] ? r[ox * g->s[2]] : y[ox];
							}
						}
					}
				}
			}
		}
	}
}

/* nChw16c: tasks t = (image * C/16 + block) * OH + output row */
static void maxpool16_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const pool_job *j = arg;
	const cpu_window3 *g = j->g;
	int64_t oh = g->out[1], ow = g->out[2], w = g->in[2];
	for (int64_t t = begin; t < end; t++) {
		int64_t plane = t / oh, oy = t % oh;
		const float *x = j->x + plane * g->in_sp * 16;
		float *y = j->y + (plane * g->out_sp + oy * ow) * 16;
		int64_t y0, y1, x0, x1, np;
		cpu_window3_taps(g, 1, oy, &y0, &y1, &np);
		for (int64_t ox = 0; ox < ow; ox++, y += 16) {
			cpu_window3_taps(g, 2, ox, &x0, &x1, &np);
			float m[16];
			for (int l = 0; l < 16; l++)
				m[l] = -INFINITY;
			for (int64_t ky = y0; ky < y1; ky++) {
				int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
				for (int64_t kx = x0; kx < x1; kx++) {
					int64_t ix = ox * g->s[2] - g->pb[2] + kx * g->d[2];
					const float *px = x + (iy * w + ix) * 16;
					for (int l = 0; l < 16; l++)
						m[l] = px[l] > m[l] ? px[l] : m[l];
				}
			}
			for (int l = 0; l < 16; l++)
				y[l] = m[l];
		}
	}
}

static odet_status maxpool_run(const be_run_args *a)
{
	const pool_state *st = a->state;
	pool_job j = {.g = &st->g, .x = a->in[0].data, .y = a->out[0].data, .rowmax_s2 = rowmax_s2_c};
	if (st->blocked) {
		int64_t tasks = a->in[0].dims[0] * (a->in[0].dims[1] / 16) * st->g.out[1];
		odet_parallel_for(a->pool, tasks, 1, maxpool16_range, &j);
		return ODET_OK;
	}
#ifdef __x86_64__
	if (__builtin_cpu_supports("avx512f"))
		j.rowmax_s2 = rowmax_s2_avx512;
#endif
	int64_t grain = j.g->out_sp * j.g->kk >= 4096 ? 1 : 4096 / (j.g->out_sp * j.g->kk + 1) + 1;
	odet_parallel_for(a->pool, a->in[0].dims[0] * a->in[0].dims[1], grain, maxpool_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_MAXPOOL = {
	.check = maxpool_check,
	.prepare = maxpool_prepare,
	.release = free,
	.run = maxpool_run,
};
