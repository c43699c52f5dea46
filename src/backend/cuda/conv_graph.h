/*
 * conv_graph.h — one fused convolution as a cuDNN backend-API operation graph (cuDNN >= 9.0,
 * API present in 9.14): y = act(conv(x, w) + b + r), fp16 NHWC tensors, fp32 accumulation and
 * epilogue. Used by conv.cu, which times the best plan found here against its legacy-API path
 * and keeps the faster. C++ (nvcc) only.
 *
 * Tuning: every engine configuration that cuDNN's heuristics (modes A and FALLBACK) propose
 * for the graph is finalized into an execution plan and timed on scratch buffers with CUDA
 * events; the fastest whose workspace fits the cap is kept. Non-deterministic engines, engines
 * that need reordered filters and repeats of an earlier candidate (same engine and knobs) are
 * skipped. Each plan's first call (warm-up) is timed too: a candidate whose warm-up took more
 * than twice the best mean so far, plus the largest one-time cost of a first call seen in the
 * build (warm-up minus mean), is not timed further. A warm-up bounds the candidate's own mean
 * from above, not from below (it adds lazy kernel loading and cold caches), so only the
 * margin makes it a safe reason to drop the candidate.
 * With the engine's state (desc.dev), a graph is made once per description: a convolution
 * identical to one already prepared in the engine (window, layout, dtypes, fusions,
 * activation parameters) shares its plan, neither tuned nor finalized again.
 */
#ifndef ODET_CUDA_CONV_GRAPH_H
#define ODET_CUDA_CONV_GRAPH_H

#include "backend/cuda/cuda_core.h"
#include "backend/cuda/window.h"

typedef struct conv_graph conv_graph; /* opaque: descriptors + the chosen plan */

typedef struct conv_graph_desc {
	const cuda_window *cw;
	bool nhwc;          /* activations NHWC, weights KRSC (else NCHW / KCRS) */
	bool has_bias, has_res;
	cuda_act act;
	/* INT8 (QConv, ops.def): x and w int8, int32 accumulation, then y = act(conv * S[m] + B[m]
	 * + R) with S a float32 [M] tensor, B float32, R of rdt, y of ydt (int8: rounded and
	 * saturated by cuDNN). false: everything fp16 as above. */
	bool int8;
	/* with int8: x and w FP8 E4M3 instead, float32 accumulation (y of ydt may be E4M3), and S
	 * one float32 scalar (the first element of the pointer given) */
	bool fp8;
	cudnnDataType_t ydt, rdt;
	const odet_build_opts *opts; /* the engine's kernel choices (conv_path, conv_candidates); may be NULL */
	/* the engine's build-time handle (cuda_dev_dnn), which the plans are finalized with and
	 * which outlives them; NULL: conv_graph_tune makes one of its own, kept with the plan (one
	 * handle a node: for callers not yet given the engine's) */
	cudnnHandle_t dnn;
	/* the engine's state (cuda_dev_of), or NULL: where plans are shared and tuning is counted */
	cuda_dev_state *dev;
} conv_graph_desc;

/* The operation graph can express this activation (ReLU, LeakyReLU, Clip, Sigmoid, none). */
bool conv_graph_supports(const conv_graph_desc *d);

/* A choice as a tuning cache keeps it: the candidate's position in the heuristics' list and
 * its engine's global index (checked when the choice is replayed). */
typedef struct conv_graph_choice {
	int cand;
	long long engine;
} conv_graph_choice;

/* Build and tune. x, w, b, r, y, ws: scratch device buffers of the right sizes (b / r may be
 * NULL when absent), ws of ws_cap bytes. With only == NULL every candidate is timed; with a
 * choice, only that candidate is finalized and checked (no timing, *ms = 0). On success *out
 * holds the plan, *ms its time (ms per call), *ws_need its workspace and *chosen the choice.
 * ODET_ERR_UNSUPPORTED: no engine runs the graph (the caller keeps its other path; the
 * message says why). */
odet_status conv_graph_tune(odet_ctx *ctx, const ir_node *n, const conv_graph_desc *d, void *x, void *w,
			    void *b, void *r, void *y, void *ws, size_t ws_cap, const conv_graph_choice *only,
			    conv_graph **out, float *ms, size_t *ws_need, conv_graph_choice *chosen);
/* conv_graph_tune for an int8 graph (d->int8), s: scratch scale [M] float32. */
odet_status conv_graph_tune_q(odet_ctx *ctx, const ir_node *n, const conv_graph_desc *d, void *x, void *w,
			      void *b, void *r, void *s, void *y, void *ws, size_t ws_cap,
			      const conv_graph_choice *only, conv_graph **out, float *ms, size_t *ws_need,
			      conv_graph_choice *chosen);

/* The tuning cache key of a convolution: "KIND DEVICE smXY cudnnV WHAT x.. k.. s.. d.. p.. gG bB rR aA"
 * followed by tail (every shape and fusion fact a choice depends on). False when it does not fit
 * or the device cannot be asked. */
bool conv_graph_key(const conv_graph_desc *gd, const char *kind, const char *what, int group, const char *tail,
		    char *key, size_t cap);

/* Enqueue on the stream of handle h (plans are valid for any handle of the same device). */
cudnnStatus_t conv_graph_run(const conv_graph *g, cudnnHandle_t h, const void *x, const void *w,
			     const void *b, const void *r, void *y, void *ws);
/* The same for an int8 graph, with its per-channel scale s. */
cudnnStatus_t conv_graph_run_q(const conv_graph *g, cudnnHandle_t h, const void *x, const void *w,
			       const void *b, const void *r, const void *s, void *y, void *ws);

/* Engine description of the chosen plan for logs ("engine 12, 3 knobs"). */
const char *conv_graph_name(const conv_graph *g);

/* Drop one reference (a graph may be shared by nodes and the engine's state); the last frees it. */
void conv_graph_free(conv_graph *g);

#endif
