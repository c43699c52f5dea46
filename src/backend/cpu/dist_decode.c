/*
 * dist_decode.c — DistDecode (ops.def): distribution-focal box decode (GFL / NanoDet).
 *   in:  dist [B,N,4R] f32: per cell 4 sides (left, top, right, bottom) x R bins, side-major
 *   out: boxes [B,N,4] f32 x1 y1 x2 y2 in input pixels
 *   attrs: grid_w (cells per row), stride, offset (0.5: cell centres)
 * side = stride * sum_i softmax(bins)_i * i; centre = ((n % grid_w + offset) * stride,
 * (n / grid_w + offset) * stride); box = centre -/+ sides.
 */
#include "backend/cpu/cpu.h"

#include <math.h>

typedef struct dd_job {
	const be_run_args *a;
	int64_t N, R, gw;
	float stride, offset;
} dd_job;

static void dd_rows(void *arg, int64_t r0, int64_t r1, int thread)
{
	const dd_job *j = arg;
	const float *in = j->a->in[0].data;
	float *out = j->a->out[0].data;
	for (int64_t r = r0; r < r1; r++) {
		int64_t n = r % j->N;
		const float *p = in + r * 4 * j->R;
		float d[4];
		for (int s = 0; s < 4; s++) {
			const float *q = p + s * j->R;
			float mx = q[0], sum = 0, e = 0;
			for (int64_t i = 1; i < j->R; i++)
				mx = q[i] > mx ? q[i] : mx;
			for (int64_t i = 0; i < j->R; i++) {
				float v = expf(q[i] - mx);
				sum += v;
				e += v * (float)i;
			}
			d[s] = e / sum * j->stride;
		}
		float cx = ((float)(n % j->gw) + j->offset) * j->stride;
		float cy = ((float)(n / j->gw) + j->offset) * j->stride;
		out[r * 4 + 0] = cx - d[0];
		out[r * 4 + 1] = cy - d[1];
		out[r * 4 + 2] = cx + d[2];
		out[r * 4 + 3] = cy + d[3];
	}
}

static odet_status dd_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *d = ir_in(g, n, 0);
	if (!d || d->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (DistDecode): input must be float32", n->name);
	return ODET_OK;
}

static odet_status dd_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	dd_job j = {.a = a, .N = a->in[0].dims[1], .R = a->in[0].dims[2] / 4};
	j.gw = ir_attr_int(n, "grid_w", 1);
	j.stride = ir_attr_float(n, "stride", 8.0f);
	j.offset = ir_attr_float(n, "offset", 0.5f);
	odet_parallel_for(a->pool, a->in[0].dims[0] * j.N, 1024, dd_rows, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_DIST_DECODE = {.check = dd_check, .run = dd_run};
