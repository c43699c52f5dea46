/* mux.c — the stream muxer (see mux.h). */
#include "pipeline/mux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct timespec abs_time(double t)
{
	struct timespec ts;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void source_end(mx_source *s, odet_status st, const char *msg)
{
	mx *m = s->m;
	pthread_mutex_lock(&m->mu);
	s->status = st;
	if (msg && *msg)
		snprintf(s->msg, sizeof s->msg, "%s", msg);
	s->ended = true;
	m->n_live--;
	pthread_cond_broadcast(&m->cv_data);
	pthread_mutex_unlock(&m->mu);
}

/* Realtime: wait until the frame's time on the source's clock; false when stopped. */
static bool pace(mx_source *s, double t0, double pts0, double pts)
{
	mx *m = s->m;
	double target = t0 + (pts - pts0);
	pthread_mutex_lock(&m->mu);
	while (!m->stop && odet_now_s() < target) {
		struct timespec ts = abs_time(target);
		pthread_cond_timedwait(&m->cv_space, &m->mu, &ts);
	}
	bool go = !m->stop;
	pthread_mutex_unlock(&m->mu);
	return go;
}

void mx_frame_free(mx_frame *f)
{
	io_image_free(&f->img);
	if (f->nv_dec)
		io_nvdec_release(f->nv_dec, f->nv.buf);
	f->nv_dec = NULL;
}

static void *source_main(void *arg)
{
	mx_source *s = arg;
	mx *m = s->m;
	const mx_reader *rd = &s->rd;
	double t = odet_now_s();
	odet_status rc = rd->open(rd->self, s->ctx, &s->w, &s->h, &s->fps, s->codec);
	s->decode_s += odet_now_s() - t;
	if (rc) {
		source_end(s, rc, odet_ctx_last_error(s->ctx));
		rd->close(rd->self);
		return NULL;
	}
	double t0 = 0, pts0 = 0;
	for (;;) {
		if (m->max_frames && s->decoded >= m->max_frames)
			break;
		mx_frame fr = {0};
		bool eof = false;
		t = odet_now_s();
		rc = rd->read_frame ? rd->read_frame(rd->self, &fr, &eof) : rd->read(rd->self, &fr.img, &fr.pts, &eof);
		s->decode_s += odet_now_s() - t;
		if (rc || eof)
			break;
		const double pts = fr.pts;
		if (m->realtime) {
			if (s->decoded == 0) {
				t0 = odet_now_s();
				pts0 = pts;
			}
			if (!pace(s, t0, pts0, pts)) {
				mx_frame_free(&fr);
				break;
			}
		}
		pthread_mutex_lock(&m->mu);
		while (!m->stop && !m->realtime && s->q_n == m->q_cap)
			pthread_cond_wait(&m->cv_space, &m->mu);
		if (m->stop) {
			pthread_mutex_unlock(&m->mu);
			mx_frame_free(&fr);
			break;
		}
		if (s->q_n == m->q_cap) { /* realtime: a live source drops what nobody took */
			mx_frame_free(&s->q[s->q_head]);
			s->q_head = (s->q_head + 1) % m->q_cap;
			s->q_n--;
			m->queued--;
			s->dropped++;
		}
		mx_frame *f = &s->q[(s->q_head + s->q_n) % m->q_cap];
		fr.source = s->index;
		fr.index = s->decoded;
		fr.t_ready = odet_now_s();
		*f = fr;
		s->q_n++;
		s->decoded++;
		m->queued++;
		pthread_cond_broadcast(&m->cv_data);
		pthread_mutex_unlock(&m->mu);
	}
	s->corrupt = rd->corrupt ? rd->corrupt(rd->self) : 0;
	if (rc)
		source_end(s, rc, odet_ctx_last_error(s->ctx));
	else
		source_end(s, ODET_OK, rd->end_message ? rd->end_message(rd->self) : "");
	rd->close(rd->self);
	return NULL;
}

odet_status mx_start(odet_ctx *ctx, const mx_opts *o, const char *const *names, const mx_reader *readers, int n,
		     mx **out)
{
	*out = NULL;
	if (n < 1 || o->batch < 1 || o->queue_frames < 1 || o->queue_frames > 4096)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "muxer: at least one source, batch >= 1, queue 1..4096");
	mx *m = odet_calloc(ctx, 1, sizeof *m);
	if (!m)
		return ODET_ERR_NO_MEMORY;
	m->n = n;
	m->B = o->batch;
	m->q_cap = o->queue_frames;
	m->timeout_s = o->timeout_s;
	m->realtime = o->realtime;
	m->max_frames = o->max_frames;
	m->n_live = n;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv_data, &ca);
	pthread_cond_init(&m->cv_space, &ca);
	pthread_condattr_destroy(&ca);
	odet_status rc = ODET_ERR_NO_MEMORY;
	if (!(m->src = odet_calloc(ctx, (size_t)n, sizeof *m->src)))
		goto out_destroy;
	for (int i = 0; i < n; i++) {
		mx_source *s = &m->src[i];
		s->m = m;
		s->index = i;
		s->name = names[i];
		s->rd = readers[i];
		if (!(s->q = odet_calloc(ctx, (size_t)m->q_cap, sizeof *s->q)))
			goto out_destroy;
		odet_ctx_opts co = ctx->opts;
		co.n_threads = 1;
		co.tune_cache = NULL;
		if ((rc = odet_ctx_create(&co, &s->ctx)))
			goto out_destroy;
	}
	for (int i = 0; i < n; i++) {
		mx_source *s = &m->src[i];
		if (pthread_create(&s->thread, NULL, source_main, s) != 0) {
			rc = odet_error(ctx, ODET_ERR_INTERNAL, "muxer: cannot start a source thread");
			pthread_mutex_lock(&m->mu);
			for (int k = i; k < n; k++) {
				m->src[k].ended = true;
				m->n_live--;
			}
			pthread_mutex_unlock(&m->mu);
			goto out_destroy;
		}
		s->started = true;
	}
	*out = m;
	return ODET_OK;
out_destroy:
	mx_destroy(m);
	return rc;
}

/* The queued frame that has waited longest (-1 when none); called with mu held. */
static double oldest_ready(const mx *m)
{
	double t = -1;
	for (int i = 0; i < m->n; i++) {
		const mx_source *s = &m->src[i];
		if (s->q_n && (t < 0 || s->q[s->q_head].t_ready < t))
			t = s->q[s->q_head].t_ready;
	}
	return t;
}

void mx_next_batch(mx *m, mx_frame *out, int *n_out, int64_t *seq)
{
	*n_out = 0;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		if (m->stop)
			goto out_unlock;
		if (m->queued >= m->B || (m->queued && m->n_live == 0))
			break;
		if (!m->queued && m->n_live == 0)
			goto out_unlock;
		if (m->queued) {
			double due = oldest_ready(m) + m->timeout_s;
			if (odet_now_s() >= due)
				break;
			struct timespec ts = abs_time(due);
			pthread_cond_timedwait(&m->cv_data, &m->mu, &ts);
		} else {
			pthread_cond_wait(&m->cv_data, &m->mu);
		}
	}
	/* one frame from each non-empty queue in turn, from a rotating first source */
	int n = 0;
	while (n < m->B && m->queued) {
		for (int k = 0; k < m->n && n < m->B; k++) {
			mx_source *s = &m->src[(m->rr + k) % m->n];
			if (!s->q_n)
				continue;
			out[n++] = s->q[s->q_head];
			memset(&s->q[s->q_head], 0, sizeof s->q[s->q_head]);
			s->q_head = (s->q_head + 1) % m->q_cap;
			s->q_n--;
			m->queued--;
		}
	}
	m->rr = (m->rr + 1) % m->n;
	*n_out = n;
	*seq = m->next_seq++;
	pthread_cond_broadcast(&m->cv_space);
out_unlock:
	pthread_mutex_unlock(&m->mu);
}

void mx_stop(mx *m)
{
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_broadcast(&m->cv_data);
	pthread_cond_broadcast(&m->cv_space);
	pthread_mutex_unlock(&m->mu);
}

void mx_destroy(mx *m)
{
	if (!m)
		return;
	mx_stop(m);
	for (int i = 0; m->src && i < m->n; i++) {
		mx_source *s = &m->src[i];
		if (s->started)
			pthread_join(s->thread, NULL);
	}
	for (int i = 0; m->src && i < m->n; i++) {
		mx_source *s = &m->src[i];
		for (int k = 0; s->q && k < s->q_n; k++)
			mx_frame_free(&s->q[(s->q_head + k) % m->q_cap]);
		free(s->q);
		odet_ctx_destroy(s->ctx);
	}
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv_data);
	pthread_cond_destroy(&m->cv_space);
	free(m->src);
	free(m);
}
