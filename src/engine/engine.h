/*
 * engine.h — internals of an odet engine (src/engine): the optimized graph, the backend's
 * per-node state, the static memory plan, and the exec context that runs it.
 *
 *   build.c      odet_engine_build: clone → passes → head → shape check → backend check
 *   memplan.c    lifetimes and greedy best-fit placement of every intermediate in one arena
 *   plan_*.c     plan files (docs/plan-format.md, plan_format.h): plan_write.c saves,
 *                plan.c loads (untrusted input), plan_graph.c reads the graph section
 *   exec.c       exec contexts: arena, per-node tensor descriptors, odet_exec_infer
 *   detections.c odet_detections_*, odet_exec_run (network + head outputs)
 *
 * Memory plan: every value that is not a constant (graph inputs, intermediates, graph
 * outputs) and every node's workspace has an offset in ONE arena per exec context. Graph
 * inputs are copied into the arena by the exec and outputs copied out of it, so kernels
 * only ever see arena or constant pointers. Time steps: 0 = graph inputs are written,
 * node i runs at step i + 1, step n_nodes + 1 = outputs are read. A value lives from the
 * step that defines it to the last step that reads it; a workspace lives for its node's
 * step only. Items whose lifetimes intersect never share bytes.
 */
#ifndef ODET_ENGINE_H
#define ODET_ENGINE_H

#include "backend/backend.h"

#define ENGINE_ALIGN 64

/* One item of the memory plan: a value or a node's workspace. */
typedef struct memplan_item {
	size_t size;        /* bytes (already rounded up to ENGINE_ALIGN) */
	int first, last;    /* lifetime in time steps, inclusive */
	size_t offset;      /* output of the planner */
} memplan_item;

/* Place items (greedy best-fit over sizes sorted descending, ENGINE_ALIGN-aligned offsets).
 * *arena_bytes = planned arena size; *naive_bytes = sum of all sizes. */
odet_status memplan_solve(odet_ctx *ctx, memplan_item *items, int n, size_t *arena_bytes,
			  size_t *naive_bytes);

typedef struct engine_plan {
	/* per value: arena offset or SIZE_MAX when the value is not in the arena (constants,
	 * values nobody uses) */
	size_t *value_offset;
	size_t *value_size;
	int *value_first, *value_last; /* lifetimes (time steps) of values in the arena */
	/* per node: workspace offset and size */
	size_t *ws_offset;
	size_t *ws_size;
	size_t arena_bytes;
	size_t naive_bytes;
} engine_plan;

struct odet_engine {
	odet_ctx *ctx;
	const odet_backend *be;
	odet_build_opts opts;       /* as built (head string not kept: see head_desc) */
	ir_graph *g;                /* optimized graph (owned); constants in host memory */
	void **state;               /* per node, from backend->prepare */
	void *be_state;             /* backend per-engine state (engine_state_create), made before
	                             * the first prepare, destroyed after the last release */
	bool *prepared;             /* per node: prepare succeeded (release needed) */
	engine_plan plan;
	bool has_head;              /* outputs follow src/heads/head.h */
	char *head_desc;            /* one line (may be NULL) */
	/* constants in backend memory (non-CPU backends): one block per engine, shared by
	 * every exec; const_off[v] = offset of constant value v or SIZE_MAX */
	void *const_dev;
	size_t *const_off;
	size_t const_bytes;
	uint32_t devinfo[3];        /* backend device_info at build/load (plans record it) */
	odet_tune_set tune;         /* tuned choices of its prepare (plan tuning section; a load
	                             * fills it from the plan before prepare) */
	/* statistics for odet build / inspect */
	int nodes_before;           /* nodes of the imported graph (-1 if unknown: loaded plan) */
	double build_seconds;
};

struct odet_exec {
	odet_engine *e;
	void *arena;                /* backend memory of plan.arena_bytes */
	void *stream;
	/* per node: tensor descriptors of inputs and outputs, bound to arena or constant data */
	odet_tensor **in, **out;
	odet_tensor *tensors;       /* storage of all descriptors */
	void *exec_ctx;             /* backend per-exec state (library handles) */
	/* graph replay: the node sequence is captured on the second run (the first one warms
	 * up libraries that load kernels lazily) and replayed afterwards; a failed capture
	 * is reported once and the exec keeps running node by node */
	void *graph;
	int runs;
	bool graph_failed;
	bool no_graph;              /* set by callers (bench --no-graph, profiling) */
	/* odet_exec_submit / _wait (exec_async.c): timing events (made at the first submit on
	 * backends with events), whether a batch is in flight, the host time of a synchronous
	 * one (backends without events) */
	void *ev[4];
	bool inflight;
	float host_ms;
};

/* Nodes kept in float (keep.c): keep_fp32 + layer_precision entries (every one when
 * quantize, else those asking fp32) + with quantize the keep_sensitive lowest-SNR layers of t
 * (refused when t has no SNR). Names point into o and t. */
typedef struct engine_keep {
	const char **names;
	int n;
} engine_keep;
struct quant_table;
odet_status engine_check_layer_opts(odet_ctx *ctx, const odet_build_opts *o, bool qdq);
/* Every layer_precision node exists in g (refused naming the first that does not). */
odet_status engine_check_layer_names(odet_ctx *ctx, const ir_graph *g, const odet_build_opts *o);
odet_status engine_keep_list(odet_ctx *ctx, const odet_build_opts *o, bool quantize, const struct quant_table *t,
			     engine_keep *out);
void engine_keep_free(engine_keep *k);
/* keep_sensitive's layers (the lowest-SNR entries of t) that g has no live node of (a build with
 * other passes or another backend than the calibration's names layers otherwise): one warning
 * naming them; they are skipped. */
void engine_keep_warn_missing(odet_ctx *ctx, const ir_graph *g, const odet_build_opts *o, const struct quant_table *t);
/* Calibrated INT8 on CUDA: every convolution of g reading fewer than min_c input channels joins
 * k (stays in float). cuDNN's INT8 engines lose on such thin inputs: SSD300-R50's stem (3
 * channels padded to 4) took 2.0 ms of a 7.4 ms INT8 batch of 64 on the H100 (BENCHMARKS.md). */
odet_status engine_keep_thin(odet_ctx *ctx, const ir_graph *g, int min_c, engine_keep *k);

/* Run the fp32 engine e (one float32 image input; mi = its preprocessing) over images in batches
 * of its batch size, each image decoded and letterboxed as odet detect does, the slots of a
 * last, partial batch filled with its first image. After each batch on_batch(user, outs, images,
 * next): outs[i] a host copy of output i (any dtype), images the real images in the batch (its
 * first slots), next how many of the list are consumed. An unreadable image is skipped: warned
 * about and counted in *failed, or silently when failed is NULL. Shared by odet_calibrate's range
 * pass and calib_snr. */
typedef odet_status (*calib_batch_fn)(void *user, const odet_tensor *outs, int images, int64_t next);
odet_status calib_run_images(odet_ctx *ctx, odet_engine *e, const odet_model_info *mi, const char *const *images,
			     int64_t n_images, int64_t *failed, calib_batch_fn on_batch, void *user);
/* engine_build_taps with the per-layer SNR taps instead (pass_snr_taps with table t, no head):
 * the outputs are *n_layers pairs (conv output, its int8 twin's). */
odet_status engine_build_snr(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			     const odet_backend *be, const struct quant_table *t, int *n_layers, odet_engine **out);
/* The per-layer SNR pass of odet_calibrate (calib_snr.c): t's ranges in, its snr entries out
 * (sorted lowest first); mi = the model's preprocessing. */
odet_status calib_snr(odet_ctx *ctx, const odet_graph *g, const odet_calib_opts *opts, const odet_backend *be,
		      const odet_model_info *mi, const char *const *images, int64_t n_images, struct quant_table *t);
/* engine_build_with for calibration: every Conv input's float origin becomes an extra output
 * (passes/quantize.c), the last *n_taps outputs. */
odet_status engine_build_taps(odet_ctx *ctx, const odet_graph *src, const odet_build_opts *opts,
			      const odet_backend *be, int *n_taps, odet_engine **out);
/* Select the backend for a build/load; error when the requested one is unavailable. */
odet_status engine_backend_select(odet_ctx *ctx, odet_backend_kind kind, const odet_backend **out);
/* Build with an explicit backend (tests supply their own kernels through it); passes =
 * false skips the graph passes (the graph is used as given, shapes must be complete). */
odet_status engine_build_with(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *opts,
			      const odet_backend *be, bool passes, odet_engine **out);
/* Load a plan from memory with an explicit backend (NULL = the plan's backend kind).
 * label names the file in error messages. */
odet_status engine_load_buffer(odet_ctx *ctx, const void *data, size_t size, const char *label,
			       const odet_backend *be, odet_engine **out);
/* Serialize to a malloc'ed buffer (what odet_engine_save writes). */
odet_status engine_save_buffer(const odet_engine *e, void **data, size_t *size);

/* Shared by build and load: every value's shape known, backend check + prepare for every
 * node, memory plan. On failure the engine keeps what must be released. */
odet_status engine_finalize(odet_engine *e);
/* Memory plan of e->g (memplan.c). */
odet_status engine_plan_memory(odet_engine *e);
void engine_plan_free(engine_plan *p);
/* Whether the graph outputs are the four of head.h (det_count, det_boxes, det_scores,
 * det_classes) with consistent dtypes and shapes. */
bool engine_outputs_are_head(const ir_graph *g);
/* Pointer to an output's bytes after a run: arena or constant data. */
const void *exec_value_ptr(const odet_exec *x, int value);
/* Run every node of the engine (inputs already in the arena): graph replay when the
 * backend captures graphs, node by node otherwise. Nothing is synchronized. */
odet_status exec_run_nodes(odet_exec *x);
/* Upload the inputs (as checked by a previous exec_enqueue with them), then run the nodes
 * one by one with a timing event after each (backends with events); ms[i] = GPU time of
 * node i. Synchronizes. */
odet_status exec_profile_nodes(odet_exec *x, const odet_tensor *inputs, int n_inputs, float *ms);
/* odet_exec_infer without the final synchronization; ev (optional, 4 backend events)
 * are recorded before the input copies, after them, after the nodes and after the output
 * copies; the nodes wait for event `after` (optional; backends with event_wait) — another
 * exec context's "after the nodes" event orders the compute of the two while the copies
 * still overlap. Finish with e->be->stream_sync(ctx, x->stream). */
odet_status exec_enqueue(odet_exec *x, const odet_tensor *inputs, int n_inputs, odet_tensor *outputs,
			 int n_outputs, void *const ev[4], void *after);
/* Pipelines (src/pipeline) write the image input into the arena themselves, on x->stream:
 * exec_input_ptr = where input i lives (backend memory); exec_detections_check validates
 * out against the engine (a head, one input); exec_detections_enqueue runs the nodes and
 * copies the four head outputs into out (page-locked host memory lets the copies overlap)
 * without waiting; after the stream is synchronized exec_detections_clamp bounds counts. */
void *exec_input_ptr(odet_exec *x, int i);
odet_status exec_detections_check(odet_exec *x, const odet_detections *out);
odet_status exec_detections_enqueue(odet_exec *x, odet_detections *out);
void exec_detections_clamp(const odet_exec *x, odet_detections *out);
/* Wait for a submitted batch and destroy the timing events (odet_exec_destroy). */
void exec_async_release(odet_exec *x);
/* Upload the engine's constants to backend memory (non-CPU backends; build.c). */
odet_status engine_upload_constants(odet_engine *e);
/* Load with a device index (odet_engine_load). */
odet_status engine_load_buffer_dev(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   const odet_backend *be, int device, odet_engine **out);

#endif
