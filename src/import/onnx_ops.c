/*
 * onnx_ops.c — one ONNX NodeProto into the canonical IR form of its op (graph/ir.h).
 *
 * Steps per node: inputs resolved by name ("" -> -1); attributes copied with ONNX names and
 * types (TENSOR attributes become CONST values referenced by ir_attr.tensor); then the
 * older-opset forms are rewritten:
 *   Squeeze/Unsqueeze/Split (< 13), ReduceSum (< 13), ReduceMean/ReduceMax (< 18):
 *       axes/split attribute -> constant int64 input 1
 *   Clip (< 11): min/max attributes -> scalar inputs 1, 2 (dtype of input 0 when known: f16,
 *       f64, else f32)
 *   Pad (< 11): pads -> int64 input 1, value -> scalar input 2; mode kept
 *   Slice (< 10): starts, ends, axes -> int64 inputs 1, 2, 3
 *   TopK (< 10): k -> int64 input 1 of shape [1]
 *   Upsample (7: scales attribute, 9: scales input) and Resize-10 -> Resize(X, -1, scales)
 *       with coordinate_transformation_mode "asymmetric", nearest_mode "floor", mode copied
 *   Softmax (< 13): axis made explicit (default 1) and odet_coerce2d = 1
 *   Dropout -> Identity (its mask output must stay unused; training_mode must be constant false)
 *   BatchNormalization: spatial must be 1, training_mode 0 (both dropped); only output 0 kept
 *   MaxPool: storage_order dropped (it only concerns the Indices output, which odet does not
 *       compute and which must stay unused)
 *   ConstantOfShape: value must hold one element; absent -> float32 [1] = 0
 * Finally every remaining attribute is checked against the op's table of names and types
 * (unknown name -> UNSUPPORTED, wrong type -> BAD_INPUT), enumerated string values are
 * checked, and the number of inputs/outputs against the op's arity.
 */
#include "import/onnx_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arity and attributes of the canonical form. attrs: "name:T" tokens; T is f float, i int,
 * s string, t tensor, F floats, I ints, S strings. */
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

ir_op onnx_op_resolve(const char *op_type)
{
	if (strcmp(op_type, "Upsample") == 0)
		return IR_OP_RESIZE;
	if (strcmp(op_type, "Dropout") == 0)
		return IR_OP_IDENTITY;
	return ir_op_lookup("", op_type);
}

int onnx_op_outputs_kept(const char *op_type, int n_output)
{
	if (strcmp(op_type, "Dropout") == 0 || strcmp(op_type, "MaxPool") == 0 ||
	    strcmp(op_type, "BatchNormalization") == 0)
		return n_output < 1 ? n_output : 1;
	return n_output;
}

/* ---------------------------------------------------------------- node builder */

typedef struct nbuild {
	onnx_imp *imp;
	Onnx__NodeProto *np;
	const char *label, *op_type;
	ir_op op;
	int n_in, in[IR_MAX_IO + 4];
	int n_out, out[IR_MAX_IO];
	int n_attrs, cap_attrs;
	ir_attr *attrs;
	bool coerce2d;
} nbuild;

static odet_status node_err(const nbuild *b, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static odet_status node_err(const nbuild *b, odet_status s, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return odet_error(b->imp->ctx, s, "node '%s': op %s (opset %d): %s", b->label, b->op_type,
			  b->imp->opset, msg);
}

static void attr_release(ir_attr *a)
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

static ir_attr *battr(nbuild *b, const char *name)
{
	for (int i = 0; i < b->n_attrs; i++)
		if (strcmp(b->attrs[i].name, name) == 0)
			return &b->attrs[i];
	return NULL;
}

static void battr_drop(nbuild *b, const char *name)
{
	ir_attr *a = battr(b, name);
	if (!a)
		return;
	attr_release(a);
	*a = b->attrs[--b->n_attrs];
}

/* Append (or replace) an attribute; takes ownership of a's pointers. */
static odet_status battr_put(nbuild *b, ir_attr *a)
{
	battr_drop(b, a->name);
	if (b->n_attrs == b->cap_attrs) {
		int cap = b->cap_attrs ? b->cap_attrs * 2 : 8;
		ir_attr *na = odet_realloc_array(b->imp->ctx, b->attrs, (size_t)cap, sizeof *na);
		if (!na) {
			attr_release(a);
			return ODET_ERR_NO_MEMORY;
		}
		b->attrs = na;
		b->cap_attrs = cap;
	}
	b->attrs[b->n_attrs++] = *a;
	return ODET_OK;
}

static odet_status battr_string(nbuild *b, const char *name, const char *s)
{
	ir_attr a = {.type = IR_ATTR_STRING, .tensor = -1};
	a.name = odet_strdup(b->imp->ctx, name);
	a.s = odet_strdup(b->imp->ctx, s);
	if (!a.name || !a.s) {
		attr_release(&a);
		return ODET_ERR_NO_MEMORY;
	}
	a.s_len = strlen(s);
	return battr_put(b, &a);
}

static odet_status battr_int(nbuild *b, const char *name, int64_t v)
{
	ir_attr a = {.type = IR_ATTR_INT, .tensor = -1, .i = v};
	if (!(a.name = odet_strdup(b->imp->ctx, name)))
		return ODET_ERR_NO_MEMORY;
	return battr_put(b, &a);
}

static odet_status battr_tensor(nbuild *b, const char *name, int value)
{
	ir_attr a = {.type = IR_ATTR_TENSOR, .tensor = value};
	if (!(a.name = odet_strdup(b->imp->ctx, name)))
		return ODET_ERR_NO_MEMORY;
	return battr_put(b, &a);
}

/* A copy of src as a new CONST value in input slot `slot` (n_in grows, gaps are -1). */
static odet_status input_const(nbuild *b, int slot, const char *what, odet_dtype dt, int rank,
			       const int64_t *dims, const void *src, size_t nbytes)
{
	char base[ODET_LIMIT_MAX_NAME + 64];
	void *data = odet_malloc(b->imp->ctx, nbytes ? nbytes : 1);
	if (!data)
		return ODET_ERR_NO_MEMORY;
	if (nbytes)
		memcpy(data, src, nbytes);
	snprintf(base, sizeof base, "%s/%s", b->label, what);
	int v = onnx_const_new(b->imp, base, dt, rank, dims, data);
	if (v < 0)
		return ODET_ERR_NO_MEMORY;
	while (b->n_in <= slot)
		b->in[b->n_in++] = -1;
	b->in[slot] = v;
	return ODET_OK;
}

static bool slot_used(const nbuild *b, int slot)
{
	return slot < b->n_in && b->in[slot] >= 0;
}

/* INTS attribute -> int64 [n] input; dropped from the attributes. */
static odet_status ints_to_input(nbuild *b, const char *name, int slot, bool required)
{
	ir_attr *a = battr(b, name);
	if (!a)
		return required ? node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' is required", name)
				: ODET_OK;
	if (a->type != IR_ATTR_INTS)
		return node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' must be a list of ints", name);
	if (slot_used(b, slot))
		return node_err(b, ODET_ERR_BAD_INPUT, "'%s' given both as attribute and as input %d",
				name, slot);
	int64_t dims[1] = {a->n};
	odet_status rc = input_const(b, slot, name, ODET_I64, 1, dims, a->ints, sizeof(int64_t) * (size_t)a->n);
	if (rc)
		return rc;
	battr_drop(b, name);
	return ODET_OK;
}

/* FLOAT attribute -> scalar input in the dtype of input 0 when known (f16/f64), else f32. */
static odet_status float_to_input(nbuild *b, const char *name, int slot)
{
	ir_attr *a = battr(b, name);
	if (!a)
		return ODET_OK;
	if (a->type != IR_ATTR_FLOAT)
		return node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' must be a float", name);
	if (slot_used(b, slot))
		return node_err(b, ODET_ERR_BAD_INPUT, "'%s' given both as attribute and as input %d",
				name, slot);
	odet_dtype dt = b->n_in > 0 && b->in[0] >= 0 ? b->imp->g->values[b->in[0]].dtype : ODET_F32;
	float f = a->f;
	double d = f;
	uint16_t h = odet_f32_to_f16(f);
	odet_status rc;
	if (dt == ODET_F64)
		rc = input_const(b, slot, name, ODET_F64, 0, NULL, &d, sizeof d);
	else if (dt == ODET_F16)
		rc = input_const(b, slot, name, ODET_F16, 0, NULL, &h, sizeof h);
	else
		rc = input_const(b, slot, name, ODET_F32, 0, NULL, &f, sizeof f);
	if (rc)
		return rc;
	battr_drop(b, name);
	return ODET_OK;
}

/* ---------------------------------------------------------------- attributes */

static odet_status attr_convert(nbuild *b, Onnx__AttributeProto *ap, ir_attr *a)
{
	odet_ctx *ctx = b->imp->ctx;
	memset(a, 0, sizeof *a);
	a->tensor = -1;
	const char *name = ap->name ? ap->name : "";
	if (!*name || strlen(name) > ODET_LIMIT_MAX_NAME)
		return node_err(b, ODET_ERR_BAD_INPUT, "an attribute has an empty or overlong name");
	if (ap->ref_attr_name && *ap->ref_attr_name)
		return node_err(b, ODET_ERR_BAD_INPUT,
				"attribute '%s' refers to a function attribute (outside a function)", name);
	if (!ap->has_type)
		return node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' has no type", name);
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
		return node_err(b, ODET_ERR_LIMIT, "attribute '%s' has %zu elements, limit %d", name, n,
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
			return node_err(b, ODET_ERR_BAD_INPUT, "tensor attribute '%s' has no tensor", name);
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
		return node_err(b, ODET_ERR_UNSUPPORTED,
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

static odet_status check_node(nbuild *b)
{
	const op_spec *sp = &op_specs[b->op];
	for (int i = 0; i < b->n_attrs; i++) {
		const ir_attr *a = &b->attrs[i];
		char want = spec_type(sp->attrs ? sp->attrs : "", a->name);
		if (!want)
			return node_err(b, ODET_ERR_UNSUPPORTED, "attribute '%s' is not supported", a->name);
		if (want != type_letter(a->type))
			return node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' has type %s, expected %s",
					a->name, type_word(type_letter(a->type)), type_word(want));
	}
	for (size_t k = 0; k < sizeof enum_specs / sizeof enum_specs[0]; k++) {
		if (enum_specs[k].op != b->op)
			continue;
		const ir_attr *a = battr(b, enum_specs[k].attr);
		if (a && (strlen(a->s) != a->s_len || !word_in(enum_specs[k].values, a->s)))
			return node_err(b, ODET_ERR_UNSUPPORTED, "attribute %s='%s' is not supported "
					"(one of:%s)", a->name, a->s, enum_specs[k].values);
	}
	if (b->op == IR_OP_CAST) {
		const ir_attr *a = battr(b, "to");
		if (!a)
			return node_err(b, ODET_ERR_BAD_INPUT, "attribute 'to' is required");
		if (a->i <= 0 || a->i >= ODET_DTYPE_MAX || odet_dtype_size((odet_dtype)a->i) == 0)
			return node_err(b, ODET_ERR_UNSUPPORTED, "cast to data type %lld (%s) is not supported",
					(long long)a->i,
					a->i > 0 && a->i < ODET_DTYPE_MAX ? odet_dtype_name((odet_dtype)a->i) : "unknown");
	}
	/* drop trailing omitted inputs, then check arity and required inputs */
	while (b->n_in > 0 && b->in[b->n_in - 1] < 0)
		b->n_in--;
	if (b->n_in < sp->min_in || b->n_in > sp->max_in)
		return node_err(b, ODET_ERR_BAD_INPUT, "has %d inputs, expected %d..%d", b->n_in,
				sp->min_in, sp->max_in);
	for (int i = 0; i < sp->min_in; i++)
		if (b->in[i] < 0)
			return node_err(b, ODET_ERR_BAD_INPUT, "required input %d is empty", i);
	if (b->n_out < 1 || b->n_out > sp->max_out)
		return node_err(b, ODET_ERR_BAD_INPUT, "has %d outputs, expected 1..%d", b->n_out,
				sp->max_out);
	return ODET_OK;
}

/* ---------------------------------------------------------------- canonical forms */

/* Upsample-7/9 and Resize-10 -> Resize(X, roi = -1, scales). */
static odet_status canon_upsample(nbuild *b)
{
	int opset = b->imp->opset;
	bool upsample = strcmp(b->op_type, "Upsample") == 0;
	odet_status rc;
	ir_attr *m = battr(b, "mode");
	const char *mode = m && m->type == IR_ATTR_STRING ? m->s : "nearest";
	if (m && m->type != IR_ATTR_STRING)
		return node_err(b, ODET_ERR_BAD_INPUT, "attribute 'mode' must be a string");
	if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0)
		return node_err(b, ODET_ERR_UNSUPPORTED, "mode '%s' is not supported (nearest, linear)",
				mode);
	if ((rc = battr_string(b, "mode", mode)))
		return rc;
	if (upsample && opset < 9) {
		ir_attr *s = battr(b, "scales");
		if (!s || s->type != IR_ATTR_FLOATS)
			return node_err(b, ODET_ERR_BAD_INPUT, "attribute 'scales' (floats) is required");
		if (b->n_in != 1)
			return node_err(b, ODET_ERR_BAD_INPUT, "has %d inputs, expected 1", b->n_in);
		int64_t dims[1] = {s->n};
		if ((rc = input_const(b, 2, "scales", ODET_F32, 1, dims, s->floats, sizeof(float) * (size_t)s->n)))
			return rc;
		battr_drop(b, "scales");
	} else {
		if (b->n_in != 2 || b->in[1] < 0)
			return node_err(b, ODET_ERR_BAD_INPUT, "needs inputs X and scales, has %d inputs",
					b->n_in);
		b->in[2] = b->in[1];
		b->in[1] = -1;
		b->n_in = 3;
	}
	b->op = IR_OP_RESIZE;
	if ((rc = battr_string(b, "coordinate_transformation_mode", "asymmetric")))
		return rc;
	return battr_string(b, "nearest_mode", "floor");
}

static odet_status canon_dropout(nbuild *b)
{
	battr_drop(b, "ratio");
	battr_drop(b, "seed");
	if (slot_used(b, 2)) {
		const ir_value *t = &b->imp->g->values[b->in[2]];
		if (t->kind != IR_VALUE_CONST || t->nbytes < 1 || ir_value_numel(t) != 1 ||
		    ir_const_i64(t, 0) != 0)
			return node_err(b, ODET_ERR_UNSUPPORTED,
					"training_mode must be a constant false (odet runs inference only)");
	}
	if (b->n_in > 1)
		b->n_in = 1;
	b->op = IR_OP_IDENTITY;
	return ODET_OK;
}

static odet_status canon(nbuild *b)
{
	int opset = b->imp->opset;
	odet_status rc = ODET_OK;
	if (strcmp(b->op_type, "Upsample") == 0)
		return canon_upsample(b);
	if (strcmp(b->op_type, "Dropout") == 0)
		return canon_dropout(b);
	switch (b->op) {
	case IR_OP_SQUEEZE:
	case IR_OP_UNSQUEEZE:
		if (opset < 13)
			rc = ints_to_input(b, "axes", 1, b->op == IR_OP_UNSQUEEZE);
		break;
	case IR_OP_SPLIT:
		if (opset < 13)
			rc = ints_to_input(b, "split", 1, false);
		break;
	case IR_OP_REDUCESUM:
		if (opset < 13)
			rc = ints_to_input(b, "axes", 1, false);
		break;
	case IR_OP_REDUCEMEAN:
	case IR_OP_REDUCEMAX:
		if (opset < 18)
			rc = ints_to_input(b, "axes", 1, false);
		break;
	case IR_OP_CLIP:
		if (opset < 11 && !(rc = float_to_input(b, "min", 1)))
			rc = float_to_input(b, "max", 2);
		break;
	case IR_OP_PAD:
		if (opset < 11 && !(rc = ints_to_input(b, "pads", 1, true)))
			rc = float_to_input(b, "value", 2);
		break;
	case IR_OP_SLICE:
		if (opset < 10 && !(rc = ints_to_input(b, "starts", 1, true)) &&
		    !(rc = ints_to_input(b, "ends", 2, true)))
			rc = ints_to_input(b, "axes", 3, false);
		break;
	case IR_OP_TOPK:
		if (opset < 10) {
			ir_attr *k = battr(b, "k");
			if (!k || k->type != IR_ATTR_INT)
				return node_err(b, ODET_ERR_BAD_INPUT, "attribute 'k' (int) is required");
			if (slot_used(b, 1))
				return node_err(b, ODET_ERR_BAD_INPUT, "'k' given both as attribute and input");
			int64_t one[1] = {1}, kv = k->i;
			if (!(rc = input_const(b, 1, "k", ODET_I64, 1, one, &kv, sizeof kv)))
				battr_drop(b, "k");
		}
		break;
	case IR_OP_RESIZE:
		if (opset < 11)
			rc = canon_upsample(b);
		break;
	case IR_OP_SOFTMAX:
		if (opset < 13) {
			ir_attr *ax = battr(b, "axis");
			if (!ax)
				rc = battr_int(b, "axis", 1);
			b->coerce2d = true;
		}
		break;
	case IR_OP_MAXPOOL:
		battr_drop(b, "storage_order");
		break;
	case IR_OP_BATCHNORM: {
		ir_attr *sp = battr(b, "spatial"), *tm = battr(b, "training_mode");
		if (sp && (sp->type != IR_ATTR_INT || sp->i != 1))
			return node_err(b, ODET_ERR_UNSUPPORTED, "spatial=0 is not supported");
		if (tm && (tm->type != IR_ATTR_INT || tm->i != 0))
			return node_err(b, ODET_ERR_UNSUPPORTED,
					"training_mode=1 is not supported (odet runs inference only)");
		battr_drop(b, "spatial");
		battr_drop(b, "training_mode");
		break;
	}
	case IR_OP_CONSTANTOFSHAPE: {
		ir_attr *v = battr(b, "value");
		if (v && v->type == IR_ATTR_TENSOR) {
			if (ir_value_numel(&b->imp->g->values[v->tensor]) != 1)
				return node_err(b, ODET_ERR_BAD_INPUT,
						"attribute 'value' must hold exactly one element");
		} else if (!v) {
			float *zero = odet_calloc(b->imp->ctx, 1, sizeof(float));
			if (!zero)
				return ODET_ERR_NO_MEMORY;
			char base[ODET_LIMIT_MAX_NAME + 16];
			snprintf(base, sizeof base, "%s/value", b->label);
			int64_t one[1] = {1};
			int c = onnx_const_new(b->imp, base, ODET_F32, 1, one, zero);
			if (c < 0)
				return ODET_ERR_NO_MEMORY;
			rc = battr_tensor(b, "value", c);
		}
		break;
	}
	default:
		break;
	}
	return rc;
}

/* ---------------------------------------------------------------- entry points */

odet_status onnx_constant_node(onnx_imp *imp, Onnx__NodeProto *np, const char *label, int *value)
{
	nbuild b = {.imp = imp, .np = np, .label = label, .op_type = "Constant", .op = IR_OP_CONSTANT};
	odet_ctx *ctx = imp->ctx;
	if (np->n_input != 0 || np->n_output != 1 || !*np->output[0])
		return node_err(&b, ODET_ERR_BAD_INPUT, "needs no inputs and one named output");
	if (np->n_attribute != 1)
		return node_err(&b, ODET_ERR_BAD_INPUT, "needs exactly one value attribute, has %zu",
				np->n_attribute);
	Onnx__AttributeProto *ap = np->attribute[0];
	const char *an = ap->name ? ap->name : "";
	const char *out_name = np->output[0];
	char what[2 * ODET_LIMIT_MAX_NAME + 64];
	snprintf(what, sizeof what, "node '%s': op Constant (opset %d): attribute '%s'", label,
		 imp->opset, an);
	onnx_host_tensor h = {.rank = 0};
	odet_status rc;
	size_t n = 0;
	if (!ap->has_type)
		return node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' has no type", an);
	if (strcmp(an, "value") == 0 && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR && ap->t) {
		if ((rc = onnx_tensor_read(imp, ap->t, what, &h)))
			return rc;
	} else if (strcmp(an, "value_float") == 0 && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
		h.dtype = ODET_F32;
		if (!(h.data = odet_malloc(ctx, sizeof(float))))
			return ODET_ERR_NO_MEMORY;
		memcpy(h.data, &ap->f, sizeof(float));
	} else if (strcmp(an, "value_int") == 0 && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
		h.dtype = ODET_I64;
		if (!(h.data = odet_malloc(ctx, sizeof(int64_t))))
			return ODET_ERR_NO_MEMORY;
		memcpy(h.data, &ap->i, sizeof(int64_t));
	} else if (strcmp(an, "value_floats") == 0 && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) {
		n = ap->n_floats;
		h.dtype = ODET_F32;
		h.rank = 1;
		h.dims[0] = (int64_t)n;
		if (!(h.data = odet_malloc(ctx, n * sizeof(float) + 1)))
			return ODET_ERR_NO_MEMORY;
		if (n)
			memcpy(h.data, ap->floats, n * sizeof(float));
	} else if (strcmp(an, "value_ints") == 0 && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
		n = ap->n_ints;
		h.dtype = ODET_I64;
		h.rank = 1;
		h.dims[0] = (int64_t)n;
		if (!(h.data = odet_malloc(ctx, n * sizeof(int64_t) + 1)))
			return ODET_ERR_NO_MEMORY;
		if (n)
			memcpy(h.data, ap->ints, n * sizeof(int64_t));
	} else if (strncmp(an, "value_string", 12) == 0 || strcmp(an, "sparse_value") == 0) {
		return node_err(&b, ODET_ERR_UNSUPPORTED, "attribute '%s' is not supported", an);
	} else {
		return node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' (type %d) is not a Constant value",
				an, (int)ap->type);
	}
	if (onnx_name_get(imp, out_name, NULL) != -1) {
		free(h.data);
		return node_err(&b, ODET_ERR_BAD_INPUT, "output '%s' is already defined", out_name);
	}
	*value = ir_const_add(imp->g, out_name, h.dtype, h.rank, h.dims, h.data);
	if (*value < 0)
		return ctx ? ctx->last_status : ODET_ERR_NO_MEMORY;
	return onnx_name_put(imp, imp->g->values[*value].name, *value, -1);
}

odet_status onnx_node_convert(onnx_imp *imp, Onnx__NodeProto *np, int idx)
{
	char buf[64];
	nbuild b = {.imp = imp, .np = np, .op_type = np->op_type};
	b.label = onnx_node_label(np, idx, buf, sizeof buf);
	b.op = onnx_op_resolve(np->op_type);
	odet_status rc = ODET_OK;
	ir_graph *g = imp->g;

	for (size_t k = 0; k < np->n_input; k++) {
		const char *name = np->input[k];
		int node = -1, v = *name ? onnx_name_get(imp, name, &node) : -1;
		if (v == ONNX_FORBIDDEN) {
			const Onnx__NodeProto *p = imp->model->graph->node[node];
			char pb[64];
			return node_err(&b, ODET_ERR_UNSUPPORTED,
					"input '%s' is an extra output of node '%s' (%s), which odet does not "
					"compute", name, onnx_node_label(p, node, pb, sizeof pb), p->op_type);
		}
		if (*name && v < 0)
			return node_err(&b, ODET_ERR_BAD_INPUT,
					"input '%s' is not defined (not a graph input, initializer or node output)",
					name);
		b.in[b.n_in++] = v;
	}
	int kept = onnx_op_outputs_kept(np->op_type, (int)np->n_output);
	for (int k = 0; k < kept; k++)
		b.out[b.n_out++] = *np->output[k] ? onnx_name_get(imp, np->output[k], NULL) : -1;

	for (size_t k = 0; k < np->n_attribute; k++) {
		ir_attr a;
		rc = attr_convert(&b, np->attribute[k], &a);
		if (!rc && battr(&b, a.name))
			rc = node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' is given twice", a.name);
		if (rc) {
			attr_release(&a);
			goto out_attrs;
		}
		if ((rc = battr_put(&b, &a)))
			goto out_attrs;
	}
	if ((rc = canon(&b)) || (rc = check_node(&b)))
		goto out_attrs;
	if (b.coerce2d && (rc = battr_int(&b, "odet_coerce2d", 1)))
		goto out_attrs;

	int n = ir_node_add(g, b.op, b.label, b.n_in, b.in, b.n_out, b.out);
	if (n < 0) {
		rc = imp->ctx ? imp->ctx->last_status : ODET_ERR_NO_MEMORY;
		goto out_attrs;
	}
	for (int k = 0; k < b.n_attrs; k++) {
		rc = ir_attr_append(g, n, &b.attrs[k]); /* takes ownership, also on failure */
		memset(&b.attrs[k], 0, sizeof b.attrs[k]);
		if (rc)
			goto out_attrs;
	}
	b.n_attrs = 0;
out_attrs:
	for (int k = 0; k < b.n_attrs; k++)
		attr_release(&b.attrs[k]);
	free(b.attrs);
	return rc;
}
