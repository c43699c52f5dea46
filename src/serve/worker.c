/*
 * worker.c — odet_worker_run: odet as a consumer of a Redis Streams job queue.
 *
 *   loop: [every visibility/4: XAUTOCLAIM jobs idle past the visibility timeout, with their
 *         delivery counts (XPENDING)] → XREADGROUP new jobs until the batch is full or
 *         batch_timeout_ms after its first job → check each job's fields → the pipeline
 *         (odet_pipeline_run_inputs: the bytes, or the file) → per job one EVAL of FINISH
 *         (pipelined): the result key SET NX, the result stream entry only when the key was
 *         new, the dead-letter entry for a poison job, XACK and XDEL of the job.
 *
 * The next batch is fetched (its own connection, thread and context) while the pipeline runs
 * this one and its outcomes are written, so Redis round trips overlap the engine.
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
#include "serve/serve.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define SV_MAX_ID 256
#define SV_MAX_PATH 4096
#define SV_IDLE_BLOCK_MS 100

typedef enum { JOB_RUN, JOB_DONE, JOB_DEAD, JOB_RETRY } job_state;

typedef struct sv_job {
	char entry[48];           /* stream entry id */
	char id[SV_MAX_ID + 1];
	const char *image;        /* into the batch's replies */
	size_t image_len;
	char *path;               /* owned */
	float score;              /* job's threshold (-1: none) */
	long long deliveries;
	job_state state;
	odet_status why;          /* JOB_DEAD, JOB_RETRY: the failure's status */
	sv_buf out;               /* result JSON */
	char reason[1024];        /* why it is dead-lettered or retried */
} sv_job;

/* A connection and the context its errors go to (one per thread). */
typedef struct sv_link {
	odet_ctx *ctx;
	rd_conn *c;
	int64_t reconnects;
} sv_link;

/* Jobs read together, and the replies holding their image bytes. */
typedef struct sv_batch {
	sv_job *jobs;
	int n;
	rd_reply **replies;
	int n_replies, cap_replies;
	rd_free_fn free_reply;    /* of the connection they came from (which may be gone) */
} sv_batch;

typedef struct sv_worker {
	odet_pipeline *p;
	odet_ctx *ctx;
	const odet_worker_opts *o;
	char consumer[128];
	rd_url url;
	sv_link main;             /* results, acknowledgements, metrics */
	sv_link fetch;            /* claims and reads (the fetching thread's context) */
	odet_model_info mi;
	int B;
	sv_batch batch[2];
	sv_batch *cur;            /* the batch the pipeline runs */
	odet_image_input *inputs;
	int *input_job;
	char claim_cursor[48];
	double next_claim;
	odet_worker_stats st;
	double t0;
	double first_job;         /* when the first job was read (0: none yet) */
	int64_t jobs_total;       /* batch fill: jobs run / batches */
} sv_worker;

/* The replies hold the batch's image bytes: freed once the pipeline has copied them. */
static void free_replies(sv_batch *b)
{
	for (int i = 0; i < b->n_replies; i++)
		b->free_reply(b->replies[i]);
	b->n_replies = 0;
}

static void batch_clear(sv_batch *b)
{
	free_replies(b);
	for (int i = 0; i < b->n; i++) {
		free(b->jobs[i].path);
		sv_buf_free(&b->jobs[i].out);
	}
	b->n = 0;
}

/* A dead connection: connect again (retry_s). */
static odet_status reconnect(sv_worker *w, sv_link *l)
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
	w->st.reclaimed += b->n - first;
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

/* The pipeline's callback: one job's detections (or why it failed) as its result. */
static odet_status on_result(void *user, const odet_image_result *r)
{
	sv_worker *w = user;
	sv_job *j = &w->cur->jobs[w->input_job[r->index]];
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

static odet_status run_batch(sv_worker *w, sv_batch *b)
{
	int m = 0;
	for (int i = 0; i < b->n; i++) {
		sv_job *j = &b->jobs[i];
		if (j->state != JOB_RUN)
			continue;
		w->inputs[m] = (odet_image_input){.name = j->image ? j->id : j->path, .data = j->image,
						  .size = j->image_len};
		w->input_job[m++] = i;
	}
	if (!m)
		return ODET_OK;
	w->cur = b;
	odet_status rc = odet_pipeline_run_inputs(w->p, w->inputs, m, on_result, w, NULL);
	w->jobs_total += m;
	w->st.batches++;
	return rc;
}

/* Write every finished job's outcome (pipelined FINISH scripts) and read the replies. */
static odet_status write_outcomes(sv_worker *w, sv_batch *b)
{
	const odet_worker_opts *o = w->o;
	char ttl[32], maxlen[32];
	snprintf(ttl, sizeof ttl, "%d", o->result_ttl_s);
	snprintf(maxlen, sizeof maxlen, "%lld", (long long)o->results_maxlen);
	size_t rkl = strlen(o->queue.results) + SV_MAX_ID + 2;
	char *rkey = malloc(rkl);
	if (!rkey)
		return odet_error(w->ctx, ODET_ERR_NO_MEMORY, "no memory");
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
			rc = odet_error(w->ctx, ODET_ERR_NO_MEMORY, "no memory for a result");
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
			rc = odet_error(w->ctx, ODET_ERR_IO, "writing the result of job %s: %s", j->id, rd_str(r, NULL));
			rd_free(w->main.c, r);
			goto out;
		}
		if (rd_int(r) == 0)
			w->st.duplicates++;
		else if (j->state == JOB_DEAD)
			w->st.dead_lettered++;
		else
			w->st.jobs++;
		if (j->state == JOB_DEAD && rd_int(r))
			odet_log(w->ctx, ODET_LOG_WARN, "job %s dead-lettered to %s: %s", j->id, o->queue.dead_letter,
				 j->reason);
		rd_free(w->main.c, r);
	}
	for (int i = 0; i < b->n; i++)
		if (b->jobs[i].state == JOB_RETRY) {
			w->st.retried++;
			odet_log(w->ctx, ODET_LOG_WARN, "job %s (delivery %lld of %d) left for a retry: %s", b->jobs[i].id,
				 b->jobs[i].deliveries, o->max_attempts, b->jobs[i].reason);
		}
out:
	free(rkey);
	return rc;
}

static odet_status pending_count(sv_worker *w, int64_t *out)
{
	const char *argv[] = {"XPENDING", w->o->queue.stream, w->o->queue.group};
	rd_reply *r;
	odet_status rc = rd_cmd(w->main.c, 3, argv, NULL, &r);
	if (rc)
		return rc;
	if (rd_type(r) != RD_ARRAY)
		rc = odet_error(w->ctx, ODET_ERR_IO, "XPENDING %s %s: %s", w->o->queue.stream, w->o->queue.group,
				rd_type(r) == RD_ERROR ? rd_str(r, NULL) : "not an array");
	*out = rd_int(rd_at(r, 0));
	rd_free(w->main.c, r);
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

/* Claim (when due) and read a batch on l; a connection lost on the way is reopened and the
 * batch left empty (what it had read stays pending, for a later claim). */
static odet_status fetch(sv_worker *w, sv_link *l, sv_batch *b)
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
		batch_clear(b);
		rc = reconnect(w, l);
	}
	return rc;
}

typedef struct sv_fetch_arg {
	sv_worker *w;
	sv_batch *b;
	odet_status rc;
} sv_fetch_arg;

static void *fetch_main(void *arg)
{
	sv_fetch_arg *fa = arg;
	fa->rc = fetch(fa->w, &fa->w->fetch, fa->b);
	return NULL;
}

/* Run a batch and write its outcomes (again after a reconnection: FINISH is idempotent). */
static odet_status process(sv_worker *w, sv_batch *b)
{
	odet_status rc;
	if (!w->first_job)
		w->first_job = odet_now_s();
	if ((rc = run_batch(w, b)))
		return rc == ODET_ERR_IO ? odet_error(w->ctx, ODET_ERR_DEVICE, "%s", odet_ctx_last_error(w->ctx)) : rc;
	free_replies(b);
	while ((rc = write_outcomes(w, b)) == ODET_ERR_IO)
		if ((rc = reconnect(w, &w->main)))
			return rc;
	return rc;
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
	/* default: a batch per slot and one more, so the pipeline overlaps reading, decoding and the
	 * engine inside a run as odet_pipeline_run does over a long list */
	int slots = 0;
	for (int i = 0; i < p->n_dev; i++)
		slots += p->dev[i].n_slots;
	w.B = opts->batch ? opts->batch : odet_pipeline_batch(p) * (slots + 1);
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
	w.main.ctx = ctx;
	odet_ctx_opts co = ctx->opts;
	co.n_threads = 1;
	co.tune_cache = NULL;
	if ((rc = odet_ctx_create(&co, &w.fetch.ctx)))
		goto out;
	for (int k = 0; k < 2; k++)
		if (!(w.batch[k].jobs = calloc((size_t)w.B, sizeof *w.batch[k].jobs)))
			rc = ODET_ERR_NO_MEMORY;
	w.inputs = calloc((size_t)w.B, sizeof *w.inputs);
	w.input_job = calloc((size_t)w.B, sizeof *w.input_job);
	if (rc || !w.inputs || !w.input_job) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for a batch of %d jobs", w.B);
		goto out;
	}
	if ((rc = sv_open(ctx, &opts->queue, opts->batch_timeout_ms + SV_IDLE_BLOCK_MS, &w.url, &w.main.c)))
		goto out;
	if ((rc = sv_connect(w.fetch.ctx, &opts->queue, &w.url, opts->batch_timeout_ms + SV_IDLE_BLOCK_MS, &w.fetch.c))) {
		odet_error(ctx, rc, "%s", odet_ctx_last_error(w.fetch.ctx));
		goto out;
	}
	odet_log(ctx, ODET_LOG_INFO, "worker %s: %s stream %s group %s, batch %d", w.consumer, opts->queue.url,
		 opts->queue.stream, opts->queue.group, w.B);
	double t0 = w.t0, last_job = t0, last_metrics = t0;
	int64_t jobs_at_metrics = 0;
	sv_batch *cur = &w.batch[0], *next = &w.batch[1];
	if ((rc = fetch(&w, &w.fetch, cur))) {
		odet_error(ctx, rc, "%s", odet_ctx_last_error(w.fetch.ctx));
		goto out;
	}
	for (;;) {
		/* a stop runs what was already read, then leaves */
		bool stopping = opts->should_stop && opts->should_stop(opts->user);
		sv_fetch_arg fa = {.w = &w, .b = next};
		pthread_t th;
		bool fetching = !stopping && pthread_create(&th, NULL, fetch_main, &fa) == 0;
		bool had = cur->n > 0;
		rc = had ? process(&w, cur) : ODET_OK;
		if (fetching)
			pthread_join(th, NULL);
		batch_clear(cur);
		if (!rc && fetching && fa.rc)
			rc = odet_error(ctx, fa.rc, "%s", odet_ctx_last_error(w.fetch.ctx));
		if (rc)
			goto out;
		if (!stopping && !fetching && (rc = fetch(&w, &w.fetch, next))) {
			odet_error(ctx, rc, "%s", odet_ctx_last_error(w.fetch.ctx));
			goto out;
		}
		sv_batch *t = cur;
		cur = next;
		next = t;
		double now = odet_now_s();
		if (had)
			w.st.busy_s = now - w.first_job;
		if (stopping)
			break;
		if (had || cur->n)
			last_job = now;
		bool metrics_due = opts->metrics_s > 0 && now - last_metrics >= opts->metrics_s;
		bool idle = opts->idle_exit_s > 0 && now - last_job >= opts->idle_exit_s;
		if (metrics_due || idle) {
			while ((rc = pending_count(&w, &w.st.pending)) == ODET_ERR_IO)
				if ((rc = reconnect(&w, &w.main)))
					goto out;
			if (rc)
				goto out;
		}
		if (metrics_due) {
			w.st.reconnects = w.main.reconnects + w.fetch.reconnects;
			int64_t done = w.st.jobs + w.st.dead_lettered + w.st.duplicates;
			w.st.jobs_per_s = (double)(done - jobs_at_metrics) / (now - last_metrics);
			w.st.seconds = now - t0;
			w.st.batch_fill = w.st.batches ? (double)w.jobs_total / ((double)w.st.batches * w.B) : 0;
			jobs_at_metrics = done;
			last_metrics = now;
			if (opts->metrics)
				opts->metrics(opts->user, &w.st);
		}
		if (idle && w.st.pending == 0 && cur->n == 0)
			break;
	}
	rc = ODET_OK;
out:
	for (int k = 0; k < 2; k++) {
		batch_clear(&w.batch[k]);
		free(w.batch[k].jobs);
		free(w.batch[k].replies);
	}
	w.st.seconds = odet_now_s() - w.t0;
	w.st.reconnects = w.main.reconnects + w.fetch.reconnects;
	w.st.batch_fill = w.st.batches ? (double)w.jobs_total / ((double)w.st.batches * w.B) : 0;
	if (stats)
		*stats = w.st;
	rd_close(w.main.c);
	rd_close(w.fetch.c);
	odet_ctx_destroy(w.fetch.ctx);
	free(w.inputs);
	free(w.input_job);
	return rc;
}
