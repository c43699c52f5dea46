/*
 * passes.h — graph transformations, one file each. Every pass keeps the graph valid
 * (topologically ordered, shapes consistent) and reports what it changed at debug level.
 */
#ifndef ODET_PASSES_H
#define ODET_PASSES_H

#include "graph/ir.h"

/* Evaluates node n on host tensors (inputs constant, outputs preallocated from inferred
 * shapes). Supplied by the engine (CPU backend) so that passes stay below the backends. */
typedef odet_status (*ir_eval_fn)(void *user, const ir_graph *g, const ir_node *n,
				  const odet_tensor *in, odet_tensor *out);

/* Fix symbolic/unknown input dims: batch (> 0) for dim 0, h/w (> 0) for the last two dims
 * of 4-D inputs; 0 leaves a dim as it is. */
odet_status pass_set_input_shape(ir_graph *g, int batch, int h, int w);
/* Shape and dtype inference over all nodes with overflow-checked arithmetic. */
odet_status pass_infer_shapes(ir_graph *g);
/* Shape function of one node (error naming the op when none is linked). */
odet_status pass_infer_shape_node(ir_graph *g, ir_node *n);
/* Evaluate nodes whose inputs are all constant (and Shape of known shapes); replace their
 * outputs by constants. Interleaves shape inference so chains fold in one pass. */
odet_status pass_fold_constants(ir_graph *g, ir_eval_fn eval, void *user);
/* The same for shape computations only (ODET_PASS_FOLD_CONSTANTS off): Shape, Constant, and
 * nodes whose outputs are all integer tensors; float computations stay in the graph. */
odet_status pass_fold_shape_constants(ir_graph *g, ir_eval_fn eval, void *user);
/* BatchNormalization after Conv (and FrozenBatchNorm's per-channel Mul + Add) into the
 * Conv's weights and bias. */
odet_status pass_fold_batchnorm(ir_graph *g);
/* Conv + bias + activation (+ residual Add) into one Conv node (see ir_act in ir.h). */
odet_status pass_fuse_conv(ir_graph *g);
/* F.normalize's export (ReduceL2 -> Clip -> Expand -> Div [-> Mul by a per-channel
 * constant]) -> one L2Normalize node (fuse_l2norm.c). */
odet_status pass_fuse_l2norm(ir_graph *g);
/* A zero Pad in front of 2-D convolutions into their padding (fold_pads.c). */
odet_status pass_fold_pads(ir_graph *g);
/* Cancel layout transposes: sink Transpose below elementwise ops with constant operands,
 * merge consecutive Transposes, drop identity ones (NHWC importers emit many). */
odet_status pass_fold_transposes(ir_graph *g);
/* The image input as uint8 pixels with the model's normalization in a PixelNorm node
 * (odet_build_opts.input_u8; input_u8.c). Run after the head is attached (g->info). */
odet_status pass_input_u8(ir_graph *g);
/* Regions of layout-agnostic ops (elementwise, reductions, Concat) between transposes flipped
 * to the layout of the transposes around them when that removes transposed elements, so
 * the pairs cancel (NHWC graphs around NCHW convs: hard-swish, residual Adds, squeeze-excite;
 * cancel_transposes.c). */
odet_status pass_cancel_transposes(ir_graph *g);
/* Remove nodes whose outputs nobody uses, Identity nodes, and unused values. */
odet_status pass_eliminate_dead(ir_graph *g);

/* fp16 precision (CUDA): float32 activations and float constants of the network become
 * float16; graph inputs and outputs stay float32 behind Cast nodes; detection-head ops
 * (domain odet) and the nodes named in keep (n names) stay float32, with Casts where the
 * precision changes. Unknown names in keep are an error. */
odet_status pass_precision_fp16(ir_graph *g, const char *const *keep, int n_keep);

/* NHWC layout for 4-D Conv / MaxPool / AveragePool (attribute odet_nhwc, see layout.c):
 * explicit Transposes only where the layout changes. For CUDA fp16 engines. */
odet_status pass_layout_nhwc(ir_graph *g);
/* Sibling head convs (same NHWC input and geometry, outputs only transposed back to NCHW) into
 * one conv whose channel halves are Slices (see merge_convs.c). CUDA float16 engines. */
odet_status pass_merge_sibling_convs(ir_graph *g);
/* A Concat fed by chains of Transpose/Reshape views (and followed by a Cast between float
 * types) becomes one PermuteConcat reading the chains' sources (see fuse_concat_views.c). */
odet_status pass_fuse_concat_views(ir_graph *g);
odet_status pass_fuse_scores_nms(ir_graph *g); /* ClassScores into its BatchedNms (fuse_scores_nms.c) */
/* Move the asymmetric part of 2-D Conv padding into explicit Pad nodes (cuDNN takes
 * symmetric pads only; TF's SAME padding at stride 2 is asymmetric). */
odet_status pass_symmetric_conv_pads(ir_graph *g);

/* Calibration and INT8 (quantize.c): taps = every Conv input's float origin appended to the
 * graph outputs (*n_taps of them); pass_quantize rewrites calibrated convs as QConv with
 * QuantizeLinear in front where needed (*n_quantized convs); the nodes named in keep stay. */
struct quant_table;
odet_status pass_calib_taps(ir_graph *g, int *n_taps);
odet_status pass_quantize(ir_graph *g, const struct quant_table *t, const char *const *keep, int n_keep,
			  int *n_quantized);
/* The same in FP8 E4M3 (CUDA fp8 engines; per-tensor scales, see quantize.c). */
odet_status pass_quantize_fp8(ir_graph *g, const struct quant_table *t, const char *const *keep, int n_keep,
			      int *n_quantized);

/* Per-layer sensitivity (quantize.c): every conv pass_quantize would quantize (fp32 graph)
 * gets a twin reading its input through QuantizeLinear(s = amax / 127) + Cast to float, with
 * weights fake-quantized per channel and scaled by s (the int8 layer's arithmetic in float);
 * the graph outputs become the pairs (conv output, twin output), *n_layers of them. */
odet_status pass_snr_taps(ir_graph *g, const struct quant_table *t, int *n_layers);

/* Explicitly quantized (QDQ) models (qdq.c): the count of QuantizeLinear/DequantizeLinear nodes;
 * for INT8 builds, the activation pairs removed with their scales put into t as amax = 127 s
 * (*n_pairs of them), weight codes left to constant folding; what odet cannot take as symmetric
 * INT8 is refused naming the node. */
int pass_qdq_count(const ir_graph *g);
/* Every constant scale of those nodes positive and finite (else refused naming the node). */
odet_status pass_qdq_check(const ir_graph *g);
odet_status pass_qdq_strip(ir_graph *g, struct quant_table *t, int *n_pairs);

/* The default pipeline used by odet_engine_build. */
typedef struct pass_opts {
	int batch, input_h, input_w;
	ir_eval_fn eval;
	void *eval_user;
	int fuse;               /* 0 disables fold_batchnorm/fuse_conv (debugging) */
	unsigned skip;          /* ODET_PASS_* bits switched off (odet_build_opts.disable_passes) */
} pass_opts;
odet_status passes_run_default(ir_graph *g, const pass_opts *o);



#endif
