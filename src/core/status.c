/* status.c — the one table of status names, dtype names/sizes, and the error/log helpers. */
#include "core.h"

#include <stdio.h>
#include <string.h>

static const char *const status_names[ODET_STATUS_COUNT] = {
	[ODET_OK] = "ok",
	[ODET_ERR_INVALID_ARG] = "invalid argument",
	[ODET_ERR_BAD_INPUT] = "bad input",
	[ODET_ERR_UNSUPPORTED] = "unsupported",
	[ODET_ERR_LIMIT] = "limit exceeded",
	[ODET_ERR_MISMATCH] = "mismatch",
	[ODET_ERR_NO_MEMORY] = "out of memory",
	[ODET_ERR_IO] = "I/O error",
	[ODET_ERR_DEVICE] = "device error",
	[ODET_ERR_INTERNAL] = "internal error",
};

const char *odet_status_str(odet_status s)
{
	if ((unsigned)s >= ODET_STATUS_COUNT)
		return "unknown status";
	return status_names[s];
}

int odet_status_exit_code(odet_status s)
{
	switch (s) {
	case ODET_OK:
		return 0;
	case ODET_ERR_INVALID_ARG:
	case ODET_ERR_BAD_INPUT:
	case ODET_ERR_UNSUPPORTED:
	case ODET_ERR_LIMIT:
	case ODET_ERR_MISMATCH:
		return 2;
	default:
		return 1;
	}
}

static const struct {
	const char *name;
	size_t size;
} dtype_table[ODET_DTYPE_MAX] = {
	[ODET_DTYPE_UNDEFINED] = {"undefined", 0},
	[ODET_F32] = {"float32", 4},
	[ODET_U8] = {"uint8", 1},
	[ODET_I8] = {"int8", 1},
	[ODET_U16] = {"uint16", 2},
	[ODET_I16] = {"int16", 2},
	[ODET_I32] = {"int32", 4},
	[ODET_I64] = {"int64", 8},
	[ODET_STRING] = {"string", 0},
	[ODET_BOOL] = {"bool", 1},
	[ODET_F16] = {"float16", 2},
	[ODET_F64] = {"float64", 8},
	[ODET_U32] = {"uint32", 4},
	[ODET_U64] = {"uint64", 8},
	[14] = {"complex64", 0},
	[15] = {"complex128", 0},
	[ODET_BF16] = {"bfloat16", 2},
	[ODET_F8E4M3] = {"float8e4m3", 1},
};

size_t odet_dtype_size(odet_dtype t)
{
	if ((unsigned)t >= ODET_DTYPE_MAX)
		return 0;
	return dtype_table[t].size;
}

const char *odet_dtype_name(odet_dtype t)
{
	if ((unsigned)t >= ODET_DTYPE_MAX || !dtype_table[t].name)
		return "unknown";
	return dtype_table[t].name;
}

bool odet_dims_numel(const int64_t *dims, int rank, int64_t *out)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] < 0 || !odet_mul_i64(n, dims[i], &n))
			return false;
	}
	*out = n;
	return true;
}

int64_t odet_tensor_numel(const odet_tensor *t)
{
	int64_t n;
	if (!t || t->rank < 0 || t->rank > ODET_MAX_RANK || !odet_dims_numel(t->dims, t->rank, &n))
		return -1;
	return n;
}

/* A message is one line of text: control bytes a file put into a name (a newline in a
 * corrupted tensor name) become '?', so they cannot split or forge the line. */
static void one_line(char *m)
{
	for (; *m; m++)
		if ((unsigned char)*m < 0x20 || *m == 0x7f)
			*m = '?';
}

odet_status odet_error(odet_ctx *ctx, odet_status s, const char *fmt, ...)
{
	if (!ctx)
		return s;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&ctx->error_lock);
	vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
	one_line(ctx->last_error);
	ctx->last_status = s;
	pthread_mutex_unlock(&ctx->error_lock);
	va_end(ap);
	return s;
}

odet_status odet_error_prefix(odet_ctx *ctx, const char *fmt, ...)
{
	if (!ctx)
		return ODET_ERR_INTERNAL;
	char prefix[512], old[sizeof ctx->last_error];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ctx->error_lock);
	memcpy(old, ctx->last_error, sizeof old);
	snprintf(ctx->last_error, sizeof ctx->last_error, "%s%s", prefix, old);
	one_line(ctx->last_error);
	odet_status s = ctx->last_status;
	pthread_mutex_unlock(&ctx->error_lock);
	return s;
}

void odet_log(const odet_ctx *ctx, odet_log_level level, const char *fmt, ...)
{
	if (ctx && level > ctx->opts.log_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ctx && ctx->opts.log_fn) {
		ctx->opts.log_fn(ctx->opts.log_user, level, msg);
		return;
	}
	static const char *const tags[] = {"error", "warning", "info", "debug"};
	fprintf(stderr, "odet: %s: %s\n", tags[level & 3], msg);
}
