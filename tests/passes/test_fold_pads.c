/* test_fold_pads.c — pass_fold_pads keeps the function: a zero Pad in front of convolutions
 * (symmetric and asymmetric, stride 1 and 2, one conv or two sharing the Pad, a conv with pads
 * of its own) is folded into them and the CPU engine gives the same outputs as with the fusing
 * passes off; Pads it must keep stay (a non-zero value, a MaxPool reader, pads on the channel
 * dim, padding past the kernel's extent). */
#include "passes/passes.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct pcase {
	const char *name;
	int64_t pads[8];   /* the Pad's begins then ends, NCHW */
	float value;       /* its constant */
	int64_t conv_pads; /* the conv's own symmetric padding */
	int64_t k, s;
	int readers;       /* 1: a conv, 2: two convs, 3: a conv and a MaxPool */
	bool fold;         /* expected */
} pcase;

static const pcase cases[] = {
	{"symmetric 1, k3 s1", {0, 0, 1, 1, 0, 0, 1, 1}, 0.0f, 0, 3, 1, 1, true},
	{"TF SAME at stride 2 (0/1)", {0, 0, 0, 0, 0, 0, 1, 1}, 0.0f, 0, 3, 2, 1, true},
	{"asymmetric, two convs", {0, 0, 2, 1, 0, 0, 0, 2}, 0.0f, 0, 5, 1, 2, true},
	{"onto the conv's own pads", {0, 0, 1, 0, 0, 0, 0, 1}, 0.0f, 1, 3, 1, 1, true},
	{"value 1 kept", {0, 0, 1, 1, 0, 0, 1, 1}, 1.0f, 0, 3, 1, 1, false},
	{"MaxPool reader kept", {0, 0, 1, 1, 0, 0, 1, 1}, 0.0f, 0, 3, 1, 3, false},
	{"channel pads kept", {0, 1, 1, 1, 0, 0, 1, 1}, 0.0f, 0, 3, 1, 1, false},
	{"past the kernel kept", {0, 0, 3, 3, 0, 0, 3, 3}, 0.0f, 0, 3, 1, 1, false},
};

static int add_conv(ir_graph *g, const char *name, int x, int64_t c, int64_t m, const pcase *pc, unsigned *seed)
{
	int64_t wd[4] = {m, c, pc->k, pc->k}, bd[1] = {m};
	int64_t nw = m * c * pc->k * pc->k;
	float *w = malloc(sizeof(float) * (size_t)nw), *b = malloc(sizeof(float) * (size_t)m);
	for (int64_t i = 0; i < nw; i++)
		w[i] = (float)rand_r(seed) / RAND_MAX - 0.5f;
	for (int64_t i = 0; i < m; i++)
		b[i] = 0.1f * (float)i;
	char wn[64], bn[64];
	snprintf(wn, sizeof wn, "%s_w", name);
	snprintf(bn, sizeof bn, "%s_b", name);
	int in[3] = {x, ir_const_add(g, wn, ODET_F32, 4, wd, w), ir_const_add(g, bn, ODET_F32, 1, bd, b)};
	int y = ir_value_add(g, name, ODET_DTYPE_UNDEFINED, -1, NULL);
	int n = ir_node_add(g, IR_OP_CONV, name, 3, in, 1, &y);
	int64_t st[2] = {pc->s, pc->s}, cp[4] = {pc->conv_pads, pc->conv_pads, pc->conv_pads, pc->conv_pads};
	ir_attr_set_ints(g, n, "strides", st, 2);
	if (pc->conv_pads)
		ir_attr_set_ints(g, n, "pads", cp, 4);
	else
		ir_attr_set_string(g, n, "auto_pad", "VALID");
	return y;
}

/* x [1,4,11,12] -> Pad -> readers; every reader's output a graph output */
static ir_graph *make(odet_ctx *ctx, const pcase *pc)
{
	unsigned seed = 5;
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {1, 4, 11, 12}, eight = 8, one = 1;
	int x = ir_value_add(g, "x", ODET_F32, 4, xd);
	g->values[x].kind = IR_VALUE_INPUT;
	int64_t *pads = malloc(sizeof pc->pads);
	float *cv = malloc(sizeof(float));
	memcpy(pads, pc->pads, sizeof pc->pads);
	*cv = pc->value;
	int pin[3] = {x, ir_const_add(g, "pads", ODET_I64, 1, &eight, pads), ir_const_add(g, "cv", ODET_F32, 0, &one, cv)};
	int p = ir_value_add(g, "padded", ODET_DTYPE_UNDEFINED, -1, NULL);
	int pn = ir_node_add(g, IR_OP_PAD, "pad", 3, pin, 1, &p);
	ir_attr_set_string(g, pn, "mode", "constant");
	int outs[2], n_out = 0;
	const int64_t c = 4 + pc->pads[1] + pc->pads[5];
	outs[n_out++] = add_conv(g, "conv1", p, c, 8, pc, &seed);
	if (pc->readers == 2)
		outs[n_out++] = add_conv(g, "conv2", p, c, 16, pc, &seed);
	if (pc->readers == 3) {
		int y = ir_value_add(g, "pool", ODET_DTYPE_UNDEFINED, -1, NULL);
		int mp = ir_node_add(g, IR_OP_MAXPOOL, "pool", 1, &p, 1, &y);
		int64_t k[2] = {2, 2};
		ir_attr_set_ints(g, mp, "kernel_shape", k, 2);
		outs[n_out++] = y;
	}
	g->inputs = malloc(sizeof(int));
	g->outputs = malloc(sizeof(int) * (size_t)n_out);
	g->inputs[0] = x;
	g->n_inputs = 1;
	for (int i = 0; i < n_out; i++) {
		g->outputs[i] = outs[i];
		g->values[outs[i]].is_output = true;
	}
	g->n_outputs = n_out;
	pass_infer_shapes(g);
	return g;
}

/* outputs of the CPU engine of g (concatenated), with the fusing passes (and fold_pads) on or off */
static float *run(odet_ctx *ctx, const ir_graph *g, const float *x, bool fuse, int64_t *numel, int *pads_left)
{
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	o.disable_passes = fuse ? 0 : ODET_PASS_FUSE_CONV;
	odet_engine *e;
	odet_exec *ex;
	if (odet_engine_build(ctx, g, &o, &e))
		return NULL;
	if (odet_exec_create(e, &ex)) {
		odet_engine_destroy(e);
		return NULL;
	}
	const ir_graph *eg = odet_engine_graph(e);
	*pads_left = 0;
	for (int i = 0; i < eg->n_nodes; i++)
		*pads_left += !eg->nodes[i].dead && eg->nodes[i].op == IR_OP_PAD;
	odet_tensor in, out[2];
	const char *name;
	int n_out = odet_engine_num_outputs(e);
	odet_engine_input_info(e, 0, &name, &in);
	in.data = (void *)x;
	*numel = 0;
	for (int i = 0; i < n_out; i++) {
		odet_engine_output_info(e, i, &name, &out[i]);
		*numel += odet_tensor_numel(&out[i]);
	}
	float *y = malloc(sizeof(float) * (size_t)*numel), *at = y;
	for (int i = 0; i < n_out; i++) {
		out[i].data = at;
		at += odet_tensor_numel(&out[i]);
	}
	if (odet_exec_infer(ex, &in, 1, out, n_out)) {
		free(y);
		y = NULL;
	}
	odet_exec_destroy(ex);
	odet_engine_destroy(e);
	return y;
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_create(NULL, &ctx);
	float x[4 * 11 * 12];
	for (int i = 0; i < 4 * 11 * 12; i++)
		x[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const pcase *pc = &cases[k];
		ir_graph *g = make(ctx, pc);
		int64_t na = 0, nb = 0;
		int pads_a = -1, pads_b = -1;
		float *a = run(ctx, g, x, false, &na, &pads_a), *b = run(ctx, g, x, true, &nb, &pads_b);
		CHECK_MSG(a && b && na == nb, "%s: %s", pc->name, odet_ctx_last_error(ctx));
		CHECK_MSG(pads_a == 1 && pads_b == (pc->fold ? 0 : 1), "%s: Pad nodes %d unfused, %d after the passes",
			  pc->name, pads_a, pads_b);
		double err = 0, ref = 0;
		for (int64_t i = 0; a && b && i < na; i++) {
			err = fmax(err, fabs((double)a[i] - b[i]));
			ref = fmax(ref, fabs((double)a[i]));
		}
		CHECK_MSG(err <= 1e-5 * (ref > 1 ? ref : 1), "%s: max diff %g (outputs up to %g)", pc->name, err, ref);
		printf("  %-28s %s, max diff %.2g\n", pc->name, pads_b ? "kept" : "folded", err);
		free(a);
		free(b);
		ir_graph_free(g);
	}
	odet_ctx_destroy(ctx);
	return test_summary("fold_pads");
}
