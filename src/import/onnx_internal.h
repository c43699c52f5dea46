/*
 * onnx_internal.h — shared state of the ONNX importer (onnx.c, onnx_ops.c, onnx_tensor.c,
 * onnx_wire.c). Not a public interface.
 *
 * Messages: every function below writes its message WITHOUT the file prefix; the entry
 * points (odet_import_onnx_*) prefix the message once with "<path>: ". Node messages have
 * the form "node '<name>': op <OpType> (opset <N>)<: reason | is not supported>".
 */
#ifndef ODET_ONNX_INTERNAL_H
#define ODET_ONNX_INTERNAL_H

#include "graph/ir.h"
#include "onnx.pb-c.h"

#define ONNX_MAX_FILE_BYTES ((size_t)INT32_MAX) /* protobuf's own 2 GiB limit */
#define ONNX_MAX_WIRE_DEPTH 64                   /* nested messages (protobuf-c recurses) */
#define ONNX_MAX_ATTR_ELEMS (1 << 24)            /* ints/floats/strings of one attribute */
#define ONNX_OPSET_MIN 7
#define ONNX_OPSET_MAX 21
#define ONNX_FORBIDDEN (-2) /* name map: an output odet does not compute (Dropout mask, ...) */

typedef struct onnx_name {
	const char *key; /* borrowed: a value's name or a string of the unpacked model */
	int value;       /* value index, or ONNX_FORBIDDEN */
	int node;        /* for ONNX_FORBIDDEN: index of the producing node in the file */
} onnx_name;

typedef struct onnx_imp {
	odet_ctx *ctx;
	const char *base_dir;      /* folder of the model for external data; NULL = refused */
	ir_graph *g;
	const Onnx__ModelProto *model;
	int opset;                 /* default-domain opset */
	onnx_name *names;          /* open-addressing hash: name -> value */
	size_t cap_names, n_names;
} onnx_imp;

/* A tensor decoded from a TensorProto: data is malloc'ed (at least 1 byte), owned by caller. */
typedef struct onnx_host_tensor {
	odet_dtype dtype;
	int rank;
	int64_t dims[ODET_MAX_RANK];
	void *data;
	size_t nbytes;
} onnx_host_tensor;

/* ---- onnx_wire.c: structural check of protobuf wire data against a message descriptor
 * (wire types, lengths, nesting depth). On failure writes a reason into detail. */
bool onnx_wire_check(const void *data, size_t size, const ProtobufCMessageDescriptor *desc,
		     char *detail, size_t detail_len);

/* ---- onnx.c: names */
/* Value index of name, -1 if unknown, ONNX_FORBIDDEN (and *node) for a forbidden output. */
int onnx_name_get(const onnx_imp *imp, const char *name, int *node);
/* Insert; ODET_ERR_BAD_INPUT without a message if the name exists, NO_MEMORY (message set). */
odet_status onnx_name_put(onnx_imp *imp, const char *name, int value, int node);
/* A constant with a fresh unique name derived from base ("conv1/axes", "conv1/axes#2"). */
int onnx_const_new(onnx_imp *imp, const char *base, odet_dtype dtype, int rank, const int64_t *dims,
		   void *data);
/* "name" of node idx, or "<op_type>_<idx>" when the file gives none. */
const char *onnx_node_label(const Onnx__NodeProto *np, int idx, char *buf, size_t n);

/* ---- onnx_tensor.c */
/* Decode t (what = "initializer 'w'" for messages). Steals t->raw_data when possible. */
odet_status onnx_tensor_read(onnx_imp *imp, Onnx__TensorProto *t, const char *what,
			     onnx_host_tensor *out);
/* Set dtype/rank/dims/sym of v from a declared type (graph input/output, value_info). */
odet_status onnx_type_to_value(onnx_imp *imp, const Onnx__TypeProto *tp, const char *what,
			       ir_value *v);

/* ---- onnx_ops.c: per-node conversion to the canonical IR forms */
/* The IR op an ONNX default-domain op_type becomes (Upsample -> Resize, Dropout -> Identity);
 * IR_OP_COUNT if odet has no such op. */
ir_op onnx_op_resolve(const char *op_type);
/* How many leading outputs of the node odet computes (the rest must stay unused). */
int onnx_op_outputs_kept(const char *op_type, int n_output);
/* Constant node -> CONST value named out_name. */
odet_status onnx_constant_node(onnx_imp *imp, Onnx__NodeProto *np, const char *label, int *value);
/* Pass 2: node idx (outputs already declared) -> IR node(s). */
odet_status onnx_node_convert(onnx_imp *imp, Onnx__NodeProto *np, int idx);

/* ---- onnx_nms.c: a model's own NonMaxSuppression is cut, an OnnxNms marker left for the head */
typedef struct onnx_nms_cut {
	int node;         /* file index of the NonMaxSuppression node, -1 = none */
	uint8_t *keep;    /* per file node: 1 = import it (ancestor of NMS's inputs); malloc'ed */
	int n_dropped;    /* nodes not imported besides NMS */
} onnx_nms_cut;
/* Find NonMaxSuppression (more than one: refused) and the nodes to keep; keep = NULL if none. */
odet_status onnx_nms_plan(onnx_imp *imp, const Onnx__GraphProto *gp, onnx_nms_cut *cut);
/* Instead of the graph outputs: the OnnxNms marker node, its output the only graph output. */
odet_status onnx_nms_outputs(onnx_imp *imp, const Onnx__GraphProto *gp, const onnx_nms_cut *cut);

/* ---- node builder shared by onnx_ops.c (canonical forms) and onnx_attrs.c (attributes) */
typedef struct onnx_nbuild {
	onnx_imp *imp;
	Onnx__NodeProto *np;
	const char *label, *op_type;
	ir_op op;
	int n_in, in[IR_MAX_IO + 4];
	int n_out, out[IR_MAX_IO];
	int n_attrs, cap_attrs;
	ir_attr *attrs;
	bool coerce2d;
} onnx_nbuild;

/* "node '<label>': op <op_type> (opset N): <message>" */
odet_status onnx_node_err(const onnx_nbuild *b, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void onnx_attr_release(ir_attr *a);
ir_attr *onnx_battr(onnx_nbuild *b, const char *name);
void onnx_battr_drop(onnx_nbuild *b, const char *name);
/* Append (or replace) an attribute; takes ownership of a's pointers, also on failure. */
odet_status onnx_battr_put(onnx_nbuild *b, ir_attr *a);
odet_status onnx_battr_string(onnx_nbuild *b, const char *name, const char *s);
odet_status onnx_battr_int(onnx_nbuild *b, const char *name, int64_t v);
odet_status onnx_battr_tensor(onnx_nbuild *b, const char *name, int value);
/* ONNX attribute -> ir_attr (TENSOR: a new CONST value). */
odet_status onnx_attr_convert(onnx_nbuild *b, Onnx__AttributeProto *ap, ir_attr *a);
/* Attribute names/types/values and input/output counts of the canonical form. */
odet_status onnx_check_node(onnx_nbuild *b);

#endif
