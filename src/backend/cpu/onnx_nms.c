/*
 * onnx_nms.c — op OnnxNms on the CPU: refused with the reason. OnnxNms marks where the ONNX
 * importer cut a model's own NonMaxSuppression (ops.def); it never runs — the onnx-nms head
 * (src/heads/onnx_nms.c) replaces it by BatchedNms. It reaches a backend only when the engine
 * was built without a head (odet build --no-head, odet run MODEL.onnx without --head).
 */
#include "backend/cpu/cpu.h"

static odet_status onnx_nms_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	(void)g;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "node '%s': the model's own NonMaxSuppression has a data-dependent output and runs "
			  "only as odet's batched NMS head: build with the head (not --no-head; odet run: "
			  "--head onnx-nms)", n->name);
}

static odet_status onnx_nms_run(const be_run_args *a)
{
	return onnx_nms_check(a->ctx, a->g, a->node);
}

const cpu_kernel cpu_kernel_ONNX_NMS = {
	.check = onnx_nms_check,
	.run = onnx_nms_run,
};
