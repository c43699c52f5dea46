/*
 * sources.c — odet_sources_expand: files, folders (their .jpg/.jpeg/.png files, sorted by
 * name), glob patterns and @LIST files → one list of image paths, in the order given.
 */
#include "core/core.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define LIST_MAX_BYTES ((size_t)1 << 30)

typedef struct plist {
	char **v;
	int64_t n, cap;
} plist;

static bool has_image_ext(const char *p)
{
	const char *d = strrchr(p, '.');
	return d && (!strcasecmp(d, ".jpg") || !strcasecmp(d, ".jpeg") || !strcasecmp(d, ".png"));
}

static odet_status push(odet_ctx *ctx, plist *l, const char *p, size_t len)
{
	if (l->n == l->cap) {
		int64_t cap = l->cap ? l->cap * 2 : 64;
		char **nv = realloc(l->v, sizeof(char *) * (size_t)cap);
		if (!nv)
			return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory listing sources");
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(p, len)))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory listing sources");
	l->n++;
	return ODET_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static odet_status add_folder(odet_ctx *ctx, const char *dir, plist *out, int *n_bad)
{
	DIR *d = opendir(dir);
	if (!d) {
		odet_log(ctx, ODET_LOG_WARN, "%s: cannot open folder: %s", dir, strerror(errno));
		(*n_bad)++;
		return ODET_OK;
	}
	int64_t first = out->n;
	struct dirent *e;
	odet_status rc = ODET_OK;
	char p[4096];
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !has_image_ext(e->d_name))
			continue;
		int len = snprintf(p, sizeof p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		if (len < 0 || (size_t)len >= sizeof p) {
			odet_log(ctx, ODET_LOG_WARN, "%s/%s: path too long, skipped", dir, e->d_name);
			(*n_bad)++;
			continue;
		}
		rc = push(ctx, out, p, (size_t)len);
	}
	closedir(d);
	if (out->n > first) /* an empty folder leaves out->v NULL: no pointer arithmetic on it */
		qsort(out->v + first, (size_t)(out->n - first), sizeof(char *), cmp_str);
	return rc;
}

/* @LIST: one path per line; blank lines and # comments skipped */
static odet_status add_list(odet_ctx *ctx, const char *file, plist *out, int *n_bad)
{
	void *data;
	size_t size;
	if (odet_file_read(ctx, file, LIST_MAX_BYTES, &data, &size) != ODET_OK) {
		odet_log(ctx, ODET_LOG_WARN, "%s", odet_ctx_last_error(ctx));
		(*n_bad)++;
		return ODET_OK;
	}
	const char *s = data, *end = s + size;
	odet_status rc = ODET_OK;
	while (!rc && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		const char *a = s, *b = le;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == '\r' || b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a && *a != '#') {
			if (memchr(a, 0, (size_t)(b - a))) {
				odet_log(ctx, ODET_LOG_WARN, "%s: a line holds a NUL byte, skipped", file);
				(*n_bad)++;
			} else {
				rc = push(ctx, out, a, (size_t)(b - a));
			}
		}
		s = le + 1;
	}
	free(data);
	return rc;
}

odet_status odet_sources_expand(odet_ctx *ctx, const char *const *src, int n, odet_path_list *out, int *n_bad)
{
	if (!out || !n_bad || (n && !src))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_sources_expand: NULL argument");
	memset(out, 0, sizeof *out);
	*n_bad = 0;
	plist l = {0};
	odet_status rc = ODET_OK;
	for (int i = 0; i < n && !rc; i++) {
		struct stat st;
		const char *s = src[i];
		if (s[0] == '@' && s[1]) {
			rc = add_list(ctx, s + 1, &l, n_bad);
		} else if (stat(s, &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = add_folder(ctx, s, &l, n_bad);
		} else if (stat(s, &st) == 0) {
			rc = push(ctx, &l, s, strlen(s));
		} else if (strpbrk(s, "*?[")) {
			glob_t g;
			if (glob(s, 0, NULL, &g) == 0) {
				for (size_t k = 0; k < g.gl_pathc && !rc; k++)
					rc = push(ctx, &l, g.gl_pathv[k], strlen(g.gl_pathv[k]));
			} else {
				odet_log(ctx, ODET_LOG_WARN, "%s: no files match", s);
				(*n_bad)++;
			}
			globfree(&g);
		} else {
			odet_log(ctx, ODET_LOG_WARN, "%s: %s", s, strerror(errno));
			(*n_bad)++;
		}
	}
	out->paths = l.v;
	out->n = l.n;
	if (rc)
		odet_path_list_free(out);
	return rc;
}

void odet_path_list_free(odet_path_list *l)
{
	if (!l)
		return;
	for (int64_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof *l);
}
