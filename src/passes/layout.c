/*
 * layout.c — NHWC layout for convolution chains (CUDA fp16 engines: cuDNN's tensor-core
 * kernels are fastest on NHWC data).
 *
 * Every 4-D Conv (constant weight), every 4-D MaxPool / AveragePool without an indices
 * output and every 4-D L2Normalize over the channels (its axis becomes 3) is rewritten to work
 * on NHWC values and gets attribute odet_nhwc = 1:
 *   input X [N,C,H,W]    -> X' [N,H,W,C]   (the NHWC twin of X, see below)
 *   weight W [M,C/g,kh,kw] constant -> W' [M,kh,kw,C/g] (transposed on the host)
 *   residual R (Conv input 3) -> its NHWC twin
 *   output Y [N,M,oh,ow] -> Y' [N,oh,ow,M], and Y = Transpose(Y', [0,3,1,2]) for readers
 *   that stay NCHW.
 * The NHWC twin of a value is found, not recomputed: a value produced by a rewritten node
 * already has one (Y'), any other value gets one Transpose(X, [0,2,3,1]) shared by all its
 * NHWC readers. So a chain conv -> conv -> pool -> conv carries no transposes at all, and
 * transposes remain only where the layout really changes (graph input, heads). Layout
 * changes are explicit Transpose nodes: kernels only ever see dense tensors in IR-dim order.
 * Transposes nobody reads are removed, the graph is re-sorted and shapes re-inferred (the
 * shape functions of Conv and the pools read odet_nhwc).
 * A twin of a Cast between float types (the image input's Cast to float16) is one NhwcPack
 * from the Cast's source (cast + transpose in one pass), a twin of a PixelNorm (a uint8 image
 * input, input_u8.c) one NhwcPack from the uint8 pixels with the normalization folded in; a float16 group-1 conv with fewer than
 * 4 input channels reads a 4-channel NhwcPack twin (zero channel) and zero-padded weights.
 */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

static bool nhwc_candidate(const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || x->rank != 4 || n->dead || ir_attr_int(n, "odet_nhwc", 0))
		return false;
	if (n->op == IR_OP_CONV) {
		const ir_value *w = ir_in(g, n, 1);
		return w && w->kind == IR_VALUE_CONST && w->rank == 4 && w->data;
	}
	if (n->op == IR_OP_MAXPOOL || n->op == IR_OP_AVGPOOL)
		return n->n_out == 1 || n->out[1] < 0;
	if (n->op == IR_OP_L2_NORMALIZE) /* over the channels: the last dim in NHWC */
		return ir_attr_int(n, "axis", 1) == 1 || ir_attr_int(n, "axis", 1) == -3;
	return false;
}

static int add_transpose(ir_graph *g, int v, const int64_t perm[4], const char *suffix)
{
	const ir_value *s = &g->values[v];
	int64_t d[4];
	for (int i = 0; i < 4; i++)
		d[i] = s->dims[perm[i]];
	char name[256];
	snprintf(name, sizeof name, "%s_%s", s->name, suffix);
	odet_dtype dt = s->dtype;
	int nv = ir_value_add(g, name, dt, 4, d);
	if (nv < 0)
		return -1;
	int node = ir_node_add(g, IR_OP_TRANSPOSE, name, 1, &v, 1, &nv);
	if (node < 0 || ir_attr_set_ints(g, node, "perm", perm, 4))
		return -1;
	return nv;
}

/* KCRS -> KRSC on the host (any element size), with the channel dim widened to `channels`
 * (>= C; the extra channels are zero: the padded stem, see stem_pad_to). */
static int weight_krsc(ir_graph *g, int v, int64_t channels)
{
	const ir_value *w = &g->values[v];
	int64_t m = w->dims[0], c = w->dims[1], kh = w->dims[2], kw = w->dims[3];
	size_t es = odet_dtype_size(w->dtype);
	unsigned char *d = calloc((size_t)(m * kh * kw * channels) * es + 1, 1);
	if (!d)
		return -1;
	const unsigned char *s = w->data;
	for (int64_t a = 0; a < m; a++)
		for (int64_t b = 0; b < c; b++)
			for (int64_t y = 0; y < kh; y++)
				for (int64_t x = 0; x < kw; x++)
					memcpy(d + ((((a * kh + y) * kw + x) * channels + b) * es),
					       s + ((((a * c + b) * kh + y) * kw + x) * es), es);
	int64_t nd[4] = {m, kh, kw, channels};
	char name[256];
	if (channels == c)
		snprintf(name, sizeof name, "%s_krsc", w->name);
	else
		snprintf(name, sizeof name, "%s_krsc_c%lld", w->name, (long long)channels);
	return ir_const_add(g, name, w->dtype, 4, nd, d);
}

/* Few input channels (the 3-channel stem): cuDNN's NHWC tensor-core kernels want C % 8 == 0
 * or C == 4; at C == 3 the stem runs at ~90 TFLOP/s. A float16 conv with C < 4 reads a
 * 4-channel twin (zero channel, zero weights): 0.30 -> 0.21 ms for SSD300-R50's stem at batch
 * 64 on the H100. odet_build_opts.stem_pad (ODET_STEM_PAD): -1 turns it off (A/B), 8 pads
 * to 8. */
static int stem_pad_to(const ir_graph *g)
{
	int v = g->build ? g->build->stem_pad : 0;
	return v == 0 ? 4 : v == 4 || v == 8 ? v : 0;
}

/* The float source of v when v = Cast(x) between float types (the precision pass's Cast of
 * the image input): the NHWC twin is then made from x directly, Cast included. */
static int cast_source(const ir_graph *g, int v)
{
	int p = g->values[v].producer;
	if (p < 0 || g->nodes[p].dead || g->nodes[p].op != IR_OP_CAST || g->nodes[p].in[0] < 0)
		return -1;
	const ir_value *x = &g->values[g->nodes[p].in[0]], *y = &g->values[v];
	bool fx = x->dtype == ODET_F32 || x->dtype == ODET_F16, fy = y->dtype == ODET_F32 || y->dtype == ODET_F16;
	return fx && fy && x->rank == 4 ? g->nodes[p].in[0] : -1;
}

/* The PixelNorm node (NCHW, axis 1) producing v, or -1: its uint8 input packs directly with
 * the normalization folded into the NhwcPack. */
static int pixel_norm_node(const ir_graph *g, int v)
{
	int p = g->values[v].producer;
	if (p < 0 || g->nodes[p].dead || g->nodes[p].op != IR_OP_PIXEL_NORM || g->nodes[p].in[0] < 0 ||
	    ir_attr_int(&g->nodes[p], "axis", 1) != 1 || g->values[v].dims[1] > 4)
		return -1;
	return p;
}

/* NHWC twin of v [N,C,H,W] with `channels` >= C channels: NhwcPack from v's Cast or PixelNorm
 * source (or from v), or a Transpose when neither a cast, a normalization nor padding is involved. */
static int add_twin(ir_graph *g, int v, int channels)
{
	static const int64_t to_nhwc[4] = {0, 2, 3, 1};
	int src = cast_source(g, v), norm = pixel_norm_node(g, v);
	if (norm >= 0)
		src = g->nodes[norm].in[0];
	const ir_value *s = &g->values[v];
	if (src < 0 && channels == s->dims[1])
		return add_transpose(g, v, to_nhwc, "nhwc");
	if (src < 0)
		src = v;
	int64_t d[4] = {s->dims[0], s->dims[2], s->dims[3], channels};
	odet_dtype dt = s->dtype;
	char name[256];
	if (channels == s->dims[1])
		snprintf(name, sizeof name, "%s_nhwc", s->name);
	else
		snprintf(name, sizeof name, "%s_nhwc_c%d", s->name, channels);
	int nv = ir_value_add(g, name, dt, 4, d);
	if (nv < 0)
		return -1;
	int node = ir_node_add(g, IR_OP_NHWC_PACK, name, 1, &src, 1, &nv);
	if (node < 0 || ir_attr_set_int(g, node, "to", (int64_t)dt) || ir_attr_set_int(g, node, "channels", channels))
		return -1;
	if (norm >= 0) {
		const float *sc, *bi;
		int ns = ir_attr_floats(&g->nodes[norm], "odet_scale", &sc);
		if (ir_attr_floats(&g->nodes[norm], "odet_bias", &bi) != ns ||
		    ir_attr_set_floats(g, node, "odet_scale", sc, ns) || ir_attr_set_floats(g, node, "odet_bias", bi, ns))
			return -1;
	}
	return nv;
}

odet_status pass_layout_nhwc(ir_graph *g)
{
	static const int64_t to_nchw[4] = {0, 3, 1, 2};
	odet_ctx *ctx = g->ctx;
	int nv0 = g->n_values, n0 = g->n_nodes, done = 0, pad_to = stem_pad_to(g);
	int *twin = malloc(sizeof(int) * (2 * (size_t)nv0 + 1)), *ptwin = twin + nv0; /* plain, padded */
	odet_status rc = ODET_OK;
	if (!twin)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: out of memory");
	for (int v = 0; v < 2 * nv0; v++)
		twin[v] = -1;
	for (int i = 0; i < n0; i++) {
		if (!nhwc_candidate(g, &g->nodes[i]))
			continue;
		int nin = g->nodes[i].n_in;
		for (int k = 0; k < nin; k++) {
			int v = g->nodes[i].in[k];
			if (v < 0 || (k != 0 && k != 3))
				continue;
			if (v >= nv0) {
				rc = odet_error(ctx, ODET_ERR_INTERNAL, "layout pass: unexpected new value");
				goto out_free;
			}
			const ir_value *xv = &g->values[v];
			bool pad = k == 0 && pad_to && g->nodes[i].op == IR_OP_CONV && xv->dtype == ODET_F16 &&
				   xv->dims[1] < pad_to && ir_attr_int(&g->nodes[i], "group", 1) == 1;
			int *tw = pad ? &ptwin[v] : &twin[v];
			if (*tw < 0 && (*tw = add_twin(g, v, pad ? pad_to : (int)g->values[v].dims[1])) < 0) {
				rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: cannot add an NHWC twin");
				goto out_free;
			}
			g->nodes[i].in[k] = *tw;
		}
		if (g->nodes[i].op == IR_OP_CONV) {
			/* a padded input (pad above) widens the weight's channels alike */
			int64_t wc = g->values[g->nodes[i].in[1]].dims[1], cin = g->values[g->nodes[i].in[0]].dims[3];
			int w = weight_krsc(g, g->nodes[i].in[1], cin > wc && ir_attr_int(&g->nodes[i], "group", 1) == 1 ? cin : wc);
			if (w < 0) {
				rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: cannot transpose a weight");
				goto out_free;
			}
			g->nodes[i].in[1] = w;
		}
		if (g->nodes[i].op == IR_OP_L2_NORMALIZE && ir_attr_set_int(g, i, "axis", 3)) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: out of memory");
			goto out_free;
		}
		/* output: Y' produced here, Y = Transpose(Y') for NCHW readers */
		int y = g->nodes[i].out[0];
		const ir_value *yv = &g->values[y];
		int64_t d[4] = {yv->dims[0], yv->dims[2], yv->dims[3], yv->dims[1]};
		char name[256];
		snprintf(name, sizeof name, "%s_nhwc", yv->name);
		int yn = ir_value_add(g, name, yv->dtype, 4, d);
		if (yn < 0) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: out of memory");
			goto out_free;
		}
		g->nodes[i].out[0] = yn;
		g->values[yn].producer = i;
		char tname[300];
		snprintf(tname, sizeof tname, "%s_nchw", g->nodes[i].name);
		int t = ir_node_add(g, IR_OP_TRANSPOSE, tname, 1, &yn, 1, &y);
		if (t < 0 || ir_attr_set_ints(g, t, "perm", to_nchw, 4) ||
		    ir_attr_set_int(g, i, "odet_nhwc", 1)) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "layout pass: out of memory");
			goto out_free;
		}
		g->values[y].producer = t;
		twin[y] = yn;
		done++;
	}
	if (!done)
		goto out_free;
	if ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
		goto out_free;
	int tr = 0, pk = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		tr += g->nodes[i].op == IR_OP_TRANSPOSE;
		pk += g->nodes[i].op == IR_OP_NHWC_PACK;
	}
	odet_log(ctx, ODET_LOG_INFO, "layout: %d conv/pool nodes in NHWC, %d Transpose and %d NhwcPack nodes in the graph",
		 done, tr, pk);
out_free:
	free(twin);
	return rc;
}
