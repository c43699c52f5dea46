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
 * Finally onnx_check_node (onnx_attrs.c) checks the remaining attributes and the arity.
 */
#include "import/onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A copy of src as a new CONST value in input slot `slot` (n_in grows, gaps are -1). */
static odet_status input_const(onnx_nbuild *b, int slot, const char *what, odet_dtype dt, int rank,
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

static bool slot_used(const onnx_nbuild *b, int slot)
{
	return slot < b->n_in && b->in[slot] >= 0;
}

/* INTS attribute -> int64 [n] input; dropped from the attributes. */
static odet_status ints_to_input(onnx_nbuild *b, const char *name, int slot, bool required)
{
	ir_attr *a = onnx_battr(b, name);
	if (!a)
		return required ? onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' is required", name)
				: ODET_OK;
	if (a->type != IR_ATTR_INTS)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' must be a list of ints", name);
	if (slot_used(b, slot))
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "'%s' given both as attribute and as input %d",
				name, slot);
	int64_t dims[1] = {a->n};
	odet_status rc = input_const(b, slot, name, ODET_I64, 1, dims, a->ints, sizeof(int64_t) * (size_t)a->n);
	if (rc)
		return rc;
	onnx_battr_drop(b, name);
	return ODET_OK;
}

/* FLOAT attribute -> scalar input in the dtype of input 0 when known (f16/f64), else f32. */
static odet_status float_to_input(onnx_nbuild *b, const char *name, int slot)
{
	ir_attr *a = onnx_battr(b, name);
	if (!a)
		return ODET_OK;
	if (a->type != IR_ATTR_FLOAT)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute '%s' must be a float", name);
	if (slot_used(b, slot))
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "'%s' given both as attribute and as input %d",
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
	onnx_battr_drop(b, name);
	return ODET_OK;
}

/* ---------------------------------------------------------------- canonical forms */

/* Upsample-7/9 and Resize-10 -> Resize(X, roi = -1, scales). */
static odet_status canon_upsample(onnx_nbuild *b)
{
	int opset = b->imp->opset;
	bool upsample = strcmp(b->op_type, "Upsample") == 0;
	odet_status rc;
	ir_attr *m = onnx_battr(b, "mode");
	const char *mode = m && m->type == IR_ATTR_STRING ? m->s : "nearest";
	if (m && m->type != IR_ATTR_STRING)
		return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute 'mode' must be a string");
	if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0)
		return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "mode '%s' is not supported (nearest, linear)",
				mode);
	if ((rc = onnx_battr_string(b, "mode", mode)))
		return rc;
	if (upsample && opset < 9) {
		ir_attr *s = onnx_battr(b, "scales");
		if (!s || s->type != IR_ATTR_FLOATS)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute 'scales' (floats) is required");
		if (b->n_in != 1)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "has %d inputs, expected 1", b->n_in);
		int64_t dims[1] = {s->n};
		if ((rc = input_const(b, 2, "scales", ODET_F32, 1, dims, s->floats, sizeof(float) * (size_t)s->n)))
			return rc;
		onnx_battr_drop(b, "scales");
	} else {
		if (b->n_in != 2 || b->in[1] < 0)
			return onnx_node_err(b, ODET_ERR_BAD_INPUT, "needs inputs X and scales, has %d inputs",
					b->n_in);
		b->in[2] = b->in[1];
		b->in[1] = -1;
		b->n_in = 3;
	}
	b->op = IR_OP_RESIZE;
	if ((rc = onnx_battr_string(b, "coordinate_transformation_mode", "asymmetric")))
		return rc;
	return onnx_battr_string(b, "nearest_mode", "floor");
}

static odet_status canon_dropout(onnx_nbuild *b)
{
	onnx_battr_drop(b, "ratio");
	onnx_battr_drop(b, "seed");
	if (slot_used(b, 2)) {
		const ir_value *t = &b->imp->g->values[b->in[2]];
		if (t->kind != IR_VALUE_CONST || t->nbytes < 1 || ir_value_numel(t) != 1 ||
		    ir_const_i64(t, 0) != 0)
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED,
					"training_mode must be a constant false (odet runs inference only)");
	}
	if (b->n_in > 1)
		b->n_in = 1;
	b->op = IR_OP_IDENTITY;
	return ODET_OK;
}

static odet_status canon(onnx_nbuild *b)
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
	case IR_OP_REDUCEL2:
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
			ir_attr *k = onnx_battr(b, "k");
			if (!k || k->type != IR_ATTR_INT)
				return onnx_node_err(b, ODET_ERR_BAD_INPUT, "attribute 'k' (int) is required");
			if (slot_used(b, 1))
				return onnx_node_err(b, ODET_ERR_BAD_INPUT, "'k' given both as attribute and input");
			int64_t one[1] = {1}, kv = k->i;
			if (!(rc = input_const(b, 1, "k", ODET_I64, 1, one, &kv, sizeof kv)))
				onnx_battr_drop(b, "k");
		}
		break;
	case IR_OP_RESIZE:
		if (opset < 11)
			rc = canon_upsample(b);
		break;
	case IR_OP_SOFTMAX:
		if (opset < 13) {
			ir_attr *ax = onnx_battr(b, "axis");
			if (!ax)
				rc = onnx_battr_int(b, "axis", 1);
			b->coerce2d = true;
		}
		break;
	case IR_OP_MAXPOOL:
		onnx_battr_drop(b, "storage_order");
		break;
	case IR_OP_BATCHNORM: {
		ir_attr *sp = onnx_battr(b, "spatial"), *tm = onnx_battr(b, "training_mode");
		if (sp && (sp->type != IR_ATTR_INT || sp->i != 1))
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED, "spatial=0 is not supported");
		if (tm && (tm->type != IR_ATTR_INT || tm->i != 0))
			return onnx_node_err(b, ODET_ERR_UNSUPPORTED,
					"training_mode=1 is not supported (odet runs inference only)");
		onnx_battr_drop(b, "spatial");
		onnx_battr_drop(b, "training_mode");
		break;
	}
	case IR_OP_CONSTANTOFSHAPE: {
		ir_attr *v = onnx_battr(b, "value");
		if (v && v->type == IR_ATTR_TENSOR) {
			if (ir_value_numel(&b->imp->g->values[v->tensor]) != 1)
				return onnx_node_err(b, ODET_ERR_BAD_INPUT,
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
			rc = onnx_battr_tensor(b, "value", c);
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
	onnx_nbuild b = {.imp = imp, .np = np, .label = label, .op_type = "Constant", .op = IR_OP_CONSTANT};
	odet_ctx *ctx = imp->ctx;
	if (np->n_input != 0 || np->n_output != 1 || !*np->output[0])
		return onnx_node_err(&b, ODET_ERR_BAD_INPUT, "needs no inputs and one named output");
	if (np->n_attribute != 1)
		return onnx_node_err(&b, ODET_ERR_BAD_INPUT, "needs exactly one value attribute, has %zu",
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
		return onnx_node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' has no type", an);
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
		return onnx_node_err(&b, ODET_ERR_UNSUPPORTED, "attribute '%s' is not supported", an);
	} else {
		return onnx_node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' (type %d) is not a Constant value",
				an, (int)ap->type);
	}
	if (onnx_name_get(imp, out_name, NULL) != -1) {
		free(h.data);
		return onnx_node_err(&b, ODET_ERR_BAD_INPUT, "output '%s' is already defined", out_name);
	}
	*value = ir_const_add(imp->g, out_name, h.dtype, h.rank, h.dims, h.data);
	if (*value < 0)
		return ctx ? ctx->last_status : ODET_ERR_NO_MEMORY;
	return onnx_name_put(imp, imp->g->values[*value].name, *value, -1);
}

odet_status onnx_node_convert(onnx_imp *imp, Onnx__NodeProto *np, int idx)
{
	char buf[64];
	onnx_nbuild b = {.imp = imp, .np = np, .op_type = np->op_type};
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
			return onnx_node_err(&b, ODET_ERR_UNSUPPORTED,
					"input '%s' is an extra output of node '%s' (%s), which odet does not "
					"compute", name, onnx_node_label(p, node, pb, sizeof pb), p->op_type);
		}
		if (*name && v < 0)
			return onnx_node_err(&b, ODET_ERR_BAD_INPUT,
					"input '%s' is not defined (not a graph input, initializer or node output)",
					name);
		b.in[b.n_in++] = v;
	}
	int kept = onnx_op_outputs_kept(np->op_type, (int)np->n_output);
	for (int k = 0; k < kept; k++)
		b.out[b.n_out++] = *np->output[k] ? onnx_name_get(imp, np->output[k], NULL) : -1;

	for (size_t k = 0; k < np->n_attribute; k++) {
		ir_attr a;
		rc = onnx_attr_convert(&b, np->attribute[k], &a);
		if (!rc && onnx_battr(&b, a.name))
			rc = onnx_node_err(&b, ODET_ERR_BAD_INPUT, "attribute '%s' is given twice", a.name);
		if (rc) {
			onnx_attr_release(&a);
			goto out_attrs;
		}
		if ((rc = onnx_battr_put(&b, &a)))
			goto out_attrs;
	}
	if ((rc = canon(&b)) || (rc = onnx_check_node(&b)))
		goto out_attrs;
	if (b.coerce2d && (rc = onnx_battr_int(&b, "odet_coerce2d", 1)))
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
		onnx_attr_release(&b.attrs[k]);
	free(b.attrs);
	return rc;
}
