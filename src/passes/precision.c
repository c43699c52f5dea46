/*
 * precision.c — the fp16 precision pass (CUDA engines built with --precision fp16).
 *
 * Every node runs in fp16 except: detection-head ops (domain "odet": decode, class scores,
 * NMS need float32 boxes and scores; ClassScores reads float16 logits as they are), Cast,
 * Range, Shape, ConstantOfShape (their dtypes are explicit), and the nodes named in `keep`
 * (--keep-fp32). Walking the nodes in order, each
 * float input of a node whose dtype differs from the node's precision is replaced by a
 * converted value: a constant is converted once on the host (float32 <-> float16, round to
 * nearest even), an activation gets one Cast node (shared by all its readers). Resize's roi
 * and scales stay float32 (they are parameters, not data). Each node's output dtypes are then
 * re-inferred from its inputs. Graph inputs keep their dtype (a Cast follows them); a graph
 * output that became float16 gets a Cast back to float32 that takes over its name, so the
 * engine's interface does not change with the precision. Unused values are compacted away.
 */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

static bool is_float(odet_dtype t)
{
	return t == ODET_F32 || t == ODET_F16;
}

static bool stays_fp32(const ir_graph *g, const ir_node *n, const char *const *keep, int n_keep)
{
	switch (n->op) {
	case IR_OP_BOX_DECODE: case IR_OP_CLASS_SCORES: case IR_OP_YOLO_DECODE:
	case IR_OP_BATCHED_NMS: case IR_OP_CENTERNET_DECODE: case IR_OP_DIST_DECODE:
	case IR_OP_CAST: case IR_OP_RANGE: case IR_OP_SHAPE: case IR_OP_CONSTANTOFSHAPE:
		return true;
	default:
		break;
	}
	for (int i = 0; i < n_keep; i++)
		if (keep[i] && !strcmp(keep[i], n->name))
			return true;
	(void)g;
	return false;
}

/* Whether float32 node n reads a float16 input k as it is: its kernels widen each element to
 * float32 on load, which is exact, so a Cast in front would only cost a pass over memory
 * (ClassScores' logits: SSD300's are 8732 x 81 per image). */
static bool reads_f16(const ir_node *n, int k)
{
	return n->op == IR_OP_CLASS_SCORES && k == 0;
}

/* Whether input k of n is data whose dtype follows the node's precision. */
static bool converts_input(const ir_node *n, int k)
{
	if (n->op == IR_OP_RESIZE && (k == 1 || k == 2))
		return false;
	return true;
}

typedef struct conv_cache {
	int *to16, *to32; /* per original value: converted value or -1 */
	int n;
} conv_cache;

static int convert_value(ir_graph *g, conv_cache *c, int v, odet_dtype to)
{
	int *slot = v < c->n ? (to == ODET_F16 ? &c->to16[v] : &c->to32[v]) : NULL;
	if (slot && *slot >= 0)
		return *slot;
	ir_value src = g->values[v]; /* copy: ir_value_add may move the array */
	char name[256];
	snprintf(name, sizeof name, "%s_%s", src.name, to == ODET_F16 ? "fp16" : "fp32");
	int nv;
	if (src.kind == IR_VALUE_CONST) {
		int64_t numel = ir_value_numel(&src);
		if (numel < 0)
			return -1;
		void *data = malloc((size_t)numel * odet_dtype_size(to) + 1);
		if (!data) {
			odet_error(g->ctx, ODET_ERR_NO_MEMORY, "precision: out of memory converting '%s'", src.name);
			return -1;
		}
		if (to == ODET_F16) {
			const float *s = src.data;
			uint16_t *d = data;
			for (int64_t i = 0; i < numel; i++)
				d[i] = odet_f32_to_f16(s[i]);
		} else {
			const uint16_t *s = src.data;
			float *d = data;
			for (int64_t i = 0; i < numel; i++)
				d[i] = odet_f16_to_f32(s[i]);
		}
		nv = ir_const_add(g, name, to, src.rank, src.dims, data);
	} else {
		nv = ir_value_add(g, name, to, src.rank, src.dims);
		if (nv < 0)
			return -1;
		int node = ir_node_add(g, IR_OP_CAST, name, 1, &v, 1, &nv);
		if (node < 0 || ir_attr_set_int(g, node, "to", (int64_t)to))
			return -1;
	}
	if (nv >= 0 && slot)
		*slot = nv;
	return nv;
}

odet_status pass_precision_fp16(ir_graph *g, const char *const *keep, int n_keep)
{
	odet_ctx *ctx = g->ctx;
	for (int i = 0; i < n_keep; i++) {
		bool found = false;
		for (int j = 0; j < g->n_nodes && !found; j++)
			found = keep[i] && !strcmp(keep[i], g->nodes[j].name);
		if (!found)
			return odet_error(ctx, ODET_ERR_INVALID_ARG,
					  "--keep-fp32 %s: no node of that name in the optimized graph (odet inspect lists them)",
					  keep[i] ? keep[i] : "(null)");
	}
	conv_cache c = {NULL, NULL, g->n_values};
	c.to16 = malloc(sizeof(int) * ((size_t)c.n + 1));
	c.to32 = malloc(sizeof(int) * ((size_t)c.n + 1));
	odet_status rc = ODET_OK;
	if (!c.to16 || !c.to32) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "precision pass: out of memory");
		goto out_free;
	}
	for (int v = 0; v < c.n; v++)
		c.to16[v] = c.to32[v] = -1;
	int n0 = g->n_nodes, n16 = 0, n32 = 0;
	for (int i = 0; i < n0; i++) {
		bool fp32 = stays_fp32(g, &g->nodes[i], keep, n_keep);
		odet_dtype want = fp32 ? ODET_F32 : ODET_F16;
		if (fp32)
			n32++;
		else
			n16++;
		for (int k = 0; k < g->nodes[i].n_in; k++) {
			int v = g->nodes[i].in[k];
			if (v < 0 || !converts_input(&g->nodes[i], k) || !is_float(g->values[v].dtype) ||
			    g->values[v].dtype == want || (fp32 && g->nodes[i].op == IR_OP_CAST))
				continue;
			if (g->nodes[i].op == IR_OP_CAST)
				continue; /* Cast reads any float */
			if (fp32 && g->values[v].dtype == ODET_F16 && reads_f16(&g->nodes[i], k))
				continue;
			int nv = convert_value(g, &c, v, want);
			if (nv < 0) {
				rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "precision pass: cannot convert '%s'",
						g->values[v].name);
				goto out_free;
			}
			g->nodes[i].in[k] = nv;
		}
		/* PixelNorm (uint8 pixels in) writes the node's precision directly */
		if (g->nodes[i].op == IR_OP_PIXEL_NORM && (rc = ir_attr_set_int(g, i, "to", (int64_t)want)))
			goto out_free;
		if ((rc = pass_infer_shape_node(g, &g->nodes[i])))
			goto out_free;
	}
	/* outputs keep float32 and their names */
	for (int i = 0; i < g->n_outputs; i++) {
		int v = g->outputs[i];
		if (g->values[v].dtype != ODET_F16 || g->values[v].kind == IR_VALUE_CONST)
			continue;
		int nv = convert_value(g, &c, v, ODET_F32);
		if (nv < 0) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "precision pass: cannot convert output '%s'",
					g->values[v].name);
			goto out_free;
		}
		char *t = g->values[v].name;
		g->values[v].name = g->values[nv].name;
		g->values[nv].name = t;
		g->values[v].is_output = false;
		g->values[nv].is_output = true;
		g->outputs[i] = nv;
	}
	if ((rc = ir_graph_toposort(g)) || (rc = ir_graph_compact(g)) || (rc = pass_infer_shapes(g)))
		goto out_free;
	odet_log(ctx, ODET_LOG_INFO, "precision fp16: %d nodes in fp16, %d kept in fp32, %d Cast nodes added",
		 n16, n32, g->n_nodes - n0);
out_free:
	free(c.to16);
	free(c.to32);
	return rc;
}
