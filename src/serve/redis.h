/*
 * redis.h — a Redis connection for the queue (src/serve). redis_hiredis.c talks through
 * hiredis, loaded with dlopen when a connection opens (the soname of the headers' version), so
 * odet builds, links and runs without it; redis_none.c stands in when hiredis's headers were
 * absent at build time. queue.c holds what does not need hiredis (URL, options, retries).
 *
 * Replies are hiredis's, seen through rd_* accessors. A command whose connection fails
 * returns ODET_ERR_IO and the connection is dead (close it, connect again); a Redis error
 * reply is a reply of type RD_ERROR with status ODET_OK.
 */
#ifndef ODET_SERVE_REDIS_H
#define ODET_SERVE_REDIS_H

#include "core/core.h"

#include <stdbool.h>

typedef struct rd_conn rd_conn;
typedef struct rd_reply rd_reply;

enum { RD_STRING = 1, RD_ARRAY = 2, RD_INTEGER = 3, RD_NIL = 4, RD_STATUS = 5, RD_ERROR = 6 };

typedef struct rd_url {
	char host[256];
	int port;
	int db;
	char password[256];
	char stream[256];          /* redis://HOST/STREAM (odet video --publish): the path, if not a number */
} rd_url;

/* redis://[:PASSWORD@]HOST[:PORT][/DB or /NAME]; ODET_ERR_INVALID_ARG naming what is wrong. */
odet_status rd_parse_url(odet_ctx *ctx, const char *url, rd_url *out);

/* One connection attempt (AUTH and SELECT when the URL asks); ODET_ERR_IO with the reason,
 * ODET_ERR_UNSUPPORTED without hiredis. timeout_ms bounds connecting and each reply. */
odet_status rd_connect(odet_ctx *ctx, const rd_url *u, int timeout_ms, rd_conn **out);
/* rd_connect until it succeeds or retry_s has passed (backoff 0.1 s doubling to 2 s; each
 * failure logged as a warning). */
odet_status rd_connect_retry(odet_ctx *ctx, const rd_url *u, int timeout_ms, double retry_s, rd_conn **out);
void rd_close(rd_conn *c);
/* Reply timeout from now on (a blocking command needs its BLOCK time plus this). */
odet_status rd_set_timeout(rd_conn *c, int ms);

/* Send a command and read its reply (*out: free with rd_free). */
odet_status rd_cmd(rd_conn *c, int argc, const char **argv, const size_t *len, rd_reply **out);
/* Pipelining: queue commands, then read their replies in order. */
odet_status rd_append(rd_conn *c, int argc, const char **argv, const size_t *len);
odet_status rd_get(rd_conn *c, rd_reply **out);
/* Free a reply (before its connection is closed). */
void rd_free(rd_conn *c, rd_reply *r);
/* The function rd_free calls: valid while any connection is open (the library stays loaded),
 * for replies that outlive the connection they came from. */
typedef void (*rd_free_fn)(rd_reply *r);
rd_free_fn rd_freer(const rd_conn *c);
/* Keep hiredis loaded until rd_unhold, so rd_freer's function stays valid while every
 * connection is closed and reopened (two threads reconnecting at once); NULL without it. */
void *rd_hold(void);
void rd_unhold(void *h);

int rd_type(const rd_reply *r);
long long rd_int(const rd_reply *r);
/* String, status or error text (NULL for other types); *len its length when len != NULL. */
const char *rd_str(const rd_reply *r, size_t *len);
size_t rd_n(const rd_reply *r);                /* array elements (0 otherwise) */
const rd_reply *rd_at(const rd_reply *r, size_t i);
/* Whether the reply is a string/status equal to s. */
bool rd_is(const rd_reply *r, const char *s);

/* Whether hiredis can be loaded (and the build has its headers). */
bool rd_available(void);

#endif
