/*
 * input_u8.c — the image input as uint8 (odet_build_opts.input_u8): a batch then travels to the
 * device as raw pixels, 4x less than float32.
 *
 * The graph's image input (its first 4-D input, float, 3 channels at axis 1 or 3 by the rule of
 * odet_engine_model_info) becomes uint8 [same dims], and one PixelNorm (ops.def) with the
 * model's pixel scale and bias (g->info, set by the head) takes over its readers. g->info's
 * scale and bias become 1 and 0: whoever prepares the input (the pipeline's letterbox,
 * calibration) writes raw pixels, and the model info still says what the input holds. On CUDA
 * the layout pass folds the PixelNorm into the stem's NhwcPack (one kernel from uint8 NCHW to
 * float16 NHWC). Refused: no head (the normalization is unknown), no 4-D float image input, an
 * input that is also a graph output.
 */
#include "passes/passes.h"

#include <stdio.h>
#include <string.h>

odet_status pass_input_u8(ir_graph *g)
{
	odet_ctx *ctx = g->ctx;
	int v = -1;
	for (int i = 0; i < g->n_inputs && v < 0; i++)
		if (g->values[g->inputs[i]].rank == 4)
			v = g->inputs[i];
	if (v < 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "input_u8: the model has no 4-D image input");
	ir_value *x = &g->values[v];
	const bool nhwc = x->dims[3] == 3 && x->dims[1] != 3;
	const int axis = nhwc ? 3 : 1;
	if ((x->dtype != ODET_F32 && x->dtype != ODET_F16) || x->dims[axis] != 3 || x->is_output)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "input_u8: input '%s' is not a float image with 3 channels (axis %d), or is also an output",
				  x->name, axis);
	const odet_model_info *mi = &g->info;
	if (mi->pixel_scale[0] == 0 && mi->pixel_scale[1] == 0 && mi->pixel_scale[2] == 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "input_u8: the model's pixel normalization is unknown (it comes with the detection head: "
				  "name a head preset or config)");
	char name[256];
	snprintf(name, sizeof name, "%s_norm", x->name);
	const odet_dtype ft = x->dtype;
	int64_t dims[4];
	memcpy(dims, x->dims, sizeof dims);
	int nv = ir_value_add(g, name, ft, 4, dims);
	if (nv < 0)
		return ODET_ERR_NO_MEMORY;
	ir_value_replace_uses(g, v, nv); /* every reader of the float input reads the PixelNorm */
	int node = ir_node_add(g, IR_OP_PIXEL_NORM, name, 1, &v, 1, &nv);
	odet_status rc;
	if (node < 0)
		return ODET_ERR_NO_MEMORY;
	if ((rc = ir_attr_set_int(g, node, "to", (int64_t)ft)) || (rc = ir_attr_set_int(g, node, "axis", axis)) ||
	    (rc = ir_attr_set_floats(g, node, "odet_scale", mi->pixel_scale, 3)) ||
	    (rc = ir_attr_set_floats(g, node, "odet_bias", mi->pixel_bias, 3)))
		return rc;
	g->values[v].dtype = ODET_U8;
	for (int c = 0; c < 3; c++) {
		g->info.pixel_scale[c] = 1.0f;
		g->info.pixel_bias[c] = 0.0f;
	}
	if ((rc = ir_graph_toposort(g)) || (rc = pass_infer_shapes(g)))
		return rc;
	odet_log(ctx, ODET_LOG_DEBUG, "input_u8: '%s' takes uint8 pixels; PixelNorm '%s' normalizes them", g->values[v].name,
		 name);
	return ODET_OK;
}
