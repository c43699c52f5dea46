/*
 * run.c — odet_pipeline_run: reading threads → a ring of items → device workers → in-order
 * delivery.
 *
 * Readers claim item indices in order and load each (file bytes; the JPEG header; a CPU
 * decode of whatever nvJPEG will not take) into the ring, at most W items ahead of the last
 * delivered one (W = batch × (devices × slots + 2)), so memory stays bounded on any list.
 * Workers claim whole batches in order (whichever device is free takes the next), wait for
 * their items, and keep `slots` batches in flight; a worker waiting for inputs first
 * finishes its own batches in flight, so the oldest undelivered batch always progresses.
 * Finished batches are delivered strictly in input order by whichever thread completes the
 * next one; the ring slots of a delivered batch are then free for the readers.
 */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct pl_run {
	odet_pipeline *p;
	const char *const *paths;
	int64_t n, n_batches;
	int B;
	pl_item *ring;
	int64_t *done;            /* per ring slot: index of the item loaded there, or -1 */
	int64_t W;                /* ring items (a multiple of B) */
	pl_result *pending;       /* per batch slot (W / B): finished, not yet delivered */
	bool *has_pending;
	pthread_mutex_t mu;       /* ring, claims, stop */
	pthread_cond_t cv;
	pthread_mutex_t dmu;      /* delivery */
	int64_t next_read, released, next_batch, next_deliver;
	bool gpu_jpeg;
	odet_result_fn fn;
	void *user;
	odet_status stop;         /* first failure: every thread winds down */
	char stop_msg[1024];
	odet_pipeline_stats st;   /* readers' and delivery's share */
} pl_run;

typedef struct pl_reader {
	pl_run *r;
	odet_ctx *ctx;
	pthread_t thread;
	bool started;
	double read_s, decode_s;
} pl_reader;

static void set_stop(pl_run *r, odet_status rc, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->stop) {
		r->stop = rc;
		snprintf(r->stop_msg, sizeof r->stop_msg, "%s", msg && *msg ? msg : odet_status_str(rc));
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void *reader_main(void *arg)
{
	pl_reader *rd = arg;
	pl_run *r = rd->r;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->next_read < r->n && r->next_read >= r->released + r->W)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop || r->next_read >= r->n) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		int64_t i = r->next_read++;
		pthread_mutex_unlock(&r->mu);
		pl_item *it = &r->ring[i % r->W];
		it->index = i;
		it->path = r->paths[i];
		pl_item_load(rd->ctx, it, r->gpu_jpeg);
		pthread_mutex_lock(&r->mu);
		r->done[i % r->W] = i;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* Deliver res and every later batch already finished, in order. */
static void deliver(pl_run *r, pl_result *res, int64_t batch)
{
	int64_t P = r->W / r->B;
	pthread_mutex_lock(&r->dmu);
	r->pending[batch % P] = *res;
	r->has_pending[batch % P] = true;
	memset(res, 0, sizeof *res);
	double t0 = now_s();
	while (r->has_pending[r->next_deliver % P]) {
		int64_t j = r->next_deliver;
		pl_result *pr = &r->pending[j % P];
		for (int i = 0; i < pr->n; i++) {
			odet_image_result *ir = &pr->r[i];
			pl_item *it = &r->ring[ir->index % r->W];
			if (r->fn && !r->stop) {
				odet_status rc = r->fn(r->user, ir);
				if (rc)
					set_stop(r, rc, odet_ctx_last_error(r->p->ctx));
			}
			r->st.images += ir->status == ODET_OK;
			r->st.failed += ir->status != ODET_OK;
			r->st.detections += ir->count;
			r->st.read_s += it->read_s;
			r->st.cpu_decode_s += it->decode_s;
			r->st.cpu_decoded += ir->status == ODET_OK && !ir->gpu_decoded;
			pl_item_clear(it);
		}
		r->st.batches++;
		pl_result_free(pr);
		r->has_pending[j % P] = false;
		pthread_mutex_lock(&r->mu);
		r->next_deliver = j + 1;
		r->released = (j + 1) * r->B < r->n ? (j + 1) * r->B : r->n;
		for (int64_t k = j * r->B; k < r->released; k++)
			r->done[k % r->W] = -1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	r->st.sink_s += now_s() - t0;
	pthread_mutex_unlock(&r->dmu);
}

static bool batch_ready(const pl_run *r, int64_t j)
{
	int64_t end = (j + 1) * r->B < r->n ? (j + 1) * r->B : r->n;
	for (int64_t k = j * r->B; k < end; k++)
		if (r->done[k % r->W] != k)
			return false;
	return true;
}

/* Finish the oldest of d's busy slots and deliver it. */
static odet_status finish_oldest(pl_run *r, pl_device *d)
{
	pl_slot *old = NULL;
	for (int k = 0; k < d->n_slots; k++)
		if (d->slots[k].busy && (!old || d->slots[k].batch_index < old->batch_index))
			old = &d->slots[k];
	if (!old)
		return ODET_OK;
	pl_result res;
	odet_status rc = pl_slot_finish(d, old, &res);
	if (rc)
		return rc;
	deliver(r, &res, old->batch_index);
	return ODET_OK;
}

typedef struct pl_worker_arg {
	pl_run *r;
	pl_device *d;
} pl_worker_arg;

static odet_status worker_loop(pl_run *r, pl_device *d)
{
	const odet_backend *be = d->e->be;
	odet_status rc;
	if (be->set_device && (rc = be->set_device(d->ctx, d->device)))
		return rc;
	pl_item *items[4096];
	if (r->B > 4096)
		return odet_error(d->ctx, ODET_ERR_LIMIT, "batch %d over the pipeline's 4096", r->B);
	for (int k = 0;; k = (k + 1) % d->n_slots) {
		pl_slot *s = &d->slots[k];
		if (s->busy) {
			pl_result res;
			if ((rc = pl_slot_finish(d, s, &res)))
				return rc;
			deliver(r, &res, s->batch_index);
		}
		pthread_mutex_lock(&r->mu);
		int64_t j = r->stop ? r->n_batches : r->next_batch;
		if (j < r->n_batches)
			r->next_batch++;
		pthread_mutex_unlock(&r->mu);
		if (j >= r->n_batches)
			break;
		double t0 = now_s();
		pthread_mutex_lock(&r->mu);
		while (!r->stop && !batch_ready(r, j)) {
			bool busy = false;
			for (int q = 0; q < d->n_slots; q++)
				busy |= d->slots[q].busy;
			if (busy) {
				pthread_mutex_unlock(&r->mu);
				if ((rc = finish_oldest(r, d)))
					return rc;
				pthread_mutex_lock(&r->mu);
				continue;
			}
			pthread_cond_wait(&r->cv, &r->mu);
		}
		bool stop = r->stop != ODET_OK;
		pthread_mutex_unlock(&r->mu);
		d->st.wait_input_s += now_s() - t0;
		if (stop)
			break;
		int64_t first = j * r->B;
		int nb = (int)(r->n - first < r->B ? r->n - first : r->B);
		for (int i = 0; i < nb; i++)
			items[i] = &r->ring[(first + i) % r->W];
		if ((rc = pl_slot_enqueue(d, s, items, nb, j)))
			return rc;
		d->st.batches++;
	}
	/* the batches still in flight */
	for (int k = 0; k < d->n_slots; k++)
		if ((rc = finish_oldest(r, d)))
			return rc;
	return ODET_OK;
}

static void *worker_main(void *arg)
{
	pl_worker_arg *wa = arg;
	pl_device *d = wa->d;
	d->rc = worker_loop(wa->r, d);
	if (d->rc) {
		char msg[1100];
		if (d->device >= 0)
			snprintf(msg, sizeof msg, "device %d: %s", d->device, odet_ctx_last_error(d->ctx));
		else
			snprintf(msg, sizeof msg, "%s", odet_ctx_last_error(d->ctx));
		set_stop(wa->r, d->rc, msg);
		/* what is in flight is dropped: wait for it so its buffers can be reused or freed */
		for (int k = 0; k < d->n_slots; k++)
			if (d->slots[k].busy) {
				d->e->be->stream_sync(d->ctx, d->slots[k].x->stream);
				d->slots[k].busy = false;
			}
	}
	return NULL;
}

static int default_readers(void)
{
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c < 1 ? 1 : c > 16 ? 16 : (int)c;
}

static void add_stats(odet_pipeline_stats *a, const odet_pipeline_stats *b)
{
	a->gpu_decoded += b->gpu_decoded;
	a->cpu_decode_s += b->cpu_decode_s;
	a->stage_s += b->stage_s;
	a->wait_input_s += b->wait_input_s;
	a->wait_device_s += b->wait_device_s;
	a->device_s += b->device_s;
}

odet_status odet_pipeline_run(odet_pipeline *p, const char *const *paths, int64_t n, odet_result_fn fn,
			      void *user, odet_pipeline_stats *stats)
{
	if (!p || (n && !paths) || n < 0)
		return ODET_ERR_INVALID_ARG;
	odet_ctx *ctx = p->ctx;
	double t0 = now_s();
	pl_run r;
	memset(&r, 0, sizeof r);
	r.p = p;
	r.paths = paths;
	r.n = n;
	r.B = p->batch;
	r.n_batches = (n + r.B - 1) / r.B;
	r.fn = fn;
	r.user = user;
	r.W = (int64_t)r.B * (p->n_dev * p->opts.slots + 2);
	for (int i = 0; i < p->n_dev; i++) {
		r.gpu_jpeg |= p->dev[i].nj != NULL;
		memset(&p->dev[i].st, 0, sizeof p->dev[i].st);
	}
	int n_readers = p->opts.read_threads > 0 ? p->opts.read_threads : default_readers();
	pl_reader *rd = odet_calloc(ctx, (size_t)n_readers, sizeof *rd);
	pl_worker_arg *wa = odet_calloc(ctx, (size_t)p->n_dev, sizeof *wa);
	r.ring = odet_calloc(ctx, (size_t)r.W, sizeof *r.ring);
	r.done = odet_calloc(ctx, (size_t)r.W, sizeof *r.done);
	r.pending = odet_calloc(ctx, (size_t)(r.W / r.B), sizeof *r.pending);
	r.has_pending = odet_calloc(ctx, (size_t)(r.W / r.B), sizeof *r.has_pending);
	odet_status rc = ODET_OK;
	if (!rd || !wa || !r.ring || !r.done || !r.pending || !r.has_pending) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int64_t i = 0; i < r.W; i++)
		r.done[i] = -1;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	pthread_mutex_init(&r.dmu, NULL);
	for (int i = 0; i < n_readers && !r.stop; i++) {
		odet_ctx_opts co = ctx->opts;
		co.n_threads = 1;
		co.tune_cache = NULL;
		rd[i].r = &r;
		if ((rc = odet_ctx_create(&co, &rd[i].ctx)) ||
		    pthread_create(&rd[i].thread, NULL, reader_main, &rd[i]) != 0) {
			set_stop(&r, rc ? rc : ODET_ERR_INTERNAL, "cannot start a reading thread");
			break;
		}
		rd[i].started = true;
	}
	for (int i = 0; i < p->n_dev && !r.stop; i++) {
		wa[i].r = &r;
		wa[i].d = &p->dev[i];
		if (pthread_create(&p->dev[i].thread, NULL, worker_main, &wa[i]) != 0) {
			set_stop(&r, ODET_ERR_INTERNAL, "cannot start a device thread");
			break;
		}
		p->dev[i].started = true;
	}
	for (int i = 0; i < p->n_dev; i++)
		if (p->dev[i].started) {
			pthread_join(p->dev[i].thread, NULL);
			p->dev[i].started = false;
		}
	set_stop(&r, r.stop ? r.stop : ODET_OK, NULL); /* wake readers blocked on the window */
	pthread_mutex_lock(&r.mu);
	if (!r.stop)
		r.next_read = r.n;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	for (int i = 0; i < n_readers; i++)
		if (rd[i].started)
			pthread_join(rd[i].thread, NULL);
	rc = r.stop;
	if (rc)
		odet_error(ctx, rc, "%s", r.stop_msg);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.dmu);
out_free:
	if (stats) {
		*stats = r.st;
		for (int i = 0; i < p->n_dev; i++)
			add_stats(stats, &p->dev[i].st);
		stats->seconds = now_s() - t0;
	}
	for (int64_t i = 0; r.ring && i < r.W; i++)
		pl_item_clear(&r.ring[i]);
	for (int64_t i = 0; r.pending && i < r.W / r.B; i++)
		pl_result_free(&r.pending[i]);
	for (int i = 0; rd && i < n_readers; i++)
		odet_ctx_destroy(rd[i].ctx);
	free(rd);
	free(wa);
	free(r.ring);
	free(r.done);
	free(r.pending);
	free(r.has_pending);
	return rc;
}

odet_status odet_pipeline_detect_file(odet_pipeline *p, const char *path, odet_image_result *out)
{
	if (!p || !path || !out)
		return ODET_ERR_INVALID_ARG;
	pl_device *d = &p->dev[0];
	pl_slot *s = &d->slots[0];
	const odet_backend *be = d->e->be;
	odet_status rc;
	pl_item_clear(&p->one);
	pl_result_free(&p->one_res);
	if (be->set_device && (rc = be->set_device(d->ctx, d->device)))
		goto out_err;
	p->one.path = path;
	pl_item_load(d->ctx, &p->one, d->nj != NULL);
	pl_item *items[1] = {&p->one};
	if ((rc = pl_slot_enqueue(d, s, items, 1, 0)) || (rc = pl_slot_finish(d, s, &p->one_res)))
		goto out_err;
	*out = p->one_res.r[0];
	return ODET_OK;
out_err:
	if (s->busy) {
		be->stream_sync(d->ctx, s->x->stream);
		s->busy = false;
	}
	return odet_error(p->ctx, rc, "%s", odet_ctx_last_error(d->ctx));
}
