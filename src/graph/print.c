/*
 * print.c — odet_graph_print: one line per live node (index, name, op with fused
 * activation/residual, input and output shapes, FLOPs, parameters), then totals (nodes,
 * FLOPs per image and in all, parameters, constant bytes). Unknown dims print as "?", a
 * node whose output shape is unknown prints "?" FLOPs.
 */
#include "graph/ir.h"

#include <stdio.h>
#include <string.h>

static const char *const act_names[] = {
	[IR_ACT_NONE] = "", [IR_ACT_RELU] = "Relu", [IR_ACT_LEAKYRELU] = "LeakyRelu",
	[IR_ACT_CLIP] = "Clip", [IR_ACT_SIGMOID] = "Sigmoid", [IR_ACT_HARDSIGMOID] = "HardSigmoid",
	[IR_ACT_HARDSWISH] = "HardSwish",
};

/* 1234567 -> "1.23M" */
static const char *human(double v, char *buf, size_t n)
{
	static const char units[] = " KMGTPE";
	int u = 0;
	while (v >= 1000 && u < 6) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.2f%c", v, units[u]);
	return buf;
}

static void op_str(const ir_node *n, char *buf, size_t size)
{
	snprintf(buf, size, "%s", ir_op_name(n->op));
	if (n->op != IR_OP_CONV)
		return;
	if (n->n_in > 3 && n->in[3] >= 0)
		strncat(buf, "+Add", size - strlen(buf) - 1);
	int64_t act = ir_attr_int(n, "odet_act", IR_ACT_NONE);
	if (act > 0 && act < (int64_t)(sizeof act_names / sizeof act_names[0])) {
		strncat(buf, "+", size - strlen(buf) - 1);
		strncat(buf, act_names[act], size - strlen(buf) - 1);
	}
}

/* Shapes of a list of values, comma separated. */
static void shapes_str(const ir_graph *g, const int *vals, int count, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < count && off + 1 < size; i++) {
		char s[192];
		if (vals[i] < 0)
			snprintf(s, sizeof s, "-");
		else
			ir_shape_str(&g->values[vals[i]], s, sizeof s);
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? " " : "", s);
	}
}

odet_status odet_graph_print(const odet_graph *g, FILE *f)
{
	if (!g || !f)
		return ODET_ERR_INVALID_ARG;
	char a[1024], b[512], op[64], fl[32], pa[32];
	fprintf(f, "graph '%s' (opset %d)\n", g->name ? g->name : "", g->opset);
	for (int i = 0; i < g->n_inputs; i++) {
		const ir_value *v = &g->values[g->inputs[i]];
		fprintf(f, "  input  %s %s %s\n", v->name, ir_shape_str(v, a, sizeof a), odet_dtype_name(v->dtype));
	}
	for (int i = 0; i < g->n_outputs; i++) {
		const ir_value *v = &g->values[g->outputs[i]];
		fprintf(f, "  output %s %s %s\n", v->name, ir_shape_str(v, a, sizeof a), odet_dtype_name(v->dtype));
	}
	fprintf(f, "%5s  %-32s %-22s %-12s %-12s %s\n", "#", "name", "op", "FLOPs", "params", "inputs -> outputs");
	int64_t total_flops = 0, total_params = 0, n_live = 0;
	bool flops_partial = false;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		n_live++;
		ir_cost c = ir_node_cost(g, n);
		bool known = true;
		for (int k = 0; k < n->n_out; k++)
			if (n->out[k] >= 0 && !ir_value_shape_known(&g->values[n->out[k]]))
				known = false;
		flops_partial |= !known;
		if (c.flops > INT64_MAX - total_flops)
			total_flops = INT64_MAX;
		else
			total_flops += c.flops;
		if (c.params <= INT64_MAX - total_params)
			total_params += c.params;
		op_str(n, op, sizeof op);
		shapes_str(g, n->in, n->n_in, a, sizeof a);
		shapes_str(g, n->out, n->n_out, b, sizeof b);
		fprintf(f, "%5d  %-32s %-22s %-12s %-12s %s -> %s\n", i, n->name, op,
			known ? human((double)c.flops, fl, sizeof fl) : "?", human((double)c.params, pa, sizeof pa),
			a, b);
	}
	size_t const_bytes = 0;
	int n_const = 0;
	for (int v = 0; v < g->n_values; v++) {
		if (g->values[v].kind == IR_VALUE_CONST) {
			const_bytes += g->values[v].nbytes;
			n_const++;
		}
	}
	int64_t batch = -1;
	if (g->n_inputs > 0) {
		const ir_value *v = &g->values[g->inputs[0]];
		if (v->rank >= 1 && v->dims[0] > 0)
			batch = v->dims[0];
	}
	char t1[32], t2[32], t3[32], t4[32];
	fprintf(f, "totals: %lld nodes, %s FLOPs/image, %s FLOPs total (batch %s)%s, %s params, "
		   "%d constants %sB\n",
		(long long)n_live, batch > 0 ? human((double)total_flops / (double)batch, t1, sizeof t1) : "?",
		human((double)total_flops, t2, sizeof t2), batch > 0 ? human((double)batch, t4, sizeof t4) : "?",
		flops_partial ? " (partial: some shapes unknown)" : "", human((double)total_params, t3, sizeof t3),
		n_const, human((double)const_bytes, pa, sizeof pa));
	return ferror(f) ? ODET_ERR_IO : ODET_OK;
}
