/*
 * onnx_attrs.c — ONNX attributes of one node: conversion to ir_attr, the node builder's
 * attribute list, and the check of the canonical form against a per-op table.
 *
 * Table per op (canonical form, after onnx_ops.c rewrote older opsets): the number of
 * required leading inputs, the most inputs and outputs, and the attribute names with their
 * types. An attribute not in the table is UNSUPPORTED (its semantics would be ignored);
 * one of another type is BAD_INPUT. Enumerated string values (auto_pad, Pad mode, Resize
 * modes) outside ONNX's lists are UNSUPPORTED, as are Cast targets without a fixed size.
 * Attributes named odet_* are odet's own and never accepted from a file.
 */
#include "import/onnx_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arity and attributes of the canonical form: min_in leading inputs are required; attrs are
 * "name:T" tokens, T = f float, i int, s string, t tensor, F floats, I ints, S strings.
 * An op of ops.def without an entry here (added later) is imported with its attributes as
 * they are and no arity check, so adding an op stays one line in ops.def. */
typedef struct op_spec {
	int min_in, max_in, max_out;
	const char *attrs;
} op_spec;

#define POOL_ATTRS "auto_pad:s kernel_shape:I pads:I strides:I dilations:I ceil_mode:i "
static const op_spec op_specs[IR_OP_COUNT] = {
	[IR_OP_CONV] = {2, 3, 1, "auto_pad:s dilations:I group:i kernel_shape:I pads:I strides:I"},
	[IR_OP_BATCHNORM] = {5, 5, 1, "epsilon:f momentum:f"},
	[IR_OP_MAXPOOL] = {1, 1, 1, POOL_ATTRS},
	[IR_OP_AVGPOOL] = {1, 1, 1, POOL_ATTRS "count_include_pad:i"},
	[IR_OP_GLOBALAVGPOOL] = {1, 1, 1, ""},
	[IR_OP_GEMM] = {2, 3, 1, "alpha:f beta:f transA:i transB:i"},
	[IR_OP_MATMUL] = {2, 2, 1, ""},
	[IR_OP_RELU] = {1, 1, 1, ""},
	[IR_OP_LEAKYRELU] = {1, 1, 1, "alpha:f"},
	[IR_OP_CLIP] = {1, 3, 1, ""},
	[IR_OP_SIGMOID] = {1, 1, 1, ""},
	[IR_OP_HARDSIGMOID] = {1, 1, 1, "alpha:f beta:f"},
	[IR_OP_HARDSWISH] = {1, 1, 1, ""},
	[IR_OP_TANH] = {1, 1, 1, ""},
	[IR_OP_EXP] = {1, 1, 1, ""},
	[IR_OP_LOG] = {1, 1, 1, ""},
	[IR_OP_SQRT] = {1, 1, 1, ""},
	[IR_OP_NEG] = {1, 1, 1, ""},
	[IR_OP_ABS] = {1, 1, 1, ""},
	[IR_OP_FLOOR] = {1, 1, 1, ""},
	[IR_OP_CEIL] = {1, 1, 1, ""},
	[IR_OP_NOT] = {1, 1, 1, ""},
	[IR_OP_CAST] = {1, 1, 1, "to:i saturate:i"},
	[IR_OP_IDENTITY] = {1, 1, 1, ""},
	[IR_OP_ADD] = {2, 2, 1, ""},
	[IR_OP_SUB] = {2, 2, 1, ""},
	[IR_OP_MUL] = {2, 2, 1, ""},
	[IR_OP_DIV] = {2, 2, 1, ""},
	[IR_OP_POW] = {2, 2, 1, ""},
	[IR_OP_MAX] = {1, IR_MAX_IO, 1, ""},
	[IR_OP_MIN] = {1, IR_MAX_IO, 1, ""},
	[IR_OP_EQUAL] = {2, 2, 1, ""},
	[IR_OP_LESS] = {2, 2, 1, ""},
	[IR_OP_GREATER] = {2, 2, 1, ""},
	[IR_OP_WHERE] = {3, 3, 1, ""},
	[IR_OP_SOFTMAX] = {1, 1, 1, "axis:i"},
	[IR_OP_REDUCEMEAN] = {1, 2, 1, "keepdims:i noop_with_empty_axes:i"},
	[IR_OP_REDUCESUM] = {1, 2, 1, "keepdims:i noop_with_empty_axes:i"},
	[IR_OP_REDUCEMAX] = {1, 2, 1, "keepdims:i noop_with_empty_axes:i"},
	[IR_OP_REDUCEL2] = {1, 2, 1, "keepdims:i noop_with_empty_axes:i"},
	[IR_OP_ARGMAX] = {1, 1, 1, "axis:i keepdims:i select_last_index:i"},
	[IR_OP_TOPK] = {2, 2, 2, "axis:i largest:i sorted:i"},
	[IR_OP_CONCAT] = {1, IR_MAX_IO, 1, "axis:i"},
	[IR_OP_RESHAPE] = {2, 2, 1, "allowzero:i"},
	[IR_OP_FLATTEN] = {1, 1, 1, "axis:i"},
	[IR_OP_TRANSPOSE] = {1, 1, 1, "perm:I"},
	[IR_OP_SQUEEZE] = {1, 2, 1, ""},
	[IR_OP_UNSQUEEZE] = {2, 2, 1, ""},
	[IR_OP_SLICE] = {3, 5, 1, ""},
	[IR_OP_GATHER] = {2, 2, 1, "axis:i"},
	[IR_OP_SPLIT] = {1, 2, IR_MAX_IO, "axis:i num_outputs:i"},
	[IR_OP_EXPAND] = {2, 2, 1, ""},
	[IR_OP_TILE] = {2, 2, 1, ""},
	[IR_OP_PAD] = {2, 4, 1, "mode:s"},
	[IR_OP_RESIZE] = {1, 4, 1, "antialias:i axes:I coordinate_transformation_mode:s cubic_coeff_a:f "
				   "exclude_outside:i extrapolation_value:f keep_aspect_ratio_policy:s "
				   "mode:s nearest_mode:s"},
	[IR_OP_SHAPE] = {1, 1, 1, "start:i end:i"},
	[IR_OP_CONSTANTOFSHAPE] = {1, 1, 1, "value:t"},
	[IR_OP_RANGE] = {3, 3, 1, ""},
};

/* Allowed values of enumerated string attributes ("op attr" -> list). */
static const struct {
	ir_op op;
	const char *attr, *values;
} enum_specs[] = {
	{IR_OP_CONV, "auto_pad", " NOTSET SAME_UPPER SAME_LOWER VALID "},
	{IR_OP_MAXPOOL, "auto_pad", " NOTSET SAME_UPPER SAME_LOWER VALID "},
	{IR_OP_AVGPOOL, "auto_pad", " NOTSET SAME_UPPER SAME_LOWER VALID "},
	{IR_OP_PAD, "mode", " constant reflect edge wrap "},
	{IR_OP_RESIZE, "mode", " nearest linear cubic "},
	{IR_OP_RESIZE, "coordinate_transformation_mode",
	 " half_pixel half_pixel_symmetric pytorch_half_pixel align_corners asymmetric "
	 "tf_crop_and_resize tf_half_pixel_for_nn "},
	{IR_OP_RESIZE, "nearest_mode", " round_prefer_floor round_prefer_ceil floor ceil "},
	{IR_OP_RESIZE, "keep_aspect_ratio_policy", " stretch not_larger not_smaller "},
};

odet_status onnx_node_err(const onnx_nbuild *b, odet_status s, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return odet_error(b->imp->ctx, s, "node '%s': op %s (opset %d): %s", b->label, b->op_type,
			  b->imp->opset, msg);
}

void onnx_attr_release(ir_attr *a)
{
	free(a->name);
	free(a->s);
	free(a->ints);
	free(a->floats);
	for (int i = 0; a->strings && i < a->n; i++)
		free(a->strings[i]);
	free(a->strings);
	memset(a, 0, sizeof *a);
}

ir_attr *onnx_battr(onnx_nbuild *b, const char *name)
{
	for (int i = 0; i < b->n_attrs; i++)
		if (strcmp(b->attrs[i].name, name) == 0)
			return &b->attrs[i];
	return NULL;
}

void onnx_battr_drop(onnx_nbuild *b, const char *name)
{
	ir_attr *a = onnx_battr(b, name);
	if (!a)
		return;
	onnx_attr_release(a);
	*a = b->attrs[--b->n_attrs];
}

odet_status onnx_battr_put(onnx_nbuild *b, ir_attr *a)
{
	onnx_battr_drop(b, a->name);
	if (b->n_attrs == b->cap_attrs) {
		int cap = b->cap_attrs ? b->cap_attrs * 2 : 8;
		ir_attr *na = odet_realloc_array(b->imp->ctx, b->attrs, (size_t)cap, sizeof *na);
		if (!na) {
			onnx_attr_release(a);
			return ODET_ERR_NO_MEMORY;
		}
		b->attrs = na;
		b->cap_attrs = cap;
	}
	b->attrs[b->n_attrs++] = *a;
	return ODET_OK;
}

odet_status onnx_battr_string(onnx_nbuild *b, const char *name, const char *s)
{
	ir_attr a = {.type = IR_ATTR_STRING, .tensor = -1};
	a.name = odet_strdup(b->imp->ctx, name);
	a.s = odet_strdup(b->imp->ctx, s);
	if (!a.name || !a.s) {
		onnx_attr_release(&a);
		return ODET_ERR_NO_MEMORY;
	}
	a.s_len = strlen(s);
	return onnx_battr_put(b, &a);
}

odet_status onnx_battr_int(onnx_nbuild *b, const char *name, int64_t v)
{
	ir_attr a = {.type = IR_ATTR_INT, .tensor = -1, .i = v};
	if (!(a.name = odet_strdup(b->imp->ctx, name)))
		return ODET_ERR_NO_MEMORY;
	return onnx_battr_put(b, &a);
}

odet_status onnx_battr_tensor(onnx_nbuild *b, const char *name, int value)
{
	ir_attr a = {.type = IR_ATTR_TENSOR, .tensor = value};
	if (!(a.name = odet_strdup(b->imp->ctx, name)))
		return ODET_ERR_NO_MEMORY;
	return onnx_battr_put(b, &a);
}

/* ---------------------------------------------------------------- attributes */

odet_status onnx_attr_convert(onnx_nbuild *b, Onnx__AttributeProto *ap, ir_attr *a)
{
	odet_ctx *ctx = b->imp->ctx;
	memset(a, 0, sizeof *a);
	a->tensor = -1;
	const char *name = ap->name ? ap->name : "";
	if (!*name || strlen(name) > ODET_LIMIT_MAX_NAME)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "an attribute has an empty or overlong name");
	if (ap->ref_attr_name && *ap->ref_attr_name)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT,
				"attribute '%s' refers to a function attribute (outside a function)", name);
	if (!ap->has_type)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' has no type", name);
	if (!(a->name = odet_strdup(ctx, name)))
		return ODET_ERR_NO_MEMORY;
	size_t n = 0;
	switch (ap->type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: n = ap->n_floats; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: n = ap->n_ints; break;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: n = ap->n_strings; break;
	default: break;
	}
	if (n > ONNX_MAX_ATTR_ELEMS)
		return onnx_node_err(b, ODET_ERR_LIMIT, "attribute '%s' has %zu elements, limit %d", name, n,
				ONNX_MAX_ATTR_ELEMS);
	a->n = (int)n;
	switch (ap->type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		a->type = IR_ATTR_FLOAT;
		a->f = ap->f;
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		a->type = IR_ATTR_INT;
		a->i = ap->i;
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
		a->type = IR_ATTR_STRING;
		if (!(a->s = odet_malloc(ctx, ap->s.len + 1)))
			return ODET_ERR_NO_MEMORY;
		if (ap->s.len)
			memcpy(a->s, ap->s.data, ap->s.len);
		a->s[ap->s.len] = '\0';
		a->s_len = ap->s.len;
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
		a->type = IR_ATTR_FLOATS;
		if (!(a->floats = odet_calloc(ctx, n + 1, sizeof(float))))
			return ODET_ERR_NO_MEMORY;
		if (n)
			memcpy(a->floats, ap->floats, n * sizeof(float));
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		a->type = IR_ATTR_INTS;
		if (!(a->ints = odet_calloc(ctx, n + 1, sizeof(int64_t))))
			return ODET_ERR_NO_MEMORY;
		if (n)
			memcpy(a->ints, ap->ints, n * sizeof(int64_t));
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
		a->type = IR_ATTR_STRINGS;
		if (!(a->strings = odet_calloc(ctx, n + 1, sizeof(char *))))
			return ODET_ERR_NO_MEMORY;
		for (size_t i = 0; i < n; i++) {
			if (!(a->strings[i] = odet_malloc(ctx, ap->strings[i].len + 1)))
				return ODET_ERR_NO_MEMORY;
			if (ap->strings[i].len)
				memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
			a->strings[i][ap->strings[i].len] = '\0';
		}
		return ODET_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
		a->type = IR_ATTR_TENSOR;
		if (!ap->t)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "tensor attribute '%s' has no tensor", name);
		char what[2 * ODET_LIMIT_MAX_NAME + 96], base[2 * ODET_LIMIT_MAX_NAME + 8];
		snprintf(what, sizeof what, "node '%s': op %s (opset %d): attribute '%s'", b->label,
			 b->op_type, b->imp->opset, name);
		onnx_host_tensor h;
		odet_status rc = onnx_tensor_read(b->imp, ap->t, what, &h);
		if (rc)
			return rc;
		snprintf(base, sizeof base, "%s/%s", b->label, name);
		a->tensor = onnx_const_new(b->imp, base, h.dtype, h.rank, h.dims, h.data);
		return a->tensor < 0 ? ODET_ERR_NO_MEMORY : ODET_OK;
	}
	default:
		return onnx_node_err(b, ODET_ERR_UNSUPPORTED,
				"attribute '%s' of type %d (graph, sparse tensor, type or list of tensors) "
				"is not supported", name, (int)ap->type);
	}
}

static char type_letter(ir_attr_type t)
{
	switch (t) {
	case IR_ATTR_FLOAT: return 'f';
	case IR_ATTR_INT: return 'i';
	case IR_ATTR_STRING: return 's';
	case IR_ATTR_TENSOR: return 't';
	case IR_ATTR_FLOATS: return 'F';
	case IR_ATTR_INTS: return 'I';
	case IR_ATTR_STRINGS: return 'S';
	}
	return '?';
}

static const char *type_word(char c)
{
	switch (c) {
	case 'f': return "float";
	case 'i': return "int";
	case 's': return "string";
	case 't': return "tensor";
	case 'F': return "floats";
	case 'I': return "ints";
	case 'S': return "strings";
	}
	return "?";
}

/* Type letter of attribute name in spec, 0 if not listed. */
static char spec_type(const char *spec, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = spec; *p;) {
		while (*p == ' ')
			p++;
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		if ((size_t)(colon - p) == n && strncmp(p, name, n) == 0)
			return colon[1];
		p = colon + 2;
	}
	return 0;
}

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	if (!n || strchr(w, ' '))
		return false;
	for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
		if (p[-1] == ' ' && p[n] == ' ')
			return true;
	return false;
}

odet_status onnx_check_node(onnx_nbuild *b)
{
	const op_spec *sp = &op_specs[b->op];
	for (int i = 0; i < b->n_attrs; i++) {
		const ir_attr *a = &b->attrs[i];
		if (strncmp(a->name, "odet_", 5) == 0)
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "attribute '%s' is not supported "
					     "(odet_* names are reserved)", a->name);
		if (!sp->attrs)
			continue;
		char want = spec_type(sp->attrs, a->name);
		if (!want)
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "attribute '%s' is not supported", a->name);
		if (want != type_letter(a->type))
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' has type %s, expected %s",
					a->name, type_word(type_letter(a->type)), type_word(want));
	}
	for (size_t k = 0; k < sizeof enum_specs / sizeof enum_specs[0]; k++) {
		if (enum_specs[k].op != b->op)
			continue;
		const ir_attr *a = onnx_battr(b, enum_specs[k].attr);
		if (a && (strlen(a->s) != a->s_len || !word_in(enum_specs[k].values, a->s)))
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "attribute %s='%s' is not supported "
					"(one of:%s)", a->name, a->s, enum_specs[k].values);
	}
	if (b->op == IR_OP_CAST) {
		const ir_attr *a = onnx_battr(b, "to");
		if (!a)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute 'to' is required");
		if (a->i <= 0 || a->i >= ODET_DTYPE_MAX || odet_dtype_size((odet_dtype)a->i) == 0)
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "cast to data type %lld (%s) is not supported",
					(long long)a->i,
					a->i > 0 && a->i < ODET_DTYPE_MAX ? odet_dtype_name((odet_dtype)a->i) : "unknown");
	}
	/* drop trailing omitted inputs, then check arity and required inputs */
	while (b->n_in > 0 && b->in[b->n_in - 1] < 0)
		b->n_in--;
	if (!sp->attrs)
		return ODET_OK;
	if (b->n_in < sp->min_in || b->n_in > sp->max_in)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "has %d inputs, expected %d..%d", b->n_in,
				sp->min_in, sp->max_in);
	for (int i = 0; i < sp->min_in; i++)
		if (b->in[i] < 0)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "required input %d is empty", i);
	if (b->n_out < 1 || b->n_out > sp->max_out)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "has %d outputs, expected 1..%d", b->n_out,
				sp->max_out);
	return ODET_OK;
}
