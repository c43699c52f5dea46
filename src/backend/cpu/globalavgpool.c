/*
 * globalavgpool.c — GlobalAveragePool: X [N][C][spatial...] f32 (rank >= 3) ->
 * Y [N][C][1...]: the mean of each (image, channel) plane, accumulated in double.
 */
#include "backend/cpu/cpu.h"

static odet_status gap_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': GlobalAveragePool needs X and Y", n->name);
	if (x->dtype != ODET_F32 || y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': GlobalAveragePool on %s (only float32)",
				  n->name, odet_dtype_name(x->dtype));
	if (!ir_value_shape_known(x) || x->rank < 3)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': GlobalAveragePool needs X of known rank >= 3", n->name);
	return ODET_OK;
}

typedef struct gap_job {
	const float *x;
	float *y;
	int64_t plane;
} gap_job;

static void gap_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const gap_job *j = arg;
	for (int64_t t = begin; t < end; t++) {
		const float *x = j->x + t * j->plane;
		double s = 0;
		for (int64_t i = 0; i < j->plane; i++)
			s += x[i];
		j->y[t] = j->plane ? (float)(s / (double)j->plane) : 0.0f;
	}
}

static odet_status gap_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int64_t plane = 1;
	for (int i = 2; i < x->rank; i++)
		plane *= x->dims[i];
	gap_job j = {.x = x->data, .y = a->out[0].data, .plane = plane};
	int64_t grain = plane >= 4096 ? 1 : 4096 / (plane ? plane : 1);
	odet_parallel_for(a->pool, x->dims[0] * x->dims[1], grain, gap_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_GLOBALAVGPOOL = {
	.check = gap_check,
	.run = gap_run,
};
