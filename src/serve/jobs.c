/*
 * jobs.c — a worker's jobs from Redis (the fetching thread of worker.c): XAUTOCLAIM of jobs
 * idle past the visibility timeout (with their delivery counts from XPENDING), XREADGROUP of
 * new ones until the batch is full or batch_timeout_ms after its first job, and each job's
 * fields checked (bad ones make it a poison job, dead-lettered without running).
 */
#include "serve/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The replies hold the batch's image bytes: freed once its results are all back. */
void sv_free_replies(sv_batch *b)
{
	for (int i = 0; i < b->n_replies; i++)
		b->free_reply(b->replies[i]);
	b->n_replies = 0;
}

void sv_batch_clear(sv_batch *b)
{
	sv_free_replies(b);
	for (int i = 0; i < b->n; i++) {
		free(b->jobs[i].path);
		sv_buf_free(&b->jobs[i].out);
	}
	b->n = 0;
}

/* A dead connection: connect again (retry_s). */
odet_status sv_reconnect(sv_worker *w, sv_link *l)
{
	rd_close(l->c);
	l->c = NULL;
	odet_log(l->ctx, ODET_LOG_WARN, "%s; reconnecting", odet_ctx_last_error(l->ctx));
	odet_status rc = sv_connect(l->ctx, &w->o->queue, &w->url, w->o->batch_timeout_ms + SV_IDLE_BLOCK_MS, &l->c);
	if (!rc)
		l->reconnects++;
	return rc;
}

static bool keep_reply(sv_batch *b, rd_reply *r)
{
	if (b->n_replies == b->cap_replies) {
		int cap = b->cap_replies ? 2 * b->cap_replies : 8;
		rd_reply **p = realloc(b->replies, (size_t)cap * sizeof *p);
		if (!p)
			return false;
		b->replies = p;
		b->cap_replies = cap;
	}
	b->replies[b->n_replies++] = r;
	return true;
}

static void dead(sv_job *j, const char *fmt, const char *arg)
{
	j->state = JOB_DEAD;
	j->why = ODET_ERR_BAD_INPUT;
	snprintf(j->reason, sizeof j->reason, fmt, arg);
}

static bool field_is(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && !memcmp(k, name, kn);
}

/* One stream entry [id, [field, value, ...]] → a job; bad fields make it a poison job. */
static void add_job(sv_worker *w, sv_batch *b, const rd_reply *e, long long deliveries)
{
	size_t idn;
	const char *eid = rd_str(rd_at(e, 0), &idn);
	const rd_reply *f = rd_at(e, 1);
	if (!eid || idn >= sizeof b->jobs[0].entry || b->n >= w->B)
		return; /* not an entry (a deleted one in a claim) */
	sv_job *j = &b->jobs[b->n++];
	memset(j, 0, sizeof *j);
	j->batch = b;
	memcpy(j->entry, eid, idn);
	snprintf(j->id, sizeof j->id, "%s", j->entry);
	j->score = -1;
	j->deliveries = deliveries;
	j->state = JOB_RUN;
	bool have_path = false;
	for (size_t i = 0; i + 1 < rd_n(f); i += 2) {
		size_t kn, vn;
		const char *k = rd_str(rd_at(f, i), &kn), *v = rd_str(rd_at(f, i + 1), &vn);
		if (!k || !v)
			continue;
		if (field_is(k, kn, "id")) {
			if (vn == 0 || vn > SV_MAX_ID || memchr(v, 0, vn)) {
				dead(j, "malformed job: the id field must be 1 to 256 bytes%s", "");
				continue;
			}
			memcpy(j->id, v, vn);
			j->id[vn] = 0;
		} else if (field_is(k, kn, "image")) {
			j->image = v;
			j->image_len = vn;
		} else if (field_is(k, kn, "path")) {
			have_path = true;
			if (vn == 0 || vn >= SV_MAX_PATH || memchr(v, 0, vn)) {
				dead(j, "malformed job: the path field must be 1 to 4095 bytes, no NUL%s", "");
				continue;
			}
			free(j->path);
			if (!(j->path = strndup(v, vn)))
				dead(j, "no memory for the path%s", "");
		} else if (field_is(k, kn, "score")) {
			char buf[32], *end;
			snprintf(buf, sizeof buf, "%.*s", (int)(vn < 31 ? vn : 31), v);
			j->score = strtof(buf, &end);
			if (vn == 0 || vn > 31 || *end || !(j->score >= 0 && j->score <= 1))
				dead(j, "malformed job: score '%s' is not a number in [0, 1]", buf);
		}
	}
	if (j->state == JOB_DEAD)
		return;
	if (deliveries > w->o->max_attempts) {
		char n[32];
		snprintf(n, sizeof n, "%lld", deliveries);
		dead(j, "delivered %s times without a result (a worker died on it, or max-attempts reached)", n);
	} else if (!j->image && !have_path) {
		dead(j, "malformed job: neither an image nor a path field%s", "");
	} else if (j->image && have_path) {
		dead(j, "malformed job: both an image and a path field%s", "");
	} else if (j->image && j->image_len > w->o->max_payload) {
		char n[64];
		snprintf(n, sizeof n, "%zu bytes, over the limit of %zu", j->image_len, w->o->max_payload);
		dead(j, "image payload of %s", n);
	} else if (j->image && j->image_len == 0) {
		dead(j, "malformed job: empty image field%s", "");
	}
}

/* Entries of a stream reply [[id, fields], ...]. */
static void add_entries(sv_worker *w, sv_batch *b, const rd_reply *list, long long deliveries)
{
	for (size_t i = 0; i < rd_n(list); i++)
		add_job(w, b, rd_at(list, i), deliveries);
}

/* XAUTOCLAIM up to the batch's free room; the claimed jobs' delivery counts from XPENDING. */
static odet_status claim(sv_worker *w, sv_link *l, sv_batch *b)
{
	const odet_worker_opts *o = w->o;
	char idle[32], count[32];
	snprintf(idle, sizeof idle, "%d", o->visibility_ms);
	snprintf(count, sizeof count, "%d", w->B - b->n);
	const char *argv[] = {"XAUTOCLAIM", o->queue.stream, o->queue.group, w->consumer, idle, w->claim_cursor,
			      "COUNT", count};
	rd_reply *r;
	odet_status rc = rd_cmd(l->c, 8, argv, NULL, &r);
	if (rc)
		return rc;
	if (!keep_reply(b, r)) {
		rd_free(l->c, r);
		return odet_error(l->ctx, ODET_ERR_NO_MEMORY, "no memory");
	}
	if (rd_type(r) == RD_ERROR)
		return odet_error(l->ctx, ODET_ERR_IO, "XAUTOCLAIM: %s", rd_str(r, NULL));
	size_t cn;
	const char *cur = rd_str(rd_at(r, 0), &cn);
	snprintf(w->claim_cursor, sizeof w->claim_cursor, "%.*s", cur && cn < 47 ? (int)cn : 3, cur ? cur : "0-0");
	const rd_reply *list = rd_at(r, 1);
	int first = b->n;
	add_entries(w, b, list, 1);
	/* delivery counts: XPENDING stream group ID ID 1, per claimed job */
	for (int i = first; i < b->n; i++) {
		const char *pv[] = {"XPENDING", o->queue.stream, o->queue.group, b->jobs[i].entry, b->jobs[i].entry, "1"};
		if ((rc = rd_append(l->c, 6, pv, NULL)))
			return rc;
	}
	for (int i = first; i < b->n; i++) {
		rd_reply *pr;
		if ((rc = rd_get(l->c, &pr)))
			return rc;
		long long cnt = rd_int(rd_at(rd_at(pr, 0), 3));
		sv_job *j = &b->jobs[i];
		if (cnt > j->deliveries)
			j->deliveries = cnt;
		if (j->state == JOB_RUN && j->deliveries > o->max_attempts) {
			char n[32];
			snprintf(n, sizeof n, "%lld", j->deliveries);
			dead(j, "delivered %s times without a result (a worker died on it, or max-attempts reached)", n);
		}
		rd_free(l->c, pr);
	}
	pthread_mutex_lock(&w->mu);
	w->st.reclaimed += b->n - first;
	pthread_mutex_unlock(&w->mu);
	if (b->n > first)
		odet_log(l->ctx, ODET_LOG_INFO, "worker %s: reclaimed %d job(s) idle over %d ms", w->consumer, b->n - first,
			 o->visibility_ms);
	return ODET_OK;
}

/* XREADGROUP into the batch: blocks SV_IDLE_BLOCK_MS for a first job, then up to
 * batch_timeout_ms from it for the batch to fill. */
static odet_status fill(sv_worker *w, sv_link *l, sv_batch *b)
{
	const odet_worker_opts *o = w->o;
	double deadline = b->n ? odet_now_s() + o->batch_timeout_ms * 1e-3 : 0;
	while (b->n < w->B) {
		int block = SV_IDLE_BLOCK_MS;
		if (b->n) {
			block = (int)((deadline - odet_now_s()) * 1e3);
			if (block < 1)
				break;
		}
		char count[32], blk[32];
		snprintf(count, sizeof count, "%d", w->B - b->n);
		snprintf(blk, sizeof blk, "%d", block);
		const char *argv[] = {"XREADGROUP", "GROUP", o->queue.group, w->consumer, "COUNT", count,
				      "BLOCK", blk, "STREAMS", o->queue.stream, ">"};
		rd_reply *r;
		odet_status rc = rd_cmd(l->c, 11, argv, NULL, &r);
		if (rc)
			return rc;
		if (!keep_reply(b, r)) {
			rd_free(l->c, r);
			return odet_error(l->ctx, ODET_ERR_NO_MEMORY, "no memory");
		}
		if (rd_type(r) == RD_ERROR) {
			/* NOGROUP: the stream or group was deleted (a restarted server without
			 * persistence): create it again */
			odet_log(l->ctx, ODET_LOG_WARN, "XREADGROUP: %s", rd_str(r, NULL));
			if ((rc = sv_create_group(l->ctx, l->c, &o->queue)))
				return rc;
			continue;
		}
		if (rd_type(r) == RD_NIL)
			break; /* timed out */
		int before = b->n;
		add_entries(w, b, rd_at(rd_at(r, 0), 1), 1);
		if (!before && b->n)
			deadline = odet_now_s() + o->batch_timeout_ms * 1e-3;
		if (!b->n)
			break;
	}
	return ODET_OK;
}

/* Claim (when due) and read a batch on l; a connection lost on the way is reopened and the
 * batch left empty (what it had read stays pending, for a later claim). */
odet_status sv_fetch(sv_worker *w, sv_link *l, sv_batch *b)
{
	odet_status rc = ODET_OK;
	b->free_reply = rd_freer(l->c);
	if (odet_now_s() >= w->next_claim) {
		w->next_claim = odet_now_s() + (w->o->visibility_ms / 4 > 50 ? w->o->visibility_ms / 4 : 50) * 1e-3;
		rc = claim(w, l, b);
	}
	if (!rc)
		rc = fill(w, l, b);
	if (rc == ODET_ERR_IO) {
		sv_batch_clear(b);
		rc = sv_reconnect(w, l);
	}
	return rc;
}
