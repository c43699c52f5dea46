/* test_passes.c — shape setting, constant folding, BatchNorm folding, dead-code elimination and
 * the pass pipeline on hand-built graphs; numeric checks run pass_ref.c's float32 interpreter
 * before and after a pass. */
#include "core/core.h"
#include "graph/ir.h"
#include "passes/passes.h"
#include "graph_build.h"
#include "pass_ref.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx;

static void test_set_input_shape(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "images", ODET_F32, D(-1, 3, -1, -1));
	g->values[x].sym[0] = strdup("batch");
	g->values[x].sym[2] = strdup("height");
	int x2 = test_graph_input(g, "info", ODET_F32, D(-1, 3));
	CHECK(pass_set_input_shape(g, 2, 300, 320) == ODET_OK);
	const ir_value *v = &g->values[x];
	CHECK(v->dims[0] == 2 && v->dims[1] == 3 && v->dims[2] == 300 && v->dims[3] == 320);
	CHECK(!v->sym[0] && !v->sym[2]);
	CHECK(g->values[x2].dims[0] == 2 && g->values[x2].dims[1] == 3);
	/* the same values again are fine, a contradicting one is refused */
	CHECK(pass_set_input_shape(g, 2, 0, 0) == ODET_OK);
	CHECK(pass_set_input_shape(g, 4, 0, 0) == ODET_ERR_INVALID_ARG);
	CHECK(strstr(odet_ctx_last_error(ctx), "images") != NULL);
	CHECK(pass_set_input_shape(g, 0, 416, 0) == ODET_ERR_INVALID_ARG);
	CHECK(pass_set_input_shape(g, -1, 0, 0) == ODET_ERR_INVALID_ARG);
	ir_graph_free(g);

	/* an op with no shape function is named */
	g = new_graph();
	int a = test_graph_input(g, "a", ODET_F32, D(1));
	int o = ir_value_add(g, "o", ODET_F32, -1, NULL);
	ir_node_add(g, IR_OP_COUNT, "mystery", 1, &a, 1, &o);
	CHECK(pass_infer_shapes(g) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "mystery") != NULL);
	ir_graph_free(g);

	/* a 4 TiB ConstantOfShape is refused by shape inference, naming the node */
	g = new_graph();
	int64_t huge[2] = {(int64_t)1 << 20, (int64_t)1 << 20};
	op1(g, IR_OP_CONSTANTOFSHAPE, "huge", IN(const_i64(g, 1, huge, 2)), "h", &o);
	CHECK(pass_infer_shapes(g) == ODET_ERR_LIMIT);
	CHECK(strstr(odet_ctx_last_error(ctx), "huge") != NULL);
	ir_graph_free(g);
}

/* x.view(x.size(0), -1, 4) as torch exports it */
static void test_fold_view_chain(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(-1, 3, 8, 8));
	g->values[x].sym[0] = strdup("batch");
	int s, gi, u, cat, y;
	op1(g, IR_OP_SHAPE, "Shape_0", IN(x), "shape", &s);
	int64_t zero = 0, m1 = -1, four = 4, ax0 = 0;
	int c0 = const_i64(g, 0, &zero, 1);
	int gn = op1(g, IR_OP_GATHER, "Gather_1", IN(s, c0), "gather", &gi);
	ir_attr_set_int(g, gn, "axis", 0);
	op1(g, IR_OP_UNSQUEEZE, "Unsqueeze_2", IN(gi, const_i64(g, 1, &ax0, 1)), "unsq", &u);
	int cn = op1(g, IR_OP_CONCAT, "Concat_3", IN(u, const_i64(g, 1, &m1, 1), const_i64(g, 1, &four, 1)), "cat", &cat);
	ir_attr_set_int(g, cn, "axis", 0);
	op1(g, IR_OP_RESHAPE, "Reshape_4", IN(x, cat), "y", &y);
	test_graph_output(g, y);

	eval_stats st = {0};
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(g->values[y].rank == 3 && g->values[y].dims[2] == -1);
	/* batch still symbolic: Shape cannot fold, nothing else can either */
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(live_nodes(g) == 5 && st.calls == 0);
	CHECK(g->values[cat].kind == IR_VALUE_INTERMEDIATE);

	CHECK(pass_set_input_shape(g, 2, 0, 0) == ODET_OK);
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(st.calls == 3); /* Gather, Unsqueeze, Concat; Shape folds without eval */
	const ir_value *cv = &g->values[cat];
	CHECK(cv->kind == IR_VALUE_CONST && cv->dtype == ODET_I64 && cv->rank == 1 && cv->dims[0] == 3);
	if (cv->kind == IR_VALUE_CONST) {
		const int64_t *d = cv->data;
		CHECK(d[0] == 2 && d[1] == -1 && d[2] == 4);
	}
	const ir_value *yv = &g->values[y];
	CHECK(yv->rank == 3 && yv->dims[0] == 2 && yv->dims[1] == 48 && yv->dims[2] == 4);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_RESHAPE);
	CHECK(g->values[g->nodes[0].in[1]].kind == IR_VALUE_CONST);
	CHECK(strcmp(g->values[g->outputs[0]].name, "y") == 0);
	ir_graph_free(g);
}

static void test_fold_misc(void)
{
	/* a graph output that becomes constant stays an output */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 4, 5));
	int s;
	op1(g, IR_OP_SHAPE, "shape", IN(x), "s", &s);
	test_graph_output(g, s);
	/* ConstantOfShape of 64 MiB from 16 bytes: left to run time; a small one goes to eval */
	int64_t big[2] = {4096, 4096}, small[2] = {2, 2};
	int cb, cs;
	op1(g, IR_OP_CONSTANTOFSHAPE, "cos_big", IN(const_i64(g, 1, big, 2)), "cb", &cb);
	op1(g, IR_OP_CONSTANTOFSHAPE, "cos_small", IN(const_i64(g, 1, small, 2)), "cs", &cs);
	test_graph_output(g, cb);
	test_graph_output(g, cs);
	int s2;
	int sn = op1(g, IR_OP_SHAPE, "shape_hw", IN(x), "s2", &s2);
	ir_attr_set_int(g, sn, "start", -2);
	test_graph_output(g, s2);
	eval_stats st = {0};
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_fold_constants(g, test_eval, &st) == ODET_OK);
	CHECK(st.calls == 1); /* only cos_small reached the evaluator (which refused it) */
	CHECK(g->values[s].kind == IR_VALUE_CONST && g->values[s].is_output);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 2 && g->n_outputs == 4);
	const ir_value *hw = &g->values[g->outputs[3]];
	CHECK(hw->kind == IR_VALUE_CONST && hw->rank == 1 && hw->dims[0] == 2);
	if (hw->kind == IR_VALUE_CONST)
		CHECK(((const int64_t *)hw->data)[0] == 4 && ((const int64_t *)hw->data)[1] == 5);
	int so = g->outputs[0];
	CHECK(g->values[so].kind == IR_VALUE_CONST && strcmp(g->values[so].name, "s") == 0);
	if (g->values[so].kind == IR_VALUE_CONST) {
		const int64_t *d = g->values[so].data;
		CHECK(d[0] == 1 && d[1] == 3 && d[2] == 4 && d[3] == 5);
	}
	ir_graph_free(g);
}

/* Conv → BatchNormalization, with and without conv bias, weights shared with another conv */
static void test_fold_bn(void)
{
	for (int with_bias = 0; with_bias < 2; with_bias++) {
		ir_graph *g = new_graph();
		int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 6, 6));
		int w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
		int b = with_bias ? const_rand(g, "B", D(4), -1, 1) : -1;
		int c, y, y2;
		int cn = op1(g, IR_OP_CONV, "conv", IN(x, w, b), "c", &c);
		ir_attr_set_ints(g, cn, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
		int bn = op1(g, IR_OP_BATCHNORM, "bn",
			     IN(c, const_rand(g, "gamma", D(4), 0.5f, 2), const_rand(g, "beta", D(4), -1, 1),
				const_rand(g, "mean", D(4), -0.5f, 0.5f), const_rand(g, "var", D(4), 0.1f, 2)),
			     "y", &y);
		ir_attr_set_float(g, bn, "epsilon", 1e-3f);
		test_graph_output(g, y);
		/* a second conv reading the same weights must keep them */
		op1(g, IR_OP_CONV, "conv_shared", IN(x, w), "y2", &y2);
		test_graph_output(g, y2);
		float *wcopy = malloc(g->values[w].nbytes);
		memcpy(wcopy, g->values[w].data, g->values[w].nbytes);
		float *in = rand_input(3 * 36);
		const float *ins[1] = {in};
		double e = check_numeric(g, pass_fold_batchnorm, ins);
		CHECK_MSG(e <= 1e-5, "bn fold (bias %d): rel err %g", with_bias, e);
		CHECK(g->n_nodes == 2 && g->nodes[0].op == IR_OP_CONV && g->nodes[1].op == IR_OP_CONV);
		CHECK(g->nodes[0].n_in >= 3 && g->nodes[0].in[2] >= 0); /* bias added if missing */
		const ir_value *ws = ir_in(g, &g->nodes[1], 1);
		CHECK(ws != ir_in(g, &g->nodes[0], 1) && memcmp(ws->data, wcopy, ws->nbytes) == 0);
		CHECK(strcmp(g->values[g->outputs[0]].name, "y") == 0);
		free(wcopy);
		free(in);
		ir_graph_free(g);
	}
}

/* torchvision FrozenBatchNorm2d: Conv → Mul([1,C,1,1]) → Add([C,1,1]); and lone ops */
static void test_fold_frozen_bn(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(2, 3, 5, 5));
	int w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
	int c, m, y;
	op1(g, IR_OP_CONV, "conv", IN(x, w), "c", &c);
	op1(g, IR_OP_MUL, "mul", IN(c, const_rand(g, "scale", D(1, 4, 1, 1), 0.5f, 2)), "m", &m);
	op1(g, IR_OP_ADD, "add", IN(const_rand(g, "shift", D(4, 1, 1), -1, 1), m), "y", &y);
	test_graph_output(g, y);
	float *in = rand_input(2 * 3 * 25);
	const float *ins[1] = {in};
	double e = check_numeric(g, pass_fold_batchnorm, ins);
	CHECK_MSG(e <= 1e-5, "frozen bn fold: rel err %g", e);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_CONV && g->nodes[0].in[2] >= 0);
	ir_graph_free(g);

	/* Sub and Div of per-channel constants; a spatially varying Mul must stay */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	w = const_rand(g, "W", D(4, 3, 3, 3), -1, 1);
	int b = const_rand(g, "B", D(4), -1, 1), s, d;
	op1(g, IR_OP_CONV, "conv", IN(x, w, b), "c", &c);
	op1(g, IR_OP_SUB, "sub", IN(c, const_rand(g, "mu", D(4, 1, 1), -1, 1)), "s", &s);
	op1(g, IR_OP_DIV, "div", IN(s, const_rand(g, "sd", D(1), 0.5f, 2)), "d", &d);
	op1(g, IR_OP_MUL, "mul_sp", IN(d, const_rand(g, "sp", D(1, 1, 3, 3), 0.5f, 2)), "y", &y);
	test_graph_output(g, y);
	e = check_numeric(g, pass_fold_batchnorm, ins);
	CHECK_MSG(e <= 1e-5, "sub/div fold: rel err %g", e);
	CHECK(g->n_nodes == 2 && g->nodes[0].op == IR_OP_CONV && g->nodes[1].op == IR_OP_MUL);
	free(in);
	ir_graph_free(g);
}

static void test_eliminate_dead(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3));
	int i1, r, o, sg, ex;
	op1(g, IR_OP_IDENTITY, "id1", IN(x), "i1", &i1);
	op1(g, IR_OP_RELU, "relu", IN(i1), "r", &r);
	op1(g, IR_OP_IDENTITY, "id2", IN(r), "out", &o);
	test_graph_output(g, o);
	op1(g, IR_OP_SIGMOID, "dead1", IN(x), "sg", &sg);
	op1(g, IR_OP_EXP, "dead2", IN(sg), "ex", &ex);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_RELU);
	CHECK(strcmp(g->values[g->nodes[0].out[0]].name, "out") == 0);
	CHECK(g->nodes[0].in[0] == g->inputs[0]);
	CHECK(g->n_outputs == 1 && g->outputs[0] == g->nodes[0].out[0]);
	CHECK(g->n_values == 2);
	ir_graph_free(g);

	/* input passed straight to an output keeps its Identity */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2));
	op1(g, IR_OP_IDENTITY, "copy", IN(x), "y", &o);
	test_graph_output(g, o);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && strcmp(g->values[g->outputs[0]].name, "y") == 0);
	ir_graph_free(g);
}

static ir_graph *small_net(void)
{
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "images", ODET_F32, D(-1, 3, -1, -1));
	g->values[x].sym[0] = strdup("N");
	int c, b, y;
	int cn = op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 3, 3), -1, 1)), "c", &c);
	ir_attr_set_ints(g, cn, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_BATCHNORM, "bn",
	    IN(c, const_rand(g, "g", D(4), 0.5f, 2), const_rand(g, "b", D(4), -1, 1),
	       const_rand(g, "m", D(4), -1, 1), const_rand(g, "v", D(4), 0.5f, 2)),
	    "b", &b);
	op1(g, IR_OP_RELU, "relu", IN(b), "y", &y);
	test_graph_output(g, y);
	return g;
}

static void test_pipeline_and_print(void)
{
	ir_graph *g = small_net();
	char *text = NULL;
	size_t len = 0;
	/* partially known shapes print '?' */
	CHECK(pass_infer_shapes(g) == ODET_OK);
	FILE *f = open_memstream(&text, &len);
	CHECK(odet_graph_print(g, f) == ODET_OK);
	fclose(f);
	CHECK(strstr(text, "[N,3,?,?]") && strstr(text, "totals:") && strstr(text, "BatchNormalization"));
	free(text);

	eval_stats st = {0};
	pass_opts o = {.batch = 2, .input_h = 16, .input_w = 12, .eval = test_eval, .eval_user = &st, .fuse = 1};
	CHECK(passes_run_default(g, &o) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->nodes[0].op == IR_OP_CONV);
	CHECK(ir_attr_int(&g->nodes[0], "odet_act", 0) == IR_ACT_RELU);
	const ir_value *y = &g->values[g->outputs[0]];
	CHECK(y->rank == 4 && y->dims[0] == 2 && y->dims[1] == 4 && y->dims[2] == 16 && y->dims[3] == 12);

	/* cost: 2 * M * OH * OW * C * KH * KW per image, plus bias and activation */
	ir_cost cost = ir_node_cost(g, &g->nodes[0]);
	int64_t macs = (int64_t)2 * 4 * 16 * 12 * 3 * 3 * 3;
	CHECK(cost.flops == 2 * macs + 2 * (2 * 4 * 16 * 12));
	CHECK(cost.params == 4 * 3 * 3 * 3 + 4);
	f = open_memstream(&text, &len);
	CHECK(odet_graph_print(g, f) == ODET_OK);
	fclose(f);
	CHECK_MSG(strstr(text, "Conv+Relu") && strstr(text, "[2,4,16,12]") && strstr(text, "1 nodes"), "%s", text);
	free(text);
	ir_graph_free(g);

	g = small_net();
	o.fuse = 0;
	CHECK(passes_run_default(g, &o) == ODET_OK);
	CHECK(g->n_nodes == 3);
	ir_graph_free(g);
}

int main(void)
{
	if (odet_ctx_create(NULL, &ctx))
		return 1;
	pass_ref_init(ctx);
	test_set_input_shape();
	test_fold_view_chain();
	test_fold_misc();
	test_fold_bn();
	test_fold_frozen_bn();
	test_eliminate_dead();
	test_pipeline_and_print();
	odet_ctx_destroy(ctx);
	return test_summary("passes");
}
