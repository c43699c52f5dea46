/* test_symmetric_pads.c — pass_symmetric_conv_pads keeps the function: TF-style SAME_UPPER and
 * SAME_LOWER convolutions at stride 2 (and explicit asymmetric pads) give the same outputs on
 * the CPU backend before and after the Pad is split out; symmetric convs are left alone. */
#include "passes/passes.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static ir_graph *make(odet_ctx *ctx, const char *auto_pad, const int64_t *pads, int64_t hw, int64_t k, int64_t s)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {2, 3, hw, hw + 1}, wd[4] = {4, 3, k, k}, bd[1] = {4};
	int x = ir_value_add(g, "x", ODET_F32, 4, xd);
	g->values[x].kind = IR_VALUE_INPUT;
	float *w = malloc(sizeof(float) * 4 * 3 * k * k), *b = malloc(sizeof(float) * 4);
	srand(3);
	for (int i = 0; i < 4 * 3 * k * k; i++)
		w[i] = (float)rand() / RAND_MAX - 0.5f;
	for (int i = 0; i < 4; i++)
		b[i] = (float)i;
	int wv = ir_const_add(g, "w", ODET_F32, 4, wd, w), bv = ir_const_add(g, "b", ODET_F32, 1, bd, b);
	int y = ir_value_add(g, "y", ODET_DTYPE_UNDEFINED, -1, NULL);
	int in[3] = {x, wv, bv};
	int n = ir_node_add(g, IR_OP_CONV, "conv", 3, in, 1, &y);
	int64_t st[2] = {s, s};
	ir_attr_set_ints(g, n, "strides", st, 2);
	if (auto_pad)
		ir_attr_set_string(g, n, "auto_pad", auto_pad);
	if (pads)
		ir_attr_set_ints(g, n, "pads", pads, 4);
	g->inputs = malloc(sizeof(int));
	g->outputs = malloc(sizeof(int));
	g->inputs[0] = x;
	g->outputs[0] = y;
	g->n_inputs = g->n_outputs = 1;
	g->values[y].is_output = true;
	pass_infer_shapes(g);
	return g;
}

static float *run(odet_ctx *ctx, const ir_graph *g, const float *x, int64_t *numel)
{
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	odet_engine *e;
	odet_exec *ex;
	if (odet_engine_build(ctx, g, &o, &e) || odet_exec_create(e, &ex))
		return NULL;
	odet_tensor in, out;
	const char *name;
	odet_engine_input_info(e, 0, &name, &in);
	odet_engine_output_info(e, 0, &name, &out);
	in.data = (void *)x;
	*numel = odet_tensor_numel(&out);
	out.data = malloc(sizeof(float) * (size_t)*numel);
	if (odet_exec_infer(ex, &in, 1, &out, 1)) {
		free(out.data);
		out.data = NULL;
	}
	odet_exec_destroy(ex);
	odet_engine_destroy(e);
	return out.data;
}

static void check_case(odet_ctx *ctx, const char *ap, const int64_t *pads, int64_t hw, int64_t k, int64_t s,
		       bool expect_pad)
{
	ir_graph *g = make(ctx, ap, pads, hw, k, s);
	float *x = malloc(sizeof(float) * 2 * 3 * hw * (hw + 1));
	for (int64_t i = 0; i < 2 * 3 * hw * (hw + 1); i++)
		x[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
	int64_t na = 0, nb = 0;
	float *a = run(ctx, g, x, &na);
	CHECK(pass_symmetric_conv_pads(g) == ODET_OK);
	int pads_nodes = 0;
	for (int i = 0; i < g->n_nodes; i++)
		pads_nodes += g->nodes[i].op == IR_OP_PAD;
	CHECK_MSG(pads_nodes == (expect_pad ? 1 : 0), "%s k%lld s%lld: %d Pad nodes", ap ? ap : "pads", (long long)k,
		  (long long)s, pads_nodes);
	float *b = run(ctx, g, x, &nb);
	CHECK(a && b && na == nb);
	double err = 0;
	for (int64_t i = 0; a && b && i < na; i++)
		err = fmax(err, fabs((double)a[i] - b[i]));
	CHECK_MSG(err < 1e-5, "%s: max diff %g", ap ? ap : "pads", err);
	free(a);
	free(b);
	free(x);
	ir_graph_free(g);
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_create(NULL, &ctx);
	check_case(ctx, "SAME_UPPER", NULL, 16, 3, 2, true);  /* TF SAME, stride 2: pads 0/1 */
	check_case(ctx, "SAME_LOWER", NULL, 16, 3, 2, true);
	check_case(ctx, "SAME_UPPER", NULL, 15, 5, 2, true);
	check_case(ctx, "SAME_UPPER", NULL, 16, 3, 1, false); /* stride 1: symmetric */
	const int64_t asym[4] = {0, 2, 1, 0}, sym[4] = {1, 1, 1, 1};
	check_case(ctx, NULL, asym, 9, 3, 1, true);
	check_case(ctx, NULL, sym, 9, 3, 2, false);
	odet_ctx_destroy(ctx);
	return test_summary("symmetric_pads");
}
