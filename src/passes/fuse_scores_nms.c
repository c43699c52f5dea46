/*
 * fuse_scores_nms.c — a ClassScores whose scores only a BatchedNms reads is folded into that
 * BatchedNms, which then reads the logits and computes the scores itself (its attributes
 * activation and layout, ops.def).
 *
 * SSD's head ends in ClassScores (softmax over 81 classes of [B,81,8732] logits) -> BatchedNms.
 * The scores tensor is the head's largest (SSD300 at batch 256: 724 MB of float32), written
 * once and read once by the NMS filter; fused, the filter reads the logits (float16 in fp16
 * engines: a quarter of the bytes) and computes each anchor's scores in registers and shared
 * memory with ClassScores' own code, so the detections stay the same bit for bit.
 *
 * Folded: a live ClassScores (activation 0..2, layout 0 or 1) whose output is not a graph
 * output and is read by exactly one input slot of all live nodes, slot 1 of a BatchedNms whose
 * activation and layout are both unset (0). A ClassScores with activation 0 and layout 0 is a
 * plain copy widening float16 to float32; it is folded only when the logits have the boxes'
 * dtype (an unfused BatchedNms reads scores of the boxes' dtype). Runs on every backend, on the
 * final graph (after the precision and layout passes and fuse_concat_views).
 */
#include "passes/pass_util.h"

/* Folds ClassScores node si into its reader when the conditions above hold; *done says whether. */
static odet_status fuse_one(ir_graph *g, int si, bool *done)
{
	*done = false;
	const ir_node *s = &g->nodes[si];
	if (s->n_in < 1 || s->n_out != 1 || s->in[0] < 0 || s->out[0] < 0)
		return ODET_OK;
	int x = s->in[0], y = s->out[0];
	int64_t act = ir_attr_int(s, "activation", 0), layout = ir_attr_int(s, "layout", 0);
	if (act < 0 || act > 2 || (layout != 0 && layout != 1))
		return ODET_OK;
	int ni = pass_sole_consumer(g, y); /* -1 for a graph output or a second reader */
	if (ni < 0 || g->nodes[ni].op != IR_OP_BATCHED_NMS)
		return ODET_OK;
	const ir_node *nms = &g->nodes[ni];
	if (nms->n_in < 2 || nms->in[1] != y || nms->in[0] < 0)
		return ODET_OK;
	if (ir_attr_int(nms, "activation", 0) != 0 || ir_attr_int(nms, "layout", 0) != 0)
		return ODET_OK;
	if (!act && !layout && g->values[x].dtype != g->values[nms->in[0]].dtype)
		return ODET_OK;
	char name[300], nms_name[300];
	snprintf(name, sizeof name, "%s", s->name);
	snprintf(nms_name, sizeof nms_name, "%s", nms->name);
	odet_status rc;
	if ((rc = ir_attr_set_int(g, ni, "activation", act)) || (rc = ir_attr_set_int(g, ni, "layout", layout)))
		return odet_error(g->ctx, rc, "fuse_scores_nms: node '%s': cannot set attributes", nms_name);
	g->nodes[ni].in[1] = x;
	pass_node_kill(g, si);
	g->values[y].producer = -1;
	odet_log(g->ctx, ODET_LOG_DEBUG, "fuse_scores_nms: ClassScores '%s' (activation %lld, layout %lld) into '%s'", name,
		 (long long)act, (long long)layout, nms_name);
	*done = true;
	return ODET_OK;
}

odet_status pass_fuse_scores_nms(ir_graph *g)
{
	int fused;
	odet_status rc = pass_fuse_each(g, IR_OP_CLASS_SCORES, fuse_one, &fused);
	if (!rc && fused)
		odet_log(g->ctx, ODET_LOG_INFO, "fuse_scores_nms: %d ClassScores nodes folded into their BatchedNms", fused);
	return rc;
}
