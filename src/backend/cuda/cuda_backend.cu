/*
 * cuda_backend.cu — the CUDA backend's function table (backend.h) and per-op dispatch.
 *
 * Dispatch: one `cuda_kernel_<ID>` per op (weak, cuda.h); an op whose kernel is not linked
 * is refused at build time naming node and op. Memory: cudaMalloc'ed device memory (the
 * engine allocates one arena per exec and one constant block per engine). Copies are
 * cudaMemcpyAsync on the given stream (NULL stream: synchronous copy). Streams are
 * non-blocking streams of the current device. Library handles (cuda_handles.cu): one set per
 * engine for building, one per exec context bound to its stream (cuda_core.h). Graph capture
 * (stream capture, relaxed mode) and timing events for the engine's replay and bench.
 */
#include "backend/cuda/cuda_core.h"

#include <stdlib.h>
#include <string.h>

static const cuda_kernel *kernel_of(ir_op op)
{
	static const cuda_kernel *const table[IR_OP_COUNT] = {
#define OP(id, onnx, domain) &cuda_kernel_##id,
#include "graph/ops.def"
#undef OP
	};
	return (unsigned)op < IR_OP_COUNT ? table[op] : NULL;
}

static odet_status cu_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const cuda_kernel *k = kernel_of(n->op);
	if (!k || !k->run)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s has no CUDA kernel", n->name,
				  ir_op_name(n->op));
	for (int i = 0; i < n->n_out; i++) {
		const ir_value *v = ir_out(g, n, i);
		if (v && v->dtype == ODET_F64)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED,
					  "node '%s' (%s): output '%s' is float64, which the CUDA backend does not run",
					  n->name, ir_op_name(n->op), v->name);
	}
	return k->check ? k->check(ctx, g, n) : ODET_OK;
}

static odet_status cu_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			      size_t *workspace)
{
	const cuda_kernel *k = kernel_of(n->op);
	*state = NULL;
	*workspace = 0;
	return (k && k->prepare) ? k->prepare(ctx, g, n, state, workspace) : ODET_OK;
}

static void cu_release(const ir_node *n, void *state)
{
	const cuda_kernel *k = kernel_of(n->op);
	if (k && k->release && state)
		k->release(state);
}

static odet_status cu_run(const be_run_args *a)
{
	const cuda_kernel *k = kernel_of(a->node->op);
	if (!k || !k->run)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': no CUDA kernel", a->node->name);
	return k->run(a);
}

static odet_status cu_mem_alloc(odet_ctx *ctx, size_t bytes, void **out)
{
	*out = NULL;
	cudaError_t e = cudaMalloc(out, bytes ? bytes : 256);
	if (e != cudaSuccess) {
		cudaGetLastError();
		*out = NULL;
		return odet_error(ctx, e == cudaErrorMemoryAllocation ? ODET_ERR_NO_MEMORY : ODET_ERR_DEVICE,
				  "cudaMalloc(%zu bytes): %s", bytes, cudaGetErrorString(e));
	}
	return ODET_OK;
}

static void cu_mem_free(void *p)
{
	if (p)
		cudaFree(p);
}

static odet_status cu_copy(odet_ctx *ctx, void *dst, const void *src, size_t bytes, void *stream,
			   cudaMemcpyKind kind, const char *what)
{
	if (!bytes)
		return ODET_OK;
	cudaError_t e = stream ? cudaMemcpyAsync(dst, src, bytes, kind, (cudaStream_t)stream)
			       : cudaMemcpy(dst, src, bytes, kind);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "%s of %zu bytes: %s", what, bytes, cudaGetErrorString(e));
	return ODET_OK;
}

static odet_status cu_copy_to(odet_ctx *ctx, void *dst, const void *src, size_t bytes, void *stream)
{
	return cu_copy(ctx, dst, src, bytes, stream, cudaMemcpyHostToDevice, "host-to-device copy");
}

static odet_status cu_copy_from(odet_ctx *ctx, void *dst, const void *src, size_t bytes, void *stream)
{
	return cu_copy(ctx, dst, src, bytes, stream, cudaMemcpyDeviceToHost, "device-to-host copy");
}

static odet_status cu_stream_create(odet_ctx *ctx, void **stream)
{
	cudaStream_t s;
	cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "cudaStreamCreate: %s", cudaGetErrorString(e));
	*stream = s;
	return ODET_OK;
}

static void cu_stream_destroy(void *stream)
{
	if (stream)
		cudaStreamDestroy((cudaStream_t)stream);
}

static odet_status cu_stream_sync(odet_ctx *ctx, void *stream)
{
	cudaError_t e = cudaStreamSynchronize((cudaStream_t)stream);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "stream synchronize: %s", cudaGetErrorString(e));
	return ODET_OK;
}

static int cu_device_count(void)
{
	int n = 0;
	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		cudaGetLastError();
		return 0;
	}
	return n;
}

static odet_status cu_set_device(odet_ctx *ctx, int device)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess) {
		cudaGetLastError();
		return odet_error(ctx, ODET_ERR_DEVICE, "no CUDA device: %s", cudaGetErrorString(e));
	}
	if (device < 0 || device >= n)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "device %d: this machine has %d CUDA device(s)",
				  device, n);
	e = cudaSetDevice(device);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "cudaSetDevice(%d): %s", device, cudaGetErrorString(e));
	return ODET_OK;
}

static odet_status cu_device_info(odet_ctx *ctx, int device, uint32_t info[3])
{
	cudaDeviceProp p;
	cudaError_t e = cudaGetDeviceProperties(&p, device);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "device %d: %s", device, cudaGetErrorString(e));
	int rt = 0;
	cudaRuntimeGetVersion(&rt);
	info[0] = (uint32_t)(p.major * 10 + p.minor);
	info[1] = (uint32_t)rt;
	info[2] = (uint32_t)cudnnGetVersion();
	return ODET_OK;
}

static odet_status cu_capture_begin(odet_ctx *ctx, void *stream)
{
	cudaError_t e = cudaStreamBeginCapture((cudaStream_t)stream, cudaStreamCaptureModeThreadLocal);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "stream capture: %s", cudaGetErrorString(e));
	return ODET_OK;
}

static odet_status cu_capture_end(odet_ctx *ctx, void *stream, void **graph)
{
	*graph = NULL;
	cudaGraph_t gr = NULL;
	cudaError_t e = cudaStreamEndCapture((cudaStream_t)stream, &gr);
	if (e != cudaSuccess || !gr) {
		cudaGetLastError();
		if (gr)
			cudaGraphDestroy(gr);
		return odet_error(ctx, ODET_ERR_DEVICE, "end of stream capture: %s", cudaGetErrorString(e));
	}
	cudaGraphExec_t ex = NULL;
	e = cudaGraphInstantiate(&ex, gr, 0);
	cudaGraphDestroy(gr);
	if (e != cudaSuccess) {
		cudaGetLastError();
		return odet_error(ctx, ODET_ERR_DEVICE, "graph instantiate: %s", cudaGetErrorString(e));
	}
	*graph = ex;
	return ODET_OK;
}

static odet_status cu_graph_launch(odet_ctx *ctx, void *graph, void *stream)
{
	cudaError_t e = cudaGraphLaunch((cudaGraphExec_t)graph, (cudaStream_t)stream);
	if (e != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "graph launch: %s", cudaGetErrorString(e));
	return ODET_OK;
}

static void cu_graph_destroy(void *graph)
{
	if (graph)
		cudaGraphExecDestroy((cudaGraphExec_t)graph);
}

static odet_status cu_event_create(odet_ctx *ctx, void **ev)
{
	cudaEvent_t e;
	cudaError_t r = cudaEventCreate(&e);
	if (r != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "cudaEventCreate: %s", cudaGetErrorString(r));
	*ev = e;
	return ODET_OK;
}

static void cu_event_destroy(void *ev)
{
	if (ev)
		cudaEventDestroy((cudaEvent_t)ev);
}

static odet_status cu_event_record(odet_ctx *ctx, void *ev, void *stream)
{
	cudaError_t r = cudaEventRecord((cudaEvent_t)ev, (cudaStream_t)stream);
	if (r != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "cudaEventRecord: %s", cudaGetErrorString(r));
	return ODET_OK;
}

static odet_status cu_event_elapsed(odet_ctx *ctx, void *a, void *b, float *ms)
{
	cudaError_t r = cudaEventSynchronize((cudaEvent_t)b);
	if (r == cudaSuccess)
		r = cudaEventElapsedTime(ms, (cudaEvent_t)a, (cudaEvent_t)b);
	if (r != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "event timing: %s", cudaGetErrorString(r));
	return ODET_OK;
}

static odet_status cu_host_alloc(odet_ctx *ctx, size_t bytes, void **out)
{
	cudaError_t e = cudaMallocHost(out, bytes ? bytes : 64);
	if (e != cudaSuccess) {
		cudaGetLastError();
		*out = NULL;
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "cudaMallocHost(%zu bytes): %s", bytes, cudaGetErrorString(e));
	}
	return ODET_OK;
}

static void cu_host_free(void *p)
{
	if (p)
		cudaFreeHost(p);
}

static odet_status cu_event_wait(odet_ctx *ctx, void *stream, void *ev)
{
	cudaError_t r = cudaStreamWaitEvent((cudaStream_t)stream, (cudaEvent_t)ev, 0);
	if (r != cudaSuccess)
		return odet_error(ctx, ODET_ERR_DEVICE, "cudaStreamWaitEvent: %s", cudaGetErrorString(r));
	return ODET_OK;
}

static const odet_backend cuda_backend = {
	/* .name = */ "cuda",
	/* .kind = */ ODET_BACKEND_CUDA,
	/* .check = */ cu_check,
	/* .prepare = */ cu_prepare,
	/* .release = */ cu_release,
	/* .run = */ cu_run,
	/* .mem_alloc = */ cu_mem_alloc,
	/* .mem_free = */ cu_mem_free,
	/* .copy_to = */ cu_copy_to,
	/* .copy_from = */ cu_copy_from,
	/* .stream_create = */ cu_stream_create,
	/* .stream_destroy = */ cu_stream_destroy,
	/* .stream_sync = */ cu_stream_sync,
	/* .set_device = */ cu_set_device,
	/* .device_info = */ cu_device_info,
	/* .exec_ctx_create = */ cuda_exec_ctx_create,
	/* .exec_ctx_destroy = */ cuda_exec_ctx_destroy,
	/* .capture_begin = */ cu_capture_begin,
	/* .capture_end = */ cu_capture_end,
	/* .graph_launch = */ cu_graph_launch,
	/* .graph_destroy = */ cu_graph_destroy,
	/* .event_create = */ cu_event_create,
	/* .event_destroy = */ cu_event_destroy,
	/* .event_record = */ cu_event_record,
	/* .event_elapsed = */ cu_event_elapsed,
	/* .host_alloc = */ cu_host_alloc,
	/* .host_free = */ cu_host_free,
	/* .event_wait = */ cu_event_wait,
	/* .letterbox = */ cu_letterbox,
	/* .device_count = */ cu_device_count,
	/* .letterbox_nv12 = */ cu_letterbox_nv12,
	/* .engine_state_create = */ cuda_dev_state_create,
	/* .engine_state_destroy = */ cuda_dev_state_destroy,
	/* .engine_state_prepared = */ cuda_dev_state_prepared,
};

extern "C" const odet_backend *odet_backend_cuda(void)
{
	return &cuda_backend;
}
