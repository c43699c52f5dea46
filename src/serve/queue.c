/* queue.c — what the Redis queue needs besides hiredis (redis.h): URLs, option defaults,
 * connecting with retries. */
#include "serve/redis.h"
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

odet_status rd_parse_url(odet_ctx *ctx, const char *url, rd_url *out)
{
	memset(out, 0, sizeof *out);
	out->port = 6379;
	if (!url || strncmp(url, "redis://", 8) != 0)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': a Redis URL is redis://[:PASSWORD@]HOST[:PORT][/DB]",
				  url ? url : "");
	const char *s = url + 8, *at = strchr(s, '@'), *slash;
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		const char *pw = colon ? colon + 1 : s;
		if ((size_t)(at - pw) >= sizeof out->password)
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': password too long", url);
		memcpy(out->password, pw, (size_t)(at - pw));
		s = at + 1;
	}
	slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	const char *colon = memchr(s, ':', hl);
	size_t hostl = colon ? (size_t)(colon - s) : hl;
	if (hostl == 0 || hostl >= sizeof out->host)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': no host", url);
	memcpy(out->host, s, hostl);
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != s + hl || port < 1 || port > 65535)
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': the port must be 1..65535", url);
		out->port = (int)port;
	}
	if (slash && slash[1]) {
		char *end;
		long db = strtol(slash + 1, &end, 10);
		if (!*end && db >= 0 && db < 100000) {
			out->db = (int)db;
		} else {
			if (strlen(slash + 1) >= sizeof out->stream)
				return odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': stream name too long", url);
			snprintf(out->stream, sizeof out->stream, "%s", slash + 1);
		}
	}
	return ODET_OK;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

odet_status rd_connect_retry(odet_ctx *ctx, const rd_url *u, int timeout_ms, double retry_s, rd_conn **out)
{
	double t0 = odet_now_s(), wait = 0.1;
	for (int attempt = 1;; attempt++) {
		odet_status rc = rd_connect(ctx, u, timeout_ms, out);
		if (rc != ODET_ERR_IO)
			return rc;
		double left = retry_s - (odet_now_s() - t0);
		if (left <= 0)
			return rc;
		odet_log(ctx, ODET_LOG_WARN, "%s; attempt %d, retrying in %.1f s", odet_ctx_last_error(ctx), attempt,
			 wait < left ? wait : left);
		sleep_s(wait < left ? wait : left);
		wait = wait * 2 < 2.0 ? wait * 2 : 2.0;
	}
}

bool rd_is(const rd_reply *r, const char *s)
{
	size_t n;
	const char *p = rd_str(r, &n);
	return p && (rd_type(r) == RD_STRING || rd_type(r) == RD_STATUS) && n == strlen(s) && !memcmp(p, s, n);
}

int odet_queue_available(void)
{
	return rd_available();
}

static odet_queue_opts queue_defaults(void)
{
	odet_queue_opts q;
	memset(&q, 0, sizeof q);
	q.url = "redis://127.0.0.1:6379";
	q.stream = "odet:jobs";
	q.group = "odet";
	q.results = "odet:results";
	q.dead_letter = "odet:dead";
	q.timeout_ms = 5000;
	return q;
}

odet_worker_opts odet_worker_opts_default(void)
{
	odet_worker_opts o;
	memset(&o, 0, sizeof o);
	o.queue = queue_defaults();
	o.batch_timeout_ms = 20;
	o.visibility_ms = 30000;
	o.max_attempts = 3;
	o.results_maxlen = 1000000;
	o.max_payload = (size_t)64 << 20;
	o.metrics_s = 10;
	return o;
}

odet_submit_opts odet_submit_opts_default(void)
{
	odet_submit_opts o;
	memset(&o, 0, sizeof o);
	o.queue = queue_defaults();
	o.max_in_flight = 1024;
	o.score = -1;
	return o;
}

static odet_status check_queue(odet_ctx *ctx, const odet_queue_opts *q)
{
	if (!q->stream || !*q->stream || !q->group || !*q->group || !q->results || !*q->results || !q->dead_letter ||
	    !*q->dead_letter || q->timeout_ms <= 0 || !(q->retry_s >= 0))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "queue options: empty stream, group or result name, or a bad timeout");
	return ODET_OK;
}

odet_status sv_connect(odet_ctx *ctx, const odet_queue_opts *q, const rd_url *u, int extra_ms, rd_conn **out)
{
	double t0 = odet_now_s(), wait = 0.1;
	odet_status rc;
	*out = NULL;
	for (;;) {
		double left = q->retry_s - (odet_now_s() - t0);
		if ((rc = rd_connect_retry(ctx, u, q->timeout_ms, left > 0 ? left : 0, out)))
			return rc;
		/* a server still loading its AOF answers LOADING: an ODET_ERR_IO like a refused connection */
		if (!(rc = rd_set_timeout(*out, q->timeout_ms + extra_ms)) && !(rc = sv_create_group(ctx, *out, q)))
			return ODET_OK;
		rd_close(*out);
		*out = NULL;
		left = q->retry_s - (odet_now_s() - t0);
		if (rc != ODET_ERR_IO || left <= 0)
			return rc;
		odet_log(ctx, ODET_LOG_WARN, "%s; retrying in %.1f s", odet_ctx_last_error(ctx), wait < left ? wait : left);
		sleep_s(wait < left ? wait : left);
		wait = wait * 2 < 2.0 ? wait * 2 : 2.0;
	}
}

odet_status sv_open(odet_ctx *ctx, const odet_queue_opts *q, int extra_ms, rd_url *u, rd_conn **out)
{
	odet_status rc;
	*out = NULL;
	if ((rc = check_queue(ctx, q)) || (rc = rd_parse_url(ctx, q->url, u)))
		return rc;
	return sv_connect(ctx, q, u, extra_ms, out);
}

odet_status sv_create_group(odet_ctx *ctx, rd_conn *c, const odet_queue_opts *q)
{
	rd_reply *r;
	const char *argv[] = {"XGROUP", "CREATE", q->stream, q->group, "0", "MKSTREAM"};
	odet_status rc = rd_cmd(c, 6, argv, NULL, &r);
	if (rc)
		return rc;
	size_t n;
	const char *e = rd_str(r, &n);
	if (rd_type(r) == RD_ERROR && !(n >= 9 && !memcmp(e, "BUSYGROUP", 9)))
		rc = odet_error(ctx, ODET_ERR_IO, "XGROUP CREATE %s %s: %.*s", q->stream, q->group, (int)n, e);
	rd_free(c, r);
	return rc;
}
