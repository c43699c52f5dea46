/*
 * avgpool.c — AveragePool (ONNX opset 11-20): X [N][C][spatial...] f32, 1 to 3 spatial dims.
 * Attributes kernel_shape, strides, pads, auto_pad, dilations (opset 19), ceil_mode,
 * count_include_pad (window.h). y = sum of the window taps inside the input / divisor, where
 * the divisor counts the taps inside the input (count_include_pad 0) or inside input + pads
 * (1; taps beyond the end pad, possible with ceil_mode, never count — as ONNX Runtime).
 * One (image, channel) plane per task.
 */
#include "backend/cpu/cpu.h"
#include "backend/cpu/window.h"

#include <stdlib.h>

static odet_status avgpool_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	cpu_window w;
	return cpu_pool_geometry(ctx, g, n, &w);
}

typedef struct avgpool_plan {
	cpu_window3 g;
	bool include_pad;
} avgpool_plan;

static odet_status avgpool_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
				   size_t *workspace)
{
	cpu_window w;
	odet_status rc = cpu_pool_geometry(ctx, g, n, &w);
	if (rc)
		return rc;
	avgpool_plan *p = malloc(sizeof *p);
	if (!p)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "node '%s': AveragePool: out of memory", n->name);
	cpu_window_to3(&w, &p->g);
	p->include_pad = ir_attr_int(n, "count_include_pad", 0) != 0;
	*state = p;
	return ODET_OK;
}

typedef struct avgpool_job {
	const avgpool_plan *p;
	const float *x;
	float *y;
} avgpool_job;

static void avgpool_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const avgpool_job *j = arg;
	const cpu_window3 *g = &j->p->g;
	for (int64_t t = begin; t < end; t++) {
		const float *x = j->x + t * g->in_sp;
		float *y = j->y + t * g->out_sp;
		for (int64_t oz = 0; oz < g->out[0]; oz++) {
			int64_t z0, z1, zp;
			cpu_window3_taps(g, 0, oz, &z0, &z1, &zp);
			for (int64_t oy = 0; oy < g->out[1]; oy++) {
				int64_t y0, y1, yp;
				cpu_window3_taps(g, 1, oy, &y0, &y1, &yp);
				for (int64_t ox = 0; ox < g->out[2]; ox++) {
					int64_t x0, x1, xp;
					cpu_window3_taps(g, 2, ox, &x0, &x1, &xp);
					float s = 0;
					for (int64_t kz = z0; kz < z1; kz++) {
						int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
						for (int64_t ky = y0; ky < y1; ky++) {
							int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
							const float *row = x + (iz * g->in[1] + iy) * g->in[2];
							int64_t ix = ox * g->s[2] - g->pb[2] + x0 * g->d[2];
							for (int64_t kx = x0; kx < x1; kx++, ix += g->d[2])
								s += row[ix];
						}
					}
					int64_t cnt = j->p->include_pad ? zp * yp * xp
									: (z1 - z0) * (y1 - y0) * (x1 - x0);
					*y++ = cnt ? s / (float)cnt : 0.0f;
				}
			}
		}
	}
}

static odet_status avgpool_run(const be_run_args *a)
{
	avgpool_job j = {.p = a->state, .x = a->in[0].data, .y = a->out[0].data};
	const cpu_window3 *g = &j.p->g;
	int64_t grain = g->out_sp * g->kk >= 4096 ? 1 : 4096 / (g->out_sp * g->kk + 1) + 1;
	odet_parallel_for(a->pool, a->in[0].dims[0] * a->in[0].dims[1], grain, avgpool_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_AVGPOOL = {
	.check = avgpool_check,
	.prepare = avgpool_prepare,
	.release = free,
	.run = avgpool_run,
};
