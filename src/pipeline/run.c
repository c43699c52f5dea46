/*
 * run.c — odet_pipeline_run / _run_inputs / _run_pull: reading threads → a ring of items →
 * device workers → in-order delivery.
 *
 * Readers claim item indices in order and load each (file bytes; the JPEG header; a CPU
 * decode of whatever nvJPEG will not take) into the ring, at most W items ahead of the last
 * delivered one (W = batch × (all slots + 2)), so memory stays bounded on any list. Slot
 * threads (`slots` per device, one batch in flight each) claim whole batches in order —
 * whichever slot of whichever device is free takes the next — wait for their items, stage,
 * enqueue, wait for the device. Finished batches are delivered strictly in input order by
 * whichever thread completes the next one; the ring slots of a delivered batch are then
 * free for the readers.
 *
 * Positions: item k of the ring is ring[k % W] and batch j holds positions [jB, jB + B). A
 * list fills every position; a pull source (odet_pipeline_run_pull) is asked for the next
 * input by one reader at a time, and its FLUSH closes the open batch early (the positions left
 * in it stay empty, the next input starts the next batch), its END closes it and sets n. Until
 * then n and n_batches are unknown (INT64_MAX) and a batch is claimable once closed.
 */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pl_run {
	odet_pipeline *p;
	const char *const *paths;
	const odet_image_input *inputs; /* instead of paths: odet_pipeline_run_inputs */
	odet_pull_fn pull;        /* instead of a list: odet_pipeline_run_pull */
	int64_t *batch_n;         /* pull: per batch slot (W / B), its item count once closed, else -1 */
	int64_t pulled;           /* pull: inputs so far (their index) */
	bool ended;               /* pull: END seen (n and n_batches known), or the run winds down */
	pthread_mutex_t pmu;      /* pull: one call of the source at a time, in order */
	int64_t n, n_batches;     /* positions (a list: its items) and batches */
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

/* Adaptive decode split: a JPEG read for nvJPEG in a batch no slot has claimed yet, the
 * latest first (-1: none). Called with mu held by a reader that has nothing to read. */
static int64_t steal_candidate(const pl_run *r)
{
	int64_t lo = r->next_batch * r->B;
	for (int64_t k = r->next_read - 1; k >= lo && k >= r->released; k--) {
		const pl_item *it = &r->ring[k % r->W];
		if (r->done[k % r->W] == k && it->jpeg_gpu && it->status == ODET_OK)
			return k;
	}
	return -1;
}

/* cpu_decode_share of the items, spread evenly, stay on the CPU decoders. */
static bool cpu_share(const pl_run *r, int64_t i)
{
	double sh = r->p->opts.cpu_decode_share;
	return sh > 0 && (int64_t)((double)(i + 1) * sh) > (int64_t)((double)i * sh);
}

/* Pull mode: ask the source for the next input and claim its position (*pos; *index its
 * index), serialized by pmu. FLUSH closes the open batch; END closes it and ends the reading.
 * Returns false when there is nothing more to read (END, a failure, the run stopping). */
static bool pull_next(pl_reader *rd, odet_image_input *in, int64_t *pos, int64_t *index)
{
	pl_run *r = rd->r;
	int64_t B = r->B, P = r->W / r->B;
	bool got = false;
	pthread_mutex_lock(&r->pmu);
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && !r->ended && r->next_read >= r->released + r->W)
			pthread_cond_wait(&r->cv, &r->mu);
		bool over = r->stop || r->ended;
		pthread_mutex_unlock(&r->mu);
		if (over)
			break;
		odet_pull what = ODET_PULL_END;
		memset(in, 0, sizeof *in);
		odet_status rc = r->pull(r->user, in, &what);
		if (rc) {
			set_stop(r, rc, odet_ctx_last_error(r->p->ctx));
			break;
		}
		if (what == ODET_PULL_INPUT && !in->data && !in->name) {
			odet_error(r->p->ctx, ODET_ERR_INVALID_ARG, "pulled input %lld: neither bytes nor a path",
				   (long long)r->pulled);
			set_stop(r, ODET_ERR_INVALID_ARG, odet_ctx_last_error(r->p->ctx));
			break;
		}
		if (what != ODET_PULL_INPUT && what != ODET_PULL_FLUSH && what != ODET_PULL_END) {
			odet_error(r->p->ctx, ODET_ERR_INVALID_ARG, "the pull source answered %d (not INPUT, FLUSH or END)",
				   (int)what);
			set_stop(r, ODET_ERR_INVALID_ARG, odet_ctx_last_error(r->p->ctx));
			break;
		}
		pthread_mutex_lock(&r->mu);
		int64_t k = r->next_read;
		if (r->stop || r->ended) {
			pthread_mutex_unlock(&r->mu);
			break; /* the run stopped while the source was answering: its input is dropped */
		}
		if (what == ODET_PULL_INPUT) {
			*pos = k;
			*index = r->pulled++;
			r->next_read = k + 1;
			if ((k + 1) % B == 0)
				r->batch_n[(k / B) % P] = B;
			got = true;
		} else {
			if (k % B) { /* close the open batch where it is */
				r->batch_n[(k / B) % P] = k % B;
				r->next_read = (k / B + 1) * B;
			}
			if (what == ODET_PULL_END) {
				r->n = r->next_read;
				r->n_batches = r->n / B;
				r->ended = true;
			}
			pthread_cond_broadcast(&r->cv);
		}
		pthread_mutex_unlock(&r->mu);
		if (got || what == ODET_PULL_END)
			break;
	}
	pthread_mutex_unlock(&r->pmu);
	return got;
}

static void *reader_main(void *arg)
{
	pl_reader *rd = arg;
	pl_run *r = rd->r;
	/* cpu_decode_share < 0: readers that are ahead (held by the window, or done reading)
	 * decode on the CPU what nvJPEG would otherwise decode later, so both decoders work
	 * whenever the GPU side is the slower one, and only then (lists only: a pull source's
	 * readers wait for the source instead) */
	bool adaptive = r->gpu_jpeg && r->p->opts.cpu_decode_share < 0;
	for (;;) {
		int64_t steal = -1;
		if (r->pull) {
			odet_image_input in;
			int64_t k, index;
			if (!pull_next(rd, &in, &k, &index))
				break;
			pl_item *it = &r->ring[k % r->W];
			it->index = index;
			it->path = in.name ? in.name : "(memory)";
			pl_item_load(rd->ctx, it, in.data, in.size, r->gpu_jpeg && !cpu_share(r, index));
			pthread_mutex_lock(&r->mu);
			r->done[k % r->W] = k;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		for (;;) {
			if (r->stop)
				break;
			if (r->next_read < r->n && r->next_read < r->released + r->W)
				break;
			if (adaptive && (steal = steal_candidate(r)) >= 0)
				break;
			if (r->next_read >= r->n && !adaptive)
				break;
			if (r->next_read >= r->n && r->next_batch >= r->n_batches)
				break; /* every batch claimed: nothing left to read or to take over */
			pthread_cond_wait(&r->cv, &r->mu);
		}
		if (steal >= 0) {
			pl_item *it = &r->ring[steal % r->W];
			r->done[steal % r->W] = -2; /* being decoded: its batch is not ready */
			pthread_mutex_unlock(&r->mu);
			it->jpeg_gpu = false;
			pl_item_decode_cpu(rd->ctx, it);
			pthread_mutex_lock(&r->mu);
			r->done[steal % r->W] = steal;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		if (r->stop || r->next_read >= r->n) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		int64_t i = r->next_read++;
		pthread_mutex_unlock(&r->mu);
		pl_item *it = &r->ring[i % r->W];
		it->index = i;
		const odet_image_input *in = r->inputs ? &r->inputs[i] : NULL;
		it->path = in ? (in->name ? in->name : "(memory)") : r->paths[i];
		pl_item_load(rd->ctx, it, in ? in->data : NULL, in ? in->size : 0, r->gpu_jpeg && !cpu_share(r, i));
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
	double t0 = odet_now_s();
	while (r->has_pending[r->next_deliver % P]) {
		int64_t j = r->next_deliver;
		pl_result *pr = &r->pending[j % P];
		for (int i = 0; i < pr->n; i++) {
			odet_image_result *ir = &pr->r[i];
			pl_item *it = &r->ring[(j * r->B + i) % r->W];
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
		if (r->batch_n)
			r->batch_n[j % P] = -1;
		r->next_deliver = j + 1;
		r->released = (j + 1) * r->B < r->n ? (j + 1) * r->B : r->n;
		for (int64_t k = j * r->B; k < r->released; k++)
			r->done[k % r->W] = -1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	r->st.sink_s += odet_now_s() - t0;
	pthread_mutex_unlock(&r->dmu);
}

/* Items in batch j: B but for the last of a list; a pull source's once closed (-1 before). */
static int64_t batch_count(const pl_run *r, int64_t j)
{
	if (r->batch_n)
		return r->batch_n[j % (r->W / r->B)];
	return r->n - j * r->B < r->B ? r->n - j * r->B : r->B;
}

static bool batch_ready(const pl_run *r, int64_t j)
{
	int64_t nb = batch_count(r, j);
	if (nb < 0)
		return false;
	for (int64_t k = j * r->B; k < j * r->B + nb; k++)
		if (r->done[k % r->W] != k)
			return false;
	return true;
}

typedef struct pl_slot_arg {
	pl_run *r;
	pl_device *d;
	pl_slot *s;
} pl_slot_arg;

/* One slot's thread: claim the next batch, wait for its items, enqueue it, wait for the
 * device, deliver; one batch at a time, so a thread waiting for inputs never holds an
 * unfinished batch and the oldest undelivered batch always progresses. While this thread
 * waits for nvJPEG or the device, the device's other slot threads stage and enqueue. */
static odet_status slot_loop(pl_run *r, pl_device *d, pl_slot *s)
{
	const odet_backend *be = d->e->be;
	odet_status rc;
	if (be->set_device && (rc = be->set_device(d->ctx, d->device)))
		return rc;
	pl_item *items[PL_MAX_BATCH];
	if (r->B > PL_MAX_BATCH)
		return odet_error(d->ctx, ODET_ERR_LIMIT, "batch %d over the pipeline's %d", r->B, PL_MAX_BATCH);
	for (;;) {
		pthread_mutex_lock(&r->mu);
		int64_t j = r->stop ? r->n_batches : r->next_batch;
		if (j < r->n_batches)
			r->next_batch++;
		pthread_mutex_unlock(&r->mu);
		if (j >= r->n_batches)
			return ODET_OK;
		double t0 = odet_now_s();
		pthread_mutex_lock(&r->mu);
		/* a pull source's END may show that batch j will never come */
		while (!r->stop && j < r->n_batches && !batch_ready(r, j))
			pthread_cond_wait(&r->cv, &r->mu);
		bool stop = r->stop != ODET_OK || j >= r->n_batches;
		int nb = stop ? 0 : (int)batch_count(r, j);
		pthread_mutex_unlock(&r->mu);
		s->st.wait_input_s += odet_now_s() - t0;
		if (stop)
			return ODET_OK;
		int64_t first = j * r->B;
		for (int i = 0; i < nb; i++)
			items[i] = &r->ring[(first + i) % r->W];
		pl_result res;
		if ((rc = pl_slot_enqueue(d, s, items, nb, j)) || (rc = pl_slot_finish(d, s, &res)))
			return rc;
		deliver(r, &res, j);
	}
}

static void *slot_main(void *arg)
{
	pl_slot_arg *sa = arg;
	pl_device *d = sa->d;
	pl_slot *s = sa->s;
	s->rc = slot_loop(sa->r, d, s);
	if (s->rc) {
		char msg[1100];
		if (d->device >= 0)
			snprintf(msg, sizeof msg, "device %d: %s", d->device, odet_ctx_last_error(d->ctx));
		else
			snprintf(msg, sizeof msg, "%s", odet_ctx_last_error(d->ctx));
		set_stop(sa->r, s->rc, msg);
		/* what is in flight is dropped: wait for it so its buffers can be reused or freed */
		if (s->busy) {
			d->e->be->stream_sync(d->ctx, s->x->stream);
			s->busy = false;
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
	a->decode_submit_s += b->decode_submit_s;
	a->engine_submit_s += b->engine_submit_s;
}

/* The one run loop: a list of paths or inputs (n), or a pull source (n unknown). */
static odet_status run_loop(odet_pipeline *p, const char *const *paths, const odet_image_input *inputs, int64_t n,
			    odet_pull_fn pull, odet_result_fn fn, void *user, odet_pipeline_stats *stats)
{
	odet_ctx *ctx = p->ctx;
	double t0 = odet_now_s();
	pl_run r;
	memset(&r, 0, sizeof r);
	r.p = p;
	r.paths = paths;
	r.inputs = inputs;
	r.pull = pull;
	r.n = pull ? INT64_MAX : n;
	r.B = p->batch;
	r.n_batches = pull ? INT64_MAX : (n + r.B - 1) / r.B;
	r.fn = fn;
	r.user = user;
	int n_slots = 0;
	for (int i = 0; i < p->n_dev; i++) {
		r.gpu_jpeg |= p->dev[i].nj != NULL;
		for (int k = 0; k < p->dev[i].n_slots; k++)
			memset(&p->dev[i].slots[k].st, 0, sizeof p->dev[i].slots[k].st);
		n_slots += p->dev[i].n_slots;
	}
	r.W = (int64_t)r.B * (n_slots + 2);
	int n_readers = p->opts.read_threads > 0 ? p->opts.read_threads : default_readers();
	pl_reader *rd = odet_calloc(ctx, (size_t)n_readers, sizeof *rd);
	pl_slot_arg *sa = odet_calloc(ctx, (size_t)n_slots, sizeof *sa);
	r.ring = odet_calloc(ctx, (size_t)r.W, sizeof *r.ring);
	r.done = odet_calloc(ctx, (size_t)r.W, sizeof *r.done);
	r.pending = odet_calloc(ctx, (size_t)(r.W / r.B), sizeof *r.pending);
	r.has_pending = odet_calloc(ctx, (size_t)(r.W / r.B), sizeof *r.has_pending);
	if (pull)
		r.batch_n = odet_calloc(ctx, (size_t)(r.W / r.B), sizeof *r.batch_n);
	odet_status rc = ODET_OK;
	if (!rd || !sa || !r.ring || !r.done || !r.pending || !r.has_pending || (pull && !r.batch_n)) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int64_t i = 0; i < r.W; i++)
		r.done[i] = -1;
	for (int64_t i = 0; pull && i < r.W / r.B; i++)
		r.batch_n[i] = -1;
	pthread_mutex_init(&r.pmu, NULL);
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
	int q = 0;
	for (int i = 0; i < p->n_dev; i++)
		for (int k = 0; k < p->dev[i].n_slots && !r.stop; k++, q++) {
			pl_slot *s = &p->dev[i].slots[k];
			sa[q] = (pl_slot_arg){.r = &r, .d = &p->dev[i], .s = s};
			if (pthread_create(&s->thread, NULL, slot_main, &sa[q]) != 0) {
				set_stop(&r, ODET_ERR_INTERNAL, "cannot start a device thread");
				break;
			}
			s->started = true;
		}
	for (int i = 0; i < p->n_dev; i++)
		for (int k = 0; k < p->dev[i].n_slots; k++)
			if (p->dev[i].slots[k].started) {
				pthread_join(p->dev[i].slots[k].thread, NULL);
				p->dev[i].slots[k].started = false;
			}
	set_stop(&r, r.stop ? r.stop : ODET_OK, NULL); /* wake readers blocked on the window */
	pthread_mutex_lock(&r.mu);
	if (!r.stop)
		r.next_read = r.n;
	r.ended = true;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	for (int i = 0; i < n_readers; i++)
		if (rd[i].started)
			pthread_join(rd[i].thread, NULL);
	rc = r.stop;
	if (rc)
		odet_error(ctx, rc, "%s", r.stop_msg);
	pthread_mutex_destroy(&r.pmu);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.dmu);
out_free:
	if (stats) {
		*stats = r.st;
		for (int i = 0; i < p->n_dev; i++)
			for (int k = 0; k < p->dev[i].n_slots; k++)
				add_stats(stats, &p->dev[i].slots[k].st);
		stats->seconds = odet_now_s() - t0;
	}
	for (int64_t i = 0; r.ring && i < r.W; i++)
		pl_item_clear(&r.ring[i]);
	for (int64_t i = 0; r.pending && i < r.W / r.B; i++)
		pl_result_free(&r.pending[i]);
	for (int i = 0; rd && i < n_readers; i++)
		odet_ctx_destroy(rd[i].ctx);
	free(rd);
	free(sa);
	free(r.ring);
	free(r.done);
	free(r.pending);
	free(r.has_pending);
	free(r.batch_n);
	return rc;
}

odet_status odet_pipeline_run(odet_pipeline *p, const char *const *paths, int64_t n, odet_result_fn fn,
			      void *user, odet_pipeline_stats *stats)
{
	if (!p || (n && !paths) || n < 0)
		return ODET_ERR_INVALID_ARG;
	return run_loop(p, paths, NULL, n, NULL, fn, user, stats);
}

odet_status odet_pipeline_run_inputs(odet_pipeline *p, const odet_image_input *inputs, int64_t n, odet_result_fn fn,
				     void *user, odet_pipeline_stats *stats)
{
	if (!p || (n && !inputs) || n < 0)
		return ODET_ERR_INVALID_ARG;
	for (int64_t i = 0; i < n; i++)
		if (!inputs[i].data && !inputs[i].name)
			return odet_error(p->ctx, ODET_ERR_INVALID_ARG, "input %lld: neither bytes nor a path",
					  (long long)i);
	return run_loop(p, NULL, inputs, n, NULL, fn, user, stats);
}

odet_status odet_pipeline_run_pull(odet_pipeline *p, odet_pull_fn next, odet_result_fn fn, void *user,
				   odet_pipeline_stats *stats)
{
	if (!p || !next)
		return ODET_ERR_INVALID_ARG;
	return run_loop(p, NULL, NULL, 0, next, fn, user, stats);
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
	pl_item_load(d->ctx, &p->one, NULL, 0, d->nj != NULL);
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
