/* redis_none.c — rd_* when odet was built without hiredis's headers (redis.h): every
 * connection fails with ODET_ERR_UNSUPPORTED. */
#include "serve/redis.h"

bool rd_available(void)
{
	return false;
}

odet_status rd_connect(odet_ctx *ctx, const rd_url *u, int timeout_ms, rd_conn **out)
{
	(void)u;
	(void)timeout_ms;
	*out = NULL;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "cannot use Redis: odet was built without hiredis's headers (Debian's libhiredis-dev)");
}

void rd_close(rd_conn *c)
{
	(void)c;
}

odet_status rd_set_timeout(rd_conn *c, int ms)
{
	(void)c;
	(void)ms;
	return ODET_ERR_UNSUPPORTED;
}

odet_status rd_cmd(rd_conn *c, int argc, const char **argv, const size_t *len, rd_reply **out)
{
	(void)c;
	(void)argc;
	(void)argv;
	(void)len;
	*out = NULL;
	return ODET_ERR_UNSUPPORTED;
}

odet_status rd_append(rd_conn *c, int argc, const char **argv, const size_t *len)
{
	(void)c;
	(void)argc;
	(void)argv;
	(void)len;
	return ODET_ERR_UNSUPPORTED;
}

odet_status rd_get(rd_conn *c, rd_reply **out)
{
	(void)c;
	*out = NULL;
	return ODET_ERR_UNSUPPORTED;
}

void rd_free(rd_conn *c, rd_reply *r)
{
	(void)c;
	(void)r;
}

static void free_nothing(rd_reply *r)
{
	(void)r;
}

void *rd_hold(void)
{
	return NULL;
}

void rd_unhold(void *h)
{
	(void)h;
}

rd_free_fn rd_freer(const rd_conn *c)
{
	(void)c;
	return free_nothing;
}

int rd_type(const rd_reply *r)
{
	(void)r;
	return RD_NIL;
}

long long rd_int(const rd_reply *r)
{
	(void)r;
	return 0;
}

const char *rd_str(const rd_reply *r, size_t *len)
{
	(void)r;
	if (len)
		*len = 0;
	return NULL;
}

size_t rd_n(const rd_reply *r)
{
	(void)r;
	return 0;
}

const rd_reply *rd_at(const rd_reply *r, size_t i)
{
	(void)r;
	(void)i;
	return NULL;
}
