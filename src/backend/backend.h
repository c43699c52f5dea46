/*
 * backend.h — the interface every backend implements (a table of function pointers).
 *
 * The engine (src/engine) owns the graph, the memory plan and the execution order; a
 * backend provides, per node, a check (refuse early), a prepare (pack weights, choose
 * algorithms, declare workspace bytes) and a run over materialized tensors, plus memory
 * and stream primitives. Backends never see ONNX, only the IR.
 */
#ifndef ODET_BACKEND_H
#define ODET_BACKEND_H

#include "graph/ir.h"

/* Everything a kernel needs to run one node. */
typedef struct be_run_args {
	odet_ctx *ctx;
	const ir_graph *g;
	const ir_node *node;
	void *state;               /* from prepare (may be NULL) */
	const odet_tensor *in;     /* n_in tensors; in[i].data == NULL for an omitted input */
	int n_in;
	odet_tensor *out;          /* n_out tensors, memory provided by the caller */
	int n_out;
	void *workspace;           /* prepare's workspace bytes, suitably aligned */
	size_t workspace_size;
	odet_threadpool *pool;     /* CPU threads */
	void *stream;              /* backend stream (cudaStream_t for CUDA; NULL on CPU) */
	void *exec_ctx;            /* backend per-exec state (CUDA: library handles); may be NULL */
} be_run_args;

/* One decoded image for the letterbox hook: interleaved RGB8 rows in backend memory, and
 * where it goes in the destination (io_letterbox_geom's rw, rh, px, py). */
typedef struct be_lbox_image {
	const uint8_t *rgb;
	int64_t pitch;          /* bytes from one row to the next (>= 3 * w) */
	int32_t w, h;           /* decoded size */
	int32_t rw, rh, px, py; /* resized size and offset inside the destination */
} be_lbox_image;

/* Letterbox a batch into an image input tensor, the CPU's io_letterbox rule for each image
 * (bilinear, half-pixel centres clamped at the borders; value = v * scale[c] + bias[c], the
 * pad v = fill). images: n descriptors in backend memory (n <= batch); slots n..batch-1 of
 * dst are filled with the pad value. dst: backend memory [batch, 3, H, W] (NCHW) or
 * [batch, H, W, 3] (NHWC), dtype F32, F16 or U8 (U8: rounded, clamped to 0..255). */
typedef struct be_lbox_args {
	const be_lbox_image *images;
	int n, batch;
	void *dst;
	odet_dtype dtype;
	odet_layout layout;
	int dst_h, dst_w;
	float scale[3], bias[3], fill;
} be_lbox_args;

/* One NV12 frame (8-bit 4:2:0 as NVDEC decodes it: a luma plane `y` and an interleaved U,V
 * plane `uv` of half the width and height, both `pitch` bytes a row) in backend memory, and
 * where it goes in the destination. Converted to RGB8 per pixel by be_nv12_rgb (backend/nv12.h),
 * then letterboxed as be_lbox_args says. */
typedef struct be_nv12_image {
	const uint8_t *y, *uv;
	int64_t pitch;
	int32_t w, h;           /* frame size (display area) */
	int32_t rw, rh, px, py; /* resized size and offset inside the destination */
	int32_t full_range;     /* 1: full (JPEG) range; 0: video range 16..235 */
} be_nv12_image;

typedef struct be_nv12_args {
	const be_nv12_image *images;
	int n, batch;
	void *dst;
	odet_dtype dtype;
	odet_layout layout;
	int dst_h, dst_w;
	float scale[3], bias[3], fill;
} be_nv12_args;

typedef struct odet_backend {
	const char *name;              /* "cpu", "cuda" */
	odet_backend_kind kind;
	/* ODET_OK if node n (shapes and dtypes known) can run here; otherwise
	 * ODET_ERR_UNSUPPORTED with a message naming node, op and reason. */
	odet_status (*check)(odet_ctx *ctx, const ir_graph *g, const ir_node *n);
	/* Per-node preparation at build/load time. *state may stay NULL; *workspace = bytes. */
	odet_status (*prepare)(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			       size_t *workspace);
	void (*release)(const ir_node *n, void *state);
	odet_status (*run)(const be_run_args *a);
	/* Memory in this backend's address space. */
	odet_status (*mem_alloc)(odet_ctx *ctx, size_t bytes, void **out);
	void (*mem_free)(void *p);
	/* Copies between host and backend memory, ordered on stream (NULL stream: synchronous). */
	odet_status (*copy_to)(odet_ctx *ctx, void *dst, const void *host_src, size_t bytes, void *stream);
	odet_status (*copy_from)(odet_ctx *ctx, void *host_dst, const void *src, size_t bytes, void *stream);
	odet_status (*stream_create)(odet_ctx *ctx, void **stream);
	void (*stream_destroy)(void *stream);
	odet_status (*stream_sync)(odet_ctx *ctx, void *stream);
	/* ---- optional hooks (NULL on the CPU backend, but for letterbox) */
	/* Make `device` current for this thread (build, load, exec creation, runs). */
	odet_status (*set_device)(odet_ctx *ctx, int device);
	/* Device description recorded in plans: info[0] = GPU architecture (major*10+minor),
	 * info[1] = runtime version (e.g. 13000), info[2] = library version (cuDNN, e.g. 91400). */
	odet_status (*device_info)(odet_ctx *ctx, int device, uint32_t info[3]);
	/* Per-exec state (library handles bound to stream), passed as be_run_args.exec_ctx;
	 * engine_state: the engine's (engine_state_create below; NULL when the backend has none). */
	odet_status (*exec_ctx_create)(odet_ctx *ctx, void *engine_state, void *stream, void **exec_ctx);
	void (*exec_ctx_destroy)(void *exec_ctx);
	/* Graph capture of everything enqueued on stream between begin and end; end returns
	 * an executable graph (or an error: the caller falls back to running the nodes). */
	odet_status (*capture_begin)(odet_ctx *ctx, void *stream);
	odet_status (*capture_end)(odet_ctx *ctx, void *stream, void **graph);
	odet_status (*graph_launch)(odet_ctx *ctx, void *graph, void *stream);
	void (*graph_destroy)(void *graph);
	/* Timing events on a stream (bench, --profile). */
	odet_status (*event_create)(odet_ctx *ctx, void **ev);
	void (*event_destroy)(void *ev);
	odet_status (*event_record)(odet_ctx *ctx, void *ev, void *stream);
	/* milliseconds between two recorded events (waits for `b`) */
	odet_status (*event_elapsed)(odet_ctx *ctx, void *a, void *b, float *ms);
	/* Page-locked host memory for fast asynchronous copies (bench, pipelines). */
	odet_status (*host_alloc)(odet_ctx *ctx, size_t bytes, void **out);
	void (*host_free)(void *p);
	/* Work enqueued on stream after this call waits for ev's last recording (pipelines:
	 * compute of one exec context ordered after another's); NULL when not supported. */
	odet_status (*event_wait)(odet_ctx *ctx, void *stream, void *ev);
	/* Image pipelines (src/pipeline): letterbox decoded images into an engine input on
	 * stream (be_lbox_args); nothing is allocated and the host does not wait. */
	odet_status (*letterbox)(odet_ctx *ctx, const be_lbox_args *a, void *stream);
	/* Number of devices this backend can run on (0 when none answers). */
	int (*device_count)(void);
	/* Video (NVDEC frames): NV12 → RGB → letterbox in one pass (be_nv12_args), as letterbox;
	 * NULL when the backend has none. */
	odet_status (*letterbox_nv12)(odet_ctx *ctx, const be_nv12_args *a, void *stream);
	/* Per-engine state (CUDA: the library handles prepare uses while building or loading),
	 * made before the first prepare and destroyed after the last release; prepare finds it
	 * as g->be_state. NULL when the backend has none. */
	odet_status (*engine_state_create)(odet_ctx *ctx, void **state);
	void (*engine_state_destroy)(void *state);
	/* After the last node of a build or load is prepared (CUDA: logs what tuning cost, info
	 * level). NULL when the backend has nothing to say. */
	void (*engine_state_prepared)(odet_ctx *ctx, void *state);
} odet_backend;

/* The CPU backend: always present, the reference for every other backend. */
const odet_backend *odet_backend_cpu(void);

#ifdef ODET_HAVE_CUDA
const odet_backend *odet_backend_cuda(void);
#else
static inline const odet_backend *odet_backend_cuda(void) { return NULL; }
#endif

/* Evaluate one node on host tensors with a backend that runs in host memory (CPU):
 * check + prepare + run + release, workspace allocated here. Used by constant folding. */
odet_status be_eval_node(const odet_backend *be, odet_ctx *ctx, const ir_graph *g, const ir_node *n,
			 const odet_tensor *in, odet_tensor *out);

#endif
