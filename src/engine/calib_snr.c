/*
 * calib_snr.c — per-layer sensitivity of a calibration (docs/quantization.md).
 *
 * Once the ranges are chosen, a second fp32 engine (no head) is built whose outputs are, for
 * every convolution the quantize pass would quantize, its output Y and the output Y' of a twin
 * that reads the same input quantized to int8 with the calibrated scale and int8 per-channel
 * weights (pass_snr_taps: the layer's int8 arithmetic, in float). Over the images (letterboxed
 * as for the ranges; padding slots of a partial batch not counted):
 *     SNR = 10 log10( sum Y^2 / sum (Y - Y')^2 )  dB,  clamped to +-QUANT_SNR_MAX
 * Each layer is measured alone, on fp32 inputs: the error it adds, not the error it inherits.
 */
#include "engine/engine.h"
#include "io/image.h"
#include "passes/passes.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct snr_run {
	odet_tensor *outs;   /* 2 per layer: Y, Y' */
	double *sig, *err;   /* per layer */
	int images, batch;
} snr_run;

static void add_layers(void *arg, int64_t begin, int64_t end, int thread)
{
	snr_run *r = arg;
	(void)thread;
	for (int64_t l = begin; l < end; l++) {
		const odet_tensor *y = &r->outs[2 * l], *t = &r->outs[2 * l + 1];
		int64_t n = odet_tensor_numel(y) / r->batch * r->images;
		const float *a = y->data, *b = t->data;
		double s = 0, e = 0;
		for (int64_t i = 0; i < n; i++) {
			double d = (double)a[i] - b[i];
			s += (double)a[i] * a[i];
			e += d * d;
		}
		r->sig[l] += s;
		r->err[l] += e;
	}
}

static double snr_db(double sig, double err)
{
	if (err <= 0)
		return QUANT_SNR_MAX;
	if (sig <= 0)
		return -QUANT_SNR_MAX;
	double db = 10.0 * log10(sig / err);
	return db > QUANT_SNR_MAX ? QUANT_SNR_MAX : db < -QUANT_SNR_MAX ? -QUANT_SNR_MAX : db;
}

odet_status calib_snr(odet_ctx *ctx, const odet_graph *g, const odet_calib_opts *opts, const odet_backend *be,
		      const odet_model_info *mi, const char *const *images, int64_t n_images, quant_table *t)
{
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	snr_run run = {0};
	float *in = NULL;
	int n_layers = 0;
	odet_status rc = engine_build_snr(ctx, g, &opts->build, be, t, &n_layers, &e);
	if (rc || n_layers == 0)
		goto out;
	const ir_value *iv = &e->g->values[e->g->inputs[0]];
	run.batch = (int)iv->dims[0];
	run.outs = calloc((size_t)2 * n_layers, sizeof *run.outs);
	run.sig = calloc((size_t)2 * n_layers, sizeof(double));
	size_t per_img = (size_t)3 * mi->input_h * mi->input_w;
	in = malloc(sizeof(float) * per_img * (size_t)run.batch);
	if (!run.outs || !run.sig || !in) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration SNR: out of memory");
		goto out;
	}
	run.err = run.sig + n_layers;
	for (int i = 0; i < 2 * n_layers; i++) {
		if ((rc = odet_engine_output_info(e, i, NULL, &run.outs[i])))
			goto out;
		if (run.outs[i].dtype != ODET_F32) {
			rc = odet_error(ctx, ODET_ERR_INTERNAL, "calibration SNR: output %d is not float32", i);
			goto out;
		}
		if (!(run.outs[i].data = malloc(sizeof(float) * (size_t)odet_tensor_numel(&run.outs[i]) + 1))) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration SNR: out of memory");
			goto out;
		}
	}
	if ((rc = odet_exec_create(e, &x)))
		goto out;
	odet_tensor tin;
	if ((rc = odet_engine_input_info(e, 0, NULL, &tin)))
		goto out;
	tin.data = in;
	io_layout lay = mi->layout == ODET_LAYOUT_NHWC ? IO_LAYOUT_NHWC : IO_LAYOUT_NCHW;
	int64_t next = 0;
	while (next < n_images) {
		run.images = 0;
		while (run.images < run.batch && next < n_images) {
			io_image img;
			if (io_image_decode_file(ctx, images[next++], &img))
				continue; /* counted and named by the range pass */
			io_lbox lb;
			io_letterbox(&img, mi->input_w, mi->input_h, lay, mi->pixel_scale, mi->pixel_bias, 0.0f,
				     in + per_img * (size_t)run.images, &lb);
			io_image_free(&img);
			run.images++;
		}
		if (!run.images)
			break;
		for (int k = run.images; k < run.batch; k++)
			memcpy(in + per_img * (size_t)k, in, sizeof(float) * per_img);
		if ((rc = odet_exec_infer(x, &tin, 1, run.outs, 2 * n_layers)))
			goto out;
		odet_parallel_for(ctx->pool, n_layers, 1, add_layers, &run);
	}
	for (int l = 0; l < n_layers; l++) {
		int p = e->g->values[e->g->outputs[2 * l]].producer;
		if (p < 0 || (rc = quant_table_add_snr(ctx, t, e->g->nodes[p].name, snr_db(run.sig[l], run.err[l]))))
			goto out;
	}
	quant_table_sort_snr(t);
out:
	if (run.outs)
		for (int i = 0; i < 2 * n_layers; i++)
			free(run.outs[i].data);
	free(run.outs);
	free(run.sig);
	free(in);
	odet_exec_destroy(x);
	odet_engine_destroy(e);
	return rc;
}
