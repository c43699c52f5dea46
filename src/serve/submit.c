/*
 * submit.c — odet_submit_run: a producer for the Redis job queue (worker.c).
 *
 * One XADD per source (fields id PREFIX-INDEX and image = the file's bytes, or path), sent
 * pipelined in groups; before each group, back-pressure: while the job stream holds
 * max_in_flight entries or more (workers delete what they acknowledge, so its length is the
 * unfinished work of every producer), wait. With wait, results are read from the result
 * stream (XREAD from its last entry before the first job), those of this run's ids kept,
 * and handed to the callback in input order as soon as the prefix before them is complete;
 * a result entry that was trimmed away before it was read is fetched from its key (GET).
 * A job re-sent after a lost reply (the server restarted) runs twice and still has one result.
 */
#include "serve/serve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SB_GROUP 64
#define SB_MAX_FILE ((size_t)64 << 20)

typedef struct sb_job {
	bool sent, have;
	bool skipped;             /* unreadable: reported when it was read, never sent */
	sv_result res;
} sb_job;

typedef struct sb_run {
	odet_ctx *ctx;
	const odet_submit_opts *o;
	rd_url url;
	rd_conn *c;
	const char *const *src;
	int64_t n;
	char prefix[128];
	char last[64];            /* result stream position */
	sb_job *jobs;
	int64_t have, next_deliver;
	odet_job_fn fn;
	void *user;
	odet_submit_stats st;
	double last_progress;
} sb_run;

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static odet_status reopen(sb_run *r)
{
	rd_close(r->c);
	r->c = NULL;
	odet_log(r->ctx, ODET_LOG_WARN, "%s; reconnecting", odet_ctx_last_error(r->ctx));
	return sv_connect(r->ctx, &r->o->queue, &r->url, 1000, &r->c);
}

static odet_status deliver_ready(sb_run *r)
{
	while (r->next_deliver < r->n && (r->jobs[r->next_deliver].have || r->jobs[r->next_deliver].skipped)) {
		sb_job *j = &r->jobs[r->next_deliver];
		if (!j->have) {
			r->next_deliver++;
			continue;
		}
		char id[160];
		snprintf(id, sizeof id, "%s-%lld", r->prefix, (long long)r->next_deliver);
		odet_job_result jr = {.index = r->next_deliver, .source = r->src[r->next_deliver], .id = id,
				      .status = j->res.status, .error = j->res.error, .width = j->res.width,
				      .height = j->res.height, .count = j->res.count, .boxes = j->res.boxes,
				      .scores = j->res.scores, .classes = j->res.classes, .category_ids = j->res.cats};
		r->st.failed += j->res.status != ODET_OK;
		odet_status rc = r->fn ? r->fn(r->user, &jr) : ODET_OK;
		sv_result_free(&j->res);
		r->next_deliver++;
		if (rc)
			return rc;
	}
	return ODET_OK;
}

/* This run's job index of a result id, or -1. */
static int64_t index_of(const sb_run *r, const char *id, size_t n)
{
	size_t pl = strlen(r->prefix);
	if (n <= pl + 1 || memcmp(id, r->prefix, pl) != 0 || id[pl] != '-' || n - pl - 1 > 18)
		return -1;
	int64_t k = 0;
	for (size_t i = pl + 1; i < n; i++) {
		if (id[i] < '0' || id[i] > '9')
			return -1;
		k = k * 10 + (id[i] - '0');
	}
	return k < r->n && r->jobs[k].sent ? k : -1;
}

static odet_status take(sb_run *r, int64_t k, const char *json, size_t n)
{
	if (k < 0 || r->jobs[k].have)
		return ODET_OK;
	odet_status rc = sv_result_parse(r->ctx, json, n, &r->jobs[k].res);
	if (rc)
		return odet_error(r->ctx, rc, "result of %s: %s", r->src[k], odet_ctx_last_error(r->ctx));
	r->jobs[k].have = true;
	r->have++;
	r->st.results++;
	r->last_progress = odet_now_s();
	return ODET_OK;
}

/* Read result entries (blocking up to block_ms); ODET_ERR_IO when the connection failed. */
static odet_status collect(sb_run *r, int block_ms)
{
	char blk[32];
	snprintf(blk, sizeof blk, "%d", block_ms);
	const char *argv[] = {"XREAD", "COUNT", "1024", "BLOCK", blk, "STREAMS", r->o->queue.results, r->last};
	rd_reply *rep;
	odet_status rc = rd_cmd(r->c, 8, argv, NULL, &rep);
	if (rc)
		return rc;
	const rd_reply *list = rd_at(rd_at(rep, 0), 1);
	for (size_t i = 0; i < rd_n(list) && !rc; i++) {
		const rd_reply *e = rd_at(list, i), *f = rd_at(e, 1);
		size_t en;
		const char *eid = rd_str(rd_at(e, 0), &en);
		if (eid && en < sizeof r->last)
			snprintf(r->last, sizeof r->last, "%.*s", (int)en, eid);
		const char *id = NULL, *res = NULL;
		size_t idn = 0, resn = 0;
		for (size_t k = 0; k + 1 < rd_n(f); k += 2) {
			if (rd_is(rd_at(f, k), "id"))
				id = rd_str(rd_at(f, k + 1), &idn);
			else if (rd_is(rd_at(f, k), "result"))
				res = rd_str(rd_at(f, k + 1), &resn);
		}
		if (id && res)
			rc = take(r, index_of(r, id, idn), res, resn);
	}
	rd_free(r->c, rep);
	if (!rc)
		rc = deliver_ready(r);
	return rc;
}

/* Results whose stream entry was missed: GET their keys (first 256 missing). */
static odet_status fetch_missing(sb_run *r)
{
	odet_status rc = ODET_OK;
	int64_t ks[256];
	int m = 0;
	char key[512];
	for (int64_t k = r->next_deliver; k < r->n && m < 256; k++) {
		if (!r->jobs[k].sent || r->jobs[k].have)
			continue;
		snprintf(key, sizeof key, "%s:%s-%lld", r->o->queue.results, r->prefix, (long long)k);
		if ((rc = rd_append(r->c, 2, (const char *[]){"GET", key}, NULL)))
			return rc;
		ks[m++] = k;
	}
	for (int i = 0; i < m; i++) {
		rd_reply *rep;
		if ((rc = rd_get(r->c, &rep)))
			return rc;
		size_t n;
		const char *s = rd_str(rep, &n);
		if (s && rd_type(rep) == RD_STRING)
			rc = take(r, ks[i], s, n);
		rd_free(r->c, rep);
		if (rc)
			return rc;
	}
	return deliver_ready(r);
}

static odet_status stream_len(sb_run *r, long long *len)
{
	rd_reply *rep;
	odet_status rc = rd_cmd(r->c, 2, (const char *[]){"XLEN", r->o->queue.stream}, NULL, &rep);
	if (rc)
		return rc;
	*len = rd_int(rep);
	rd_free(r->c, rep);
	return ODET_OK;
}

/* Wait until the job stream has room for `more` jobs. */
static odet_status back_pressure(sb_run *r, int more)
{
	for (;;) {
		long long len;
		odet_status rc = stream_len(r, &len);
		if (rc)
			return rc;
		if (len + more <= r->o->max_in_flight || len == 0)
			return ODET_OK;
		if (r->o->wait)
			rc = collect(r, 20);
		else
			sleep_ms(10);
		if (rc)
			return rc;
	}
}

/* Read and send jobs [first, first+m); unreadable files are reported at once. */
static odet_status send_group(sb_run *r, int64_t first, int m)
{
	const odet_submit_opts *o = r->o;
	void *data[SB_GROUP] = {0};
	size_t size[SB_GROUP] = {0};
	char ids[SB_GROUP][160], score[32];
	int sent = 0;
	odet_status rc = ODET_OK;
	snprintf(score, sizeof score, "%.6g", o->score);
	for (int i = 0; i < m; i++) {
		int64_t k = first + i;
		const char *src = r->src[k];
		char real[PATH_MAX];
		snprintf(ids[i], sizeof ids[i], "%s-%lld", r->prefix, (long long)k);
		const char *argv[9] = {"XADD", o->queue.stream, "*", "id", ids[i]};
		size_t len[9] = {4, strlen(o->queue.stream), 1, 2, strlen(ids[i])};
		int argc = 5;
		if (o->by_path) {
			if (!realpath(src, real)) {
				odet_error(r->ctx, ODET_ERR_IO, "%s: cannot resolve the path", src);
				goto unreadable;
			}
			argv[argc] = "path";
			len[argc++] = 4;
			argv[argc] = real;
			len[argc++] = strlen(real);
		} else {
			if (odet_file_read(r->ctx, src, SB_MAX_FILE, &data[i], &size[i]))
				goto unreadable;
			argv[argc] = "image";
			len[argc++] = 5;
			argv[argc] = data[i];
			len[argc++] = size[i];
		}
		if (o->score >= 0) {
			argv[argc] = "score";
			len[argc++] = 5;
			argv[argc] = score;
			len[argc++] = strlen(score);
		}
		if ((rc = rd_append(r->c, argc, argv, len)))
			goto out;
		r->jobs[k].sent = true;
		sent++;
		continue;
	unreadable:
		r->st.unreadable++;
		r->jobs[k].skipped = true;
		if (r->fn) {
			odet_job_result jr = {.index = k, .source = src, .id = ids[i], .status = ODET_ERR_IO,
					      .error = odet_ctx_last_error(r->ctx)};
			if ((rc = r->fn(r->user, &jr)))
				goto out;
		}
	}
	for (int i = 0; i < sent; i++) {
		rd_reply *rep;
		if ((rc = rd_get(r->c, &rep)))
			goto out;
		if (rd_type(rep) == RD_ERROR) {
			rc = odet_error(r->ctx, ODET_ERR_IO, "XADD %s: %s", o->queue.stream, rd_str(rep, NULL));
			rd_free(r->c, rep);
			goto out;
		}
		rd_free(r->c, rep);
	}
	r->st.submitted += sent;
out:
	for (int i = 0; i < m; i++)
		free(data[i]);
	return rc;
}

static odet_status submit_all(sb_run *r)
{
	odet_status rc;
	for (int64_t first = 0; first < r->n;) {
		int m = (int)(r->n - first < SB_GROUP ? r->n - first : SB_GROUP);
		if (m > r->o->max_in_flight)
			m = r->o->max_in_flight;
		if ((rc = back_pressure(r, m)) || (rc = send_group(r, first, m))) {
			if (rc != ODET_ERR_IO || (rc = reopen(r)))
				return rc;
			/* a group whose replies were lost is sent again: same ids, one result each */
			for (int64_t k = first; k < first + m; k++)
				r->jobs[k].sent = false;
			continue;
		}
		first += m;
		if (r->o->wait && (rc = collect(r, 0)) == ODET_ERR_IO && (rc = reopen(r)))
			return rc;
		if (rc && rc != ODET_ERR_IO)
			return rc;
	}
	return ODET_OK;
}

static odet_status wait_all(sb_run *r)
{
	odet_status rc;
	double t0 = odet_now_s();
	r->last_progress = t0;
	while (r->have < r->st.submitted) {
		rc = collect(r, 500);
		if (!rc && odet_now_s() - r->last_progress > 2.0) {
			rc = fetch_missing(r);
			r->last_progress = odet_now_s();
		}
		if (rc == ODET_ERR_IO) {
			if ((rc = reopen(r)))
				return rc;
			continue;
		}
		if (rc)
			return rc;
		if (r->o->wait_timeout_s > 0 && odet_now_s() - t0 > r->o->wait_timeout_s)
			return odet_error(r->ctx, ODET_ERR_IO, "%lld of %lld results missing after %.0f s",
					  (long long)(r->st.submitted - r->have), (long long)r->st.submitted,
					  r->o->wait_timeout_s);
	}
	return deliver_ready(r);
}

odet_status odet_submit_run(odet_ctx *ctx, const odet_submit_opts *opts, const char *const *sources, int64_t n,
			    odet_job_fn fn, void *user, odet_submit_stats *stats)
{
	if (!ctx || !opts || n < 0 || (n && !sources))
		return ODET_ERR_INVALID_ARG;
	if (opts->max_in_flight < 1 || !(opts->wait_timeout_s >= 0) || opts->score > 1 ||
	    (opts->job_prefix && (!*opts->job_prefix || strlen(opts->job_prefix) > 100)))
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "submit options: max in flight >= 1, wait timeout >= 0, score <= 1, a job prefix of 1 to 100 bytes");
	sb_run r;
	memset(&r, 0, sizeof r);
	r.ctx = ctx;
	r.o = opts;
	r.src = sources;
	r.n = n;
	r.fn = fn;
	r.user = user;
	double t0 = odet_now_s();
	if (opts->job_prefix) {
		snprintf(r.prefix, sizeof r.prefix, "%s", opts->job_prefix);
	} else {
		char host[64] = "host";
		gethostname(host, sizeof host - 1);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(r.prefix, sizeof r.prefix, "%s-%ld-%lld%03ld", host, (long)getpid(), (long long)ts.tv_sec,
			 ts.tv_nsec / 1000000);
	}
	snprintf(r.last, sizeof r.last, "0-0");
	odet_status rc;
	if (!(r.jobs = calloc((size_t)(n ? n : 1), sizeof *r.jobs))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for %lld jobs", (long long)n);
		goto out;
	}
	if ((rc = sv_open(ctx, &opts->queue, 1000, &r.url, &r.c)))
		goto out;
	if (opts->wait) {
		/* results are read from the result stream's last entry before the first job */
		rd_reply *rep;
		const char *argv[] = {"XREVRANGE", opts->queue.results, "+", "-", "COUNT", "1"};
		if ((rc = rd_cmd(r.c, 6, argv, NULL, &rep)))
			goto out;
		size_t en;
		const char *eid = rd_str(rd_at(rd_at(rep, 0), 0), &en);
		if (eid && en < sizeof r.last)
			snprintf(r.last, sizeof r.last, "%.*s", (int)en, eid);
		rd_free(r.c, rep);
	}
	if ((rc = submit_all(&r)))
		goto out;
	if (opts->wait)
		rc = wait_all(&r);
out:
	r.st.seconds = odet_now_s() - t0;
	if (stats)
		*stats = r.st;
	for (int64_t i = 0; r.jobs && i < n; i++)
		sv_result_free(&r.jobs[i].res);
	free(r.jobs);
	rd_close(r.c);
	return rc;
}
