/* redis_hiredis.c — rd_* over hiredis, loaded with dlopen (redis.h). */
#include "serve/redis.h"

#include <dlfcn.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RD_STR2(x) #x
#define RD_STR(x) RD_STR2(x)
/* the layout of redisReply and redisContext changes between majors: the soname of the headers */
static const char rd_soname[] = "libhiredis.so." RD_STR(HIREDIS_SONAME);

typedef struct rd_api {
	__typeof__(redisConnectWithTimeout) *connect;
	__typeof__(redisSetTimeout) *set_timeout;
	__typeof__(redisFree) *free_ctx;
	__typeof__(redisCommandArgv) *command;
	__typeof__(redisAppendCommandArgv) *append;
	__typeof__(redisGetReply) *get_reply;
	__typeof__(freeReplyObject) *free_reply;
} rd_api;

struct rd_conn {
	odet_ctx *ctx;
	void *dl;
	rd_api api;
	redisContext *rc;
	char where[300];
};

static void *rd_dlopen(char *why, size_t n)
{
	void *dl = dlopen(rd_soname, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		const char *e = dlerror();
		snprintf(why, n, "%s (install libhiredis: Debian's libhiredis%s)", e ? e : rd_soname,
			 RD_STR(HIREDIS_SONAME));
	}
	return dl;
}

bool rd_available(void)
{
	char why[256];
	void *dl = rd_dlopen(why, sizeof why);
	if (dl)
		dlclose(dl);
	return dl != NULL;
}

void *rd_hold(void)
{
	char why[256];
	return rd_dlopen(why, sizeof why);
}

void rd_unhold(void *h)
{
	if (h)
		dlclose(h);
}

static bool rd_resolve(void *dl, rd_api *a, char *why, size_t n)
{
	static const char *const names[] = {"redisConnectWithTimeout", "redisSetTimeout", "redisFree",
					    "redisCommandArgv", "redisAppendCommandArgv", "redisGetReply",
					    "freeReplyObject"};
	void *p[7];
	for (int i = 0; i < 7; i++)
		if (!(p[i] = dlsym(dl, names[i]))) {
			snprintf(why, n, "%s has no %s", rd_soname, names[i]);
			return false;
		}
	memcpy(&a->connect, &p[0], sizeof p[0]);
	memcpy(&a->set_timeout, &p[1], sizeof p[1]);
	memcpy(&a->free_ctx, &p[2], sizeof p[2]);
	memcpy(&a->command, &p[3], sizeof p[3]);
	memcpy(&a->append, &p[4], sizeof p[4]);
	memcpy(&a->get_reply, &p[5], sizeof p[5]);
	memcpy(&a->free_reply, &p[6], sizeof p[6]);
	return true;
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

static odet_status conn_error(rd_conn *c)
{
	const char *e = c->rc && c->rc->errstr[0] ? c->rc->errstr : "connection lost";
	return odet_error(c->ctx, ODET_ERR_IO, "Redis at %s: %s", c->where, e);
}

void rd_close(rd_conn *c)
{
	if (!c)
		return;
	if (c->rc)
		c->api.free_ctx(c->rc);
	if (c->dl)
		dlclose(c->dl);
	free(c);
}

odet_status rd_set_timeout(rd_conn *c, int ms)
{
	if (c->api.set_timeout(c->rc, tv_ms(ms)) != REDIS_OK)
		return conn_error(c);
	return ODET_OK;
}

odet_status rd_cmd(rd_conn *c, int argc, const char **argv, const size_t *len, rd_reply **out)
{
	*out = c->api.command(c->rc, argc, argv, len);
	return *out ? ODET_OK : conn_error(c);
}

odet_status rd_append(rd_conn *c, int argc, const char **argv, const size_t *len)
{
	return c->api.append(c->rc, argc, argv, len) == REDIS_OK ? ODET_OK : conn_error(c);
}

odet_status rd_get(rd_conn *c, rd_reply **out)
{
	void *r = NULL;
	*out = NULL;
	if (c->api.get_reply(c->rc, &r) != REDIS_OK || !r)
		return conn_error(c);
	*out = r;
	return ODET_OK;
}

void rd_free(rd_conn *c, rd_reply *r)
{
	if (r)
		c->api.free_reply(r);
}

rd_free_fn rd_freer(const rd_conn *c)
{
	rd_free_fn f;
	memcpy(&f, &c->api.free_reply, sizeof f);
	return f;
}

static odet_status simple(rd_conn *c, int argc, const char **argv, const char *what)
{
	rd_reply *r;
	odet_status rc = rd_cmd(c, argc, argv, NULL, &r);
	if (rc)
		return rc;
	if (rd_type(r) == RD_ERROR) {
		rc = odet_error(c->ctx, ODET_ERR_IO, "Redis at %s: %s: %s", c->where, what, rd_str(r, NULL));
	}
	rd_free(c, r);
	return rc;
}

odet_status rd_connect(odet_ctx *ctx, const rd_url *u, int timeout_ms, rd_conn **out)
{
	*out = NULL;
	rd_conn *c = calloc(1, sizeof *c);
	if (!c)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for a Redis connection");
	c->ctx = ctx;
	snprintf(c->where, sizeof c->where, "%s:%d", u->host, u->port);
	char why[512];
	odet_status rc;
	if (!(c->dl = rd_dlopen(why, sizeof why)) || !rd_resolve(c->dl, &c->api, why, sizeof why)) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "cannot use Redis: %s", why);
		goto out_fail;
	}
	c->rc = c->api.connect(u->host, u->port, tv_ms(timeout_ms));
	if (!c->rc || c->rc->err) {
		rc = odet_error(ctx, ODET_ERR_IO, "cannot connect to Redis at %s: %s", c->where,
				c->rc ? c->rc->errstr : "no memory");
		goto out_fail;
	}
	if ((rc = rd_set_timeout(c, timeout_ms)))
		goto out_fail;
	if (u->password[0] && (rc = simple(c, 2, (const char *[]){"AUTH", u->password}, "AUTH")))
		goto out_fail;
	if (u->db) {
		char db[16];
		snprintf(db, sizeof db, "%d", u->db);
		if ((rc = simple(c, 2, (const char *[]){"SELECT", db}, "SELECT")))
			goto out_fail;
	}
	*out = c;
	return ODET_OK;
out_fail:
	rd_close(c);
	return rc;
}

int rd_type(const rd_reply *r)
{
	return r ? ((const redisReply *)r)->type : RD_NIL;
}

long long rd_int(const rd_reply *r)
{
	return rd_type(r) == RD_INTEGER ? ((const redisReply *)r)->integer : 0;
}

const char *rd_str(const rd_reply *r, size_t *len)
{
	int t = rd_type(r);
	if (t != RD_STRING && t != RD_STATUS && t != RD_ERROR) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = ((const redisReply *)r)->len;
	return ((const redisReply *)r)->str;
}

size_t rd_n(const rd_reply *r)
{
	return rd_type(r) == RD_ARRAY ? ((const redisReply *)r)->elements : 0;
}

const rd_reply *rd_at(const rd_reply *r, size_t i)
{
	return i < rd_n(r) ? (const rd_reply *)((const redisReply *)r)->element[i] : NULL;
}
