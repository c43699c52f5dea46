/*
 * test_backend.h — a host backend with tiny float32 kernels of its own (Add, Mul of equal
 * shapes, Relu with a workspace, Concat, ReduceMax over the last axis), so that the engine
 * (build, memory plan, plan files, exec) is tested independently of the real CPU kernels.
 * Memory and stream functions are the CPU backend's. Also a reference interpreter that
 * evaluates a graph with one separate buffer per value (no arena) for comparison.
 */
#ifndef TEST_BACKEND_H
#define TEST_BACKEND_H

#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

static bool tb_same_dims(const ir_value *a, const ir_value *b)
{
	if (a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return false;
	return true;
}

static odet_status tb_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	/* ReduceMax: input 1 = axes, a constant int64 [-1] (canonical opset-18 form) */
	int n_data_in = n->op == IR_OP_REDUCEMAX ? 1 : n->n_in;
	for (int k = 0; k < n_data_in; k++)
		if (!ir_in(g, n, k) || ir_in(g, n, k)->dtype != ODET_F32)
			goto bad;
	for (int k = 0; k < n->n_out; k++)
		if (!ir_out(g, n, k) || ir_out(g, n, k)->dtype != ODET_F32)
			goto bad;
	if (n->n_out != 1)
		goto bad;
	const ir_value *y = ir_out(g, n, 0);
	switch (n->op) {
	case IR_OP_ADD:
	case IR_OP_MUL:
		if (n->n_in == 2 && tb_same_dims(ir_in(g, n, 0), y) && tb_same_dims(ir_in(g, n, 1), y))
			return ODET_OK;
		break;
	case IR_OP_RELU:
		if (n->n_in == 1 && tb_same_dims(ir_in(g, n, 0), y))
			return ODET_OK;
		break;
	case IR_OP_REDUCEMAX: {
		const ir_value *x = ir_in(g, n, 0), *axes = ir_in(g, n, 1);
		if (n->n_in != 2 || !axes || axes->kind != IR_VALUE_CONST || axes->dtype != ODET_I64 ||
		    ir_value_numel(axes) != 1 || ir_attr_int(n, "keepdims", 1) != 0)
			break;
		if (x->rank < 1 || x->dims[x->rank - 1] < 1 || y->rank != x->rank - 1 ||
		    (ir_const_i64(axes, 0) != -1 && ir_const_i64(axes, 0) != x->rank - 1))
			break;
		for (int i = 0; i < y->rank; i++)
			if (y->dims[i] != x->dims[i])
				goto bad;
		return ODET_OK;
	}
	case IR_OP_CONCAT: {
		/* axis 1 (or 0 for rank 1) */
		int axis = y->rank == 1 ? 0 : 1;
		int64_t sum = 0;
		if (n->n_in < 1 || ir_attr_int(n, "axis", -99) != axis)
			break;
		for (int k = 0; k < n->n_in; k++) {
			const ir_value *x = ir_in(g, n, k);
			if (x->rank != y->rank)
				goto bad;
			for (int d = 0; d < y->rank; d++)
				if (d != axis && x->dims[d] != y->dims[d])
					goto bad;
			sum += x->dims[axis];
		}
		if (sum == y->dims[axis])
			return ODET_OK;
		break;
	}
	default:
		break;
	}
bad:
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s not supported by the test backend",
			  n->name, ir_op_name(n->op));
}

static odet_status tb_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			      size_t *workspace)
{
	*state = NULL;
	*workspace = 0;
	if (n->op == IR_OP_RELU) {
		*workspace = (size_t)ir_value_numel(ir_out(g, n, 0)) * sizeof(float);
		/* as a tuning backend does (cuda/conv.cu): the choice comes from the engine's set (a
		 * loaded plan's) or the file, else it is "timed" and recorded */
		char key[160], val[64];
		snprintf(key, sizeof key, "test-relu %s", n->name);
		if (!odet_tune_get(ctx, g->tune, key, val, sizeof val))
			odet_tune_put(ctx, g->tune, key, "timed");
	}
	return ODET_OK;
}

static void tb_release(const ir_node *n, void *state)
{
	(void)n;
	(void)state;
}

static int64_t tb_numel(const odet_tensor *t)
{
	return odet_tensor_numel(t);
}

/* The kernels, on raw arrays (shared by the backend and the reference interpreter). */
static void tb_compute(const ir_node *n, const odet_tensor *in, odet_tensor *out, float *ws)
{
	float *y = out[0].data;
	int64_t ny = tb_numel(&out[0]);
	switch (n->op) {
	case IR_OP_ADD:
	case IR_OP_MUL: {
		const float *a = in[0].data, *b = in[1].data;
		for (int64_t i = 0; i < ny; i++)
			y[i] = n->op == IR_OP_ADD ? a[i] + b[i] : a[i] * b[i];
		break;
	}
	case IR_OP_RELU: {
		const float *x = in[0].data;
		/* through the workspace, so that a workspace overlapping anything live shows */
		for (int64_t i = 0; i < ny; i++)
			ws[i] = x[i] > 0 ? x[i] : 0;
		for (int64_t i = 0; i < ny; i++)
			y[i] = ws[i];
		break;
	}
	case IR_OP_REDUCEMAX: {
		const float *x = in[0].data;
		int64_t w = in[0].dims[in[0].rank - 1];
		for (int64_t i = 0; i < ny; i++) {
			float m = x[i * w];
			for (int64_t j = 1; j < w; j++)
				m = x[i * w + j] > m ? x[i * w + j] : m;
			y[i] = m;
		}
		break;
	}
	case IR_OP_CONCAT: {
		int axis = out[0].rank == 1 ? 0 : 1;
		int64_t outer = 1, inner = 1;
		for (int d = 0; d < axis; d++)
			outer *= out[0].dims[d];
		for (int d = axis + 1; d < out[0].rank; d++)
			inner *= out[0].dims[d];
		int64_t ystride = out[0].dims[axis] * inner, off = 0;
		for (int k = 0; k < n->n_in; k++) {
			int64_t len = in[k].dims[axis] * inner;
			for (int64_t o = 0; o < outer; o++)
				memcpy(y + o * ystride + off, (const float *)in[k].data + o * len,
				       (size_t)len * sizeof(float));
			off += len;
		}
		break;
	}
	default:
		break;
	}
}

static odet_status tb_run(const be_run_args *a)
{
	if (a->node->op == IR_OP_RELU && (!a->workspace || a->workspace_size <
					  (size_t)tb_numel(&a->out[0]) * sizeof(float)))
		return ODET_ERR_INTERNAL;
	tb_compute(a->node, a->in, a->out, a->workspace);
	return ODET_OK;
}

static inline const odet_backend *test_backend(void)
{
	static odet_backend be;
	static int init;
	if (!init) {
		be = *odet_backend_cpu();
		be.name = "test";
		be.check = tb_check;
		be.prepare = tb_prepare;
		be.release = tb_release;
		be.run = tb_run;
		init = 1;
	}
	return &be;
}

/* Reference: evaluate g with one malloc'ed buffer per value. inputs in graph order.
 * Returns per-value buffers (caller frees with ref_free). */
static inline float **ref_eval(const ir_graph *g, float *const *inputs)
{
	float **buf = calloc((size_t)g->n_values, sizeof *buf);
	for (int i = 0; i < g->n_inputs; i++) {
		int v = g->inputs[i];
		size_t nb = (size_t)ir_value_numel(&g->values[v]) * 4;
		buf[v] = malloc(nb + 4);
		memcpy(buf[v], inputs[i], nb);
	}
	for (int v = 0; v < g->n_values; v++)
		if (g->values[v].kind == IR_VALUE_CONST) {
			buf[v] = malloc(g->values[v].nbytes + 4);
			memcpy(buf[v], g->values[v].data, g->values[v].nbytes);
		}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		odet_tensor in[IR_MAX_IO], out[1];
		for (int k = 0; k < n->n_in; k++) {
			const ir_value *v = ir_in(g, n, k);
			memset(&in[k], 0, sizeof in[k]);
			in[k].dtype = v->dtype;
			in[k].rank = v->rank;
			memcpy(in[k].dims, v->dims, sizeof in[k].dims);
			in[k].data = buf[n->in[k]];
		}
		const ir_value *ov = ir_out(g, n, 0);
		memset(&out[0], 0, sizeof out[0]);
		out[0].dtype = ov->dtype;
		out[0].rank = ov->rank;
		memcpy(out[0].dims, ov->dims, sizeof out[0].dims);
		size_t nb = (size_t)ir_value_numel(ov) * 4;
		buf[n->out[0]] = malloc(nb + 4);
		out[0].data = buf[n->out[0]];
		float *ws = malloc(nb + 4);
		tb_compute(n, in, out, ws);
		free(ws);
	}
	return buf;
}

static inline void ref_free(const ir_graph *g, float **buf)
{
	for (int v = 0; v < g->n_values; v++)
		free(buf[v]);
	free(buf);
}

/* A small graph of every test op: inputs x, y [2,3,4,5]; outputs "sq" [2,6,4,5] and "e". */
static inline ir_graph *make_small_graph(odet_ctx *ctx)
{
	ir_graph *g;
	if (ir_graph_create(ctx, &g))
		return NULL;
	int64_t d[4] = {2, 3, 4, 5}, d2[4] = {2, 6, 4, 5};
	int x = ir_value_add(g, "x", ODET_F32, 4, d);
	int y = ir_value_add(g, "y", ODET_F32, 4, d);
	g->values[x].kind = IR_VALUE_INPUT;
	g->values[y].kind = IR_VALUE_INPUT;
	float *wd = malloc(120 * sizeof(float));
	for (int i = 0; i < 120; i++)
		wd[i] = (float)((i * 37) % 23) / 7.0f - 1.5f;
	int w = ir_const_add(g, "w", ODET_F32, 4, d, wd);
	int a = ir_value_add(g, "a", ODET_F32, 4, d);
	int b = ir_value_add(g, "b", ODET_F32, 4, d);
	int c = ir_value_add(g, "c", ODET_F32, 4, d);
	int dd = ir_value_add(g, "d", ODET_F32, 4, d);
	int e = ir_value_add(g, "e", ODET_F32, 4, d);
	int f = ir_value_add(g, "f", ODET_F32, 4, d2);
	int sq = ir_value_add(g, "sq", ODET_F32, 4, d2);
	ir_node_add(g, IR_OP_ADD, "add_a", 2, (int[]){x, w}, 1, &a);
	ir_node_add(g, IR_OP_RELU, "relu_b", 1, &a, 1, &b);
	ir_node_add(g, IR_OP_MUL, "mul_c", 2, (int[]){b, y}, 1, &c);
	ir_node_add(g, IR_OP_ADD, "add_d", 2, (int[]){c, x}, 1, &dd);
	ir_node_add(g, IR_OP_RELU, "relu_e", 1, &dd, 1, &e);
	int cat = ir_node_add(g, IR_OP_CONCAT, "cat_f", 2, (int[]){b, e}, 1, &f);
	ir_attr_set_int(g, cat, "axis", 1);
	ir_attr_set_string(g, cat, "note", "attrs of every type survive a plan");
	ir_attr_set_floats(g, cat, "fl", (const float[]){1.5f, -2.0f}, 2);
	ir_attr_set_ints(g, cat, "in", (const int64_t[]){7, -8, 9}, 3);
	ir_attr_set_float(g, cat, "f1", 0.25f);
	ir_node_add(g, IR_OP_MUL, "mul_sq", 2, (int[]){f, f}, 1, &sq);
	g->inputs = malloc(2 * sizeof(int));
	g->outputs = malloc(2 * sizeof(int));
	g->inputs[0] = x;
	g->inputs[1] = y;
	g->n_inputs = 2;
	g->outputs[0] = sq;
	g->outputs[1] = e;
	g->n_outputs = 2;
	g->values[sq].is_output = g->values[e].is_output = true;
	return g;
}

/* A graph whose outputs follow heads/head.h for batch 2, K 3: det_count and det_classes
 * constant ({3, 1}, 10 + row), det_boxes = Relu(images), det_scores = ReduceMax(images). */
static inline ir_graph *make_head_graph(odet_ctx *ctx)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t dx[3] = {2, 3, 4}, dc[1] = {2}, dk[2] = {2, 3};
	int x = ir_value_add(g, "images", ODET_F32, 3, dx);
	g->values[x].kind = IR_VALUE_INPUT;
	int32_t *cnt = malloc(8), *cls = malloc(24);
	cnt[0] = 3, cnt[1] = 1;
	for (int i = 0; i < 6; i++)
		cls[i] = 10 + i;
	int c = ir_const_add(g, "det_count", ODET_I32, 1, dc, cnt);
	int b = ir_value_add(g, "det_boxes", ODET_F32, 3, dx);
	int s = ir_value_add(g, "det_scores", ODET_F32, 2, dk);
	int k = ir_const_add(g, "det_classes", ODET_I32, 2, dk, cls);
	ir_node_add(g, IR_OP_RELU, "boxes", 1, &x, 1, &b);
	int64_t one = 1;
	int64_t *axv = malloc(sizeof(int64_t));
	*axv = -1;
	int axes = ir_const_add(g, "axes", ODET_I64, 1, &one, axv);
	int rm = ir_node_add(g, IR_OP_REDUCEMAX, "scores", 2, (int[]){x, axes}, 1, &s);
	ir_attr_set_int(g, rm, "keepdims", 0);
	g->inputs = malloc(sizeof(int));
	g->outputs = malloc(4 * sizeof(int));
	g->inputs[g->n_inputs++] = x;
	int outs[4] = {c, b, s, k};
	for (int i = 0; i < 4; i++) {
		g->outputs[g->n_outputs++] = outs[i];
		g->values[outs[i]].is_output = true;
	}
	return g;
}

/* Random inputs, never zero. */
static inline void fill_random(float *p, int64_t n, unsigned *seed)
{
	for (int64_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		float r = (float)((*seed >> 8) & 0xffff) / 65536.0f;
		p[i] = (r - 0.5f) * 4.0f + (r < 0.5f ? -0.01f : 0.01f);
	}
}

#endif
