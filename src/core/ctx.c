/* ctx.c — the library context: options, thread pool, last error. */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

odet_ctx_opts odet_ctx_opts_default(void)
{
	odet_ctx_opts o = {0};
	o.n_threads = 0;
	o.log_level = ODET_LOG_WARN;
	o.max_image_pixels = (int64_t)1 << 28;
	o.max_json_depth = 64;
	return o;
}

odet_status odet_ctx_create(const odet_ctx_opts *opts, odet_ctx **out)
{
	if (!out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	odet_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return ODET_ERR_NO_MEMORY;
	ctx->opts = opts ? *opts : odet_ctx_opts_default();
	if (ctx->opts.tune_cache) {
		ctx->tune_cache = strdup(ctx->opts.tune_cache);
		if (!ctx->tune_cache) {
			free(ctx);
			return ODET_ERR_NO_MEMORY;
		}
		ctx->opts.tune_cache = ctx->tune_cache;
	}
	int n = ctx->opts.n_threads;
	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (int)c : 1;
	}
	if (n > 256)
		n = 256;
	ctx->opts.n_threads = n;
	pthread_mutex_init(&ctx->error_lock, NULL);
	odet_status rc = odet_threadpool_create(n, &ctx->pool);
	if (rc) {
		free(ctx->tune_cache);
		free(ctx);
		return rc;
	}
	*out = ctx;
	return ODET_OK;
}

void odet_ctx_destroy(odet_ctx *ctx)
{
	if (!ctx)
		return;
	odet_threadpool_destroy(ctx->pool);
	pthread_mutex_destroy(&ctx->error_lock);
	free(ctx->tune_cache);
	free(ctx);
}

const char *odet_ctx_last_error(const odet_ctx *ctx)
{
	return ctx ? ctx->last_error : "";
}

int odet_ctx_num_threads(const odet_ctx *ctx)
{
	return ctx ? ctx->opts.n_threads : 0;
}
