/*
 * tune_cache.c — a file of timed kernel choices (odet_ctx_opts.tune_cache), so that a build
 * or a plan load on the same device does not time every candidate again.
 *
 * Format: text, one entry per line, "KEY\tVALUE\n"; KEY and VALUE are printable ASCII
 * without tabs or newlines, each under 512 bytes. The last line with a key wins; lines that
 * do not parse are ignored (a cache never makes a build fail). Entries are appended with one
 * write(2) on a file opened O_APPEND, so concurrent builds interleave whole lines. Keys name
 * the device and library versions themselves (backends build them), so one file can serve
 * several GPUs.
 */
#include "core.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TUNE_MAX_FIELD 512

static bool printable(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= TUNE_MAX_FIELD)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '\t')
			return false;
	return true;
}

bool odet_tune_get(const odet_ctx *ctx, const char *key, char *val, size_t cap)
{
	if (!ctx || !ctx->opts.tune_cache || !*ctx->opts.tune_cache || !printable(key) || cap == 0)
		return false;
	FILE *f = fopen(ctx->opts.tune_cache, "r");
	if (!f)
		return false;
	char line[2 * TUNE_MAX_FIELD + 4];
	size_t kl = strlen(key);
	bool found = false;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (n == 0 || line[n - 1] != '\n') { /* too long or unterminated: skip the rest */
			int c;
			while (n && line[n - 1] != '\n' && (c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		line[--n] = 0;
		if (n <= kl || memcmp(line, key, kl) || line[kl] != '\t' || !printable(line + kl + 1) ||
		    strlen(line + kl + 1) >= cap)
			continue;
		strcpy(val, line + kl + 1);
		found = true;
	}
	fclose(f);
	return found;
}

void odet_tune_put(const odet_ctx *ctx, const char *key, const char *val)
{
	if (!ctx || !ctx->opts.tune_cache || !*ctx->opts.tune_cache || !printable(key) || !printable(val))
		return;
	char line[2 * TUNE_MAX_FIELD + 4];
	int n = snprintf(line, sizeof line, "%s\t%s\n", key, val);
	int fd = open(ctx->opts.tune_cache, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		odet_log(ctx, ODET_LOG_INFO, "tuning cache %s: cannot open for writing", ctx->opts.tune_cache);
		return;
	}
	if (write(fd, line, (size_t)n) != n)
		odet_log(ctx, ODET_LOG_INFO, "tuning cache %s: short write", ctx->opts.tune_cache);
	close(fd);
}
