/*
 * worker.c — odet_worker_run: odet as a consumer of a Redis Streams job queue.
 *
 *   fetching thread: [every visibility/4: XAUTOCLAIM jobs idle past the visibility timeout,
 *         with their delivery counts (XPENDING)] → XREADGROUP new jobs until the batch is full
 *         or batch_timeout_ms after its first job → check each job's fields → the queue of
 *         fetched batches (a pool of batches bounds it)
 *   the pipeline (odet_pipeline_run_pull, one run for the worker's life): its reading threads
 *         pull the fetched jobs one by one (the bytes, or the file); FLUSH when no batch is
 *         fetched and the last one came back short (or batch_timeout_ms passed), END once the
 *         fetching thread has stopped; results come back in order (on_result)
 *   writing thread: a batch whose every job has its result → per job one EVAL of FINISH
 *         (pipelined): the result key SET NX, the result stream entry only when the key was
 *         new, the dead-letter entry for a poison job, XACK and XDEL of the job.
 *
 * So Redis reads, the engine and Redis writes overlap, and the pipeline streams from one batch
 * to the next as `odet detect` does over a long list (each thread has its own connection and
 * context; w->mu guards the queues, the pool and the counters).
 *
 * Delivery is at least once (a job is acknowledged only with its result, so a worker that dies
 * leaves it pending for XAUTOCLAIM); the effect is exactly once (the first result written
 * wins, atomically with the acknowledgement). Jobs whose content is bad (not an image,
 * over the pixel or payload limit, malformed fields) are dead-lettered at once; a file that
 * cannot be read is retried (left pending) until its max_attempts-th delivery; a job delivered
 * more than max_attempts times without a result (it killed its workers) is dead-lettered
 * without running. A lost connection is reopened (retry_s) and the batch's outcomes written
 * again (FINISH is idempotent); a job whose outcome was never written is reclaimed later.
 */
#include "pipeline/pipeline.h"
#include "serve/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* KEYS: result key, result stream, job stream, dead-letter stream.
 * ARGV: job id, result JSON, group, entry id, TTL s (0 none), result stream MAXLEN, reason
 * ("" = not dead-lettered), deliveries. Returns 1 when this call wrote the result. */
static const char FINISH[] =
	"local new\n"
	"if ARGV[5] ~= '0' then new = redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[5])\n"
	"else new = redis.call('SET', KEYS[1], ARGV[2], 'NX') end\n"
	"if new then\n"
	"  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[1], 'result', ARGV[2])\n"
	"  if ARGV[7] ~= '' then\n"
	"    local f = {'id', ARGV[1], 'reason', ARGV[7], 'deliveries', ARGV[8], 'entry', ARGV[4]}\n"
	"    local e = redis.call('XRANGE', KEYS[3], ARGV[4], ARGV[4])\n"
	"    if e[1] then\n"
	"      for i = 1, #e[1][2], 2 do\n"
	"        if e[1][2][i] ~= 'id' then f[#f + 1] = e[1][2][i]; f[#f + 1] = e[1][2][i + 1] end\n"
	"      end\n"
	"    end\n"
	"    redis.call('XADD', KEYS[4], '*', unpack(f))\n"
	"  end\n"
	"end\n"
	"redis.call('XACK', KEYS[3], ARGV[3], ARGV[4])\n"
	"redis.call('XDEL', KEYS[3], ARGV[4])\n"
	"if new then return 1 end\n"
	"return 0\n";

static void q_push(sv_queue *q, sv_batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
}

static sv_batch *q_pop(sv_queue *q)
{
	sv_batch *b = q->head;
	if (b && !(q->head = b->next))
		q->tail = NULL;
	return b;
}

/* The pipeline's source (its reading threads, one call at a time): the next fetched job;
 * FLUSH when none is fetched and the open engine batch should run now (the last fetch came
 * back short, the fetching thread stopped, or batch_timeout_ms passed); END once the fetching
 * thread has stopped and every fetched job was pulled. Waits at most SV_IDLE_BLOCK_MS before
 * answering (FLUSH), so a run stopped by a failure never waits on it for long. */
static odet_status pull_job(void *user, odet_image_input *in, odet_pull *what)
{
	sv_worker *w = user;
	odet_status rc = ODET_OK;
	*what = ODET_PULL_FLUSH;
	pthread_mutex_lock(&w->mu);
	double wait_s = SV_IDLE_BLOCK_MS * 1e-3;
	if (w->open_n && w->o->batch_timeout_ms * 1e-3 < wait_s)
		wait_s = w->o->batch_timeout_ms * 1e-3;
	double deadline = odet_now_s() + wait_s;
	for (;;) {
		if (w->write_rc) {
			rc = odet_error(w->ctx, w->write_rc, "%s", odet_ctx_last_error(w->main.ctx));
			break;
		}
		sv_batch *b = w->ready.head;
		while (b && b->cursor < b->n && b->jobs[b->cursor].state != JOB_RUN)
			b->cursor++;
		if (b && b->cursor < b->n) {
			sv_job *j = &b->jobs[b->cursor++];
			*in = (odet_image_input){.name = j->image ? j->id : j->path, .data = j->image, .size = j->image_len};
			w->ord[w->n_pulled++ % w->n_ord] = j;
			w->open_n = (w->open_n + 1) % w->engine_B;
			*what = ODET_PULL_INPUT;
			/* a batch leaves the queue with its last job, before that job's result can come */
			while (b->cursor < b->n && b->jobs[b->cursor].state != JOB_RUN)
				b->cursor++;
			if (b->cursor == b->n)
				q_pop(&w->ready);
			break;
		}
		if (b) { /* not reached: a batch in the queue has a job to run */
			q_pop(&w->ready);
			continue;
		}
		if (w->fetch_over) {
			if (w->fetch_rc)
				rc = odet_error(w->ctx, w->fetch_rc, "%s", odet_ctx_last_error(w->fetch.ctx));
			*what = ODET_PULL_END;
			break;
		}
		if (w->open_n && w->last_short)
			break; /* FLUSH: no more jobs queued in Redis for now */
		double left = deadline - odet_now_s();
		if (left <= 0)
			break; /* FLUSH (a no-op when no batch is open) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		double t = (double)ts.tv_sec + ts.tv_nsec * 1e-9 + left;
		ts.tv_sec = (time_t)t;
		ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	if (*what == ODET_PULL_FLUSH)
		w->open_n = 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* One job's detections, or why it failed (job state: done, dead, retry). */
static odet_status result_json(sv_worker *w, sv_job *j, const odet_image_result *r)
{
	if (r->status) {
		const char *msg = r->error ? r->error : odet_status_str(r->status);
		snprintf(j->reason, sizeof j->reason, "%s: %s", odet_status_str(r->status), msg);
		/* a file not there may be there later (shared storage); bad content stays bad */
		bool transient = r->status == ODET_ERR_IO || r->status == ODET_ERR_NO_MEMORY;
		j->why = r->status;
		j->state = transient && j->deliveries < w->o->max_attempts ? JOB_RETRY : JOB_DEAD;
		return ODET_OK;
	}
	sv_buf *b = &j->out;
	sv_buf_printf(b, "{\"id\":");
	sv_buf_json_str(b, j->id, strlen(j->id));
	sv_buf_printf(b, ",\"ok\":true,\"width\":%d,\"height\":%d,\"detections\":[", r->width, r->height);
	int k = 0;
	for (int i = 0; i < r->count; i++) {
		if (j->score >= 0 && r->scores[i] < j->score)
			continue;
		const float *bx = r->boxes + 4 * i;
		sv_buf_printf(b, "%s[%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d]", k++ ? "," : "", bx[0], bx[1], bx[2], bx[3],
			      r->scores[i], r->classes[i], odet_coco_category_id(&w->mi, r->classes[i]));
	}
	sv_buf_printf(b, "]}");
	if (b->failed)
		return odet_error(w->ctx, ODET_ERR_NO_MEMORY, "no memory for a result");
	j->state = JOB_DONE;
	return ODET_OK;
}

/* The pipeline's callback: one job's detections (or why it failed) as its result; a batch
 * whose every job is back goes to the writing thread. */
static odet_status on_result(void *user, const odet_image_result *r)
{
	sv_worker *w = user;
	sv_job *j = w->ord[r->index % w->n_ord];
	odet_status rc = result_json(w, j, r);
	sv_batch *b = j->batch;
	pthread_mutex_lock(&w->mu);
	if (++b->delivered == b->m) {
		q_push(&w->done, b);
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Write every finished job's outcome (pipelined FINISH scripts) and read the replies; the
 * counts go to *st (the writing thread's). */
static odet_status write_outcomes(sv_worker *w, sv_batch *b, odet_worker_stats *st)
{
	const odet_worker_opts *o = w->o;
	odet_ctx *ctx = w->main.ctx;
	char ttl[32], maxlen[32];
	snprintf(ttl, sizeof ttl, "%d", o->result_ttl_s);
	snprintf(maxlen, sizeof maxlen, "%lld", (long long)o->results_maxlen);
	size_t rkl = strlen(o->queue.results) + SV_MAX_ID + 2;
	char *rkey = malloc(rkl);
	if (!rkey)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory");
	odet_status rc = ODET_OK;
	int sent = 0;
	for (int i = 0; i < b->n; i++) {
		sv_job *j = &b->jobs[i];
		if (j->state == JOB_RETRY || j->state == JOB_RUN)
			continue;
		if (j->state == JOB_DEAD && j->out.n == 0) {
			sv_buf_printf(&j->out, "{\"id\":");
			sv_buf_json_str(&j->out, j->id, strlen(j->id));
			sv_buf_printf(&j->out, ",\"ok\":false,\"status\":\"%s\",\"error\":",
				      odet_status_str(j->why));
			sv_buf_json_str(&j->out, j->reason, strlen(j->reason));
			sv_buf_printf(&j->out, "}");
		}
		if (j->out.failed) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for a result");
			goto out;
		}
		snprintf(rkey, rkl, "%s:%s", o->queue.results, j->id);
		char dl[32];
		snprintf(dl, sizeof dl, "%lld", j->deliveries);
		const char *argv[] = {"EVAL", FINISH, "4", rkey, o->queue.results, o->queue.stream, o->queue.dead_letter,
				      j->id, j->out.p, o->queue.group, j->entry, ttl, maxlen,
				      j->state == JOB_DEAD ? j->reason : "", dl};
		if ((rc = rd_append(w->main.c, 15, argv, NULL)))
			goto out;
		sent++;
	}
	for (int i = 0, k = 0; i < b->n && k < sent; i++) {
		sv_job *j = &b->jobs[i];
		if (j->state == JOB_RETRY || j->state == JOB_RUN)
			continue;
		k++;
		rd_reply *r;
		if ((rc = rd_get(w->main.c, &r)))
			goto out;
		if (rd_type(r) == RD_ERROR) {
			rc = odet_error(ctx, ODET_ERR_IO, "writing the result of job %s: %s", j->id, rd_str(r, NULL));
			rd_free(w->main.c, r);
			goto out;
		}
		if (rd_int(r) == 0)
			st->duplicates++;
		else if (j->state == JOB_DEAD)
			st->dead_lettered++;
		else
			st->jobs++;
		if (j->state == JOB_DEAD && rd_int(r))
			odet_log(ctx, ODET_LOG_WARN, "job %s dead-lettered to %s: %s", j->id, o->queue.dead_letter,
				 j->reason);
		rd_free(w->main.c, r);
	}
	for (int i = 0; i < b->n; i++)
		if (b->jobs[i].state == JOB_RETRY) {
			st->retried++;
			odet_log(ctx, ODET_LOG_WARN, "job %s (delivery %lld of %d) left for a retry: %s", b->jobs[i].id,
				 b->jobs[i].deliveries, o->max_attempts, b->jobs[i].reason);
		}
out:
	free(rkey);
	return rc;
}

static odet_status pending_count(sv_worker *w, sv_link *l, int64_t *out)
{
	const char *argv[] = {"XPENDING", w->o->queue.stream, w->o->queue.group};
	rd_reply *r;
	odet_status rc = rd_cmd(l->c, 3, argv, NULL, &r);
	if (rc)
		return rc;
	if (rd_type(r) != RD_ARRAY)
		rc = odet_error(l->ctx, ODET_ERR_IO, "XPENDING %s %s: %s", w->o->queue.stream, w->o->queue.group,
				rd_type(r) == RD_ERROR ? rd_str(r, NULL) : "not an array");
	*out = rd_int(rd_at(r, 0));
	rd_free(l->c, r);
	return rc;
}

static odet_status check_opts(odet_ctx *ctx, const odet_worker_opts *o)
{
	if (o->batch < 0 || o->batch > 4096 || o->batch_timeout_ms < 0 || o->batch_timeout_ms > 60000 ||
	    o->visibility_ms < 1 || o->max_attempts < 1 || o->result_ttl_s < 0 || o->results_maxlen < 1 ||
	    o->max_payload < 1 || !(o->idle_exit_s >= 0) || !(o->metrics_s >= 0) ||
	    (o->consumer && (!*o->consumer || strlen(o->consumer) > 100)))
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "worker options: batch 0..4096, batch timeout 0..60000 ms, visibility >= 1 ms, "
				  "max attempts >= 1, TTL >= 0, a consumer name of 1 to 100 bytes");
	return ODET_OK;
}

/* Metrics (when due) and the idle exit's check, on the fetching thread's connection. Sets
 * *idle when the worker may leave: nothing read for idle_exit_s and nothing pending. */
static odet_status fetch_tick(sv_worker *w, double last_job, double *last_metrics, int64_t *jobs_at_metrics,
			      bool *idle)
{
	const odet_worker_opts *o = w->o;
	double now = odet_now_s();
	bool metrics_due = o->metrics_s > 0 && now - *last_metrics >= o->metrics_s;
	*idle = false;
	if (!metrics_due && !(o->idle_exit_s > 0 && now - last_job >= o->idle_exit_s))
		return ODET_OK;
	int64_t pending;
	odet_status rc;
	while ((rc = pending_count(w, &w->fetch, &pending)) == ODET_ERR_IO)
		if ((rc = sv_reconnect(w, &w->fetch)))
			return rc;
	if (rc)
		return rc;
	pthread_mutex_lock(&w->mu);
	w->st.pending = pending;
	/* pending counts this worker's unacknowledged jobs too, so 0 means none is in flight */
	*idle = o->idle_exit_s > 0 && now - last_job >= o->idle_exit_s && pending == 0;
	odet_worker_stats st = w->st;
	pthread_mutex_unlock(&w->mu);
	if (metrics_due) {
		st.reconnects = w->main.reconnects + w->fetch.reconnects;
		int64_t done = st.jobs + st.dead_lettered + st.duplicates;
		st.jobs_per_s = (double)(done - *jobs_at_metrics) / (now - *last_metrics);
		st.seconds = now - w->t0;
		st.batch_fill = st.batches ? (double)w->jobs_total / ((double)st.batches * w->B) : 0;
		*jobs_at_metrics = done;
		*last_metrics = now;
		if (o->metrics)
			o->metrics(o->user, &st);
	}
	return ODET_OK;
}

/* The fetching thread: batches from Redis into the ready queue (a batch of poison jobs only
 * straight to the writer) until should_stop, the idle exit, a failure or the run's end. */
static void *fetch_main(void *arg)
{
	sv_worker *w = arg;
	const odet_worker_opts *o = w->o;
	double last_job = odet_now_s(), last_metrics = last_job;
	int64_t jobs_at_metrics = 0;
	odet_status rc = ODET_OK;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->free_q.head && !w->run_over && !w->write_rc)
			pthread_cond_wait(&w->cv, &w->mu);
		sv_batch *b = w->run_over || w->write_rc ? NULL : q_pop(&w->free_q);
		pthread_mutex_unlock(&w->mu);
		/* a stop runs what was already read, then leaves */
		if (!b || (o->should_stop && o->should_stop(o->user))) {
			if (b) {
				pthread_mutex_lock(&w->mu);
				q_push(&w->free_q, b);
				pthread_mutex_unlock(&w->mu);
			}
			break;
		}
		if ((rc = sv_fetch(w, &w->fetch, b)))
			break;
		double now = odet_now_s();
		int m = 0;
		for (int i = 0; i < b->n; i++)
			m += b->jobs[i].state == JOB_RUN;
		b->m = m;
		b->cursor = 0;
		b->delivered = 0;
		pthread_mutex_lock(&w->mu);
		w->last_short = b->n < w->B;
		if (b->n) {
			last_job = now;
			if (!w->first_job)
				w->first_job = now;
			w->st.batches += m > 0;
			w->jobs_total += m;
			q_push(m ? &w->ready : &w->done, b);
		} else {
			q_push(&w->free_q, b);
		}
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		bool idle;
		if ((rc = fetch_tick(w, last_job, &last_metrics, &jobs_at_metrics, &idle)) || idle)
			break;
	}
	pthread_mutex_lock(&w->mu);
	w->fetch_rc = rc;
	w->fetch_over = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* The writing thread: each batch whose results are all back, its outcomes written (again
 * after a reconnection: FINISH is idempotent), then the batch back to the pool; once the run
 * is over, what is left in the queue, then it leaves. */
static void *write_main(void *arg)
{
	sv_worker *w = arg;
	odet_status rc = ODET_OK;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->done.head && !w->run_over)
			pthread_cond_wait(&w->cv, &w->mu);
		sv_batch *b = q_pop(&w->done);
		pthread_mutex_unlock(&w->mu);
		if (!b)
			break;
		sv_free_replies(b);
		odet_worker_stats st;
		memset(&st, 0, sizeof st);
		while ((rc = write_outcomes(w, b, &st)) == ODET_ERR_IO)
			if ((rc = sv_reconnect(w, &w->main)))
				break;
		sv_batch_clear(b);
		pthread_mutex_lock(&w->mu);
		w->st.jobs += st.jobs;
		w->st.dead_lettered += st.dead_lettered;
		w->st.duplicates += st.duplicates;
		w->st.retried += st.retried;
		w->st.busy_s = odet_now_s() - w->first_job;
		q_push(&w->free_q, b);
		w->write_rc = rc;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		if (rc)
			break;
	}
	return NULL;
}

/* A batch's job array and, over the pool, the index → job ring. */
static odet_status make_pool(sv_worker *w)
{
	/* enough batches for the pipeline's window of engine batches (slots + 2 of them) and 3
	 * more (fetched ahead, being written), so the pool never holds the pipeline back */
	int slots = 0;
	for (int i = 0; i < w->p->n_dev; i++)
		slots += w->p->dev[i].n_slots;
	int64_t window = (int64_t)w->engine_B * (slots + 2);
	w->n_pool = (int)((window + w->B - 1) / w->B) + 3;
	w->n_ord = (int64_t)w->n_pool * w->B;
	w->pool = calloc((size_t)w->n_pool, sizeof *w->pool);
	w->ord = calloc((size_t)w->n_ord, sizeof *w->ord);
	if (!w->pool || !w->ord)
		return ODET_ERR_NO_MEMORY;
	for (int k = 0; k < w->n_pool; k++) {
		if (!(w->pool[k].jobs = calloc((size_t)w->B, sizeof *w->pool[k].jobs)))
			return ODET_ERR_NO_MEMORY;
		q_push(&w->free_q, &w->pool[k]);
	}
	return ODET_OK;
}

odet_status odet_worker_run(odet_pipeline *p, const odet_worker_opts *opts, odet_worker_stats *stats)
{
	if (!p || !opts)
		return ODET_ERR_INVALID_ARG;
	odet_ctx *ctx = p->ctx;
	odet_status rc;
	sv_worker w;
	memset(&w, 0, sizeof w);
	w.p = p;
	w.ctx = ctx;
	w.o = opts;
	if ((rc = check_opts(ctx, opts)) || (rc = odet_pipeline_model_info(p, &w.mi)))
		return rc;
	/* default: one engine batch per fetch (the pipeline streams from one to the next) */
	w.engine_B = odet_pipeline_batch(p);
	w.B = opts->batch ? opts->batch : w.engine_B;
	if (w.B > 4096)
		w.B = 4096;
	if (opts->consumer) {
		snprintf(w.consumer, sizeof w.consumer, "%s", opts->consumer);
	} else {
		char host[64] = "host";
		gethostname(host, sizeof host - 1);
		snprintf(w.consumer, sizeof w.consumer, "%s-%ld", host, (long)getpid());
	}
	snprintf(w.claim_cursor, sizeof w.claim_cursor, "0-0");
	w.t0 = odet_now_s();
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	odet_ctx_opts co = ctx->opts;
	co.n_threads = 1;
	co.tune_cache = NULL;
	pthread_t fetcher, writer;
	bool fetching = false, writing = false;
	void *lib = NULL;
	if ((rc = odet_ctx_create(&co, &w.fetch.ctx)) || (rc = odet_ctx_create(&co, &w.main.ctx)))
		goto out;
	if ((rc = make_pool(&w))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for %d batches of %d jobs", w.n_pool, w.B);
		goto out;
	}
	if ((rc = sv_open(w.main.ctx, &opts->queue, opts->batch_timeout_ms + SV_IDLE_BLOCK_MS, &w.url, &w.main.c)) ||
	    (rc = sv_connect(w.fetch.ctx, &opts->queue, &w.url, opts->batch_timeout_ms + SV_IDLE_BLOCK_MS, &w.fetch.c))) {
		odet_error(ctx, rc, "%s", odet_ctx_last_error(w.main.c ? w.fetch.ctx : w.main.ctx));
		goto out;
	}
	odet_log(ctx, ODET_LOG_INFO, "worker %s: %s stream %s group %s, batch %d", w.consumer, opts->queue.url,
		 opts->queue.stream, opts->queue.group, w.B);
	/* replies outlive their connection (a batch's, across reconnections of both threads) */
	lib = rd_hold();
	if (pthread_create(&writer, NULL, write_main, &w) != 0) {
		rc = odet_error(ctx, ODET_ERR_INTERNAL, "cannot start the worker's writing thread");
		goto out;
	}
	writing = true;
	if (pthread_create(&fetcher, NULL, fetch_main, &w) != 0) {
		rc = odet_error(ctx, ODET_ERR_INTERNAL, "cannot start the worker's fetching thread");
		goto out;
	}
	fetching = true;
	rc = odet_pipeline_run_pull(p, pull_job, on_result, &w, NULL);
out:
	pthread_mutex_lock(&w.mu);
	w.run_over = true;
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.mu);
	if (fetching)
		pthread_join(fetcher, NULL);
	if (writing)
		pthread_join(writer, NULL);
	/* the first failure names itself: Redis (reading, writing), else the pipeline's device */
	if (w.fetch_rc)
		rc = odet_error(ctx, w.fetch_rc, "%s", odet_ctx_last_error(w.fetch.ctx));
	else if (w.write_rc)
		rc = odet_error(ctx, w.write_rc, "%s", odet_ctx_last_error(w.main.ctx));
	else if (rc == ODET_ERR_IO && fetching)
		rc = odet_error(ctx, ODET_ERR_DEVICE, "%s", odet_ctx_last_error(ctx));
	for (int k = 0; w.pool && k < w.n_pool; k++) {
		sv_batch_clear(&w.pool[k]);
		free(w.pool[k].jobs);
		free(w.pool[k].replies);
	}
	free(w.pool);
	free(w.ord);
	w.st.seconds = odet_now_s() - w.t0;
	w.st.reconnects = w.main.reconnects + w.fetch.reconnects;
	w.st.batch_fill = w.st.batches ? (double)w.jobs_total / ((double)w.st.batches * w.B) : 0;
	if (stats)
		*stats = w.st;
	rd_close(w.main.c);
	rd_close(w.fetch.c);
	rd_unhold(lib);
	odet_ctx_destroy(w.fetch.ctx);
	odet_ctx_destroy(w.main.ctx);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}
