/*
 * pipeline.c — odet_pipeline_create / destroy: one engine per device (a plan loaded for
 * each, or the model built once for the first device and its plan loaded on the others, so
 * the convolution timing happens once), a context per worker, nvJPEG per CUDA worker, and
 * `slots` exec contexts per worker.
 */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

odet_pipeline_opts odet_pipeline_opts_default(void)
{
	odet_pipeline_opts o;
	memset(&o, 0, sizeof o);
	o.build = odet_build_opts_default();
	o.gpu_decode = -1;
	return o;
}

static bool is_plan(const char *path)
{
	size_t n = strlen(path);
	return n >= 5 && !strcmp(path + n - 5, ".plan");
}

/* A context for one worker: the caller's options, its own error and pool. */
static odet_status worker_ctx(odet_pipeline *p, int n_threads, odet_ctx **out)
{
	odet_ctx_opts co = p->ctx->opts;
	co.n_threads = n_threads;
	co.tune_cache = p->ctx->tune_cache;
	return odet_ctx_create(&co, out);
}

/* Copy a worker context's error to the caller's, naming the device. */
static odet_status dev_error(odet_pipeline *p, const pl_device *d, odet_status rc, const char *what)
{
	const char *msg = d->ctx ? odet_ctx_last_error(d->ctx) : "";
	if (d->device >= 0)
		return odet_error(p->ctx, rc, "device %d: %s%s%s", d->device, what, *msg ? ": " : "", msg);
	return odet_error(p->ctx, rc, "%s%s%s", what, *msg ? ": " : "", msg);
}

static odet_status open_first(odet_pipeline *p, pl_device *d)
{
	const odet_pipeline_opts *o = &p->opts;
	if (is_plan(p->model))
		return odet_engine_load(d->ctx, p->model, d->device < 0 ? 0 : d->device, &d->e);
	odet_graph *g = NULL;
	odet_status rc = odet_graph_load(d->ctx, p->model, &g);
	if (rc)
		return rc;
	odet_build_opts bo = o->build;
	bo.device = d->device < 0 ? 0 : d->device;
	if (bo.batch < 1)
		bo.batch = 1;
	rc = odet_engine_build(d->ctx, g, &bo, &d->e);
	odet_graph_destroy(g);
	return rc;
}

/* The first engine decides the backend, the batch and what every other engine must match. */
static odet_status check_engine(odet_pipeline *p, pl_device *d)
{
	odet_engine *e = d->e;
	odet_status rc;
	if (!e->has_head)
		return odet_error(p->ctx, ODET_ERR_INVALID_ARG,
				  "%s: the model has no detection head (name one with a head preset or config)",
				  p->model);
	const char *name;
	odet_tensor in, det;
	if ((rc = odet_engine_input_info(e, 0, &name, &in)) || (rc = odet_engine_output_info(e, 1, &name, &det)))
		return dev_error(p, d, rc, p->model);
	if (odet_engine_num_inputs(e) != 1 || in.rank != 4 ||
	    (in.dtype != ODET_F32 && in.dtype != ODET_F16 && in.dtype != ODET_U8))
		return odet_error(p->ctx, ODET_ERR_UNSUPPORTED,
				  "%s: the pipeline feeds one 4-D image input of float32, float16 or uint8", p->model);
	if ((rc = odet_engine_model_info(e, &p->mi)))
		return rc;
	if (in.dims[0] > PL_MAX_BATCH)
		return odet_error(p->ctx, ODET_ERR_LIMIT, "%s: batch %lld over the pipeline's %d", p->model,
				  (long long)in.dims[0], PL_MAX_BATCH);
	p->batch = (int)in.dims[0];
	p->capacity = (int)det.dims[1];
	p->in_dtype = in.dtype;
	if (is_plan(p->model) && p->opts.build.batch > 0 && p->opts.build.batch != p->batch)
		return odet_error(p->ctx, ODET_ERR_INVALID_ARG, "%s: the plan was built for batch %d, not %d",
				  p->model, p->batch, p->opts.build.batch);
	if (!e->be->letterbox)
		return odet_error(p->ctx, ODET_ERR_UNSUPPORTED, "the %s backend has no image preprocessing",
				  e->be->name);
	return ODET_OK;
}

static odet_status open_nvjpeg(odet_pipeline *p, pl_device *d)
{
	if (p->opts.gpu_decode == 1 && d->e->be->kind != ODET_BACKEND_CUDA)
		return odet_error(p->ctx, ODET_ERR_INVALID_ARG, "GPU JPEG decode needs a CUDA engine (this one runs on the %s)",
				  d->e->be->name);
	if (p->opts.gpu_decode == 0 || d->e->be->kind != ODET_BACKEND_CUDA)
		return ODET_OK;
	odet_status rc = io_nvjpeg_open(d->ctx, 1, &d->nj);
	if (rc == ODET_OK) {
		p->decoder = io_nvjpeg_backend_name(d->nj);
		return ODET_OK;
	}
	if (p->opts.gpu_decode == 1)
		return dev_error(p, d, rc, "GPU JPEG decode");
	odet_log(p->ctx, ODET_LOG_WARN, "%s; JPEGs are decoded on the CPU", odet_ctx_last_error(d->ctx));
	return ODET_OK;
}

odet_status odet_pipeline_create(odet_ctx *ctx, const odet_pipeline_opts *opts, odet_pipeline **out)
{
	if (!ctx || !opts || !out || !opts->model)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	if (opts->n_devices < 0 || opts->n_devices > 64 || (opts->n_devices && !opts->devices) || opts->slots > 8)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "pipeline: 0..64 devices and 1..8 slots");
	/* before any engine is built for it (a batch of 5000 asked ~56 GB first) */
	if (opts->build.batch > PL_MAX_BATCH)
		return odet_error(ctx, ODET_ERR_LIMIT, "batch %d over the pipeline's %d", opts->build.batch, PL_MAX_BATCH);
	odet_pipeline *p = odet_calloc(ctx, 1, sizeof *p);
	if (!p)
		return ODET_ERR_NO_MEMORY;
	p->ctx = ctx;
	p->opts = *opts;
	p->decoder = "none";
	odet_status rc = ODET_ERR_NO_MEMORY;
	if (!(p->model = strdup(opts->model)))
		goto out_destroy;
	p->opts.model = p->model;
	p->opts.build.head = NULL; /* not kept: only read while building the first engine */
	p->opts.devices = NULL;

	/* the first engine: its backend says whether there are devices to list */
	int first = opts->n_devices ? opts->devices[0] : 0;
	int n_dev = opts->n_devices ? opts->n_devices : 1;
	p->dev = odet_calloc(ctx, 64, sizeof *p->dev);
	if (!p->dev)
		goto out_destroy;
	pl_device *d0 = &p->dev[0];
	d0->p = p;
	d0->device = first;
	odet_build_opts keep = p->opts.build;
	p->opts.build.head = opts->build.head;
	if ((rc = worker_ctx(p, ctx->opts.n_threads, &d0->ctx)))
		goto out_destroy;
	p->n_dev = 1;
	rc = open_first(p, d0);
	p->opts.build = keep;
	if (rc) {
		/* the device is named only when the engine was meant for one */
		if (opts->build.backend != ODET_BACKEND_CUDA && !opts->n_devices)
			rc = odet_error(p->ctx, rc, "%s", odet_ctx_last_error(d0->ctx)); /* names the file */
		else
			rc = dev_error(p, d0, rc, is_plan(p->model) ? "loading the plan" : "building the engine");
		goto out_destroy;
	}
	if ((rc = check_engine(p, d0)))
		goto out_destroy;
	const odet_backend *be = d0->e->be;
	if (be->kind == ODET_BACKEND_CPU) {
		if (opts->n_devices)
			odet_log(ctx, ODET_LOG_WARN, "%s runs on the CPU: the device list is ignored", p->model);
		d0->device = -1;
		n_dev = 1;
	} else if (!opts->n_devices && be->device_count) {
		n_dev = be->device_count();
		if (n_dev < 1)
			n_dev = 1;
		if (n_dev > 64)
			n_dev = 64;
	}
	/* the other engines: the same plan on their device */
	void *buf = NULL;
	size_t size = 0;
	if (n_dev > 1 && (rc = engine_save_buffer(d0->e, &buf, &size))) {
		rc = dev_error(p, d0, rc, "serializing the engine for the other devices");
		goto out_destroy;
	}
	for (int i = 1; i < n_dev; i++) {
		pl_device *d = &p->dev[i];
		d->p = p;
		d->device = opts->n_devices ? opts->devices[i] : i;
		p->n_dev = i + 1;
		if ((rc = worker_ctx(p, 1, &d->ctx)) ||
		    (rc = engine_load_buffer_dev(d->ctx, buf, size, p->model, be, d->device, &d->e))) {
			rc = dev_error(p, d, rc, "loading the engine");
			free(buf);
			goto out_destroy;
		}
	}
	free(buf);
	for (int i = 0; i < p->n_dev; i++) {
		pl_device *d = &p->dev[i];
		/* default: a CPU engine already uses every core, so one batch at a time (readers
		 * decode ahead); CUDA keeps 3 in flight */
		d->n_slots = p->opts.slots > 0 ? p->opts.slots : be->kind == ODET_BACKEND_CPU ? 1 : 2;
		if (be->set_device && (rc = be->set_device(d->ctx, d->device))) {
			rc = dev_error(p, d, rc, "selecting the device");
			goto out_destroy;
		}
		if ((rc = open_nvjpeg(p, d)))
			goto out_destroy;
		d->slots = odet_calloc(ctx, (size_t)d->n_slots, sizeof *d->slots);
		if (!d->slots) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_destroy;
		}
		for (int k = 0; k < d->n_slots; k++)
			if ((rc = pl_slot_init(d, &d->slots[k]))) {
				rc = dev_error(p, d, rc, "preparing a batch slot");
				goto out_destroy;
			}
	}
	*out = p;
	return ODET_OK;
out_destroy:
	odet_pipeline_destroy(p);
	return rc;
}

void odet_pipeline_destroy(odet_pipeline *p)
{
	if (!p)
		return;
	for (int i = 0; p->dev && i < p->n_dev; i++) {
		pl_device *d = &p->dev[i];
		if (d->e && d->e->be->set_device)
			d->e->be->set_device(d->ctx, d->device);
		for (int k = 0; d->slots && k < d->n_slots; k++)
			pl_slot_free(d, &d->slots[k]);
		free(d->slots);
		io_nvjpeg_close(d->nj);
		odet_engine_destroy(d->e);
		odet_ctx_destroy(d->ctx);
	}
	free(p->dev);
	free(p->model);
	pl_item_clear(&p->one);
	pl_result_free(&p->one_res);
	free(p);
}

odet_status odet_pipeline_model_info(const odet_pipeline *p, odet_model_info *mi)
{
	if (!p || !mi)
		return ODET_ERR_INVALID_ARG;
	*mi = p->mi;
	return ODET_OK;
}

int odet_pipeline_batch(const odet_pipeline *p)
{
	return p ? p->batch : 0;
}

int odet_pipeline_num_devices(const odet_pipeline *p)
{
	return p ? p->n_dev : 0;
}

int odet_pipeline_device(const odet_pipeline *p, int i)
{
	return p && i >= 0 && i < p->n_dev ? p->dev[i].device : -1;
}

const odet_engine *odet_pipeline_engine(const odet_pipeline *p, int i)
{
	return p && i >= 0 && i < p->n_dev ? p->dev[i].e : NULL;
}

const char *odet_pipeline_decoder(const odet_pipeline *p)
{
	return p ? p->decoder : "none";
}
