/*
 * build.c — odet_engine_build and what build and load share.
 *
 * Build: clone the graph; run the default passes (fix batch / input size, shape inference,
 * constant folding with the CPU backend as evaluator, BatchNorm folding, Conv fusion, dead
 * code); attach the detection head (a preset, a config file, or auto-recognition) and infer
 * shapes again; then engine_finalize: every value's shape must be known (static shapes are
 * what make a memory plan possible), the backend checks every node (an op it cannot run is
 * refused here, naming op, node and reason), prepares every node (packed weights, workspace
 * sizes), and the memory plan places everything in one arena (memplan.c).
 */
#include "engine/engine.h"
#include "heads/head.h"
#include "passes/passes.h"
#include "quant/quant.h"

#include <stdlib.h>
#include <string.h>


odet_build_opts odet_build_opts_default(void)
{
	odet_build_opts o;
	memset(&o, 0, sizeof o);
	o.backend = ODET_BACKEND_AUTO;
	o.device = 0;
	o.batch = 1;
	o.precision = ODET_PRECISION_FP32;
	return o;
}

odet_status engine_backend_select(odet_ctx *ctx, odet_backend_kind kind, const odet_backend **out)
{
	*out = NULL;
	switch (kind) {
	case ODET_BACKEND_AUTO: {
		/* CUDA when compiled in and a device answers (a 64-byte allocation succeeds);
		 * CPU otherwise */
		const odet_backend *cuda = odet_backend_cuda();
		void *probe = NULL;
		if (cuda && cuda->mem_alloc(ctx, 64, &probe) == ODET_OK) {
			cuda->mem_free(probe);
			*out = cuda;
			return ODET_OK;
		}
		if (cuda)
			odet_log(ctx, ODET_LOG_INFO, "no usable GPU: using the CPU backend");
		*out = odet_backend_cpu();
		return ODET_OK;
	}
	case ODET_BACKEND_CPU:
		*out = odet_backend_cpu();
		return ODET_OK;
	case ODET_BACKEND_CUDA:
		if (!odet_backend_cuda())
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "the CUDA backend is not available (odet built without CUDA)");
		*out = odet_backend_cuda();
		return ODET_OK;
	}
	return odet_error(ctx, ODET_ERR_INVALID_ARG, "unknown backend kind %d", (int)kind);
}

static odet_status eval_on_cpu(void *user, const ir_graph *g, const ir_node *n, const odet_tensor *in,
			       odet_tensor *out)
{
	(void)user;
	return be_eval_node(odet_backend_cpu(), g->ctx, g, n, in, out);
}

bool engine_outputs_are_head(const ir_graph *g)
{
	static const char *const names[ODET_HEAD_NUM_OUTPUTS] = {"det_count", "det_boxes",
								  "det_scores", "det_classes"};
	static const odet_dtype types[ODET_HEAD_NUM_OUTPUTS] = {ODET_I32, ODET_F32, ODET_F32, ODET_I32};
	static const int ranks[ODET_HEAD_NUM_OUTPUTS] = {1, 3, 2, 2};
	if (g->n_outputs != ODET_HEAD_NUM_OUTPUTS)
		return false;
	const ir_value *o[ODET_HEAD_NUM_OUTPUTS];
	for (int i = 0; i < ODET_HEAD_NUM_OUTPUTS; i++) {
		o[i] = &g->values[g->outputs[i]];
		if (strcmp(o[i]->name, names[i]) != 0 || o[i]->dtype != types[i] || o[i]->rank != ranks[i] ||
		    !ir_value_shape_known(o[i]))
			return false;
	}
	int64_t b = o[0]->dims[0], k = o[1]->dims[1];
	return o[1]->dims[0] == b && o[1]->dims[2] == 4 && o[2]->dims[0] == b && o[2]->dims[1] == k &&
	       o[3]->dims[0] == b && o[3]->dims[1] == k;
}

/* Data-dependent shapes: ops whose output shape is given by the values of these inputs. */
static int shape_input_of(ir_op op)
{
	switch (op) {
	case IR_OP_RESHAPE: case IR_OP_EXPAND: case IR_OP_TILE: case IR_OP_SLICE:
	case IR_OP_PAD: case IR_OP_RESIZE: case IR_OP_TOPK: case IR_OP_SPLIT:
	case IR_OP_SQUEEZE: case IR_OP_UNSQUEEZE:
		return 1;
	case IR_OP_CONSTANTOFSHAPE: case IR_OP_RANGE:
		return 0;
	default:
		return -1;
	}
}

static bool value_usable(const ir_value *v)
{
	return ir_value_shape_known(v) && odet_dtype_size(v->dtype) > 0;
}

/* Every value reachable by the nodes must have a known dtype and shape. */
static odet_status check_shapes(odet_ctx *ctx, const ir_graph *g)
{
	char buf[128];
	for (int i = 0; i < g->n_inputs; i++) {
		const ir_value *v = &g->values[g->inputs[i]];
		if (odet_dtype_size(v->dtype) == 0)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "graph input '%s': dtype %s is not supported",
					  v->name, odet_dtype_name(v->dtype));
		if (!ir_value_shape_known(v))
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "graph input '%s' has unknown dims %s: fix them with the batch / input size options",
					  v->name, ir_shape_str(v, buf, sizeof buf));
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++) {
			const ir_value *v = ir_in(g, n, k);
			if (v && v->kind == IR_VALUE_CONST && odet_dtype_size(v->dtype) == 0)
				return odet_error(ctx, ODET_ERR_UNSUPPORTED,
						  "node '%s' (%s): constant '%s' has dtype %s, which odet does not support",
						  n->name, ir_op_name(n->op), v->name, odet_dtype_name(v->dtype));
		}
		for (int k = 0; k < n->n_out; k++) {
			const ir_value *v = ir_out(g, n, k);
			if (!v || value_usable(v))
				continue;
			if (v->kind != IR_VALUE_CONST && odet_dtype_size(v->dtype) == 0 && v->dtype != ODET_DTYPE_UNDEFINED)
				return odet_error(ctx, ODET_ERR_UNSUPPORTED,
						  "value '%s' (output of node '%s', %s): dtype %s is not supported",
						  v->name, n->name, ir_op_name(n->op), odet_dtype_name(v->dtype));
			int si = shape_input_of(n->op);
			const ir_value *sv = si >= 0 ? ir_in(g, n, si) : NULL;
			if (sv && sv->kind != IR_VALUE_CONST)
				return odet_error(ctx, ODET_ERR_UNSUPPORTED,
						  "value '%s' (output of node '%s', %s) has unknown shape %s: it depends on "
						  "data computed at run time (input '%s' is not constant); odet needs static shapes",
						  v->name, n->name, ir_op_name(n->op), ir_shape_str(v, buf, sizeof buf),
						  sv->name);
			if (!ir_shape_fn_of(n->op))
				return odet_error(ctx, ODET_ERR_UNSUPPORTED,
						  "value '%s' (output of node '%s'): op %s has no shape function",
						  v->name, n->name, ir_op_name(n->op));
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "value '%s' (output of node '%s', %s) has unknown %s %s after shape inference",
					  v->name, n->name, ir_op_name(n->op),
					  v->dtype == ODET_DTYPE_UNDEFINED ? "dtype" : "shape",
					  ir_shape_str(v, buf, sizeof buf));
		}
	}
	return ODET_OK;
}

/* Structural sanity shared by build and load: indices in range, one producer per value,
 * producers before consumers. Cheap, and it keeps the planner and exec safe. */
static odet_status check_structure(odet_ctx *ctx, const ir_graph *g)
{
	for (int i = 0; i < g->n_inputs; i++)
		if (g->inputs[i] < 0 || g->inputs[i] >= g->n_values ||
		    g->values[g->inputs[i]].kind != IR_VALUE_INPUT)
			return odet_error(ctx, ODET_ERR_INTERNAL, "graph input %d is not an input value", i);
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v < -1 || v >= g->n_values)
				return odet_error(ctx, ODET_ERR_INTERNAL, "node '%s': input %d out of range", n->name, k);
			if (v >= 0 && g->values[v].kind == IR_VALUE_INTERMEDIATE &&
			    (g->values[v].producer < 0 || g->values[v].producer >= i))
				return odet_error(ctx, ODET_ERR_BAD_INPUT,
						  "node '%s' (%s): input '%s' is not produced by an earlier node",
						  n->name, ir_op_name(n->op), g->values[v].name);
			if (v >= 0 && g->values[v].kind == IR_VALUE_INPUT) {
				bool listed = false;
				for (int j = 0; j < g->n_inputs && !listed; j++)
					listed = g->inputs[j] == v;
				if (!listed)
					return odet_error(ctx, ODET_ERR_BAD_INPUT,
							  "node '%s' (%s): input '%s' is marked as a graph input but not listed",
							  n->name, ir_op_name(n->op), g->values[v].name);
			}
		}
		for (int k = 0; k < n->n_out; k++) {
			int v = n->out[k];
			if (v < 0 || v >= g->n_values || g->values[v].producer != i)
				return odet_error(ctx, ODET_ERR_INTERNAL, "node '%s': output %d inconsistent", n->name, k);
		}
	}
	for (int i = 0; i < g->n_outputs; i++) {
		const ir_value *v = &g->values[g->outputs[i]];
		if (v->kind == IR_VALUE_INTERMEDIATE && v->producer < 0)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "graph output '%s' is never produced",
					  v->name);
	}
	return ODET_OK;
}

/* The context's environment overrides (odet_env_build, read at odet_ctx_create) on the
 * options of a build or a plan load. */
static void apply_env(const odet_ctx *ctx, odet_build_opts *o)
{
	const odet_env_build *b = &ctx->env_build;
	if (b->conv_path != ODET_ENV_UNSET)
		o->conv_path = (odet_conv_path)b->conv_path;
	if (b->conv_candidates != ODET_ENV_UNSET)
		o->conv_candidates = b->conv_candidates;
	if (b->nms_sort != ODET_ENV_UNSET)
		o->nms_sort = (odet_nms_sort)b->nms_sort;
	if (b->stem_pad != ODET_ENV_UNSET)
		o->stem_pad = b->stem_pad;
}

odet_status engine_finalize(odet_engine *e)
{
	odet_ctx *ctx = e->ctx;
	ir_graph *g = e->g;
	int nn = g->n_nodes;
	apply_env(ctx, &e->opts);
	g->build = &e->opts;
	odet_status rc = check_structure(ctx, g);
	if (rc)
		return rc;
	rc = check_shapes(ctx, g);
	if (rc)
		return rc;
	for (int i = 0; i < nn; i++) {
		rc = e->be->check(ctx, g, &g->nodes[i]);
		if (rc)
			return rc;
	}
	e->state = odet_calloc(ctx, (size_t)nn + 1, sizeof(void *));
	e->prepared = odet_calloc(ctx, (size_t)nn + 1, sizeof(bool));
	e->plan.ws_size = odet_calloc(ctx, (size_t)nn + 1, sizeof(size_t));
	if (!e->state || !e->prepared || !e->plan.ws_size)
		return ODET_ERR_NO_MEMORY;
	if (e->be->engine_state_create && !e->be_state && (rc = e->be->engine_state_create(ctx, &e->be_state)))
		return rc;
	g->be_state = e->be_state;
	g->tune = &e->tune;
	for (int i = 0; i < nn; i++) {
		rc = e->be->prepare(ctx, g, &g->nodes[i], &e->state[i], &e->plan.ws_size[i]);
		if (rc)
			return rc;
		e->prepared[i] = true;
		if (e->opts.progress)
			e->opts.progress(e->opts.progress_user, i + 1, nn, g->nodes[i].name);
	}
	if (e->be->engine_state_prepared && e->be_state)
		e->be->engine_state_prepared(ctx, e->be_state);
	if ((rc = engine_upload_constants(e)))
		return rc;
	return engine_plan_memory(e);
}

odet_status engine_upload_constants(odet_engine *e)
{
	const ir_graph *g = e->g;
	odet_ctx *ctx = e->ctx;
	if (e->be->kind == ODET_BACKEND_CPU)
		return ODET_OK;
	e->const_off = odet_calloc(ctx, (size_t)g->n_values + 1, sizeof *e->const_off);
	if (!e->const_off)
		return ODET_ERR_NO_MEMORY;
	for (int v = 0; v < g->n_values; v++)
		e->const_off[v] = SIZE_MAX;
	/* constants read by a node or returned as an output, 256-byte aligned */
	size_t total = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v < 0 || g->values[v].kind != IR_VALUE_CONST || e->const_off[v] != SIZE_MAX)
				continue;
			e->const_off[v] = total;
			size_t sz = (g->values[v].nbytes + 255) & ~(size_t)255;
			if (!odet_add_size(total, sz, &total))
				return odet_error(ctx, ODET_ERR_LIMIT, "constants overflow size_t");
		}
	}
	e->const_bytes = total;
	if (!total)
		return ODET_OK;
	odet_status rc = e->be->mem_alloc(ctx, total, &e->const_dev);
	if (rc)
		return rc;
	for (int v = 0; v < g->n_values; v++)
		if (e->const_off[v] != SIZE_MAX && g->values[v].nbytes &&
		    (rc = e->be->copy_to(ctx, (char *)e->const_dev + e->const_off[v], g->values[v].data,
					 g->values[v].nbytes, NULL)))
			return rc;
	odet_log(ctx, ODET_LOG_INFO, "constants: %zu bytes uploaded once to %s memory", total, e->be->name);
	return ODET_OK;
}

void odet_engine_destroy(odet_engine *e)
{
	if (!e)
		return;
	if (e->g && e->prepared)
		for (int i = 0; i < e->g->n_nodes; i++)
			if (e->prepared[i])
				e->be->release(&e->g->nodes[i], e->state[i]);
	if (e->be_state && e->be->engine_state_destroy)
		e->be->engine_state_destroy(e->be_state);
	if (e->const_dev)
		e->be->mem_free(e->const_dev);
	free(e->const_off);
	free(e->state);
	free(e->prepared);
	engine_plan_free(&e->plan);
	odet_tune_set_free(&e->tune);
	ir_graph_free(e->g);
	free(e->head_desc);
	free(e);
}

/* The batch given to the passes: a symbolic batch takes opts->batch; a model with a fixed
 * batch keeps it unless a batch other than the default 1 was asked for (the passes then
 * report the conflict). */
static int batch_for_passes(const ir_graph *g, int batch)
{
	for (int i = 0; i < g->n_inputs; i++) {
		const ir_value *v = &g->values[g->inputs[i]];
		if (v->rank < 0 || (v->rank >= 1 && v->dims[0] < 0))
			return batch;
	}
	return batch != 1 ? batch : 0;
}

static odet_status run_passes(odet_ctx *ctx, ir_graph *g, const odet_build_opts *o)
{
	pass_opts po = {
		.batch = batch_for_passes(g, o->batch), .input_h = o->input_h, .input_w = o->input_w,
		.eval = eval_on_cpu, .eval_user = NULL, .fuse = 1, .skip = o->disable_passes,
	};
	return passes_run_default(g, &po);
}

static odet_status attach_head(odet_ctx *ctx, odet_engine *e, const odet_build_opts *o)
{
	ir_graph *g = e->g;
	if (o->no_head)
		return ODET_OK;
	odet_status rc = odet_head_attach(ctx, g, o->head);
	if (rc)
		return rc;
	if (!g->head)
		return ODET_OK;
	if ((rc = pass_infer_shapes(g)))
		return rc;
	if (!engine_outputs_are_head(g))
		return odet_error(ctx, ODET_ERR_INTERNAL,
				  "the attached head's outputs do not follow heads/head.h");
	e->has_head = true;
	const char *d = odet_head_describe(g);
	if (d && !(e->head_desc = odet_strdup(ctx, d)))
		return ODET_ERR_NO_MEMORY;
	return ODET_OK;
}

static odet_status check_opts(odet_ctx *ctx, const odet_build_opts *o, const odet_backend *be, int n_qdq)
{
	if (o->batch < 1 || o->batch > 65536)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "batch %d out of range 1..65536", o->batch);
	if (o->input_h < 0 || o->input_w < 0 || o->input_h > 65536 || o->input_w > 65536)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "input size %dx%d out of range", o->input_h,
				  o->input_w);
	if (o->input_u8 != 0 && o->input_u8 != 1)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "input_u8 %d: 0 or 1", o->input_u8);
	const char *pn = o->precision == ODET_PRECISION_FP16  ? "fp16"
			 : o->precision == ODET_PRECISION_INT8 ? "int8"
			 : o->precision == ODET_PRECISION_FP8  ? "fp8"
			 : o->precision == ODET_PRECISION_BF16 ? "bf16"
							       : NULL;
	if (o->precision != ODET_PRECISION_FP32 && !pn)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "precision %d unknown", (int)o->precision);
	/* the CPU backend has int8 (oneDNN, or the exact reference) and fp8 (the exact reference of
	 * CUDA's FP8, slow); no fp16 */
	if (o->precision == ODET_PRECISION_FP16 && be->kind == ODET_BACKEND_CPU)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "precision %s: the CPU backend has no %s kernels", pn, pn);
	if (o->precision == ODET_PRECISION_BF16 && be->kind != ODET_BACKEND_CPU)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "precision bf16: only the CPU backend has bf16 kernels "
				  "(on the GPU: fp16)");
	/* an explicitly quantized model: its own scales; CUDA runs its pairs only as INT8 */
	if (n_qdq && be->kind == ODET_BACKEND_CUDA && o->precision != ODET_PRECISION_INT8)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "the model is explicitly quantized (%d QuantizeLinear/DequantizeLinear nodes): on CUDA build "
				  "it with precision int8 (it then runs as its scales say), or on the CPU backend",
				  n_qdq);
	if (n_qdq && o->precision == ODET_PRECISION_INT8 && o->calib_cache && *o->calib_cache)
		odet_log(ctx, ODET_LOG_WARN, "%s: not used: the model is explicitly quantized and brings its own scales",
			 o->calib_cache);
	if (o->disable_passes & ~(unsigned)(ODET_PASS_FOLD_CONSTANTS | ODET_PASS_FOLD_BATCHNORM | ODET_PASS_FUSE_CONV |
					    ODET_PASS_LAYOUT | ODET_PASS_FUSE_HEAD))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "disable_passes 0x%x: unknown bits", o->disable_passes);
	const bool quantized = o->precision == ODET_PRECISION_INT8 || o->precision == ODET_PRECISION_FP8;
	if ((o->disable_passes & ODET_PASS_LAYOUT) && quantized && be->kind == ODET_BACKEND_CUDA)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "precision %s on CUDA needs the NHWC layout pass "
				  "(ODET_PASS_LAYOUT cannot be off)", pn);
	odet_status rc = engine_check_layer_opts(ctx, o, n_qdq > 0);
	if (rc)
		return rc;
	if (!n_qdq && quantized && (!o->calib_cache || !*o->calib_cache))
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "precision %s needs a calibration cache of this model (odet calibrate MODEL IMAGES... -o FILE, "
				  "then --calib FILE)", pn);
	return ODET_OK;
}

/* bf16 (CPU): every Conv not named in keep_fp32 carries odet_bf16 = 1; the CPU Conv then runs
 * bf16 inputs and weights with fp32 accumulation and output (backend/cpu/conv.c). */
static odet_status mark_bf16(ir_graph *g, const odet_build_opts *o)
{
	int marked = 0;
	for (int k = 0; k < g->n_nodes; k++) {
		const ir_node *n = &g->nodes[k];
		if (n->dead || n->op != IR_OP_CONV)
			continue;
		bool keep = false;
		for (int i = 0; i < o->n_keep_fp32 && !keep; i++)
			keep = o->keep_fp32[i] && n->name && !strcmp(o->keep_fp32[i], n->name);
		if (keep)
			continue;
		odet_status rc = ir_attr_set_int(g, k, "odet_bf16", 1);
		if (rc)
			return rc;
		marked++;
	}
	odet_log(g->ctx, ODET_LOG_INFO, "precision bf16: %d convolutions in bf16", marked);
	return ODET_OK;
}

/* INT8: the scales of an explicitly quantized model (qdq: pass_qdq_strip's table) or the
 * calibration cache of src (its hash), then pass_quantize. Calibrated builds leave convolutions
 * of fewer than min_c input channels in float (engine_keep_thin); a QDQ model is run as its
 * scales say. FP8 (o->precision): the cache's ranges, pass_quantize_fp8. */
static odet_status quantize(odet_ctx *ctx, const odet_graph *src, ir_graph *g, const odet_build_opts *o,
			    const quant_table *qdq, int min_c)
{
	engine_keep keep;
	if (qdq) {
		int n = 0;
		odet_status rc = engine_keep_list(ctx, o, true, NULL, &keep);
		if (rc)
			return rc;
		rc = pass_quantize(g, qdq, keep.names, keep.n, &n);
		engine_keep_free(&keep);
		if (!rc)
			odet_log(ctx, n ? ODET_LOG_INFO : ODET_LOG_WARN,
				 "explicit quantization: %d tensor scales from the model, %d convolutions in INT8", qdq->n, n);
		return rc;
	}
	quant_table t;
	odet_status rc = quant_table_load(ctx, o->calib_cache, &t);
	if (rc)
		return rc;
	uint64_t h = quant_graph_hash(src);
	if (t.model_hash != h) {
		rc = odet_error(ctx, ODET_ERR_MISMATCH,
				"%s: calibration cache of another model (its model hash %016llx, this model's %016llx): "
				"calibrate this model again",
				o->calib_cache, (unsigned long long)t.model_hash, (unsigned long long)h);
		quant_table_free(&t);
		return rc;
	}
	int n = 0;
	if ((rc = engine_keep_list(ctx, o, true, &t, &keep)) ||
	    (min_c > 0 && (rc = engine_keep_thin(ctx, g, min_c, &keep)))) {
		engine_keep_free(&keep);
		quant_table_free(&t);
		return rc;
	}
	if (o->keep_sensitive > 0)
		engine_keep_warn_missing(ctx, g, o, &t);
	const bool fp8 = o->precision == ODET_PRECISION_FP8;
	rc = fp8 ? pass_quantize_fp8(g, &t, keep.names, keep.n, &n) : pass_quantize(g, &t, keep.names, keep.n, &n);
	engine_keep_free(&keep);
	if (!rc && n == 0)
		odet_log(ctx, ODET_LOG_WARN, "%s: no convolution could be quantized (none calibrated with C %% %d == 0 and "
			 "M %% %d == 0, group 1): the engine runs without %s", o->calib_cache, fp8 ? 16 : 4, fp8 ? 16 : 4,
			 fp8 ? "FP8" : "INT8");
	quant_table_free(&t);
	return rc;
}

static odet_status build_impl(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			      const odet_backend *be, bool passes, int *taps, const quant_table *snr, odet_engine **out);

odet_status engine_build_with(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			      const odet_backend *be, bool passes, odet_engine **out)
{
	return build_impl(ctx, src, opts, be, passes, NULL, NULL, out);
}

odet_status engine_build_taps(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			      const odet_backend *be, int *n_taps, odet_engine **out)
{
	*n_taps = 0;
	return build_impl(ctx, src, opts, be, true, n_taps, NULL, out);
}

odet_status engine_build_snr(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			     const odet_backend *be, const quant_table *t, int *n_layers, odet_engine **out)
{
	*n_layers = 0;
	odet_build_opts o = *opts;
	o.no_head = 1;
	return build_impl(ctx, src, &o, be, true, n_layers, t, out);
}

static odet_status build_impl(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			      const odet_backend *be, bool passes, int *taps, const quant_table *snr, odet_engine **out)
{
	if (!ctx || !src || !out || !be)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_engine_build: NULL argument");
	*out = NULL;
	odet_build_opts o = opts ? *opts : odet_build_opts_default();
	double t0 = odet_now_s();
	/* an imported model's QDQ pairs; a graph built without passes is a kernel test's, whose
	 * QuantizeLinear nodes are the ops under test */
	const int n_qdq = passes ? pass_qdq_count(src) : 0;
	odet_status rc = check_opts(ctx, &o, be, n_qdq);
	if (!rc && n_qdq)
		rc = pass_qdq_check(src);
	if (rc)
		return rc;
	quant_table qdq = {0};
	odet_engine *e = odet_calloc(ctx, 1, sizeof *e);
	if (!e)
		return ODET_ERR_NO_MEMORY;
	e->ctx = ctx;
	e->be = be;
	e->opts = o;
	e->opts.head = NULL;
	e->opts.backend = be->kind;
	apply_env(ctx, &e->opts);
	e->nodes_before = src->n_nodes;
	if ((rc = ir_graph_clone(src, &e->g)))
		goto out_destroy;
	e->g->ctx = ctx;
	e->g->build = &e->opts;
	if (o.verbose) {
		fprintf(stderr, "---- imported graph\n");
		odet_graph_print(e->g, stderr);
	}
	if (be->set_device && (rc = be->set_device(ctx, o.device)))
		goto out_destroy;
	if (be->device_info && (rc = be->device_info(ctx, o.device, e->devinfo)))
		goto out_destroy;
	int n_pairs = 0;
	if (n_qdq && o.precision == ODET_PRECISION_INT8 && (rc = pass_qdq_strip(e->g, &qdq, &n_pairs)))
		goto out_destroy;
	if (passes && (rc = run_passes(ctx, e->g, &o)))
		goto out_destroy;
	if ((rc = attach_head(ctx, e, &o)))
		goto out_destroy;
	if (o.input_u8 && (rc = pass_input_u8(e->g)))
		goto out_destroy;
	if (passes && be->kind == ODET_BACKEND_CUDA && (rc = pass_symmetric_conv_pads(e->g)))
		goto out_destroy;
	if (taps && (rc = snr ? pass_snr_taps(e->g, snr, taps) : pass_calib_taps(e->g, taps)))
		goto out_destroy;
	if ((rc = engine_check_layer_names(ctx, e->g, &o)))
		goto out_destroy;
	/* int8 / fp8 on CUDA: fp16 everywhere first, then the calibrated convolutions in INT8 / FP8 */
	const bool quantized = o.precision == ODET_PRECISION_INT8 || o.precision == ODET_PRECISION_FP8;
	const bool half = o.precision == ODET_PRECISION_FP16 || (quantized && be->kind == ODET_BACKEND_CUDA);
	if (half) {
		engine_keep keep;
		if (!(rc = engine_keep_list(ctx, &o, false, NULL, &keep)))
			rc = pass_precision_fp16(e->g, keep.names, keep.n);
		engine_keep_free(&keep);
		if (rc)
			goto out_destroy;
	}
	/* fp16 convolutions run on tensor cores fastest in NHWC (INT8 ones need it) */
	const unsigned skip = o.disable_passes;
	if (passes && be->kind == ODET_BACKEND_CUDA && half && !(skip & ODET_PASS_LAYOUT) && (rc = pass_layout_nhwc(e->g)))
		goto out_destroy;
	if (quantized && (rc = quantize(ctx, src, e->g, &o, n_qdq ? &qdq : NULL, be->kind == ODET_BACKEND_CUDA ? 16 : 0)))
		goto out_destroy;
	if (o.precision == ODET_PRECISION_BF16 && (rc = mark_bf16(e->g, &o)))
		goto out_destroy;
	if (passes && be->kind == ODET_BACKEND_CUDA && half && !(skip & ODET_PASS_FUSE_CONV) &&
	    (rc = pass_merge_sibling_convs(e->g)))
		goto out_destroy;
	/* the head's output views (layout transposes, reshapes) + Concat + Cast in one copy */
	if (passes && !(skip & ODET_PASS_FUSE_HEAD) && (rc = pass_fuse_concat_views(e->g)))
		goto out_destroy;
	if (passes && !(skip & ODET_PASS_FUSE_HEAD) && (rc = pass_fuse_scores_nms(e->g)))
		goto out_destroy;
	if (o.verbose) {
		fprintf(stderr, "---- optimized graph\n");
		odet_graph_print(e->g, stderr);
	}
	if ((rc = engine_finalize(e)))
		goto out_destroy;
	/* the batch the engine runs: dim 0 of the first input (a fixed batch may differ from
	 * the default option) */
	if (e->g->n_inputs > 0 && e->g->values[e->g->inputs[0]].rank >= 1 &&
	    e->g->values[e->g->inputs[0]].dims[0] >= 1 && e->g->values[e->g->inputs[0]].dims[0] <= 65536)
		e->opts.batch = (int)e->g->values[e->g->inputs[0]].dims[0];
	e->build_seconds = odet_now_s() - t0;
	odet_log(ctx, ODET_LOG_INFO, "engine built: %d nodes (%d imported), arena %zu bytes (naive %zu), %.3f s",
		 e->g->n_nodes, e->nodes_before, e->plan.arena_bytes, e->plan.naive_bytes, e->build_seconds);
	*out = e;
	quant_table_free(&qdq);
	return ODET_OK;
out_destroy:
	quant_table_free(&qdq);
	odet_engine_destroy(e);
	return rc;
}

odet_status odet_engine_build(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *opts,
			      odet_engine **out)
{
	const odet_backend *be;
	odet_status rc = engine_backend_select(ctx, opts ? opts->backend : ODET_BACKEND_AUTO, &be);
	if (rc)
		return rc;
	return engine_build_with(ctx, g, opts, be, true, out);
}

const odet_graph *odet_engine_graph(const odet_engine *e)
{
	return e ? e->g : NULL;
}

int odet_engine_num_inputs(const odet_engine *e)
{
	return e ? e->g->n_inputs : 0;
}

int odet_engine_num_outputs(const odet_engine *e)
{
	return e ? e->g->n_outputs : 0;
}

static odet_status value_info(const odet_engine *e, const int *list, int count, int i, const char *what,
			      const char **name, odet_tensor *info)
{
	if (!e || !info)
		return ODET_ERR_INVALID_ARG;
	if (i < 0 || i >= count)
		return odet_error(e->ctx, ODET_ERR_INVALID_ARG, "%s index %d out of range (engine has %d)",
				  what, i, count);
	const ir_value *v = &e->g->values[list[i]];
	memset(info, 0, sizeof *info);
	info->dtype = v->dtype;
	info->rank = v->rank;
	for (int k = 0; k < v->rank; k++)
		info->dims[k] = v->dims[k];
	info->data = NULL;
	info->device = -1;
	if (name)
		*name = v->name;
	return ODET_OK;
}

odet_status odet_engine_input_info(const odet_engine *e, int i, const char **name, odet_tensor *info)
{
	return value_info(e, e ? e->g->inputs : NULL, e ? e->g->n_inputs : 0, i, "input", name, info);
}

odet_status odet_engine_output_info(const odet_engine *e, int i, const char **name, odet_tensor *info)
{
	return value_info(e, e ? e->g->outputs : NULL, e ? e->g->n_outputs : 0, i, "output", name, info);
}
