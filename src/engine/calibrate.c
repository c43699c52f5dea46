/*
 * calibrate.c — odet_calibrate: the fp32 engine with calibration taps (every convolution
 * input as an extra output, passes/quantize.c) runs over the images, letterboxed as odet
 * detect does; each tap's values of the real images (not the padding slots of a last, partial
 * batch) go into its histogram (quant/calib.c, threaded over taps); the calibrator's amax per
 * tap and the source graph's hash go to the cache file, with each quantizable layer's SNR
 * (calib_snr.c) unless opts->snr_images is -1.
 */
#include "engine/engine.h"
#include "io/image.h"
#include "passes/passes.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

odet_calib_opts odet_calib_opts_default(void)
{
	odet_calib_opts o;
	memset(&o, 0, sizeof o);
	o.build = odet_build_opts_default();
	o.build.batch = 8;
	o.calibrator = ODET_CALIB_MINMAX; /* measured best on NanoDet (docs/quantization.md) */
	o.percentile = 99.99;
	return o;
}

odet_status calib_run_images(odet_ctx *ctx, odet_engine *e, const odet_model_info *mi, const char *const *images,
			     int64_t n_images, int64_t *failed, calib_batch_fn on_batch, void *user)
{
	int n_out = e->g->n_outputs;
	odet_exec *x = NULL;
	float *in = NULL;
	odet_tensor tin, *outs = calloc((size_t)n_out, sizeof *outs);
	odet_status rc = odet_engine_input_info(e, 0, NULL, &tin);
	if (rc)
		goto out;
	int batch = (int)tin.dims[0];
	size_t per_img = (size_t)3 * mi->input_h * mi->input_w;
	if (!outs || !(in = malloc(sizeof(float) * per_img * (size_t)batch))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration: out of memory");
		goto out;
	}
	for (int i = 0; i < n_out; i++) {
		const char *nm;
		if ((rc = odet_engine_output_info(e, i, &nm, &outs[i])))
			goto out;
		size_t bytes = (size_t)odet_tensor_numel(&outs[i]) * odet_dtype_size(outs[i].dtype);
		if (!(outs[i].data = malloc(bytes + 1))) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration: out of memory for output '%s'", nm);
			goto out;
		}
	}
	if ((rc = odet_exec_create(e, &x)))
		goto out;
	tin.data = in;
	io_layout lay = mi->layout == ODET_LAYOUT_NHWC ? IO_LAYOUT_NHWC : IO_LAYOUT_NCHW;
	int64_t next = 0;
	while (next < n_images) {
		int n = 0;
		while (n < batch && next < n_images) {
			io_image img;
			const char *path = images[next++];
			if (io_image_decode_file(ctx, path, &img)) {
				if (failed) {
					odet_log(ctx, ODET_LOG_WARN, "calibration: skipping %s: %s", path, odet_ctx_last_error(ctx));
					(*failed)++;
				}
				continue;
			}
			io_lbox lb;
			io_letterbox(&img, mi->input_w, mi->input_h, lay, mi->pixel_scale, mi->pixel_bias, 0.0f,
				     in + per_img * (size_t)n, &lb);
			io_image_free(&img);
			n++;
		}
		if (!n)
			break;
		for (int k = n; k < batch; k++) /* padding slots: not counted by the callers */
			memcpy(in + per_img * (size_t)k, in, sizeof(float) * per_img);
		if ((rc = odet_exec_infer(x, &tin, 1, outs, n_out)) || (rc = on_batch(user, outs, n, next)))
			goto out;
	}
out:
	if (outs)
		for (int i = 0; i < n_out; i++)
			free(outs[i].data);
	free(outs);
	free(in);
	odet_exec_destroy(x);
	return rc;
}

typedef struct calib_run {
	odet_ctx *ctx;
	const odet_calib_opts *opts;
	const odet_tensor *outs; /* the batch's outputs */
	quant_hist *hist;        /* per tap */
	int first_tap, n_taps;
	int images;              /* real images in the batch */
	int batch;
	int64_t n_images, done;  /* images in the list; real images run */
} calib_run;

static void add_taps(void *arg, int64_t begin, int64_t end, int thread)
{
	calib_run *r = arg;
	(void)thread;
	for (int64_t t = begin; t < end; t++) {
		const odet_tensor *o = &r->outs[r->first_tap + t];
		int64_t numel = odet_tensor_numel(o), per = numel / r->batch;
		quant_hist_add(&r->hist[t], o->data, per * r->images);
	}
}

static odet_status calib_batch(void *user, const odet_tensor *outs, int images, int64_t next)
{
	calib_run *r = user;
	r->outs = outs;
	r->images = images;
	odet_parallel_for(r->ctx->pool, r->n_taps, 1, add_taps, r);
	r->done += images;
	if (r->opts->progress)
		r->opts->progress(r->opts->progress_user, next, r->n_images);
	return ODET_OK;
}

static odet_status check_opts(odet_ctx *ctx, const odet_calib_opts *o, int64_t n_images)
{
	if (o->build.precision != ODET_PRECISION_FP32)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "calibration runs the fp32 engine (build.precision must be fp32)");
	if ((unsigned)o->calibrator > ODET_CALIB_MINMAX)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "calibrator %d unknown", (int)o->calibrator);
	if (o->calibrator == ODET_CALIB_PERCENTILE && !(o->percentile > 0 && o->percentile <= 100))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "percentile %g must be in (0, 100]", o->percentile);
	if (n_images <= 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "calibration: no images given");
	return ODET_OK;
}

odet_status odet_calibrate(odet_ctx *ctx, const odet_graph *g, const char *const *images, int64_t n_images,
			   const odet_calib_opts *opts, const char *out_path, odet_calib_report *report)
{
	if (!ctx || !g || !images || !opts || !out_path)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_calibrate: NULL argument");
	odet_calib_report rep = {0};
	double t0 = odet_now_s();
	odet_status rc = check_opts(ctx, opts, n_images);
	if (rc)
		return rc;
	if (pass_qdq_count(g))
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "the model is explicitly quantized (QuantizeLinear/DequantizeLinear): it brings its own "
				  "scales and needs no calibration; build it with precision int8");
	if (opts->max_images > 0 && n_images > opts->max_images)
		n_images = opts->max_images;
	const odet_backend *be;
	odet_engine *e = NULL;
	int n_taps = 0;
	calib_run run = {.ctx = ctx, .opts = opts, .n_images = n_images};
	quant_table table = {0};
	if ((rc = engine_backend_select(ctx, opts->build.backend, &be)) ||
	    (rc = engine_build_taps(ctx, g, &opts->build, be, &n_taps, &e)))
		return rc;
	odet_model_info mi;
	odet_engine_model_info(e, &mi);
	const ir_value *iv = e->g->n_inputs == 1 ? &e->g->values[e->g->inputs[0]] : NULL;
	if (!iv || iv->rank != 4 || iv->dtype != ODET_F32 || mi.input_h <= 0 || mi.input_w <= 0 ||
	    (mi.pixel_scale[0] == 0 && mi.pixel_scale[1] == 0 && mi.pixel_scale[2] == 0)) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED,
				"calibration needs one float32 image input and the model's preprocessing (a detection head "
				"preset or config sets it: --head)");
		goto out;
	}
	if (n_taps == 0) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "calibration: the model has no convolution to calibrate");
		goto out;
	}
	run.batch = (int)iv->dims[0];
	run.first_tap = e->g->n_outputs - n_taps;
	run.n_taps = n_taps;
	if (!(run.hist = malloc(sizeof(quant_hist) * (size_t)n_taps))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration: out of memory");
		goto out;
	}
	for (int t = 0; t < n_taps; t++)
		quant_hist_init(&run.hist[t]);
	/* the range engine's exec (and its memory) ends with the run, before the SNR pass */
	rc = calib_run_images(ctx, e, &mi, images, n_images, &rep.failed, calib_batch, &run);
	rep.images = run.done;
	if (rc)
		goto out;
	if (rep.images == 0) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "calibration: none of the %lld images could be read",
				(long long)n_images);
		goto out;
	}
	table.model_hash = quant_graph_hash(g);
	table.calibrator = opts->calibrator;
	table.percentile = opts->percentile;
	table.images = rep.images;
	for (int t = 0; t < n_taps; t++) {
		const ir_value *v = &e->g->values[e->g->outputs[run.first_tap + t]];
		if (run.hist[t].nonfinite)
			odet_log(ctx, ODET_LOG_WARN, "calibration: tensor '%s' had %lld NaN/inf values (ignored)", v->name,
				 (long long)run.hist[t].nonfinite);
		double amax = quant_hist_amax(&run.hist[t], opts->calibrator, opts->percentile);
		if ((rc = quant_table_add(ctx, &table, v->name, amax)))
			goto out;
	}
	quant_table_sort(&table);
	/* the per-layer SNR pass: its own engine */
	if (opts->snr_images >= 0) {
		double t1 = odet_now_s();
		int64_t n_snr = opts->snr_images > 0 && opts->snr_images < n_images ? opts->snr_images : n_images;
		if ((rc = calib_snr(ctx, g, opts, be, &mi, images, n_snr, &table)))
			goto out;
		rep.layers = table.n_snr;
		rep.snr_seconds = odet_now_s() - t1;
	}
	if ((rc = quant_table_save(ctx, &table, out_path)))
		goto out;
	rep.tensors = n_taps;
	for (int i = 0; opts->layer_snr && i < table.n_snr; i++)
		opts->layer_snr(opts->layer_snr_user, table.snr_node[i], table.snr_db[i]);
out:
	rep.seconds = odet_now_s() - t0;
	if (report)
		*report = rep;
	quant_table_free(&table);
	free(run.hist);
	odet_engine_destroy(e);
	return rc;
}
