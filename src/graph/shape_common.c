/* shape_common.c — helpers of the per-op shape functions (see shape_common.h). */
#include "graph/shape_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static odet_status shp_vfail(ir_graph *g, const ir_node *n, odet_status s, const char *fmt,
			     va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof msg, fmt, ap);
	return odet_error(g->ctx, s, "node '%s' (%s): %s", n->name ? n->name : "?", ir_op_name(n->op),
			  msg);
}

odet_status shp_fail(ir_graph *g, const ir_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	odet_status s = shp_vfail(g, n, ODET_ERR_BAD_INPUT, fmt, ap);
	va_end(ap);
	return s;
}

odet_status shp_fail_s(ir_graph *g, const ir_node *n, odet_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	s = shp_vfail(g, n, s, fmt, ap);
	va_end(ap);
	return s;
}

odet_status shp_check_io(ir_graph *g, const ir_node *n, int min_in, int max_in, int min_out,
			 int max_out)
{
	if (n->n_in < min_in || n->n_in > max_in)
		return shp_fail(g, n, "has %d inputs, expected %d to %d", n->n_in, min_in, max_in);
	if (n->n_out < min_out || n->n_out > max_out)
		return shp_fail(g, n, "has %d outputs, expected %d to %d", n->n_out, min_out, max_out);
	for (int i = 0; i < n->n_in; i++)
		if (n->in[i] >= g->n_values)
			return shp_fail(g, n, "input %d refers to no value", i);
	for (int i = 0; i < n->n_out; i++)
		if (n->out[i] >= g->n_values)
			return shp_fail(g, n, "output %d refers to no value", i);
	if (n->n_out >= 1 && n->out[0] < 0)
		return shp_fail(g, n, "output 0 is missing");
	return ODET_OK;
}

odet_status shp_need_in(ir_graph *g, const ir_node *n, int i, ir_value **v)
{
	*v = ir_in(g, n, i);
	if (!*v)
		return shp_fail(g, n, "required input %d is missing", i);
	return ODET_OK;
}

odet_status shp_out_begin(ir_graph *g, const ir_node *n, ir_value *out, odet_dtype dt, int rank)
{
	if (rank > ODET_MAX_RANK)
		return shp_fail_s(g, n, ODET_ERR_LIMIT, "output '%s' would have rank %d, limit %d",
				  out->name, rank, ODET_MAX_RANK);
	out->dtype = dt;
	out->rank = rank < 0 ? -1 : rank;
	for (int i = 0; i < ODET_MAX_RANK; i++) {
		out->dims[i] = -1;
		free(out->sym[i]);
		out->sym[i] = NULL;
	}
	return ODET_OK;
}

odet_status shp_out_dim(ir_graph *g, ir_value *out, int i, int64_t d, const char *sym)
{
	out->dims[i] = d < 0 ? -1 : d;
	free(out->sym[i]);
	out->sym[i] = NULL;
	if (d < 0 && sym) {
		out->sym[i] = odet_strdup(g->ctx, sym);
		if (!out->sym[i])
			return ODET_ERR_NO_MEMORY;
	}
	return ODET_OK;
}

odet_status shp_out_like(ir_graph *g, const ir_node *n, ir_value *out, const ir_value *in,
			 odet_dtype dt)
{
	if (out == in)
		return ODET_OK;
	odet_status rc = shp_out_begin(g, n, out, dt ? dt : in->dtype, in->rank);
	for (int i = 0; !rc && i < in->rank; i++)
		rc = shp_out_dim(g, out, i, in->dims[i], in->sym[i]);
	return rc;
}

/* Element count of a CONST value, validated against its byte size; -1 on inconsistency. */
static int64_t const_numel(const ir_value *v)
{
	int64_t numel = ir_value_numel(v);
	size_t es = odet_dtype_size(v->dtype);
	if (numel < 0 || !v->data || !es || (uint64_t)numel > v->nbytes / es)
		return -1;
	return numel;
}

static bool dtype_is_int(odet_dtype t)
{
	switch (t) {
	case ODET_I64: case ODET_I32: case ODET_I16: case ODET_I8:
	case ODET_U8: case ODET_U16: case ODET_U32: case ODET_U64: case ODET_BOOL:
		return true;
	default:
		return false;
	}
}

int shp_const_ints(ir_graph *g, const ir_node *n, int i, int64_t *buf, int max, int *count)
{
	const ir_value *v = ir_in(g, n, i);
	*count = -1;
	if (!v || v->kind != IR_VALUE_CONST)
		return 0;
	int64_t numel = const_numel(v);
	if (numel < 0 || !dtype_is_int(v->dtype)) {
		shp_fail(g, n, "input %d '%s' must be an integer tensor, got %s %s", i, v->name,
			 odet_dtype_name(v->dtype), numel < 0 ? "with inconsistent data" : "");
		return -1;
	}
	if (numel > max) {
		shp_fail(g, n, "input %d '%s' has %lld elements, at most %d supported", i, v->name,
			 (long long)numel, max);
		return -1;
	}
	for (int64_t k = 0; k < numel; k++)
		buf[k] = ir_const_i64(v, k);
	*count = (int)numel;
	return 1;
}

int shp_const_floats(ir_graph *g, const ir_node *n, int i, double *buf, int max, int *count)
{
	const ir_value *v = ir_in(g, n, i);
	*count = -1;
	if (!v || v->kind != IR_VALUE_CONST)
		return 0;
	int64_t numel = const_numel(v);
	if (numel < 0 || numel > max) {
		shp_fail(g, n, "input %d '%s': %s", i, v->name,
			 numel < 0 ? "inconsistent constant data" : "too many elements");
		return -1;
	}
	for (int64_t k = 0; k < numel; k++) {
		switch (v->dtype) {
		case ODET_F32: buf[k] = ((const float *)v->data)[k]; break;
		case ODET_F64: buf[k] = ((const double *)v->data)[k]; break;
		case ODET_F16: buf[k] = odet_f16_to_f32(((const uint16_t *)v->data)[k]); break;
		default:
			if (!dtype_is_int(v->dtype)) {
				shp_fail(g, n, "input %d '%s': unsupported dtype %s", i, v->name,
					 odet_dtype_name(v->dtype));
				return -1;
			}
			buf[k] = (double)ir_const_i64(v, k);
		}
	}
	*count = (int)numel;
	return 1;
}

const char *shp_dims_str(const int64_t *dims, int rank, char *buf, size_t size)
{
	if (rank < 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	size_t off = (size_t)snprintf(buf, size, "[");
	for (int i = 0; i < rank && off < size; i++) {
		if (dims[i] < 0)
			off += (size_t)snprintf(buf + off, size - off, "%s?", i ? "," : "");
		else
			off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "",
						(long long)dims[i]);
	}
	if (off < size)
		snprintf(buf + off, size - off, "]");
	return buf;
}

odet_status shp_broadcast(ir_graph *g, const ir_node *n, const ir_value *const *vals, int nv,
			  ir_value *out, odet_dtype dt)
{
	int rank = 0;
	for (int k = 0; k < nv; k++) {
		if (vals[k]->rank < 0)
			return shp_out_begin(g, n, out, dt, -1);
		if (vals[k]->rank > rank)
			rank = vals[k]->rank;
	}
	int64_t dims[ODET_MAX_RANK];
	const char *sym[ODET_MAX_RANK];
	int from[ODET_MAX_RANK]; /* which value decided the dim so far (for messages) */
	for (int i = 0; i < rank; i++) {
		dims[i] = 1;
		sym[i] = NULL;
		from[i] = -1;
	}
	for (int k = 0; k < nv; k++) {
		const ir_value *v = vals[k];
		int off = rank - v->rank;
		for (int j = 0; j < v->rank; j++) {
			int i = off + j;
			int64_t d = v->dims[j];
			const char *s = v->sym[j];
			if (d == 1)
				continue;
			if (dims[i] == 1) {
				dims[i] = d;
				sym[i] = s;
				from[i] = k;
			} else if (d < 0) {
				/* unknown here; a known dim != 1 elsewhere decides (if valid) */
				if (dims[i] < 0 && !(sym[i] && s && strcmp(sym[i], s) == 0))
					sym[i] = NULL;
			} else if (dims[i] < 0) {
				dims[i] = d;
				sym[i] = NULL;
				from[i] = k;
			} else if (dims[i] != d) {
				char a[160], b[160];
				const ir_value *u = vals[from[i]];
				return shp_fail(g, n, "shapes %s and %s do not broadcast",
						ir_shape_str(u, a, sizeof a), ir_shape_str(v, b, sizeof b));
			}
		}
	}
	odet_status rc = shp_out_begin(g, n, out, dt, rank);
	for (int i = 0; !rc && i < rank; i++)
		rc = shp_out_dim(g, out, i, dims[i], sym[i]);
	return rc;
}
