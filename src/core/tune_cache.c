/*
 * tune_cache.c — timed kernel choices, so that a build or a plan load on the same device does
 * not time every candidate again: an engine's own set (saved in its plan, docs/plan-format.md)
 * and a file shared by builds (odet_ctx_opts.tune_cache).
 *
 * Format: text, one entry per line, "KEY\tVALUE\n"; KEY and VALUE are printable ASCII
 * without tabs or newlines, each under 512 bytes. The last line with a key wins; lines that
 * do not parse are ignored (a cache never makes a build fail). Entries are appended with one
 * write(2) on a file opened O_APPEND, so concurrent builds interleave whole lines. Keys name
 * the device and library versions themselves (backends build them), so one file can serve
 * several GPUs. The set is consulted first, so a loaded plan runs the choices it was built
 * with whatever the file says; both are keyed alike, so a plan's choices never apply to
 * another GPU model or cuDNN version (those are in the key).
 */
#include "core.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TUNE_MAX_FIELD 512

bool odet_tune_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= TUNE_MAX_FIELD)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '\t')
			return false;
	return true;
}

static int set_index(const odet_tune_set *set, const char *key)
{
	for (int i = 0; set && i < set->n; i++)
		if (!strcmp(set->key[i], key))
			return i;
	return -1;
}

const char *odet_tune_set_find(const odet_tune_set *set, const char *key)
{
	int i = set_index(set, key);
	return i < 0 ? NULL : set->val[i];
}

bool odet_tune_set_add(odet_tune_set *set, const char *key, const char *val)
{
	if (!set || !odet_tune_valid(key) || !odet_tune_valid(val))
		return false;
	char *v = strdup(val);
	if (!v)
		return false;
	int i = set_index(set, key);
	if (i >= 0) {
		free(set->val[i]);
		set->val[i] = v;
		return true;
	}
	if (set->n == set->cap) {
		int cap = set->cap ? 2 * set->cap : 16;
		char **k = realloc(set->key, (size_t)cap * sizeof *k);
		if (k)
			set->key = k;
		char **w = k ? realloc(set->val, (size_t)cap * sizeof *w) : NULL;
		if (w)
			set->val = w;
		if (!k || !w) {
			free(v);
			return false;
		}
		set->cap = cap;
	}
	if (!(set->key[set->n] = strdup(key))) {
		free(v);
		return false;
	}
	set->val[set->n++] = v;
	return true;
}

void odet_tune_set_free(odet_tune_set *set)
{
	if (!set)
		return;
	for (int i = 0; i < set->n; i++) {
		free(set->key[i]);
		free(set->val[i]);
	}
	free(set->key);
	free(set->val);
	*set = (odet_tune_set){0};
}

/* the newest VALUE of KEY in the file */
static bool file_get(const odet_ctx *ctx, const char *key, char *val, size_t cap)
{
	if (!ctx || !ctx->opts.tune_cache || !*ctx->opts.tune_cache)
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
		if (n <= kl || memcmp(line, key, kl) || line[kl] != '\t' || !odet_tune_valid(line + kl + 1) ||
		    strlen(line + kl + 1) >= cap)
			continue;
		strcpy(val, line + kl + 1);
		found = true;
	}
	fclose(f);
	return found;
}

/* into the engine's set (when there is one); a failure only costs a re-timing at the next load */
static void set_keep(const odet_ctx *ctx, odet_tune_set *set, const char *key, const char *val)
{
	if (set && !odet_tune_set_add(set, key, val))
		odet_log(ctx, ODET_LOG_INFO, "tuned choice '%s' not kept for the plan (out of memory)", key);
}

bool odet_tune_get(const odet_ctx *ctx, odet_tune_set *set, const char *key, char *val, size_t cap)
{
	if (!odet_tune_valid(key) || cap == 0)
		return false;
	const char *mine = odet_tune_set_find(set, key);
	if (mine) {
		if (strlen(mine) >= cap)
			return false;
		strcpy(val, mine);
		return true;
	}
	if (!file_get(ctx, key, val, cap))
		return false;
	set_keep(ctx, set, key, val);
	return true;
}

void odet_tune_put(const odet_ctx *ctx, odet_tune_set *set, const char *key, const char *val)
{
	if (!odet_tune_valid(key) || !odet_tune_valid(val))
		return;
	set_keep(ctx, set, key, val);
	if (!ctx || !ctx->opts.tune_cache || !*ctx->opts.tune_cache)
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
