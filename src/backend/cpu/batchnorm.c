/*
 * batchnorm.c — BatchNormalization, inference form (ONNX opset 9-15, training_mode 0).
 *
 * Inputs: X [N][C][...] f32 (rank >= 2), scale, B, mean, var: [C] f32. Attribute epsilon
 * (default 1e-5). Output Y of X's shape (the optional running-mean/var outputs of training
 * mode are refused).  y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c],
 * computed as y = x * a[c] + b[c]; one (image, channel) plane per task.
 */
#include "backend/cpu/cpu.h"

#include <math.h>

static odet_status bn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
	if (!x || !y || n->n_in != 5)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': BatchNormalization needs 5 inputs", n->name);
	for (int i = 1; i < n->n_out; i++)
		if (n->out[i] >= 0)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s': BatchNormalization with training outputs (inference only)",
					  n->name);
	if (ir_attr_int(n, "training_mode", 0) != 0 || ir_attr_int(n, "spatial", 1) != 1)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s': BatchNormalization training_mode/spatial=0 not supported", n->name);
	if (!ir_value_shape_known(x) || x->rank < 2)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': BatchNormalization needs X of known rank >= 2",
				  n->name);
	for (int i = 0; i < 5; i++) {
		const ir_value *v = ir_in(g, n, i);
		if (!v || v->dtype != ODET_F32)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s': BatchNormalization input %d is missing or not float32", n->name, i);
		if (i && (v->rank != 1 || v->dims[0] != x->dims[1]))
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': BatchNormalization input %d is not [C]",
					  n->name, i);
	}
	if (y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': BatchNormalization output not float32", n->name);
	return ODET_OK;
}

typedef struct bn_job {
	const float *x, *scale, *bias, *mean, *var;
	float *y;
	int64_t c, plane;
	float eps;
} bn_job;

static void bn_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const bn_job *j = arg;
	for (int64_t t = begin; t < end; t++) {
		int64_t c = t % j->c;
		float a = j->scale[c] / sqrtf(j->var[c] + j->eps);
		float b = j->bias[c] - j->mean[c] * a;
		const float *x = j->x + t * j->plane;
		float *y = j->y + t * j->plane;
		for (int64_t i = 0; i < j->plane; i++)
			y[i] = x[i] * a + b;
	}
}

static odet_status bn_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	int64_t plane = 1;
	for (int i = 2; i < x->rank; i++)
		plane *= x->dims[i];
	bn_job j = {
		.x = x->data, .scale = a->in[1].data, .bias = a->in[2].data, .mean = a->in[3].data,
		.var = a->in[4].data, .y = a->out[0].data, .c = x->dims[1], .plane = plane,
		.eps = ir_attr_float(a->node, "epsilon", 1e-5f),
	};
	int64_t grain = plane >= 4096 ? 1 : 4096 / (plane ? plane : 1);
	odet_parallel_for(a->pool, x->dims[0] * x->dims[1], grain, bn_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_BATCHNORM = {
	.check = bn_check,
	.run = bn_run,
};
