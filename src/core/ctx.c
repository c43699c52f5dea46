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

/* The documented environment overrides of odet_build_opts (odet.h), read once here. */
static void read_env_build(odet_env_build *b)
{
	const char *e;
	b->conv_path = b->conv_candidates = b->nms_sort = b->stem_pad = ODET_ENV_UNSET;
	if ((e = getenv("ODET_CONV_PATH")))
		b->conv_path = !strcmp(e, "legacy") ? ODET_CONV_LEGACY : !strcmp(e, "graph") ? ODET_CONV_GRAPH
			       : !strcmp(e, "direct") ? ODET_CONV_DIRECT : ODET_CONV_AUTO;
	if ((e = getenv("ODET_CONV_CANDIDATES")))
		b->conv_candidates = atoi(e) > 0 ? atoi(e) : 0;
	if ((e = getenv("ODET_NMS_SORT")))
		b->nms_sort = !strcmp(e, "cub") ? ODET_NMS_SORT_CUB : ODET_NMS_SORT_FAST;
	if ((e = getenv("ODET_STEM_PAD")))
		b->stem_pad = atoi(e) == 4 || atoi(e) == 8 ? atoi(e) : -1;
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
	const char *tc = getenv("ODET_TUNE_CACHE");
	if (tc)
		ctx->opts.tune_cache = *tc && strcmp(tc, "none") ? tc : NULL;
	read_env_build(&ctx->env_build);
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
	pthread_mutex_init(&ctx->lib_lock, NULL);
	odet_status rc = odet_threadpool_create(n, &ctx->pool);
	if (rc) {
		pthread_mutex_destroy(&ctx->lib_lock);
		pthread_mutex_destroy(&ctx->error_lock);
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
	for (int i = ODET_CTX_LIB_COUNT - 1; i >= 0; i--)
		if (ctx->lib[i])
			ctx->lib_release[i](ctx->lib[i]);
	pthread_mutex_destroy(&ctx->lib_lock);
	pthread_mutex_destroy(&ctx->error_lock);
	free(ctx->tune_cache);
	free(ctx);
}

void *odet_ctx_lib(odet_ctx *ctx, odet_ctx_lib_kind kind, void *(*load)(char *why, size_t n),
		   void (*release)(void *handle), char *why, size_t n)
{
	pthread_mutex_lock(&ctx->lib_lock);
	if (!ctx->lib[kind] && (ctx->lib[kind] = load(why, n)))
		ctx->lib_release[kind] = release;
	void *h = ctx->lib[kind];
	pthread_mutex_unlock(&ctx->lib_lock);
	return h;
}

const char *odet_ctx_last_error(const odet_ctx *ctx)
{
	return ctx ? ctx->last_error : "";
}

int odet_ctx_num_threads(const odet_ctx *ctx)
{
	return ctx ? ctx->opts.n_threads : 0;
}
