/*
 * ir.h — odet's graph IR. Importers produce it, passes transform it, backends run it.
 *
 * A graph is a list of values (tensors: inputs, constants, intermediates) and a list of
 * nodes in topological order. Nodes reference values by index. A value has at most one
 * producer. Constant values carry their data (owned by the graph, host memory, row-major).
 * Shapes: rank -1 = unknown; a dim of -1 = unknown; sym[i] names a symbolic dim ("batch").
 * Attributes keep ONNX's names and types; ONNX-domain ops keep ONNX semantics, so the
 * ONNX spec is the spec of every IR op unless its line in ops.def says otherwise.
 *
 * Canonical forms: the importer rewrites older opsets into the newest form, so kernels and
 * shape functions implement one semantic per op:
 *   Squeeze/Unsqueeze  axes as input 1 (int64), never an attribute (opset 13 form)
 *   Split              split sizes as optional input 1; attr axis; without input 1 the
 *                      input is split equally into n_out parts (last part smaller if uneven)
 *   Clip               min, max as optional inputs 1, 2 (opset 11 form)
 *   Pad                pads input 1, optional constant_value input 2, optional axes input 3, attr mode
 *   Slice              starts, ends, optional axes, steps as inputs 1..4 (opset 10+ form)
 *   Reduce{Mean,Sum,Max} axes as optional input 1 (opset 18 form); attrs keepdims,
 *                      noop_with_empty_axes
 *   Resize             inputs X, roi, scales, sizes (opset 11+ form); ONNX Upsample (7-9)
 *                      becomes Resize with coordinate_transformation_mode "asymmetric" and
 *                      nearest_mode "floor"; Resize-10 likewise
 *   Softmax            attr axis (opset 13 semantics); older opsets carry attr
 *                      odet_coerce2d = 1: softmax over the flattened dims [axis, rank)
 *   Constant           becomes a CONST value (no node); Dropout becomes Identity
 *   ConstantOfShape    attr value (TENSOR) refers to a CONST value holding one element
 */
#ifndef ODET_IR_H
#define ODET_IR_H

#include "core/core.h"

typedef enum ir_op {
#define OP(id, onnx, domain) IR_OP_##id,
#include "graph/ops.def"
#undef OP
	IR_OP_COUNT
} ir_op;

/* Name of op as written in ONNX / ops.def. */
const char *ir_op_name(ir_op op);
/* Look up an op by (domain, op_type); domain "" or "ai.onnx" is the default domain.
 * Returns IR_OP_COUNT when unknown. */
ir_op ir_op_lookup(const char *domain, const char *op_type);

typedef enum ir_value_kind {
	IR_VALUE_INTERMEDIATE = 0,
	IR_VALUE_INPUT = 1,   /* graph input, fed at run time */
	IR_VALUE_CONST = 2,   /* initializer or folded constant: data != NULL */
} ir_value_kind;

typedef struct ir_value {
	char *name;
	ir_value_kind kind;
	odet_dtype dtype;     /* UNDEFINED until known */
	int rank;             /* -1 = unknown */
	int64_t dims[ODET_MAX_RANK];
	char *sym[ODET_MAX_RANK]; /* symbolic dim names (NULL = none); owned */
	void *data;           /* CONST: numel * dtype_size bytes; owned (malloc) */
	size_t nbytes;
	int producer;         /* node index, -1 for inputs/constants */
	bool is_output;       /* graph output */
} ir_value;

typedef enum ir_attr_type {
	IR_ATTR_FLOAT = 1,
	IR_ATTR_INT = 2,
	IR_ATTR_STRING = 3,
	IR_ATTR_TENSOR = 4,
	IR_ATTR_FLOATS = 6,
	IR_ATTR_INTS = 7,
	IR_ATTR_STRINGS = 8,
} ir_attr_type; /* numbering equals ONNX AttributeProto.AttributeType */

typedef struct ir_attr {
	char *name;
	ir_attr_type type;
	int64_t i;
	float f;
	char *s;          /* STRING (NUL-terminated; may be binary-safe via s_len) */
	size_t s_len;
	int n;            /* element count of ints/floats/strings */
	int64_t *ints;
	float *floats;
	char **strings;
	int tensor;       /* TENSOR: index of a CONST value holding it (not a graph input) */
} ir_attr;

#define IR_MAX_IO 64

/* Fused Conv (set by passes/fuse_conv.c), stored as attributes of the Conv node:
 *   odet_act       int, one of ir_act (default IR_ACT_NONE)
 *   odet_act_alpha float (LeakyRelu alpha, Clip min, HardSigmoid alpha)
 *   odet_act_beta  float (Clip max, HardSigmoid beta)
 * and an optional 4th input: a residual tensor of the output's shape.
 *   y = act(conv(x, W) + B + residual)                                              */
typedef enum ir_act {
	IR_ACT_NONE = 0,
	IR_ACT_RELU = 1,
	IR_ACT_LEAKYRELU = 2,
	IR_ACT_CLIP = 3,
	IR_ACT_SIGMOID = 4,
	IR_ACT_HARDSIGMOID = 5,
	IR_ACT_HARDSWISH = 6,
} ir_act;

typedef struct ir_node {
	char *name;
	ir_op op;
	int n_in, n_out;
	int *in;          /* value indices; -1 = omitted optional input */
	int *out;
	int n_attrs;
	ir_attr *attrs;
	bool dead;        /* removed; compacted away by ir_graph_compact */
} ir_node;

struct odet_graph {
	odet_ctx *ctx;
	char *name;
	char *note;                 /* importer's remark for inspect (e.g. outputs it cut); may be NULL */
	int opset;                  /* default-domain opset version */
	int n_values, cap_values;
	ir_value *values;
	int n_nodes, cap_nodes;
	ir_node *nodes;
	int n_inputs, n_outputs;
	int *inputs;                /* value indices of graph inputs (not constants) */
	int *outputs;
	/* How images feed the network and how its classes are named; set by the head
	 * (num_classes 0 = no head) and kept in plan files. */
	odet_model_info info;
	/* Detection head attached by src/heads (NULL = none); opaque to this layer. */
	void *head;
	void (*head_free)(void *head);
	/* Tuned choices of the engine that owns this graph (odet_tune_get/put; saved in its plan),
	 * for backend prepare; NULL outside an engine. Not owned, not cloned. */
	odet_tune_set *tune;
	/* Build options of that engine (kernel choices for passes and backend prepare, the
	 * context's environment overrides applied); NULL outside an engine. Not owned, not cloned. */
	const odet_build_opts *build;
	/* The backend's state of that engine (backend.h engine_state_create: CUDA's build-time
	 * library handles), for backend prepare; NULL outside an engine. Not owned, not cloned. */
	void *be_state;
};
typedef struct odet_graph ir_graph;

/* ---- construction */
odet_status ir_graph_create(odet_ctx *ctx, ir_graph **out);
/* Deep copy (values with data, nodes, attrs; the head is not copied). */
odet_status ir_graph_clone(const ir_graph *g, ir_graph **out);
/* Add a value with a unique name (NULL = generate one). Returns index or -1 (error on ctx). */
int ir_value_add(ir_graph *g, const char *name, odet_dtype dtype, int rank, const int64_t *dims);
/* Add a constant; takes ownership of data (malloc'ed, nbytes must equal numel * size). */
int ir_const_add(ir_graph *g, const char *name, odet_dtype dtype, int rank, const int64_t *dims,
		 void *data);
/* Find a value by name; -1 if none. Linear scan unless the hash index is built. */
int ir_value_find(const ir_graph *g, const char *name);
/* Add a node (inputs/outputs copied). Returns node index or -1. */
int ir_node_add(ir_graph *g, ir_op op, const char *name, int n_in, const int *in, int n_out,
		const int *out);
/* Attributes (copied). */
odet_status ir_attr_set_int(ir_graph *g, int node, const char *name, int64_t v);
odet_status ir_attr_set_float(ir_graph *g, int node, const char *name, float v);
odet_status ir_attr_set_ints(ir_graph *g, int node, const char *name, const int64_t *v, int n);
odet_status ir_attr_set_floats(ir_graph *g, int node, const char *name, const float *v, int n);
odet_status ir_attr_set_string(ir_graph *g, int node, const char *name, const char *s);
/* Append a fully formed attribute, taking ownership of its pointers. */
odet_status ir_attr_append(ir_graph *g, int node, ir_attr *a);
/* Copy every attribute of node src onto node dst (same graph), replacing same-named ones. */
odet_status ir_attrs_copy(ir_graph *g, int dst, int src);
/* Replace every use of value `from` (node inputs and graph outputs) by `to`. */
void ir_value_replace_uses(ir_graph *g, int from, int to);
/* Number of node inputs (live nodes) that read value v, plus 1 if it is a graph output. */
int ir_value_use_count(const ir_graph *g, int v);
/* Set a value's constant data (takes ownership), kind = CONST, producer = -1. */
odet_status ir_value_set_data(ir_graph *g, int v, void *data, size_t nbytes);
/* Remove dead nodes and values nobody references; renumbers indices; keeps topological order. */
odet_status ir_graph_compact(ir_graph *g);
/* Reorder nodes topologically (stable); error if a cycle or a missing producer is found. */
odet_status ir_graph_toposort(ir_graph *g);
void ir_graph_free(ir_graph *g);

/* ---- attribute access */
const ir_attr *ir_attr_get(const ir_node *n, const char *name);
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def);
float ir_attr_float(const ir_node *n, const char *name, float def);
const char *ir_attr_string(const ir_node *n, const char *name, const char *def);
/* Returns element count (0 if absent) and sets *v (borrowed). */
int ir_attr_ints(const ir_node *n, const char *name, const int64_t **v);
int ir_attr_floats(const ir_node *n, const char *name, const float **v);

/* ---- value helpers */
static inline ir_value *ir_in(const ir_graph *g, const ir_node *n, int i)
{
	return (i < n->n_in && n->in[i] >= 0) ? &g->values[n->in[i]] : NULL;
}
static inline ir_value *ir_out(const ir_graph *g, const ir_node *n, int i)
{
	return (i < n->n_out && n->out[i] >= 0) ? &g->values[n->out[i]] : NULL;
}
/* numel of a value with fully known shape; -1 if unknown or overflowing. */
int64_t ir_value_numel(const ir_value *v);
/* true when rank and every dim are known. */
bool ir_value_shape_known(const ir_value *v);
/* Read element i of an integer-typed constant (I64/I32/...) as int64. */
int64_t ir_const_i64(const ir_value *v, int64_t i);
/* "[1,3,300,300]" into buf. */
const char *ir_shape_str(const ir_value *v, char *buf, size_t n);

/* ---- op helpers */
/* PermuteConcat input i's view (ops.def): vshape's dims in source order with their strides
 * (attr vstride; without it row-major, and the view must then cover the input exactly) from
 * element voffset (default 0), the permutation vperm, the element count and the last element
 * read. False when the attributes are inconsistent: counts, a dim < 1, a negative stride,
 * vperm no permutation, more than IR_VIEW_MAX dims. Shared by the shape function and kernels. */
#define IR_VIEW_MAX 16
typedef struct ir_view {
	int r;
	bool dense;                 /* no vstride attribute */
	int64_t dims[IR_VIEW_MAX], strides[IR_VIEW_MAX], perm[IR_VIEW_MAX];
	int64_t off, numel, last;
} ir_view;
bool ir_permute_view(const ir_node *n, int i, ir_view *v);

/* Per-node cost (used by odet inspect): multiply-adds*2 and parameter count. */
typedef struct ir_cost {
	int64_t flops;
	int64_t params;
} ir_cost;
ir_cost ir_node_cost(const ir_graph *g, const ir_node *n);

/* ---- per-op shape functions (ops.def): set dtype/rank/dims of n's outputs from its inputs.
 * Return ODET_ERR_BAD_INPUT with a message naming node and op on inconsistent shapes,
 * ODET_ERR_UNSUPPORTED on unsupported attributes. Inputs needed as values (Reshape shape,
 * Slice starts, ...) are read when constant; otherwise outputs stay (partly) unknown. */
typedef odet_status (*ir_shape_fn)(ir_graph *g, ir_node *n);
#define OP(id, onnx, domain) odet_status ir_shape_##id(ir_graph *g, ir_node *n) __attribute__((weak));
#include "graph/ops.def"
#undef OP
/* Table indexed by ir_op; NULL where no shape function is linked. */
ir_shape_fn ir_shape_fn_of(ir_op op);

#endif
