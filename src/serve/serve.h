/*
 * serve.h — internals of the Redis queue (odet_worker_*, odet_submit_* in odet.h):
 *   queue.c    options, URL, connecting with retries, the consumer group
 *   worker.c   odet_worker_run: claim / read a batch of jobs, run them through the pipeline,
 *              write each outcome with its acknowledgement (one Lua script per job)
 *   result.c   a job's result as JSON (written by workers, parsed by submitters); sv_buf
 *   submit.c   odet_submit_run: enqueue with back-pressure, collect results in input order
 */
#ifndef ODET_SERVE_SERVE_H
#define ODET_SERVE_SERVE_H

#include "serve/redis.h"

/* Connect, set the reply timeout (q->timeout_ms + extra_ms) and make sure the consumer group
 * exists; failures of any of these (refused, reset, a server loading its AOF) are retried
 * until q->retry_s has passed. */
odet_status sv_connect(odet_ctx *ctx, const odet_queue_opts *q, const rd_url *u, int extra_ms, rd_conn **out);
/* Check the queue options, parse the URL, sv_connect. */
odet_status sv_open(odet_ctx *ctx, const odet_queue_opts *q, int extra_ms, rd_url *u, rd_conn **out);
/* XGROUP CREATE stream group 0 MKSTREAM; an existing group is fine. */
odet_status sv_create_group(odet_ctx *ctx, rd_conn *c, const odet_queue_opts *q);

/* A growing byte buffer (NUL-terminated while ok). */
typedef struct sv_buf {
	char *p;
	size_t n, cap;
	bool failed;              /* an allocation failed: contents incomplete */
} sv_buf;
void sv_buf_printf(sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as a JSON string literal (quotes, escapes; bytes < 0x20 as \u00XX). */
void sv_buf_json_str(sv_buf *b, const char *s, size_t n);
void sv_buf_free(sv_buf *b);

/* A job's result: {"id":..,"ok":true,"width":W,"height":H,"detections":[[x1,y1,x2,y2,score,class,category],..]}
 * or {"id":..,"ok":false,"status":"bad input","error":"..."} */
typedef struct sv_result {
	odet_status status;
	char *error;
	int width, height, count;
	float *boxes, *scores;
	int32_t *classes, *cats;
} sv_result;
odet_status sv_result_parse(odet_ctx *ctx, const char *json, size_t n, sv_result *out);
void sv_result_free(sv_result *r);
/* The status named by odet_status_str (ODET_ERR_INTERNAL when unknown). */
odet_status sv_status_from_name(const char *s);

#endif
