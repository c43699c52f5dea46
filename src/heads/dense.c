/*
 * dense.c — heads of dense-prediction detectors whose classes sit on a feature grid:
 *
 * CenterNet (preset "centernet"; human-models' MobileNetV3 CenterNet): outputs heat [B,h,w,C]
 *   (sigmoid scores, NHWC) and sizes [B,h,w,4] (l,t,r,b pixel distances). CenterNetDecode keeps
 *   the K=100 highest 3x3 peaks at stride H/h, exactly as the graph's own baked-in postprocess
 *   (MaxPool 3x3 SAME, Equal, TopKV2 100, FloorDiv/FloorMod, Gather) that the importer cuts off.
 *   Peak suppression is CenterNet's NMS, so BatchedNms only thresholds and orders (IoU 1.0).
 * NanoDet (preset "nanodet"; NanoDet-m with GFL heads): per level l, scores [B,N_l,C] (sigmoid
 *   already applied in the graph) and box distributions [B,N_l,4R]. Levels pair by N_l; the
 *   stride of a level is sqrt(H*W/N_l) and R comes from the channel count — both read from the
 *   graph. DistDecode per level (cell centres at +0.5), Concat, class-aware NMS (NanoDet's
 *   defaults: score > 0.05, IoU 0.6, 100 per image).
 */
#include "heads/heads_internal.h"

#include <math.h>
#include <stdio.h>

odet_status head_build_centernet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores)
{
	odet_ctx *ctx = g->ctx;
	int heat = -1, size = -1;
	for (int k = 0; k < net->n_out; k++) {
		const ir_value *v = &g->values[net->out[k]];
		if (v->rank != 4)
			continue;
		if (v->dims[3] == 4 && size < 0)
			size = net->out[k];
		else if (v->dims[3] > 4)
			heat = net->out[k];
	}
	if (heat < 0 || size < 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "centernet needs outputs heat [B,h,w,C] and sizes [B,h,w,4] (NHWC)");
	const ir_value *h = &g->values[heat];
	if (net->H <= 0 || h->dims[1] <= 0 || net->H % h->dims[1])
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "centernet: input height %lld is not a multiple of the heat map's %lld",
				  (long long)net->H, (long long)h->dims[1]);
	int in[2] = {heat, size}, out[2];
	int n = head_add_node(g, IR_OP_CENTERNET_DECODE, "odet_head_centernet", 2, in, 2, out);
	if (n < 0)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = ir_attr_set_int(g, n, "layout", 1);
	rc = rc ? rc : ir_attr_set_int(g, n, "k", s->topk);
	rc = rc ? rc : ir_attr_set_int(g, n, "pool", 3);
	rc = rc ? rc : ir_attr_set_float(g, n, "stride", (float)(net->H / h->dims[1]));
	*boxes = out[0];
	*scores = out[1];
	return rc;
}

odet_status head_build_nanodet(ir_graph *g, const head_net *net, const head_spec *s, int *boxes, int *scores)
{
	odet_ctx *ctx = g->ctx;
	int bl[HEAD_MAX_LEVELS], sl[HEAD_MAX_LEVELS], nl = 0;
	int64_t C = -1;
	/* pair each scores output with the distribution output of the same N, in output order */
	for (int k = 0; k < net->n_out && nl < HEAD_MAX_LEVELS; k++) {
		const ir_value *sc = &g->values[net->out[k]];
		if (sc->rank != 3)
			continue;
		for (int m = 0; m < net->n_out; m++) {
			const ir_value *d = &g->values[net->out[m]];
			if (m == k || d->rank != 3 || d->dims[1] != sc->dims[1] || d->dims[2] % 4 || d->dims[2] >= sc->dims[2])
				continue;
			if (C >= 0 && sc->dims[2] != C)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "nanodet: levels disagree on the class count");
			C = sc->dims[2];
			int64_t N = sc->dims[1];
			double stride = sqrt((double)net->H * (double)net->W / (double)N);
			int64_t st = llround(stride), gw = st > 0 ? net->W / st : 0;
			if (st <= 0 || fabs(stride - (double)st) > 1e-6 || gw <= 0 || (net->H / st) * gw != N)
				return odet_error(ctx, ODET_ERR_BAD_INPUT,
						  "nanodet: %lld cells do not form a grid of the %lldx%lld input", (long long)N,
						  (long long)net->H, (long long)net->W);
			char name[64];
			snprintf(name, sizeof name, "odet_head_dist%d", nl);
			int out;
			int n = head_add_node(g, IR_OP_DIST_DECODE, name, 1, &net->out[m], 1, &out);
			if (n < 0)
				return ODET_ERR_NO_MEMORY;
			odet_status rc = ir_attr_set_int(g, n, "grid_w", gw);
			rc = rc ? rc : ir_attr_set_float(g, n, "stride", (float)st);
			rc = rc ? rc : ir_attr_set_float(g, n, "offset", 0.5f);
			if (rc)
				return rc;
			bl[nl] = out;
			sl[nl] = net->out[k];
			nl++;
			break;
		}
	}
	if (nl == 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "nanodet needs pairs of outputs scores [B,N,C] and distributions [B,N,4R]");
	int cat[2];
	for (int w = 0; w < 2; w++) {
		char name[64];
		snprintf(name, sizeof name, "odet_head_concat_%s", w ? "scores" : "boxes");
		int n = head_add_node(g, IR_OP_CONCAT, name, nl, w ? sl : bl, 1, &cat[w]);
		if (n < 0 || ir_attr_set_int(g, n, "axis", 1))
			return ODET_ERR_NO_MEMORY;
	}
	*boxes = cat[0];
	*scores = cat[1];
	return ODET_OK;
}
