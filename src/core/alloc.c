/* alloc.c — allocation wrappers that record ODET_ERR_NO_MEMORY with the size asked for, and
 * the context's fault injection (odet_ctx_fail_at) that makes the n-th of them fail. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

void odet_ctx_fail_at(odet_ctx *ctx, int64_t n)
{
	__atomic_store_n(&ctx->fault_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctx->fault_at, n, __ATOMIC_SEQ_CST);
}

int64_t odet_ctx_fault_calls(const odet_ctx *ctx)
{
	return __atomic_load_n(&ctx->fault_calls, __ATOMIC_SEQ_CST);
}

bool odet_fault(odet_ctx *ctx)
{
	if (!ctx)
		return false;
	int64_t at = __atomic_load_n(&ctx->fault_at, __ATOMIC_RELAXED);
	int64_t k = __atomic_add_fetch(&ctx->fault_calls, 1, __ATOMIC_SEQ_CST);
	return at > 0 && k == at;
}

void *odet_malloc(odet_ctx *ctx, size_t n)
{
	void *p = odet_fault(ctx) ? NULL : malloc(n ? n : 1);
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
	void *p = odet_fault(ctx) ? NULL : calloc(total ? n : 1, total ? size : 1);
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
	void *q = odet_fault(ctx) ? NULL : realloc(p, total ? total : 1);
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
	if (odet_fault(ctx) || posix_memalign(&p, 64, n ? n : 64) != 0) {
		odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory allocating %zu bytes", n);
		return NULL;
	}
	return p;
}

void odet_aligned_free(void *p)
{
	free(p);
}
