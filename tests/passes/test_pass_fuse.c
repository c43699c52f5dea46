/* test_pass_fuse.c — Conv fusion (activations, residual adds, BatchNorm first) and the
 * L2Normalize fusion on hand-built graphs, checked numerically with pass_ref.c's interpreter. */
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

static odet_status fold_and_fuse(ir_graph *g)
{
	odet_status rc = pass_fold_batchnorm(g);
	return rc ? rc : pass_fuse_conv(g);
}

static void test_fuse(void)
{
	/* Conv → Relu, Conv → Clip(0, 6) */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	int c, y, c2, y2;
	op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 1, 1), -1, 1)), "c", &c);
	op1(g, IR_OP_RELU, "relu", IN(c), "y", &y);
	test_graph_output(g, y);
	op1(g, IR_OP_CONV, "conv6", IN(x, const_rand(g, "W6", D(4, 3, 1, 1), -4, 4)), "c2", &c2);
	op1(g, IR_OP_CLIP, "relu6", IN(c2, const_f(g, 0), const_f(g, 6)), "y2", &y2);
	test_graph_output(g, y2);
	float *in = rand_input(75);
	const float *ins[1] = {in};
	double e = check_numeric(g, pass_fuse_conv, ins);
	CHECK_MSG(e <= 1e-6, "fused act: rel err %g", e);
	CHECK(g->n_nodes == 2);
	CHECK(ir_attr_int(&g->nodes[0], "odet_act", 0) == IR_ACT_RELU);
	CHECK(ir_attr_int(&g->nodes[1], "odet_act", 0) == IR_ACT_CLIP);
	CHECK(ir_attr_float(&g->nodes[1], "odet_act_alpha", -1) == 0 &&
	      ir_attr_float(&g->nodes[1], "odet_act_beta", -1) == 6);
	CHECK(strcmp(g->values[g->nodes[0].out[0]].name, "y") == 0);
	free(in);
	ir_graph_free(g);

	/* ResNet block with downsample: relu(conv2(relu(bn(conv1 x))) + conv_d(x)) */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 4, 5, 5));
	int c1, r1, c2v, dv, a;
	int n1 = op1(g, IR_OP_CONV, "conv1", IN(x, const_rand(g, "W1", D(8, 4, 3, 3), -1, 1)), "c1", &c1);
	ir_attr_set_ints(g, n1, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	int bnv;
	op1(g, IR_OP_BATCHNORM, "bn1",
	    IN(c1, const_rand(g, "g1", D(8), 0.5f, 2), const_rand(g, "b1", D(8), -1, 1),
	       const_rand(g, "m1", D(8), -1, 1), const_rand(g, "v1", D(8), 0.5f, 2)),
	    "bn1o", &bnv);
	op1(g, IR_OP_RELU, "relu1", IN(bnv), "r1", &r1);
	int n2 = op1(g, IR_OP_CONV, "conv2", IN(r1, const_rand(g, "W2", D(8, 8, 3, 3), -1, 1)), "c2", &c2v);
	ir_attr_set_ints(g, n2, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_CONV, "down", IN(x, const_rand(g, "Wd", D(8, 4, 1, 1), -1, 1)), "d", &dv);
	op1(g, IR_OP_ADD, "add", IN(c2v, dv), "a", &a);
	op1(g, IR_OP_RELU, "relu2", IN(a), "out", &y);
	test_graph_output(g, y);
	in = rand_input(100);
	ins[0] = in;
	e = check_numeric(g, fold_and_fuse, ins);
	CHECK_MSG(e <= 1e-5, "residual fusion: rel err %g", e);
	CHECK_MSG(g->n_nodes == 3, "%d nodes", g->n_nodes);
	int n_res = 0, n_relu = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		CHECK(n->op == IR_OP_CONV);
		n_res += n->n_in > 3 && n->in[3] >= 0;
		n_relu += ir_attr_int(n, "odet_act", 0) == IR_ACT_RELU;
		if (n->n_in > 3 && n->in[3] >= 0)
			CHECK(ir_attr_int(n, "odet_act", 0) == IR_ACT_RELU && g->values[n->out[0]].is_output);
	}
	CHECK(n_res == 1 && n_relu == 2);
	free(in);
	ir_graph_free(g);

	/* identity residual (no downsample) */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 4, 5, 5));
	n1 = op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 4, 3, 3), -1, 1)), "c", &c);
	ir_attr_set_ints(g, n1, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
	op1(g, IR_OP_ADD, "add", IN(x, c), "a", &a);
	op1(g, IR_OP_RELU, "relu", IN(a), "y", &y);
	test_graph_output(g, y);
	in = rand_input(100);
	ins[0] = in;
	e = check_numeric(g, pass_fuse_conv, ins);
	CHECK_MSG(e <= 1e-6, "identity residual: rel err %g", e);
	CHECK(g->n_nodes == 1 && g->nodes[0].n_in == 4 && g->nodes[0].in[3] == g->inputs[0]);
	free(in);
	ir_graph_free(g);

	/* no fusion: conv output used twice, conv output is a graph output, broadcasting Add */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(1, 3, 5, 5));
	int bias_in = test_graph_input(g, "bias_in", ODET_F32, D(1, 4, 1, 1));
	int s1, s2, c3, s3, a4;
	op1(g, IR_OP_CONV, "conv", IN(x, const_rand(g, "W", D(4, 3, 1, 1), -1, 1)), "c", &c);
	op1(g, IR_OP_RELU, "relu", IN(c), "s1", &s1);
	op1(g, IR_OP_SIGMOID, "sig", IN(c), "s2", &s2);
	test_graph_output(g, s1);
	test_graph_output(g, s2);
	op1(g, IR_OP_CONV, "conv_out", IN(x, const_rand(g, "W2", D(4, 3, 1, 1), -1, 1)), "c3", &c3);
	op1(g, IR_OP_RELU, "relu3", IN(c3), "s3", &s3);
	test_graph_output(g, c3);
	test_graph_output(g, s3);
	op1(g, IR_OP_CONV, "conv_b", IN(x, const_rand(g, "W3", D(4, 3, 1, 1), -1, 1)), "c4", &c);
	op1(g, IR_OP_ADD, "add_b", IN(c, bias_in), "a4", &a4);
	test_graph_output(g, a4);
	CHECK(pass_infer_shapes(g) == ODET_OK);
	CHECK(pass_fuse_conv(g) == ODET_OK);
	CHECK(pass_eliminate_dead(g) == ODET_OK);
	CHECK(g->n_nodes == 7);
	for (int i = 0; i < g->n_nodes; i++)
		CHECK(ir_attr_get(&g->nodes[i], "odet_act") == NULL && g->nodes[i].n_in <= 3);
	ir_graph_free(g);
}

/* F.normalize exports -> one L2Normalize (torchvision SSD300-VGG16's L2Norm and the older
 * Pow/ReduceSum/Sqrt form); same outputs; left alone when an intermediate is also read
 * elsewhere; a Mul by a constant along another axis stays a Mul. */
static void test_fuse_l2norm(void)
{
	/* ReduceL2 -> Clip -> Expand -> Div -> Mul(scale [1,6,1,1]) */
	ir_graph *g = new_graph();
	int x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	int r, c, e, q, y;
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_CLIP, "clip", IN(r, const_f(g, 1e-12f)), "c", &c);
	op1(g, IR_OP_EXPAND, "expand", IN(c, const_i64(g, 1, (const int64_t[]){2, 6, 5, 4}, 4)), "e", &e);
	op1(g, IR_OP_DIV, "div", IN(x, e), "q", &q);
	op1(g, IR_OP_MUL, "mul", IN(const_rand(g, "scale", D(1, 6, 1, 1), 5, 20), q), "y", &y);
	test_graph_output(g, y);
	float *in = rand_input(240);
	const float *ins[1] = {in};
	double err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm + scale: rel err %g", err);
	const ir_node *n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 1 && n && n->n_in == 2 && ir_attr_int(n, "axis", -9) == 1 &&
	      ir_attr_float(n, "eps", 0) == 1e-12f && ir_in(g, n, 1)->rank == 1 && ir_in(g, n, 1)->dims[0] == 6);
	CHECK(n && !strcmp(ir_out(g, n, 0)->name, "y") && ir_out(g, n, 0)->is_output);
	ir_graph_free(g);

	/* Sqrt(ReduceSum(Pow(x, 2))) over the last axis, Div broadcasting, no Clip/Expand/Mul */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	int p, s, sq;
	op1(g, IR_OP_POW, "pow", IN(x, const_f(g, 2.0f)), "p", &p);
	op1(g, IR_OP_REDUCESUM, "sum", IN(p, const_i64(g, 1, (const int64_t[]){-1}, 1)), "s", &s);
	op1(g, IR_OP_SQRT, "sqrt", IN(s), "sq", &sq);
	op1(g, IR_OP_DIV, "div", IN(x, sq), "y", &y);
	test_graph_output(g, y);
	err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm (pow form): rel err %g", err);
	n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 1 && n && n->n_in == 1 && ir_attr_int(n, "axis", -9) == 3 &&
	      ir_attr_float(n, "eps", -1) == 0);
	ir_graph_free(g);

	/* the norm is also a graph output: nothing fused */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_DIV, "div", IN(x, r), "y", &y);
	test_graph_output(g, y);
	test_graph_output(g, r);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_l2norm(g) == ODET_OK);
	CHECK(!live_op(g, IR_OP_L2_NORMALIZE) && live_nodes(g) == 2);
	ir_graph_free(g);

	/* a Mul by a constant along H (not the normalized axis) stays */
	g = new_graph();
	x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5, 4));
	op1(g, IR_OP_REDUCEL2, "l2", IN(x, const_i64(g, 1, (const int64_t[]){1}, 1)), "r", &r);
	op1(g, IR_OP_DIV, "div", IN(x, r), "q", &q);
	op1(g, IR_OP_MUL, "mul", IN(q, const_rand(g, "sh", D(1, 1, 5, 1), 1, 2)), "y", &y);
	test_graph_output(g, y);
	err = check_numeric(g, pass_fuse_l2norm, ins);
	CHECK_MSG(err <= 1e-6, "l2norm + other-axis Mul: rel err %g", err);
	n = live_op(g, IR_OP_L2_NORMALIZE);
	CHECK(live_nodes(g) == 2 && n && n->n_in == 1 && live_op(g, IR_OP_MUL));
	ir_graph_free(g);
	free(in);
}

int main(void)
{
	odet_ctx *ctx;
	if (odet_ctx_create(NULL, &ctx))
		return 1;
	pass_ref_init(ctx);
	test_fuse();
	test_fuse_l2norm();
	odet_ctx_destroy(ctx);
	return test_summary("pass_fuse");
}
