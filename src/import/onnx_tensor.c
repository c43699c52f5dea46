/*
 * onnx_tensor.c — ONNX TensorProto and TypeProto into odet tensors and IR value shapes.
 *
 * TensorProto data comes from exactly one of: raw_data (little-endian, fixed width),
 * a typed field, or an external file (data_location = EXTERNAL, keys location/offset/length).
 * Typed fields per ONNX rules: float_data (float32), int32_data (int32, int16, int8, uint16,
 * uint8, bool, float16 and bfloat16 as bit patterns), int64_data (int64), double_data
 * (float64), uint64_data (uint32, uint64). Checked before anything is allocated: rank <= 8,
 * dims >= 0, element count and byte size without overflow and <= ODET_LIMIT_MAX_TENSOR_BYTES,
 * raw_data length == numel * element size, typed count == numel, external range inside its file.
 * External files must lie inside the model's folder: no absolute path, no '..' component,
 * and the realpath (symlinks resolved) must stay under the realpath of the folder.
 */
#include "import/onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX importer reads little-endian raw_data directly; big-endian hosts need byte swaps"
#endif

static bool dtype_supported(int32_t t)
{
	switch (t) {
	case ODET_F32: case ODET_F16: case ODET_BF16: case ODET_F64:
	case ODET_I8: case ODET_U8: case ODET_I16: case ODET_U16:
	case ODET_I32: case ODET_I64: case ODET_U32: case ODET_U64: case ODET_BOOL:
		return true;
	default:
		return false;
	}
}

static const char *dtype_label(int32_t t)
{
	return (t >= 0 && t < ODET_DTYPE_MAX) ? odet_dtype_name((odet_dtype)t) : "unknown";
}

/* Strict non-negative decimal; false on anything else or overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

/* Read `bytes` bytes of external data for t into a new buffer (*out). */
static odet_status external_read(onnx_imp *imp, const Onnx__TensorProto *t, const char *what,
				 size_t bytes, void **out)
{
	odet_ctx *ctx = imp->ctx;
	const char *loc = NULL, *off_s = NULL, *len_s = NULL;
	for (size_t i = 0; i < t->n_external_data; i++) {
		const Onnx__StringStringEntryProto *e = t->external_data[i];
		if (!e->key)
			continue;
		if (strcmp(e->key, "location") == 0)
			loc = e->value;
		else if (strcmp(e->key, "offset") == 0)
			off_s = e->value;
		else if (strcmp(e->key, "length") == 0)
			len_s = e->value;
	}
	if (!loc || !*loc)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: external data without a location", what);
	if (!imp->base_dir)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "%s: external data '%s' cannot be resolved (model not loaded from a file)",
				  what, loc);
	uint64_t offset = 0, length = 0;
	if (off_s && !parse_u64(off_s, &offset))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: external data '%s': bad offset '%s'",
				  what, loc, off_s);
	if (len_s && !parse_u64(len_s, &length))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: external data '%s': bad length '%s'",
				  what, loc, len_s);
	if (len_s && length != bytes)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "%s: external data '%s': length %llu, expected %zu bytes", what, loc,
				  (unsigned long long)length, bytes);

	int fd;
	uint64_t fsize, stop;
	odet_status rc = odet_file_open_inside(ctx, imp->base_dir, loc, what, "external data", &fd, &fsize);
	if (rc)
		return rc;
	if (offset > fsize || __builtin_add_overflow(offset, (uint64_t)bytes, &stop) || stop > fsize) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
				"%s: external data '%s': bytes [%llu, +%zu) lie beyond the end of the file "
				"(%llu bytes)", what, loc, (unsigned long long)offset, bytes,
				(unsigned long long)fsize);
		goto out_close;
	}
	uint8_t *buf = odet_malloc(ctx, bytes ? bytes : 1);
	if (!buf) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_close;
	}
	char label[512];
	snprintf(label, sizeof label, "%s: external data '%s'", what, loc);
	if ((rc = odet_file_pread_all(ctx, fd, offset, buf, bytes, label))) {
		free(buf);
		goto out_close;
	}
	*out = buf;
out_close:
	close(fd);
	return rc;
}

/* Typed field -> dense little-endian buffer. */
static odet_status typed_read(onnx_imp *imp, const Onnx__TensorProto *t, const char *what,
			      odet_dtype dt, int64_t numel, size_t bytes, void **out)
{
	size_t have;
	const char *field;
	switch (dt) {
	case ODET_F32: have = t->n_float_data; field = "float_data"; break;
	case ODET_I64: have = t->n_int64_data; field = "int64_data"; break;
	case ODET_F64: have = t->n_double_data; field = "double_data"; break;
	case ODET_U32: case ODET_U64: have = t->n_uint64_data; field = "uint64_data"; break;
	default: have = t->n_int32_data; field = "int32_data"; break;
	}
	size_t total = t->n_float_data + t->n_int32_data + t->n_int64_data + t->n_double_data +
		       t->n_uint64_data;
	if (have != total)
		return odet_error(imp->ctx, ODET_ERR_BAD_INPUT,
				  "%s: data in a typed field other than %s, which %s tensors use", what,
				  field, odet_dtype_name(dt));
	if (have != (uint64_t)numel)
		return odet_error(imp->ctx, ODET_ERR_BAD_INPUT, "%s: %s has %zu elements, expected %lld",
				  what, field, have, (long long)numel);
	uint8_t *d = odet_malloc(imp->ctx, bytes ? bytes : 1);
	if (!d)
		return ODET_ERR_NO_MEMORY;
	size_t n = (size_t)numel;
	switch (dt) {
	case ODET_F32: memcpy(d, t->float_data, bytes); break;
	case ODET_I64: memcpy(d, t->int64_data, bytes); break;
	case ODET_F64: memcpy(d, t->double_data, bytes); break;
	case ODET_U64: memcpy(d, t->uint64_data, bytes); break;
	case ODET_U32:
		for (size_t i = 0; i < n; i++)
			((uint32_t *)d)[i] = (uint32_t)t->uint64_data[i];
		break;
	case ODET_I32: memcpy(d, t->int32_data, bytes); break;
	case ODET_I16: case ODET_U16: case ODET_F16: case ODET_BF16:
		for (size_t i = 0; i < n; i++)
			((uint16_t *)d)[i] = (uint16_t)t->int32_data[i];
		break;
	case ODET_BOOL:
		for (size_t i = 0; i < n; i++)
			d[i] = t->int32_data[i] != 0;
		break;
	default: /* int8, uint8 */
		for (size_t i = 0; i < n; i++)
			d[i] = (uint8_t)t->int32_data[i];
		break;
	}
	*out = d;
	return ODET_OK;
}

odet_status onnx_tensor_read(onnx_imp *imp, Onnx__TensorProto *t, const char *what,
			     onnx_host_tensor *out)
{
	odet_ctx *ctx = imp->ctx;
	memset(out, 0, sizeof *out);
	if (!t->has_data_type || t->data_type == ODET_DTYPE_UNDEFINED)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s has no data type", what);
	if (t->data_type == ODET_STRING)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: string tensors are not supported", what);
	if (!dtype_supported(t->data_type))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: data type %s (%d) is not supported",
				  what, dtype_label(t->data_type), (int)t->data_type);
	if (t->segment)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
	if (t->n_dims > ODET_LIMIT_MAX_RANK)
		return odet_error(ctx, ODET_ERR_LIMIT, "%s has rank %zu, limit %d", what, t->n_dims,
				  ODET_LIMIT_MAX_RANK);
	odet_dtype dt = (odet_dtype)t->data_type;
	int rank = (int)t->n_dims;
	for (int i = 0; i < rank; i++) {
		if (t->dims[i] < 0)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: dimension %d is negative (%lld)",
					  what, i, (long long)t->dims[i]);
		out->dims[i] = t->dims[i];
	}
	int64_t numel;
	size_t bytes;
	if (!odet_dims_numel(t->dims, rank, &numel) ||
	    !odet_mul_size((size_t)numel, odet_dtype_size(dt), &bytes) ||
	    bytes > (uint64_t)ODET_LIMIT_MAX_TENSOR_BYTES)
		return odet_error(ctx, ODET_ERR_LIMIT,
				  "%s: element count or byte size overflows or exceeds the limit of %lld bytes",
				  what, (long long)ODET_LIMIT_MAX_TENSOR_BYTES);
	bool ext = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	bool typed = t->n_float_data || t->n_int32_data || t->n_int64_data || t->n_double_data ||
		     t->n_uint64_data || t->n_string_data;
	if ((int)ext + (int)t->has_raw_data + (int)typed > 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s has data in more than one place "
				  "(raw_data, typed fields, external)", what);
	odet_status rc = ODET_OK;
	void *data = NULL;
	if (ext) {
		rc = external_read(imp, t, what, bytes, &data);
	} else if (t->has_raw_data) {
		if (t->raw_data.len != bytes)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "%s: raw_data is %zu bytes, expected %zu (%lld elements of %s)", what,
					  t->raw_data.len, bytes, (long long)numel, odet_dtype_name(dt));
		if (bytes && t->raw_data.data) {
			/* protobuf-c (default allocator = malloc) allocated this buffer for us alone:
			 * take it instead of copying; free_unpacked skips a NULL pointer. */
			data = t->raw_data.data;
			t->raw_data.data = NULL;
			t->raw_data.len = 0;
		} else if (!(data = odet_malloc(ctx, 1))) {
			rc = ODET_ERR_NO_MEMORY;
		}
	} else if (typed) {
		if (t->n_string_data)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: string_data in a %s tensor", what,
					  odet_dtype_name(dt));
		rc = typed_read(imp, t, what, dt, numel, bytes, &data);
	} else if (numel == 0) {
		if (!(data = odet_malloc(ctx, 1)))
			rc = ODET_ERR_NO_MEMORY;
	} else {
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s has %lld elements but no data", what,
				  (long long)numel);
	}
	if (rc)
		return rc;
	out->dtype = dt;
	out->rank = rank;
	out->data = data;
	out->nbytes = bytes;
	return ODET_OK;
}

odet_status onnx_type_to_value(onnx_imp *imp, const Onnx__TypeProto *tp, const char *what,
			       ir_value *v)
{
	odet_ctx *ctx = imp->ctx;
	if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s has no type", what);
	if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "%s: only tensor types are supported (not sequence, map, optional or sparse)",
				  what);
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	odet_dtype dt = ODET_DTYPE_UNDEFINED;
	if (tt->has_elem_type && tt->elem_type != 0) {
		if (tt->elem_type == ODET_STRING)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: string tensors are not supported",
					  what);
		if (!dtype_supported(tt->elem_type))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: data type %s (%d) is not supported",
					  what, dtype_label(tt->elem_type), (int)tt->elem_type);
		dt = (odet_dtype)tt->elem_type;
	}
	int rank = -1;
	int64_t dims[ODET_MAX_RANK];
	const Onnx__TensorShapeProto *sh = tt->shape;
	if (sh) {
		if (sh->n_dim > ODET_LIMIT_MAX_RANK)
			return odet_error(ctx, ODET_ERR_LIMIT, "%s has rank %zu, limit %d", what, sh->n_dim,
					  ODET_LIMIT_MAX_RANK);
		rank = (int)sh->n_dim;
		for (int i = 0; i < rank; i++) {
			const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
			dims[i] = -1;
			if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
				if (d->dim_value < 0)
					return odet_error(ctx, ODET_ERR_BAD_INPUT,
							  "%s: dimension %d is negative (%lld)", what, i,
							  (long long)d->dim_value);
				dims[i] = d->dim_value;
			} else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
				   d->dim_param && strlen(d->dim_param) > ODET_LIMIT_MAX_NAME) {
				return odet_error(ctx, ODET_ERR_LIMIT, "%s: dimension name longer than %d",
						  what, ODET_LIMIT_MAX_NAME);
			}
		}
	}
	v->dtype = dt;
	v->rank = rank;
	for (int i = 0; i < ODET_MAX_RANK; i++) {
		v->dims[i] = i < rank ? dims[i] : -1;
		free(v->sym[i]);
		v->sym[i] = NULL;
	}
	for (int i = 0; i < rank; i++) {
		const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param &&
		    *d->dim_param && !(v->sym[i] = odet_strdup(ctx, d->dim_param)))
			return ODET_ERR_NO_MEMORY;
	}
	return ODET_OK;
}

/* A standalone TensorProto; label prefixes messages. */
static odet_status tensor_import(odet_ctx *ctx, const void *data, size_t size, const char *label,
				 odet_tensor *out, char **name)
{
	char detail[256];
	onnx_imp imp = {.ctx = ctx};
	odet_status rc;
	memset(out, 0, sizeof *out);
	out->device = -1;
	*name = NULL;
	if (!onnx_wire_check(data, size, &onnx__tensor_proto__descriptor, detail, sizeof detail)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "not a valid ONNX TensorProto: %s", detail);
		goto out_prefix;
	}
	Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, data);
	if (!t) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
				"not a valid ONNX TensorProto: rejected by the protobuf decoder");
		goto out_prefix;
	}
	char what[ODET_LIMIT_MAX_NAME + 16];
	snprintf(what, sizeof what, "tensor '%s'", t->name ? t->name : "");
	onnx_host_tensor h;
	rc = onnx_tensor_read(&imp, t, what, &h);
	if (rc)
		goto out_unpack;
	if (!(*name = odet_strdup(ctx, t->name ? t->name : ""))) {
		free(h.data);
		rc = ODET_ERR_NO_MEMORY;
		goto out_unpack;
	}
	out->dtype = h.dtype;
	out->rank = h.rank;
	memcpy(out->dims, h.dims, sizeof out->dims);
	out->data = h.data;
out_unpack:
	onnx__tensor_proto__free_unpacked(t, NULL);
out_prefix:
	if (rc && ctx)
		odet_error_prefix(ctx, "%s: ", label);
	return rc;
}

odet_status odet_import_onnx_tensor(odet_ctx *ctx, const void *data, size_t size, odet_tensor *out,
				    char **name)
{
	return tensor_import(ctx, data, size, "TensorProto", out, name);
}

odet_status odet_import_onnx_tensor_file(odet_ctx *ctx, const char *path, odet_tensor *out,
					 char **name)
{
	void *data;
	size_t size;
	memset(out, 0, sizeof *out);
	out->device = -1;
	*name = NULL;
	odet_status rc = odet_file_read(ctx, path, ONNX_MAX_FILE_BYTES, &data, &size);
	if (rc)
		return rc;
	rc = tensor_import(ctx, data, size, path, out, name);
	free(data);
	return rc;
}
