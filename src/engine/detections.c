/*
 * detections.c — odet_detections buffers and odet_exec_run: the network plus the head,
 * whose four outputs (heads/head.h: det_count [B] i32, det_boxes [B,K,4] f32,
 * det_scores [B,K] f32, det_classes [B,K] i32) are copied from the arena into the caller's
 * odet_detections. When the caller's capacity is below K only the first `capacity` rows
 * (the head sorts by score, best first) are kept and count is clamped to capacity.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

odet_status odet_detections_alloc(int batch, int capacity, odet_detections *d)
{
	if (!d)
		return ODET_ERR_INVALID_ARG;
	memset(d, 0, sizeof *d);
	if (batch < 1 || capacity < 0 || batch > (1 << 20) || capacity > (1 << 24))
		return ODET_ERR_INVALID_ARG;
	size_t rows;
	if (!odet_mul_size((size_t)batch, (size_t)capacity, &rows))
		return ODET_ERR_LIMIT;
	d->count = calloc((size_t)batch, sizeof(int32_t));
	d->boxes = calloc(rows * 4 + 1, sizeof(float));
	d->scores = calloc(rows + 1, sizeof(float));
	d->classes = calloc(rows + 1, sizeof(int32_t));
	if (!d->count || !d->boxes || !d->scores || !d->classes) {
		odet_detections_free(d);
		return ODET_ERR_NO_MEMORY;
	}
	d->batch = batch;
	d->capacity = capacity;
	return ODET_OK;
}

void odet_detections_free(odet_detections *d)
{
	if (!d)
		return;
	free(d->count);
	free(d->boxes);
	free(d->scores);
	free(d->classes);
	memset(d, 0, sizeof *d);
}

/* Copy rows [0, n) of each image from a [B, K, width] source into a [B, cap, width]
 * destination, width_bytes per row (one copy when cap == K). */
static odet_status copy_rows(odet_exec *x, void *dst, int value, int64_t b, int64_t k, int cap,
			     size_t width_bytes)
{
	const odet_engine *e = x->e;
	const char *src = exec_value_ptr(x, value);
	int64_t n = k < cap ? k : cap;
	if (n == k && k == cap)
		return e->be->copy_from(e->ctx, dst, src, (size_t)(b * k) * width_bytes, x->stream);
	for (int64_t i = 0; i < b; i++) {
		odet_status rc = e->be->copy_from(e->ctx, (char *)dst + (size_t)(i * cap) * width_bytes,
						  src + (size_t)(i * k) * width_bytes,
						  (size_t)n * width_bytes, x->stream);
		if (rc)
			return rc;
	}
	return ODET_OK;
}

void *exec_input_ptr(odet_exec *x, int i)
{
	const odet_engine *e = x->e;
	if (i < 0 || i >= e->g->n_inputs)
		return NULL;
	size_t off = e->plan.value_offset[e->g->inputs[i]];
	return off == SIZE_MAX ? NULL : (char *)x->arena + off;
}

odet_status exec_detections_check(odet_exec *x, const odet_detections *out)
{
	odet_engine *e = x->e;
	odet_ctx *ctx = e->ctx;
	const ir_graph *g = e->g;
	if (!e->has_head)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "odet_exec_run: the engine has no detection head (use odet_exec_infer for raw outputs)");
	if (g->n_inputs != 1)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "odet_exec_run: the network has %d inputs; one image tensor expected", g->n_inputs);
	int64_t b = g->values[g->outputs[0]].dims[0];
	if (out->batch != b || out->capacity < 0 || !out->count || !out->boxes || !out->scores ||
	    !out->classes)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "odet_exec_run: detections for batch %d given, the engine's batch is %lld",
				  out->batch, (long long)b);
	return ODET_OK;
}

odet_status exec_detections_enqueue(odet_exec *x, odet_detections *out)
{
	odet_engine *e = x->e;
	odet_ctx *ctx = e->ctx;
	const ir_graph *g = e->g;
	int64_t b = g->values[g->outputs[0]].dims[0], k = g->values[g->outputs[1]].dims[1];
	odet_status rc;
	if ((rc = exec_run_nodes(x)))
		return rc;
	if ((rc = e->be->copy_from(ctx, out->count, exec_value_ptr(x, g->outputs[0]),
				   (size_t)b * sizeof(int32_t), x->stream)))
		return rc;
	if ((rc = copy_rows(x, out->boxes, g->outputs[1], b, k, out->capacity, 4 * sizeof(float))) ||
	    (rc = copy_rows(x, out->scores, g->outputs[2], b, k, out->capacity, sizeof(float))) ||
	    (rc = copy_rows(x, out->classes, g->outputs[3], b, k, out->capacity, sizeof(int32_t))))
		return rc;
	return ODET_OK;
}

void exec_detections_clamp(const odet_exec *x, odet_detections *out)
{
	const ir_graph *g = x->e->g;
	int64_t k = g->values[g->outputs[1]].dims[1];
	for (int i = 0; i < out->batch; i++) {
		if (out->count[i] < 0)
			out->count[i] = 0;
		if (out->count[i] > out->capacity)
			out->count[i] = out->capacity;
		if (out->count[i] > k)
			out->count[i] = (int32_t)k;
	}
}

odet_status odet_exec_run(odet_exec *x, const odet_tensor *input, odet_detections *out)
{
	if (!x || !input || !out)
		return ODET_ERR_INVALID_ARG;
	odet_engine *e = x->e;
	odet_ctx *ctx = e->ctx;
	const ir_graph *g = e->g;
	odet_status rc = exec_detections_check(x, out);
	if (rc)
		return rc;
	/* validation, input copy and node execution as odet_exec_infer, without output copies */
	int v_in = g->inputs[0];
	const ir_value *iv = &g->values[v_in];
	bool same = input->dtype == iv->dtype && input->rank == iv->rank && input->data && input->device < 0;
	for (int i = 0; same && i < iv->rank; i++)
		same = input->dims[i] == iv->dims[i];
	if (!same) {
		char buf[128];
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "odet_exec_run: input '%s' must be a host %s tensor of shape %s", iv->name,
				  odet_dtype_name(iv->dtype), ir_shape_str(iv, buf, sizeof buf));
	}
	if ((rc = e->be->copy_to(ctx, (char *)x->arena + e->plan.value_offset[v_in], input->data,
				 e->plan.value_size[v_in], x->stream)))
		return rc;
	if ((rc = exec_detections_enqueue(x, out)) || (rc = e->be->stream_sync(ctx, x->stream)))
		return rc;
	exec_detections_clamp(x, out);
	return ODET_OK;
}
