/*
 * tfjs_internal.h — shared by the TF.js frontend's files: tfjs.c (model.json, weights, entry
 * point) and tfjs_ops.c (one translation per TF op into IR nodes).
 */
#ifndef ODET_TFJS_INTERNAL_H
#define ODET_TFJS_INTERNAL_H

#include "import/import.h"

#include <cjson/cJSON.h>

typedef struct tf_node {
	const char *name, *op;
	cJSON *json;
	int n_out;          /* outputs created for this node */
	int *out;           /* value index per output (-1 until translated) */
	int state;          /* 0 unvisited, 1 in progress, 2 done, 3 unsupported */
	const char *why;    /* op that makes it unsupported */
} tf_node;

typedef struct tf_import {
	odet_ctx *ctx;
	ir_graph *g;
	const char *path;
	cJSON *root;
	int n_nodes;
	tf_node *nodes;
	int *index;         /* open-addressing hash of node names -> node index (-1 empty) */
	size_t index_cap;   /* a power of two >= 2 * n_nodes */
} tf_import;

/* JSON access to a node (tfjs.c) */
cJSON *tf_attr(const tf_node *n, const char *name);
int64_t tf_attr_int(const tf_node *n, const char *name, int64_t def);
/* Node index of name[0..len) through t->index (or -1); built by tf_index_nodes. */
int tf_find_node(const tf_import *t, const char *name, size_t len);
odet_status tf_index_nodes(tf_import *t);
int tf_parse_ref(const tf_import *t, const char *ref, int *k);
const char *tf_attr_str(const tf_node *n, const char *name, char *buf, size_t cap);
int tf_attr_bool(const tf_node *n, const char *name, int def);
float tf_attr_float(const tf_node *n, const char *name, float def);
int tf_attr_ints(const tf_node *n, const char *name, int64_t *v, int cap);
int tf_n_inputs(const tf_node *n);
const char *tf_input_ref(const tf_node *n, int i);

/* Translate node ni and every node it depends on into IR values (tfjs_ops.c): an explicit
 * depth-first walk, so a long chain needs no deep C stack. */
odet_status tfjs_translate(tf_import *t, int ni);

#endif
