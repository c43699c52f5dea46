/* alloc.c — allocation wrappers that record ODET_ERR_NO_MEMORY with the size asked for. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

void *odet_malloc(odet_ctx *ctx, size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory allocating %zu bytes", n);
	return p;
}

void *odet_calloc(odet_ctx *ctx, size_t n, size_t size)
{
	size_t total;
	if (!odet_mul_size(n, size, &total)) {
		odet_error(ctx, ODET_ERR_NO_MEMORY, "allocation size overflows (%zu x %zu)", n, size);
		return NULL;
	}
	void *p = calloc(total ? n : 1, total ? size : 1);
	if (!p)
		odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory allocating %zu bytes", total);
	return p;
}

void *odet_realloc_array(odet_ctx *ctx, void *p, size_t n, size_t size)
{
	size_t total;
	if (!odet_mul_size(n, size, &total)) {
		odet_error(ctx, ODET_ERR_NO_MEMORY, "allocation size overflows (%zu x %zu)", n, size);
		return NULL;
	}
	void *q = realloc(p, total ? total : 1);
	if (!q)
		odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory allocating %zu bytes", total);
	return q;
}

char *odet_strdup(odet_ctx *ctx, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = odet_malloc(ctx, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void *odet_aligned_alloc(odet_ctx *ctx, size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 64) != 0) {
		odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory allocating %zu bytes", n);
		return NULL;
	}
	return p;
}

void odet_aligned_free(void *p)
{
	free(p);
}
