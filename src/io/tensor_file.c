/*
 * tensor_file.c — read and write .bin tensor files (layout in docs/formats.md).
 * Every length is checked against the bytes left before anything is allocated from it:
 * name_len <= 4096, rank <= 8, dims >= 0, numel * dtype size without overflow and within
 * the file. Strings and dtypes without a fixed size are refused.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#define TF_MAGIC "ODTN"
#define TF_VERSION 1u

void odet_tensor_file_free(odet_named_tensor *t, int count)
{
	if (!t)
		return;
	for (int i = 0; i < count; i++) {
		free(t[i].name);
		odet_aligned_free(t[i].t.data);
	}
	free(t);
}

static bool take(const uint8_t *p, size_t size, size_t *pos, void *dst, size_t n)
{
	if (n > size - *pos)
		return false;
	memcpy(dst, p + *pos, n);
	*pos += n;
	return true;
}

odet_status odet_tensor_file_parse(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   odet_named_tensor **out, int *count)
{
	const uint8_t *p = data;
	size_t pos = 0;
	uint32_t version, n;
	*out = NULL;
	*count = 0;
	if (size < 12 || memcmp(p, TF_MAGIC, 4) != 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not an odet tensor file (bad magic or too short)",
				  label);
	pos = 4;
	take(p, size, &pos, &version, 4);
	take(p, size, &pos, &n, 4);
	if (version != TF_VERSION)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: tensor file version %u, this odet reads %u",
				  label, version, TF_VERSION);
	/* each tensor takes at least 12 bytes */
	if (n > ODET_TENSOR_FILE_MAX_COUNT)
		return odet_error(ctx, ODET_ERR_LIMIT, "%s: %u tensors (limit %d)", label, n, ODET_TENSOR_FILE_MAX_COUNT);
	if (n > (size - pos) / 12)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: tensor count %u does not fit the file", label, n);
	odet_named_tensor *t = odet_calloc(ctx, (size_t)n + 1, sizeof *t);
	if (!t)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = ODET_OK;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t name_len, dtype, rank;
		if (!take(p, size, &pos, &name_len, 4))
			goto out_trunc;
		if (name_len > ODET_LIMIT_MAX_NAME) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: tensor %u: name of %u bytes (limit %d)",
					label, i, name_len, ODET_LIMIT_MAX_NAME);
			goto out_free;
		}
		if (name_len > size - pos)
			goto out_trunc;
		if (!(t[i].name = odet_malloc(ctx, (size_t)name_len + 1))) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		take(p, size, &pos, t[i].name, name_len);
		t[i].name[name_len] = 0;
		if (!take(p, size, &pos, &dtype, 4) || !take(p, size, &pos, &rank, 4))
			goto out_trunc;
		if (dtype >= ODET_DTYPE_MAX || odet_dtype_size((odet_dtype)dtype) == 0) {
			rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %u is not supported",
					label, t[i].name, dtype);
			goto out_free;
		}
		if (rank > ODET_MAX_RANK) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "%s: tensor '%s': rank %u (limit %d)", label,
					t[i].name, rank, ODET_MAX_RANK);
			goto out_free;
		}
		t[i].t.dtype = (odet_dtype)dtype;
		t[i].t.rank = (int)rank;
		t[i].t.device = -1;
		for (uint32_t k = 0; k < rank; k++)
			if (!take(p, size, &pos, &t[i].t.dims[k], 8))
				goto out_trunc;
		int64_t numel;
		size_t bytes;
		if (!odet_dims_numel(t[i].t.dims, (int)rank, &numel) ||
		    !odet_mul_size((size_t)numel, odet_dtype_size(t[i].t.dtype), &bytes)) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: tensor '%s': negative or overflowing dims",
					label, t[i].name);
			goto out_free;
		}
		if (bytes > size - pos)
			goto out_trunc;
		if (!(t[i].t.data = odet_aligned_alloc(ctx, bytes))) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		take(p, size, &pos, t[i].t.data, bytes);
	}
	if (pos != size) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %zu trailing bytes after %u tensors", label,
				size - pos, n);
		goto out_free;
	}
	*out = t;
	*count = (int)n;
	return ODET_OK;
out_trunc:
	rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: truncated (at byte %zu of %zu)", label, pos, size);
out_free:
	odet_tensor_file_free(t, (int)n);
	return rc;
}

odet_status odet_tensor_file_read(odet_ctx *ctx, const char *path, odet_named_tensor **out, int *count)
{
	void *data;
	size_t size;
	*out = NULL;
	*count = 0;
	odet_status rc = odet_file_read(ctx, path, (size_t)ODET_LIMIT_MAX_TENSOR_BYTES, &data, &size);
	if (rc)
		return rc;
	rc = odet_tensor_file_parse(ctx, data, size, path, out, count);
	free(data);
	return rc;
}

odet_status odet_tensor_file_serialize(odet_ctx *ctx, const odet_named_tensor *t, int count, void **data,
				       size_t *size)
{
	*data = NULL;
	*size = 0;
	if (count < 0 || count > ODET_TENSOR_FILE_MAX_COUNT)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "tensor file: %d tensors", count);
	size_t total = 12;
	for (int i = 0; i < count; i++) {
		int64_t numel = odet_tensor_numel(&t[i].t);
		size_t nl = strlen(t[i].name), bytes;
		if (numel < 0 || odet_dtype_size(t[i].t.dtype) == 0 || nl > ODET_LIMIT_MAX_NAME ||
		    !odet_mul_size((size_t)numel, odet_dtype_size(t[i].t.dtype), &bytes) ||
		    !odet_add_size(total, 12 + nl + 8 * (size_t)t[i].t.rank, &total) ||
		    !odet_add_size(total, bytes, &total))
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "tensor file: tensor '%s' cannot be written",
					  t[i].name);
	}
	uint8_t *buf = odet_malloc(ctx, total);
	if (!buf)
		return ODET_ERR_NO_MEMORY;
	uint8_t *w = buf;
	uint32_t u;
	memcpy(w, TF_MAGIC, 4), w += 4;
	u = TF_VERSION, memcpy(w, &u, 4), w += 4;
	u = (uint32_t)count, memcpy(w, &u, 4), w += 4;
	for (int i = 0; i < count; i++) {
		size_t nl = strlen(t[i].name);
		size_t bytes = (size_t)odet_tensor_numel(&t[i].t) * odet_dtype_size(t[i].t.dtype);
		u = (uint32_t)nl, memcpy(w, &u, 4), w += 4;
		memcpy(w, t[i].name, nl), w += nl;
		u = (uint32_t)t[i].t.dtype, memcpy(w, &u, 4), w += 4;
		u = (uint32_t)t[i].t.rank, memcpy(w, &u, 4), w += 4;
		memcpy(w, t[i].t.dims, 8 * (size_t)t[i].t.rank), w += 8 * (size_t)t[i].t.rank;
		if (bytes)
			memcpy(w, t[i].t.data, bytes), w += bytes;
	}
	*data = buf;
	*size = total;
	return ODET_OK;
}

odet_status odet_tensor_file_write(odet_ctx *ctx, const char *path, const odet_named_tensor *t, int count)
{
	void *data;
	size_t size;
	odet_status rc = odet_tensor_file_serialize(ctx, t, count, &data, &size);
	if (rc)
		return rc;
	rc = odet_file_write_atomic(ctx, path, data, size);
	free(data);
	return rc;
}
