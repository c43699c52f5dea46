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
#include "passes/passes.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>

typedef struct snr_run {
	odet_ctx *ctx;
	const odet_tensor *outs; /* the batch's: 2 per layer, Y, Y' */
	double *sig, *err;       /* per layer */
	int n_layers, images, batch;
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

static odet_status snr_batch(void *user, const odet_tensor *outs, int images, int64_t next)
{
	snr_run *r = user;
	(void)next;
	r->outs = outs;
	r->images = images;
	odet_parallel_for(r->ctx->pool, r->n_layers, 1, add_layers, r);
	return ODET_OK;
}

odet_status calib_snr(odet_ctx *ctx, const odet_graph *g, const odet_calib_opts *opts, const odet_backend *be,
		      const odet_model_info *mi, const char *const *images, int64_t n_images, quant_table *t)
{
	odet_engine *e = NULL;
	snr_run run = {.ctx = ctx};
	odet_status rc = engine_build_snr(ctx, g, &opts->build, be, t, &run.n_layers, &e);
	int n_layers = run.n_layers;
	if (rc || n_layers == 0)
		goto out;
	run.batch = (int)e->g->values[e->g->inputs[0]].dims[0];
	if (!(run.sig = calloc((size_t)2 * n_layers, sizeof(double)))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration SNR: out of memory");
		goto out;
	}
	run.err = run.sig + n_layers;
	for (int i = 0; i < 2 * n_layers; i++) {
		odet_tensor o;
		if ((rc = odet_engine_output_info(e, i, NULL, &o)))
			goto out;
		if (o.dtype != ODET_F32) {
			rc = odet_error(ctx, ODET_ERR_INTERNAL, "calibration SNR: output %d is not float32", i);
			goto out;
		}
	}
	/* unreadable images: counted and named by the range pass */
	if ((rc = calib_run_images(ctx, e, mi, images, n_images, NULL, snr_batch, &run)))
		goto out;
	for (int l = 0; l < n_layers; l++) {
		int p = e->g->values[e->g->outputs[2 * l]].producer;
		if (p < 0 || (rc = quant_table_add_snr(ctx, t, e->g->nodes[p].name, snr_db(run.sig[l], run.err[l]))))
			goto out;
	}
	quant_table_sort_snr(t);
out:
	free(run.sig);
	odet_engine_destroy(e);
	return rc;
}
