/* publish.c — odet_publisher_*: messages (one per video frame: `odet video --publish`) appended
 * to a Redis stream, as DeepStream's message-broker sink publishes its detections. */
#include "serve/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUB_TIMEOUT_MS 5000

struct odet_publisher {
	odet_ctx *ctx;
	rd_url url;
	rd_conn *c;
	char maxlen[32];
};

odet_status odet_publisher_open(odet_ctx *ctx, const char *url, int64_t maxlen, odet_publisher **out)
{
	if (!ctx || !out || maxlen < 0)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	odet_publisher *p = calloc(1, sizeof *p);
	if (!p)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory for a publisher");
	p->ctx = ctx;
	snprintf(p->maxlen, sizeof p->maxlen, "%lld", (long long)(maxlen ? maxlen : 100000));
	odet_status rc = rd_parse_url(ctx, url, &p->url);
	if (!rc && !p->url.stream[0])
		rc = odet_error(ctx, ODET_ERR_INVALID_ARG, "'%s': no stream (redis://HOST[:PORT]/STREAM)", url);
	if (!rc)
		rc = rd_connect(ctx, &p->url, PUB_TIMEOUT_MS, &p->c);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return ODET_OK;
}

static odet_status send_once(odet_publisher *p, const char *msg, size_t n)
{
	const char *argv[] = {"XADD", p->url.stream, "MAXLEN", "~", p->maxlen, "*", "msg", msg};
	size_t len[] = {4, strlen(p->url.stream), 6, 1, strlen(p->maxlen), 1, 3, n};
	rd_reply *r;
	odet_status rc = rd_cmd(p->c, 8, argv, len, &r);
	if (rc)
		return rc;
	if (rd_type(r) == RD_ERROR)
		rc = odet_error(p->ctx, ODET_ERR_IO, "XADD %s: %s", p->url.stream, rd_str(r, NULL));
	rd_free(p->c, r);
	return rc;
}

odet_status odet_publisher_send(odet_publisher *p, const char *msg, size_t n)
{
	if (!p || (!msg && n))
		return ODET_ERR_INVALID_ARG;
	odet_status rc = send_once(p, msg ? msg : "", n);
	if (rc != ODET_ERR_IO)
		return rc;
	/* the connection failed (a server restart): one new connection, one more try */
	rd_close(p->c);
	p->c = NULL;
	if ((rc = rd_connect(p->ctx, &p->url, PUB_TIMEOUT_MS, &p->c)))
		return rc;
	return send_once(p, msg ? msg : "", n);
}

void odet_publisher_close(odet_publisher *p)
{
	if (!p)
		return;
	rd_close(p->c);
	free(p);
}
