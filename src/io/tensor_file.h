/*
 * tensor_file.h — the .bin tensor files of `odet run` (docs/formats.md): magic "ODTN",
 * version 1, a count, then per tensor name, dtype, rank, dims and row-major data,
 * little-endian, no padding. Reading treats the file as untrusted.
 */
#ifndef ODET_TENSOR_FILE_H
#define ODET_TENSOR_FILE_H

#include "core/core.h"

#define ODET_TENSOR_FILE_MAX_COUNT 4096

typedef struct odet_named_tensor {
	char *name;        /* owned */
	odet_tensor t;     /* t.data owned (64-byte aligned; free with odet_aligned_free) */
} odet_named_tensor;

/* Parse a tensor file held in memory; label names it in errors. */
odet_status odet_tensor_file_parse(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   odet_named_tensor **out, int *count);
odet_status odet_tensor_file_read(odet_ctx *ctx, const char *path, odet_named_tensor **out, int *count);
/* Serialize (malloc'ed buffer) / write atomically. */
odet_status odet_tensor_file_serialize(odet_ctx *ctx, const odet_named_tensor *t, int count, void **data,
				       size_t *size);
odet_status odet_tensor_file_write(odet_ctx *ctx, const char *path, const odet_named_tensor *t, int count);
void odet_tensor_file_free(odet_named_tensor *t, int count);

#endif
