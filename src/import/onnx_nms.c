/*
 * onnx_nms.c — ONNX NonMaxSuppression in models exported with their own postprocess.
 *
 * NonMaxSuppression's output selected_indices [num_selected, 3] is data-dependent and odet's
 * engine has static shapes, so the node is not imported as an op: the graph is cut there and
 * odet's batched NMS head ("onnx-nms", heads/onnx_nms.c) takes its place.
 *
 *   onnx_nms_plan (before pass 1): finds the NonMaxSuppression node (at most one, default domain)
 *     and marks the nodes to import: the ancestors of its inputs (boxes, scores, the three
 *     parameter inputs). Everything else — NMS itself, the Gather/TopK/Slice/Squeeze/... tail that
 *     depends on its output, and nodes that only feed that tail or other graph outputs — is not
 *     imported (unsupported ops there, such as NonZero or Loop, do not matter).
 *   onnx_nms_outputs (instead of the graph outputs): adds an OnnxNms marker node (ops.def) with
 *     NonMaxSuppression's inputs and center_point_box (and, for the head's describe line,
 *     cut_nodes/cut_outputs: what was dropped); its placeholder output is the graph's only output.
 *     The model's outputs are replaced by the head's det_* outputs when it attaches; g->note says
 *     what was cut.
 */
#include "import/onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prod {
	const char *name;
	int node;
} prod;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int prod_get(const prod *tab, size_t cap, const char *name)
{
	for (size_t i = hash_str(name) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (!tab[i].name)
			return -1;
		if (!strcmp(tab[i].name, name))
			return tab[i].node;
	}
}

static bool is_nms(const Onnx__NodeProto *np)
{
	return np->op_type && !strcmp(np->op_type, "NonMaxSuppression") &&
	       (!np->domain || !*np->domain || !strcmp(np->domain, "ai.onnx"));
}

odet_status onnx_nms_plan(onnx_imp *imp, const Onnx__GraphProto *gp, onnx_nms_cut *cut)
{
	odet_ctx *ctx = imp->ctx;
	size_t n = gp->n_node, outs = 0;
	char buf[64];
	memset(cut, 0, sizeof *cut);
	cut->node = -1;
	for (size_t i = 0; i < n; i++) {
		if (!gp->node[i]->op_type || !is_nms(gp->node[i]))
			continue;
		if (cut->node >= 0)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "nodes '%s' and '%s': op NonMaxSuppression appears more than once; odet "
					  "replaces one NonMaxSuppression by its batched NMS head",
					  onnx_node_label(gp->node[cut->node], cut->node, buf, sizeof buf),
					  gp->node[i]->name ? gp->node[i]->name : "");
		cut->node = (int)i;
	}
	if (cut->node < 0)
		return ODET_OK;
	const Onnx__NodeProto *nms = gp->node[cut->node];
	const char *label = onnx_node_label(nms, cut->node, buf, sizeof buf);
	if (nms->n_input < 2 || !*nms->input[0] || !*nms->input[1] || nms->n_input > 5)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s': op NonMaxSuppression (opset %d): needs 2..5 inputs with boxes and scores",
				  label, imp->opset);
	for (size_t i = 0; i < n; i++)
		outs += gp->node[i]->n_output;
	size_t cap = 16;
	while (cap < 2 * outs + 2)
		cap *= 2;
	prod *tab = odet_calloc(ctx, cap, sizeof *tab);
	int *stack = odet_calloc(ctx, n + 1, sizeof *stack);
	cut->keep = odet_calloc(ctx, n + 1, 1);
	if (!tab || !stack || !cut->keep) {
		free(tab);
		free(stack);
		free(cut->keep);
		cut->keep = NULL;
		return ODET_ERR_NO_MEMORY;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < gp->node[i]->n_output; k++) {
			const char *o = gp->node[i]->output[k];
			if (!o || !*o || prod_get(tab, cap, o) >= 0)
				continue; /* duplicates are refused later by pass 1 */
			size_t h = hash_str(o) & (cap - 1);
			while (tab[h].name)
				h = (h + 1) & (cap - 1);
			tab[h] = (prod){o, (int)i};
		}
	/* ancestors of NMS's inputs */
	int sp = 0;
	for (size_t k = 0; k < nms->n_input; k++) {
		int p = *nms->input[k] ? prod_get(tab, cap, nms->input[k]) : -1;
		if (p >= 0 && !cut->keep[p] && p != cut->node) {
			cut->keep[p] = 1;
			stack[sp++] = p;
		}
	}
	while (sp > 0) {
		const Onnx__NodeProto *np = gp->node[stack[--sp]];
		for (size_t k = 0; k < np->n_input; k++) {
			int p = *np->input[k] ? prod_get(tab, cap, np->input[k]) : -1;
			if (p >= 0 && !cut->keep[p] && p != cut->node) {
				cut->keep[p] = 1;
				stack[sp++] = p;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		cut->n_dropped += !cut->keep[i] && (int)i != cut->node;
	free(tab);
	free(stack);
	return ODET_OK;
}

odet_status onnx_nms_outputs(onnx_imp *imp, const Onnx__GraphProto *gp, const onnx_nms_cut *cut)
{
	odet_ctx *ctx = imp->ctx;
	ir_graph *g = imp->g;
	Onnx__NodeProto *nms = gp->node[cut->node];
	char buf[64];
	const char *label = onnx_node_label(nms, cut->node, buf, sizeof buf);
	int in[5] = {-1, -1, -1, -1, -1};
	for (size_t k = 0; k < nms->n_input; k++) {
		const char *name = nms->input[k];
		if (!*name)
			continue;
		int node = -1;
		int v = onnx_name_get(imp, name, &node);
		if (v == ONNX_FORBIDDEN || v < 0)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "node '%s': op NonMaxSuppression (opset %d): input '%s' is %s", label,
					  imp->opset, name, v == ONNX_FORBIDDEN ? "an output odet does not compute" : "not defined");
		in[k] = v;
	}
	int64_t center = 0;
	for (size_t a = 0; a < nms->n_attribute; a++) {
		const Onnx__AttributeProto *ap = nms->attribute[a];
		if (ap->name && !strcmp(ap->name, "center_point_box") && ap->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
			center = ap->i;
			continue;
		}
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op NonMaxSuppression (opset %d): attribute '%s' is not supported",
				  label, imp->opset, ap->name ? ap->name : "");
	}
	if (center != 0 && center != 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "node '%s': op NonMaxSuppression (opset %d): center_point_box %lld (0 or 1)", label,
				  imp->opset, (long long)center);
	const char *oname = nms->n_output && *nms->output[0] ? nms->output[0] : "onnx_nms";
	int out = ir_value_add(g, oname, ODET_DTYPE_UNDEFINED, -1, NULL);
	if (out < 0 || onnx_name_put(imp, g->values[out].name, out, -1))
		return ODET_ERR_NO_MEMORY;
	int m = ir_node_add(g, IR_OP_ONNX_NMS, label, 5, in, 1, &out);
	if (m < 0 || ir_attr_set_int(g, m, "center_point_box", center) ||
	    ir_attr_set_int(g, m, "cut_nodes", cut->n_dropped) ||
	    ir_attr_set_int(g, m, "cut_outputs", (int64_t)gp->n_output))
		return ODET_ERR_NO_MEMORY;
	if (!(g->outputs = odet_calloc(ctx, 1, sizeof(int))))
		return ODET_ERR_NO_MEMORY;
	g->outputs[0] = out;
	g->n_outputs = 1;
	g->values[out].is_output = true;
	char note[512];
	snprintf(note, sizeof note,
		 "NonMaxSuppression '%s' and %d nodes not needed for its inputs were cut; the model's %zu "
		 "output(s) are replaced by odet's batched NMS head (onnx-nms)",
		 label, cut->n_dropped, gp->n_output);
	free(g->note);
	if (!(g->note = odet_strdup(ctx, note)))
		return ODET_ERR_NO_MEMORY;
	return ODET_OK;
}
