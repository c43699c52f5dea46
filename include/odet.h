/*
 * odet.h — the whole public C API of odet, an object-detection inference engine.
 *
 *   model.onnx --odet_graph_load_onnx--> odet_graph --odet_engine_build--> odet_engine
 *   odet_engine --odet_engine_save--> model.plan --odet_engine_load--> odet_engine
 *   odet_engine --odet_exec_create--> odet_exec (one stream + arena) --odet_exec_*--> outputs
 *
 * Every fallible call returns odet_status; the context keeps a detailed message of the
 * last error (odet_ctx_last_error). The library never exits or aborts on bad input.
 *
 * Ownership: each object is freed by its _destroy / _free call (NULL is accepted) and must
 * outlive what was made from it: a context its graphs, engines and pipelines; an engine its
 * exec contexts. Strings and arrays an object hands out (names, descriptions, results) stay
 * valid while it lives, unless a call says otherwise; odet never frees what the caller owns.
 *
 * Threads: an engine is immutable once built or loaded and may be shared by any number of
 * threads, each running its own exec context (one exec context: one thread at a time, one
 * batch in flight). A context may be used by several threads at once for running exec
 * contexts and pipelines (its error message is then the last one written); build, load and
 * destroy objects from one thread at a time per context. Graphs, pipelines, COCO evaluators
 * and images: one thread at a time each. No global state: separate contexts are independent.
 */
#ifndef ODET_H
#define ODET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ODET_API marks every public declaration: libodet is built with hidden visibility
 * (-fvisibility=hidden), so only what this header declares with it is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define ODET_API __attribute__((visibility("default")))
#define ODET_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ODET_API
#define ODET_PRINTF(fmt, args)
#endif

#define ODET_VERSION_MAJOR 0
#define ODET_VERSION_MINOR 1
#define ODET_VERSION_PATCH 0

#define ODET_MAX_RANK 8

/* ---------------------------------------------------------------- status */

typedef enum odet_status {
	ODET_OK = 0,
	ODET_ERR_INVALID_ARG,   /* a caller passed something wrong (usage) */
	ODET_ERR_BAD_INPUT,     /* malformed model, plan, image, JSON, tensor file */
	ODET_ERR_UNSUPPORTED,   /* valid input odet cannot handle (op, attribute, dtype) */
	ODET_ERR_LIMIT,         /* input exceeds a configured limit (rank, size, pixels, depth) */
	ODET_ERR_MISMATCH,      /* plan built for another version / GPU / library */
	ODET_ERR_NO_MEMORY,
	ODET_ERR_IO,            /* file system or read/write failure */
	ODET_ERR_DEVICE,        /* CUDA / cuDNN / driver failure */
	ODET_ERR_INTERNAL,      /* a bug in odet */
	ODET_STATUS_COUNT
} odet_status;

/* Short fixed name of a status ("bad input"). */
ODET_API const char *odet_status_str(odet_status s);
/* CLI exit code for a status: 0 ok, 2 bad input or usage, 1 runtime failure. */
ODET_API int odet_status_exit_code(odet_status s);

/* ---------------------------------------------------------------- types */

/* Element types; the numbering equals ONNX TensorProto.DataType. */
typedef enum odet_dtype {
	ODET_DTYPE_UNDEFINED = 0,
	ODET_F32 = 1,
	ODET_U8 = 2,
	ODET_I8 = 3,
	ODET_U16 = 4,
	ODET_I16 = 5,
	ODET_I32 = 6,
	ODET_I64 = 7,
	ODET_STRING = 8,
	ODET_BOOL = 9,
	ODET_F16 = 10,
	ODET_F64 = 11,
	ODET_U32 = 12,
	ODET_U64 = 13,
	ODET_BF16 = 16,
	ODET_F8E4M3 = 17, /* OCP FP8 E4M3 (ONNX FLOAT8E4M3FN: no infinities, 0x7f/0xff NaN, max 448):
			   * the activations and weights of CUDA fp8 engines */
	ODET_DTYPE_MAX = 18
} odet_dtype;

/* Size in bytes of one element; 0 for undefined/string. */
ODET_API size_t odet_dtype_size(odet_dtype t);
ODET_API const char *odet_dtype_name(odet_dtype t);

/* A dense row-major tensor in host memory (device < 0) or on GPU `device`. */
typedef struct odet_tensor {
	odet_dtype dtype;
	int rank;
	int64_t dims[ODET_MAX_RANK];
	void *data;
	int device;
} odet_tensor;

/* Number of elements (1 for rank 0); -1 on overflow or a negative dim. */
ODET_API int64_t odet_tensor_numel(const odet_tensor *t);

/* ---------------------------------------------------------------- context */

typedef struct odet_ctx odet_ctx;       /* logger, allocator, thread pool, devices */
typedef struct odet_graph odet_graph;   /* an imported network */
typedef struct odet_engine odet_engine; /* built for one device; immutable; shared */
typedef struct odet_exec odet_exec;     /* one stream + arena; one batch in flight */

typedef enum odet_log_level {
	ODET_LOG_ERROR = 0,
	ODET_LOG_WARN = 1,
	ODET_LOG_INFO = 2,
	ODET_LOG_DEBUG = 3
} odet_log_level;

typedef void (*odet_log_fn)(void *user, odet_log_level level, const char *msg);

typedef struct odet_ctx_opts {
	int n_threads;              /* CPU threads; 0 = number of online cores */
	odet_log_level log_level;   /* messages above this level are dropped */
	odet_log_fn log_fn;         /* NULL = write to stderr */
	void *log_user;
	int64_t max_image_pixels;   /* decoder limit; default 2^28 */
	int max_json_depth;         /* JSON nesting limit; default 64 */
	/* File of timed kernel choices (CUDA: the convolution algorithm or fused cuDNN engine per
	 * shape, device and library version), read at build and plan load and appended to; NULL
	 * (default) = time every candidate at every build/load. The string is copied. The
	 * environment's ODET_TUNE_CACHE, when set, overrides it ("" or "none": no file). */
	const char *tune_cache;
} odet_ctx_opts;

ODET_API odet_ctx_opts odet_ctx_opts_default(void);
ODET_API odet_status odet_ctx_create(const odet_ctx_opts *opts, odet_ctx **out);
ODET_API void odet_ctx_destroy(odet_ctx *ctx);
/* Detailed message of the last error on this context ("" if none). */
ODET_API const char *odet_ctx_last_error(const odet_ctx *ctx);
/* Record a message as the context's last error and return s: for callbacks (odet_result_fn)
 * that fail and want the run's error to say why. ctx may be NULL (message dropped). */
ODET_API odet_status odet_error(odet_ctx *ctx, odet_status s, const char *fmt, ...) ODET_PRINTF(3, 4);
/* CPU threads the context runs (opts.n_threads resolved: 0 became the core count). */
ODET_API int odet_ctx_num_threads(const odet_ctx *ctx);

/* ---------------------------------------------------------------- graph */

ODET_API odet_status odet_graph_load_onnx(odet_ctx *ctx, const char *path, odet_graph **out);
/* TF.js graph model (model.json with its weight shards beside it). */
ODET_API odet_status odet_graph_load_tfjs(odet_ctx *ctx, const char *path, odet_graph **out);
/* By file type: *.json → TF.js, anything else → ONNX. */
ODET_API odet_status odet_graph_load(odet_ctx *ctx, const char *path, odet_graph **out);
ODET_API void odet_graph_destroy(odet_graph *g);
/* Print nodes with shapes, FLOPs and parameter counts, and totals. */
ODET_API odet_status odet_graph_print(const odet_graph *g, FILE *f);
/* Inputs as the model declares them: dims < 0 are open (symbolic or dynamic); info->data
 * is NULL; name valid while g lives. */
ODET_API int odet_graph_num_inputs(const odet_graph *g);
ODET_API odet_status odet_graph_input_info(const odet_graph *g, int i, const char **name, odet_tensor *info);
/* Nodes in execution order, with the cost model's figures (for the whole batch; 0 when a
 * shape is unknown). Strings valid while g lives. */
typedef struct odet_node_info {
	const char *name;
	const char *op;        /* ONNX op name, or odet's for fused ops ("ConvAct", "Head") */
	int64_t flops;
	int64_t params;        /* constant elements read (weights) */
} odet_node_info;
ODET_API int odet_graph_num_nodes(const odet_graph *g);
ODET_API odet_status odet_graph_node(const odet_graph *g, int i, odet_node_info *out);

/* ---------------------------------------------------------------- engine */

typedef enum odet_backend_kind {
	ODET_BACKEND_AUTO = 0, /* CUDA when a GPU is present, else CPU */
	ODET_BACKEND_CPU = 1,
	ODET_BACKEND_CUDA = 2
} odet_backend_kind;

typedef enum odet_precision {
	ODET_PRECISION_FP32 = 0,
	ODET_PRECISION_FP16 = 1,
	ODET_PRECISION_INT8 = 2, /* convolutions in INT8 (calibrated), the rest fp16; needs calib_cache */
	ODET_PRECISION_FP8 = 3,  /* convolutions in FP8 E4M3 (calibrated), the rest fp16; needs calib_cache */
	ODET_PRECISION_BF16 = 4  /* CPU: convolutions in bf16 (AVX512_BF16, fp32 accumulation and output), the
				  * rest (head included) fp32; refused on a CPU without those instructions */
} odet_precision;

/* Kernel choices a build can force (A/B timing, tests); the defaults are what measured fastest. */
typedef enum odet_conv_path {
	ODET_CONV_AUTO = 0,    /* CUDA Conv: the fastest of the paths below, as timed per shape */
	ODET_CONV_LEGACY = 1,  /* cudnnConvolutionForward + a separate epilogue */
	ODET_CONV_GRAPH = 2,   /* cuDNN's graph API (fused bias, residual, activation) */
	ODET_CONV_DIRECT = 3   /* odet's own kernel where one covers the shape, else as AUTO */
} odet_conv_path;
typedef enum odet_nms_sort {
	ODET_NMS_SORT_FAST = 0, /* CUDA NMS: odet's per-class top-k selection */
	ODET_NMS_SORT_CUB = 1   /* CUDA NMS: CUB's segmented radix sort */
} odet_nms_sort;

/* One node's precision in an int8 (or fp16) build (odet_build_opts.layer_precision,
 * `odet build --layer-precision NODE=fp16|fp32`): the node stays in float, unquantized —
 * fp16 (CUDA; the CPU's float is fp32) or fp32. */
typedef struct odet_layer_precision {
	const char *node;          /* a node of the optimized graph (odet inspect -v lists them) */
	odet_precision precision;  /* ODET_PRECISION_FP16 or ODET_PRECISION_FP32 */
} odet_layer_precision;

/* Optimizations odet_build_opts.disable_passes switches off (odet report --passes shows what
 * each one buys); 0 = all on. Precisions and CUDA graph replay are chosen elsewhere
 * (odet_build_opts.precision, odet_exec_set_graph_replay). */
enum {
	ODET_PASS_FOLD_CONSTANTS = 1 << 0, /* constant folding (and folding of layout transposes);
	                                    * shape computations are folded regardless */
	ODET_PASS_FOLD_BATCHNORM = 1 << 1, /* BatchNorm into the preceding convolution */
	ODET_PASS_FUSE_CONV = 1 << 2,      /* conv + bias + activation (+ residual), L2Normalize,
	                                    * sibling head convolutions */
	ODET_PASS_LAYOUT = 1 << 3,         /* NHWC for convolutions (CUDA fp16; int8 needs it) */
	ODET_PASS_FUSE_HEAD = 1 << 4       /* the head's view chains into one copy, scores into NMS */
};

typedef struct odet_build_opts {
	odet_backend_kind backend;
	int device;            /* GPU index for CUDA */
	int batch;             /* value of a symbolic batch dimension; default 1 */
	int input_h, input_w;  /* override symbolic/dynamic H and W of the image input; 0 = keep */
	int input_u8;          /* 1 = the image input takes uint8 pixels 0..255 (same dims; 4x less to
	                        * copy): the model's pixel scale/bias runs inside the engine, whose
	                        * model info then says scale 1, bias 0. Needs a detection head. */
	odet_precision precision;
	const char *head;      /* detection head preset name or config file; NULL = auto */
	int no_head;           /* 1 = never attach a head, run the raw network */
	int verbose;           /* print the graph before/after passes to stderr */
	/* fp16 / int8: names of nodes kept in fp32 (NULL-free array of n_keep_fp32 names); an int8
	 * build leaves these convolutions unquantized */
	const char *const *keep_fp32;
	int n_keep_fp32;
	/* int8 / fp8: the calibration cache (odet_calibrate) of this model; refused when it
	 * belongs to another model. Convolutions whose input it does not cover stay fp16. */
	const char *calib_cache;
	/* Kernel choices (CUDA). Each has an environment override, read once by odet_ctx_create
	 * and applied to every build and plan load on that context: ODET_CONV_PATH=auto|legacy|
	 * graph|direct, ODET_CONV_CANDIDATES=N, ODET_NMS_SORT=fast|cub, ODET_STEM_PAD=0|4|8. */
	odet_conv_path conv_path;
	int conv_candidates;   /* cuDNN graph-API candidates timed per Conv shape; 0 = 8 */
	odet_nms_sort nms_sort;
	int stem_pad;          /* fp16 NHWC: a Conv with < 4 input channels reads a zero-padded copy
	                        * of 4 (0 = default) or 8 channels; -1 = never */
	/* int8: per-node overrides (n_layer_precision entries); a name not in the optimized graph
	 * is refused naming it */
	const odet_layer_precision *layer_precision;
	int n_layer_precision;
	/* int8: the N quantizable convolutions of lowest SNR in the calibration cache stay in
	 * float (refused when the cache has no per-layer SNR: calibrate again) */
	int keep_sensitive;
	unsigned disable_passes; /* ODET_PASS_* bits; 0 = every optimization */
	/* called after each node's kernel is chosen (CUDA tuning can take seconds a node): done of
	 * total nodes, the node's name; may be NULL. Not called when a plan is loaded. */
	void (*progress)(void *user, int64_t done, int64_t total, const char *node);
	void *progress_user;
} odet_build_opts;

ODET_API odet_build_opts odet_build_opts_default(void);
ODET_API odet_status odet_engine_build(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *opts,
			      odet_engine **out);
/* Written atomically (temporary file + rename). */
ODET_API odet_status odet_engine_save(const odet_engine *e, const char *path);
ODET_API odet_status odet_engine_load(odet_ctx *ctx, const char *path, int device, odet_engine **out);
ODET_API void odet_engine_destroy(odet_engine *e);
/* The optimized graph inside the engine (for printing). */
ODET_API const odet_graph *odet_engine_graph(const odet_engine *e);

ODET_API int odet_engine_num_inputs(const odet_engine *e);
ODET_API int odet_engine_num_outputs(const odet_engine *e);
/* Name, dtype and shape of an input/output; info->data is NULL. */
ODET_API odet_status odet_engine_input_info(const odet_engine *e, int i, const char **name, odet_tensor *info);
ODET_API odet_status odet_engine_output_info(const odet_engine *e, int i, const char **name, odet_tensor *info);

/* What a caller needs to feed the engine images and name its detections. Set by the head
 * (presets know their model's preprocessing and label set) and kept in plan files. */
typedef enum odet_layout { ODET_LAYOUT_NCHW = 0, ODET_LAYOUT_NHWC = 1 } odet_layout;
typedef struct odet_model_info {
	odet_layout layout;      /* of the image input */
	int input_h, input_w;    /* image input size in pixels */
	float pixel_scale[3];    /* input value = rgb_pixel(0..255) * pixel_scale[c] + pixel_bias[c] */
	float pixel_bias[3];
	int num_classes;         /* classes the head reports (0 = no head) */
	int coco_offset;         /* COCO-80 index = class - coco_offset; -1: classes are COCO category ids */
} odet_model_info;
ODET_API odet_status odet_engine_model_info(const odet_engine *e, odet_model_info *info);

/* What an engine is: backend, options it was built with, its memory plan and head. Strings
 * valid while e lives. */
typedef struct odet_engine_desc {
	const char *backend;        /* "cpu", "cuda" */
	odet_precision precision;
	int device;                 /* GPU index it runs on (CUDA) */
	int batch;
	int input_size_fixed;       /* built with odet_build_opts.input_h/input_w */
	int has_head;               /* outputs are detections (odet_exec_run) */
	const char *head;           /* one line describing the head; NULL when none or unknown */
	size_t arena_bytes;         /* activation arena of each exec context (the memory plan) */
	size_t naive_bytes;         /* the sum of all activations and workspaces, unplanned */
	size_t workspace_bytes;     /* kernel workspaces (inside the arena) */
	size_t constant_bytes;      /* weights copied to device memory, once per engine (0: CPU) */
	int nodes;                  /* of the optimized graph */
	int nodes_imported;         /* of the imported graph; -1 for a loaded plan */
	double build_seconds;       /* odet_engine_build's time (passes, tuning, planning) */
	int n_tuned;                /* kernel choices timed by the backend (odet_engine_tuned) */
	int events;                 /* 1: device events: odet_exec_submit is asynchronous and
	                             * times the stages; odet_exec_profile works */
} odet_engine_desc;
ODET_API odet_status odet_engine_describe(const odet_engine *e, odet_engine_desc *out);
/* Tuned choice i (0 <= i < n_tuned): KEY (operation, shape, device, library) -> VALUE (the
 * kernel chosen); saved in plans, so a load runs them without timing. */
ODET_API odet_status odet_engine_tuned(const odet_engine *e, int i, const char **key, const char **value);

/* Host memory for an engine's inputs and outputs: page-locked on GPU backends (what lets
 * odet_exec_submit's copies run asynchronously), 64-byte aligned otherwise. Free with
 * odet_host_free on the same engine. */
ODET_API odet_status odet_host_alloc(const odet_engine *e, size_t bytes, void **out);
ODET_API void odet_host_free(const odet_engine *e, void *p);

/* ---------------------------------------------------------------- execution */

ODET_API odet_status odet_exec_create(odet_engine *e, odet_exec **out);
ODET_API void odet_exec_destroy(odet_exec *x);

/* Run the network on raw tensors: inputs and outputs in the engine's order, host memory,
 * shapes exactly as in odet_engine_*_info. Output buffers are provided by the caller. */
ODET_API odet_status odet_exec_infer(odet_exec *x, const odet_tensor *inputs, int n_inputs,
			    odet_tensor *outputs, int n_outputs);

/* Detections of one batch: per image a count and fixed-capacity arrays.
 * boxes are x1 y1 x2 y2 in input-tensor pixels; only the first count[i] rows are valid. */
typedef struct odet_detections {
	int batch;
	int capacity;     /* rows per image */
	int32_t *count;   /* [batch] */
	float *boxes;     /* [batch][capacity][4] */
	float *scores;    /* [batch][capacity] */
	int32_t *classes; /* [batch][capacity], 0-based class index of the model */
} odet_detections;

ODET_API odet_status odet_detections_alloc(int batch, int capacity, odet_detections *d);
ODET_API void odet_detections_free(odet_detections *d);

/* Run network + detection head on one input batch. Fails with ODET_ERR_UNSUPPORTED
 * when the engine has no head attached. */
ODET_API odet_status odet_exec_run(odet_exec *x, const odet_tensor *input, odet_detections *out);

/* Stage times of one batch in milliseconds, from device events: input copies, the network
 * (+ head), output copies, and first copy to last. Backends without events (CPU) report
 * the host time of the whole run as total_ms and 0 for the stages. */
typedef struct odet_exec_timing {
	float total_ms, h2d_ms, compute_ms, d2h_ms;
} odet_exec_timing;

/* odet_exec_infer without waiting (backends with events; the others run it to the end
 * here): the batch is queued on x's stream and the call returns; inputs and outputs must
 * stay valid and untouched until odet_exec_wait (page-locked memory from odet_host_alloc
 * keeps the copies asynchronous). One batch in flight per exec context. after: NULL, or
 * another exec context of the same engine whose last submitted batch's network must
 * finish before this batch's network starts (the copies still overlap). */
ODET_API odet_status odet_exec_submit(odet_exec *x, const odet_tensor *inputs, int n_inputs,
				      odet_tensor *outputs, int n_outputs, const odet_exec *after);
/* Wait for the batch in flight and read its stage times (t may be NULL).
 * ODET_ERR_INVALID_ARG when nothing was submitted. */
ODET_API odet_status odet_exec_wait(odet_exec *x, odet_exec_timing *t);
/* GPU backends replay the node sequence as one captured graph from the second run on;
 * enable = 0 launches node by node (for comparison). odet_exec_graph_replay: 1 once a
 * captured graph is being replayed. */
ODET_API void odet_exec_set_graph_replay(odet_exec *x, int enable);
ODET_API int odet_exec_graph_replay(const odet_exec *x);
/* Per-node device time: runs the inputs once (outputs written), then node by node with an
 * event after each: ms[i] = time of node i of odet_engine_graph (odet_graph_num_nodes
 * entries). Synchronizes. ODET_ERR_UNSUPPORTED without device events (the CPU). */
ODET_API odet_status odet_exec_profile(odet_exec *x, const odet_tensor *inputs, int n_inputs,
				       odet_tensor *outputs, int n_outputs, float *ms);

/* ---------------------------------------------------------------- tensor files
 *
 * The .bin tensor files of `odet run` (docs/formats.md): magic "ODTN", version 1, a count,
 * then per tensor name, dtype, rank, dims and row-major data, little-endian. Reading treats
 * the file as untrusted (limits before allocation). */

#define ODET_TENSOR_FILE_MAX_COUNT 4096

typedef struct odet_named_tensor {
	char *name;        /* owned */
	odet_tensor t;     /* t.data owned (64-byte aligned) */
} odet_named_tensor;

/* Parse a tensor file held in memory; label names it in errors. */
ODET_API odet_status odet_tensor_file_parse(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   odet_named_tensor **out, int *count);
ODET_API odet_status odet_tensor_file_read(odet_ctx *ctx, const char *path, odet_named_tensor **out, int *count);
/* Serialize (malloc'ed buffer, free()) / write atomically. */
ODET_API odet_status odet_tensor_file_serialize(odet_ctx *ctx, const odet_named_tensor *t, int count, void **data,
				       size_t *size);
ODET_API odet_status odet_tensor_file_write(odet_ctx *ctx, const char *path, const odet_named_tensor *t, int count);
/* Frees the names, the data and the array (what _read and _parse return); NULL is fine. */
ODET_API void odet_tensor_file_free(odet_named_tensor *t, int count);
/* 64-byte aligned host memory, as tensor files hold their data (free with odet_aligned_free). */
ODET_API void *odet_aligned_alloc(odet_ctx *ctx, size_t n);
ODET_API void odet_aligned_free(void *p);
/* IEEE binary16 conversion (round to nearest even). */
ODET_API float odet_f16_to_f32(uint16_t h);
ODET_API uint16_t odet_f32_to_f16(float f);


/* ---------------------------------------------------------------- calibration (INT8 / FP8)
 *
 * Post-training quantization: the fp32 engine runs over calibration images (decoded and
 * letterboxed as odet detect does), a histogram of every convolution input is collected, and
 * a calibrator picks each tensor's range (amax). The result is a small text file (the
 * calibration cache, docs/quantization.md) that odet_engine_build reads for ODET_PRECISION_INT8
 * and ODET_PRECISION_FP8 (odet_build_opts.calib_cache). */

typedef enum odet_calibrator {
	ODET_CALIB_ENTROPY = 0,    /* TensorRT's KL-divergence threshold search */
	ODET_CALIB_PERCENTILE = 1, /* the given percentile of |x| */
	ODET_CALIB_MINMAX = 2      /* the largest |x| seen (default of odet_calib_opts_default) */
} odet_calibrator;

typedef struct odet_calib_opts {
	odet_build_opts build;     /* the engine the images run through; precision must be fp32 */
	odet_calibrator calibrator;
	double percentile;         /* ODET_CALIB_PERCENTILE: 99.99 by default */
	int64_t max_images;        /* 0 = every image given */
	/* called after each batch (may be NULL) */
	void (*progress)(void *user, int64_t done, int64_t total);
	void *progress_user;
	/* Per-layer sensitivity: a second pass runs every quantizable convolution also with its
	 * input and weights quantized (the calibrated scales) and measures its output's SNR
	 * against fp32 (docs/quantization.md); written to the cache (snr lines). */
	int64_t snr_images;        /* images of that pass: 0 = all calibration images; -1 = no pass */
	/* called once per layer, lowest SNR first, once the cache is written (may be NULL) */
	void (*layer_snr)(void *user, const char *node, double snr_db);
	void *layer_snr_user;
} odet_calib_opts;

typedef struct odet_calib_report {
	int64_t images, failed;    /* images used; images skipped (unreadable: each logged) */
	int tensors;               /* tensors calibrated */
	double seconds;
	int layers;                /* layers given an SNR (0: no SNR pass) */
	double snr_seconds;        /* of the SNR pass (included in seconds) */
} odet_calib_report;

ODET_API odet_calib_opts odet_calib_opts_default(void);
/* Calibrate graph g on the images and write the cache to out_path (atomically). An image that
 * cannot be decoded is logged, counted and skipped; no usable image at all is an error
 * (ODET_ERR_BAD_INPUT). report may be NULL. */
ODET_API odet_status odet_calibrate(odet_ctx *ctx, const odet_graph *g, const char *const *images, int64_t n_images,
			   const odet_calib_opts *opts, const char *out_path, odet_calib_report *report);

/* ---------------------------------------------------------------- images */

/* 8-bit RGB pixels, rows of 3 * width bytes, owned (odet_image_free). */
typedef struct odet_image {
	int width, height;
	uint8_t *rgb;
} odet_image;

/* JPEG or PNG, chosen by the magic bytes; header size checked against the context's
 * max_image_pixels before anything is allocated (ODET_ERR_LIMIT). */
ODET_API odet_status odet_image_decode_file(odet_ctx *ctx, const char *path, odet_image *out);
ODET_API odet_status odet_image_decode_mem(odet_ctx *ctx, const void *data, size_t size, const char *label, odet_image *out);
ODET_API void odet_image_free(odet_image *img);
/* JPEG (quality 1..100), written atomically. */
ODET_API odet_status odet_image_write_jpeg(odet_ctx *ctx, const char *path, const odet_image *img, int quality);
/* Box outline (x1 y1 x2 y2 in pixels) of `thickness` pixels and a label above it (may be NULL). */
ODET_API void odet_image_draw_box(odet_image *img, const float box[4], const uint8_t color[3], int thickness,
			 const char *label);
/* Text in odet's 5x7 bitmap font with its top-left corner at (x, y), each font pixel a
 * scale x scale square (scale < 1: 1) of color, clipped to the image (any x, y is fine).
 * Letters (lower case drawn as upper case), digits, space and . , : - _ % / = < > + ( ) ?;
 * any other character is drawn as ?. Returns the text's width in pixels, 6 * scale per
 * character (at most INT_MAX; 0 for a NULL argument). draw_box's labels use the same font. */
ODET_API int odet_image_draw_text(odet_image *img, int x, int y, const char *text, const uint8_t color[3], int scale);
/* A distinct colour per class. */
ODET_API void odet_class_color(int cls, uint8_t color[3]);
/* COCO names of a model's class (NULL when the class is not one of COCO's 80) and its COCO
 * category id (1..90; -1 when none), by the model's class numbering (odet_model_info). */
ODET_API const char *odet_coco_class_name(const odet_model_info *mi, int cls);
ODET_API int odet_coco_category_id(const odet_model_info *mi, int cls);

/* ---------------------------------------------------------------- COCO evaluation
 *
 * COCO bounding-box evaluation, identical to pycocotools' COCOeval (iouType "bbox"):
 *
 *   odet_coco_eval *e;
 *   odet_coco_eval_load_gt(ctx, "instances_val2017.json", &e);   // images, annotations, categories
 *   odet_coco_eval_load_results(e, "detections.json");           // and/or, per detection:
 *   odet_coco_eval_find_image(e, "000000397133.jpg", &image_id); // file_name -> image id
 *   odet_coco_eval_add_detection(e, image_id, category_id, xywh, score);
 *   odet_coco_eval_evaluate(e);                                  // the 12 numbers + per class
 *   odet_coco_eval_print_summary(e, stdout);                     // pycocotools' 12 lines
 *   odet_coco_eval_write_json(e, "stats.json");
 *   odet_coco_eval_destroy(e);
 *
 * Semantics follow pycocotools 2.0 exactly (see docs/eval.md): evaluated images are the ground
 * truth's images, evaluated categories the ground truth's categories (sorted ids); detections
 * on an image id absent from the ground truth are refused (loadRes' assertion); detections on
 * a category id absent from the ground truth are kept but never evaluated (counted in
 * odet_coco_eval_num_unknown_category). A detection's area is w*h. A ground-truth annotation's
 * 'ignore' field is read and then replaced by iscrowd, as pycocotools' _prepare does.
 * odet_coco_eval_evaluate does not change the inputs: detections may be added and it rerun.
 * One evaluator is used by one thread at a time.
 */

typedef struct odet_coco_eval odet_coco_eval;

/* The 12 summary numbers, in pycocotools' order. */
enum {
	ODET_COCO_AP, ODET_COCO_AP50, ODET_COCO_AP75, ODET_COCO_APS, ODET_COCO_APM, ODET_COCO_APL,
	ODET_COCO_AR1, ODET_COCO_AR10, ODET_COCO_AR100, ODET_COCO_ARS, ODET_COCO_ARM, ODET_COCO_ARL,
	ODET_COCO_NUM_STATS
};

/* Ground truth from an instances JSON file (streamed) or a memory buffer (name for messages). */
ODET_API odet_status odet_coco_eval_load_gt(odet_ctx *ctx, const char *path, odet_coco_eval **out);
ODET_API odet_status odet_coco_eval_load_gt_mem(odet_ctx *ctx, const char *name, const char *data, size_t n,
				  odet_coco_eval **out);
ODET_API void odet_coco_eval_destroy(odet_coco_eval *e);

/* Detections from a results JSON list [{image_id, category_id, bbox: [x,y,w,h], score}, ...]. */
ODET_API odet_status odet_coco_eval_load_results(odet_coco_eval *e, const char *path);
ODET_API odet_status odet_coco_eval_load_results_mem(odet_coco_eval *e, const char *name, const char *data, size_t n);
/* One detection; bbox is x, y, w, h in image pixels. ODET_ERR_BAD_INPUT for an unknown image id,
 * a non-finite number or a negative size. */
ODET_API odet_status odet_coco_eval_add_detection(odet_coco_eval *e, int64_t image_id, int64_t category_id,
				    const double bbox[4], double score);

/* Image id of a file: exact match of the ground truth's file_name, else of its base name.
 * ODET_ERR_BAD_INPUT (message names the file) when there is none. */
ODET_API odet_status odet_coco_eval_find_image(const odet_coco_eval *e, const char *file_name, int64_t *image_id);

/* Categories of the ground truth, sorted by id (index k = the k-th smallest id, which is
 * also how a model's 0-based class index usually maps to COCO ids 1..90). */
ODET_API int odet_coco_eval_num_categories(const odet_coco_eval *e);
ODET_API int64_t odet_coco_eval_category_id(const odet_coco_eval *e, int k);
ODET_API const char *odet_coco_eval_category_name(const odet_coco_eval *e, int k);
ODET_API int64_t odet_coco_eval_num_images(const odet_coco_eval *e);
ODET_API int64_t odet_coco_eval_num_detections(const odet_coco_eval *e);
ODET_API int64_t odet_coco_eval_num_unknown_category(const odet_coco_eval *e);

/* Evaluate, accumulate, summarize. */
ODET_API odet_status odet_coco_eval_evaluate(odet_coco_eval *e);
/* After odet_coco_eval_evaluate: the 12 numbers (-1 where a bucket has no ground truth) and the
 * per-class AP, AP50, AP75 (area all, maxDets 100; -1 without ground truth). */
ODET_API const double *odet_coco_eval_stats(const odet_coco_eval *e);
ODET_API double odet_coco_eval_class_ap(const odet_coco_eval *e, int k, int which /* 0 AP, 1 AP50, 2 AP75 */);

/* pycocotools' 12 lines, e.g.
 * " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.250" */
ODET_API void odet_coco_eval_print_summary(const odet_coco_eval *e, FILE *f);
/* A table: category id, name, AP, AP50, AP75 (percent). */
ODET_API void odet_coco_eval_print_per_class(const odet_coco_eval *e, FILE *f);
/* All figures as JSON (numbers printed with %.17g), written atomically. */
ODET_API odet_status odet_coco_eval_write_json(const odet_coco_eval *e, const char *path);

/* ---------------------------------------------------------------- sources */

typedef struct odet_path_list {
	char **paths;
	int64_t n;
} odet_path_list;

/* Image paths of sources: files, folders (their .jpg/.jpeg/.png files, sorted by name), glob
 * patterns, and @LIST (a text file, one path per line; blank lines and lines starting with #
 * skipped). A source that does not exist or matches nothing is logged (warning) and counted
 * in *n_bad; the others are still listed, in the order given. */
ODET_API odet_status odet_sources_expand(odet_ctx *ctx, const char *const *sources, int n, odet_path_list *out,
				int *n_bad);
ODET_API void odet_path_list_free(odet_path_list *l);

/* ---------------------------------------------------------------- pipeline
 *
 *   paths --read (threads)--> bytes --decode: nvJPEG batched on the GPU (CUDA engines), else
 *   libjpeg-turbo / libspng on the reading threads--> RGB8 on the device --letterbox (one fused
 *   kernel: resize, pad, scale/bias, layout, dtype, straight into the engine's input)--> engine
 *   (network + head) --once per batch--> detections mapped back to each image's pixels
 *   --> your callback, in input order.
 *
 * One engine per device (CUDA: a list of GPUs, repeats allowed; CPU: one), with `slots`
 * batches in flight on each (a thread, a stream and an arena each), so reading and decoding
 * batch k+1 overlaps the engine on batch k; batches go to whichever slot is free. A bad image (unreadable, not an image, truncated, over the pixel limit) is delivered
 * with its status and message and skipped; the run goes on. */

typedef struct odet_pipeline odet_pipeline;

typedef struct odet_pipeline_opts {
	const char *model;            /* .onnx, TF.js model.json or .plan */
	odet_build_opts build;        /* for ONNX / TF.js models; a plan keeps its own (but
	                               * build.batch, when set, must equal the plan's) */
	const int *devices;           /* CUDA devices, one engine + worker each; NULL = every
	                               * visible GPU (CUDA), ignored on the CPU */
	int n_devices;
	int gpu_decode;               /* -1 auto: nvJPEG when it loads; 0: CPU decoders; 1: nvJPEG
	                               * required (an error when it does not load) */
	int read_threads;             /* reading and CPU decoding; 0 = online cores (at most 16) */
	int slots;                    /* batches in flight per device, one thread each; 0 = 2 on
	                               * CUDA, 1 on the CPU (whose engine uses every core) */
	float score;                  /* detections scoring below are dropped; default 0 */
	/* JPEGs nvJPEG could take that the reading threads decode on the CPU instead, so both
	 * decoders work at once: 0 (default): nvJPEG takes all it can; 0 < F <= 1: that share,
	 * spread evenly; < 0 adaptive: reading threads that are ahead of the devices take over
	 * the JPEGs of batches not yet claimed (not yet measured on a GPU). */
	float cpu_decode_share;
} odet_pipeline_opts;

ODET_API odet_pipeline_opts odet_pipeline_opts_default(void);
/* Open (load or build) one engine per device. Engine messages go to ctx's logger; a device
 * that fails names itself in the error. */
ODET_API odet_status odet_pipeline_create(odet_ctx *ctx, const odet_pipeline_opts *opts, odet_pipeline **out);
ODET_API void odet_pipeline_destroy(odet_pipeline *p);
ODET_API odet_status odet_pipeline_model_info(const odet_pipeline *p, odet_model_info *mi);
ODET_API int odet_pipeline_batch(const odet_pipeline *p);
/* Number of engines (devices) and the GPU index of engine i (-1: CPU). */
ODET_API int odet_pipeline_num_devices(const odet_pipeline *p);
ODET_API int odet_pipeline_device(const odet_pipeline *p, int i);
/* The engine of device i (owned by the pipeline). */
ODET_API const odet_engine *odet_pipeline_engine(const odet_pipeline *p, int i);
/* "hardware" (the GPU's JPEG engine), "gpu" (nvJPEG on the SMs) or "none" (CPU decoders). */
ODET_API const char *odet_pipeline_decoder(const odet_pipeline *p);

/* One image's outcome; pointers valid during the callback only. */
typedef struct odet_image_result {
	int64_t index;              /* position in the path list */
	const char *path;
	odet_status status;         /* ODET_OK, or why the image was skipped */
	const char *error;          /* the message when status != ODET_OK */
	int width, height;          /* the image's pixels */
	int count;                  /* detections kept (score >= opts.score), best first */
	const float *boxes;         /* [count][4] x1 y1 x2 y2 in the image's pixels, clipped */
	const float *scores;        /* [count] */
	const int32_t *classes;     /* [count], the model's class numbering */
	int device;                 /* GPU that ran it (-1: CPU) */
	int gpu_decoded;            /* 1 when nvJPEG decoded it */
} odet_image_result;

/* Called in input order, one call at a time, from the pipeline's threads. A status other
 * than ODET_OK stops the run, which returns it. */
typedef odet_status (*odet_result_fn)(void *user, const odet_image_result *r);

typedef struct odet_pipeline_stats {
	int64_t images, failed, detections;
	int64_t gpu_decoded, cpu_decoded;
	int64_t batches;
	double seconds;             /* wall time of odet_pipeline_run */
	/* summed over threads: reading files, CPU decoding, staging a batch (copies into
	 * page-locked memory, descriptors), waiting for inputs, waiting for the device, mapping
	 * and the callback */
	double read_s, cpu_decode_s, stage_s, wait_input_s, wait_device_s, sink_s;
	/* device time of the batches (first copy or decode to detections copied back), summed */
	double device_s;
	/* parts of stage_s: handing the batch to nvJPEG, and the letterbox + engine launches */
	double decode_submit_s, engine_submit_s;
} odet_pipeline_stats;

ODET_API odet_status odet_pipeline_run(odet_pipeline *p, const char *const *paths, int64_t n, odet_result_fn fn,
			      void *user, odet_pipeline_stats *stats);
/* An image for odet_pipeline_run_inputs: encoded bytes in memory (JPEG or PNG: data, size),
 * or, when data is NULL, the file `name`. name labels the result and messages either way. */
typedef struct odet_image_input {
	const char *name;
	const void *data;
	size_t size;
} odet_image_input;
/* odet_pipeline_run over inputs that may be held in memory (the bytes are copied as they are
 * read; they must stay valid until the call returns). r->path is the input's name. */
ODET_API odet_status odet_pipeline_run_inputs(odet_pipeline *p, const odet_image_input *inputs, int64_t n,
					      odet_result_fn fn, void *user, odet_pipeline_stats *stats);
/* A pull source: what odet_pipeline_run_pull's `next` answers. */
typedef enum odet_pull {
	ODET_PULL_INPUT = 0,  /* *in is the next input (its result gets the next index: 0, 1, ...) */
	ODET_PULL_FLUSH,      /* nothing more for now: run the inputs of the open batch without
	                       * waiting for it to fill (nothing to run: no effect) */
	ODET_PULL_END         /* no more inputs: finish what was handed over and return */
} odet_pull;
/* Called one call at a time, in order, from the pipeline's reading threads; it may block
 * while it waits for work, but should answer (FLUSH when it has nothing) every 100 ms or so:
 * a run stopped by a failure waits for it to return. in's bytes and name must stay valid
 * until that input's result has been delivered (or the run returned). A status other than
 * ODET_OK stops the run, which returns it. */
typedef odet_status (*odet_pull_fn)(void *user, odet_image_input *in, odet_pull *what);
/* The pipeline over inputs pulled from `next` until it answers END, streaming from one batch
 * to the next as odet_pipeline_run does over a long list (a queue worker's form: one run for
 * its life, partial batches flushed when the queue runs dry). Results in pull order; user
 * goes to both callbacks. */
ODET_API odet_status odet_pipeline_run_pull(odet_pipeline *p, odet_pull_fn next, odet_result_fn fn, void *user,
					    odet_pipeline_stats *stats);
/* One image file through device 0, on the calling thread (latency path): the result's
 * arrays stay valid until the next call on p. */
ODET_API odet_status odet_pipeline_detect_file(odet_pipeline *p, const char *path, odet_image_result *out);

/* ---------------------------------------------------------------- tracker
 *
 * IoU tracking of one video source (SORT-style, no Kalman filter): each track predicts its box
 * at the new frame's time with a constant centre velocity, detections are matched to the
 * predictions greedily by IoU (best pair first, same class), a matched track takes the
 * detection's box and updates its velocity, an unmatched detection starts a new track (ids
 * from 1, never reused), a track unmatched for more than max_missed frames dies. */

typedef struct odet_tracker odet_tracker;
typedef struct odet_tracker_opts {
	float iou;          /* least IoU of a detection with a track's prediction; default 0.3 */
	int max_missed;     /* frames a track lives on unmatched (predicted); default 10 */
	int class_aware;    /* 1 (default): only detections of the track's class match it */
} odet_tracker_opts;
/* One detection's track. */
typedef struct odet_track_info {
	int32_t id;         /* stable across frames (1, 2, ...) */
	int32_t age;        /* frames since the track was born (1 on its first frame) */
	float vx, vy;       /* velocity of the box centre, pixels per second (0 when new) */
} odet_track_info;
ODET_API odet_tracker_opts odet_tracker_opts_default(void);
ODET_API odet_status odet_tracker_create(odet_ctx *ctx, const odet_tracker_opts *opts, odet_tracker **out);
ODET_API void odet_tracker_destroy(odet_tracker *t);
/* One frame at time_s (seconds; increasing): n detections (boxes x1 y1 x2 y2, classes) →
 * out[n], the track of each. */
ODET_API odet_status odet_tracker_update(odet_tracker *t, double time_s, const float *boxes, const int32_t *classes, int n,
				odet_track_info *out);
/* Tracks alive (matched or predicted). */
ODET_API int odet_tracker_live(const odet_tracker *t);

/* ---------------------------------------------------------------- video
 *
 *   video files --one thread per source: demux + decode (FFmpeg, on the CPU), RGB8--> per-source
 *   queues --stream muxer: batches of up to the engine's batch, frames from every source in
 *   turn, out when full or batch_timeout_ms after its oldest frame arrived--> the pipeline's
 *   devices (letterbox, engine, head) --in batch order--> tracker per source --> your callback.
 *
 * A source that ends leaves the batches smaller; a source that fails (cannot be opened, no
 * video stream, unsupported codec, corrupt stream) is reported through the event callback and
 * dropped while the others go on; corrupt frames are counted and skipped. Without FFmpeg in
 * the build every source fails with ODET_ERR_UNSUPPORTED. */

typedef struct odet_video_opts {
	int batch_timeout_ms;   /* a partial batch goes out this long after its oldest frame; default 40 */
	int realtime;           /* 1: each source delivers frames at its own pace (pts), as a camera
	                         * would; a full queue then drops its oldest frame. 0 (default): as fast
	                         * as the devices take them */
	int queue_frames;       /* decoded frames buffered per source; 0 = 2 × batch / sources + 2
	                         * (at least 4) */
	int64_t max_frames;     /* frames read per source; 0 = all */
	int track;              /* 1 (default): track ids, age and velocity per detection */
	odet_tracker_opts tracker;
	int no_infer;           /* 1: decode only (frames delivered with no detections) */
	int keep_frames;        /* 1: results carry the decoded RGB frame (odet_frame_result.rgb) */
	int decode;             /* -1 (default, auto): NVDEC where it can serve (a CUDA pipeline on one
	                         * GPU, keep_frames 0), else the CPU; 0: FFmpeg's decoders on the CPU;
	                         * 1: NVDEC on the GPU for H.264 / HEVC 8-bit 4:2:0 (frames stay in GPU
	                         * memory: NV12 -> letterbox in one kernel), other streams on the CPU
	                         * (said in the log); refused unless NVDEC can serve */
} odet_video_opts;
ODET_API odet_video_opts odet_video_opts_default(void);

/* One frame's outcome; pointers valid during the callback only. */
typedef struct odet_frame_result {
	int source;                 /* index in the source list */
	const char *name;           /* the source as given */
	int64_t frame;              /* frame index in the source (decoded frames, from 0) */
	double pts;                 /* presentation time in seconds from the stream's start */
	int width, height;          /* the frame's pixels */
	int count;                  /* detections kept (score >= pipeline opts.score), best first */
	const float *boxes;         /* [count][4] x1 y1 x2 y2 in the frame's pixels, clipped */
	const float *scores;        /* [count] */
	const int32_t *classes;     /* [count] */
	const odet_track_info *tracks; /* [count] when tracking, else NULL */
	const uint8_t *rgb;         /* the frame (3 × width bytes a row) when keep_frames, else NULL */
	double fps;                 /* the source's frame rate (0: unknown) */
	double latency_s;           /* from the frame leaving its decoder to this callback */
	int device;                 /* GPU that ran it (-1: CPU) */
} odet_frame_result;
typedef odet_status (*odet_frame_fn)(void *user, const odet_frame_result *r);

/* A source's outcome, reported once when it ends or fails. */
typedef struct odet_source_report {
	int source;
	const char *name;
	odet_status status;         /* ODET_OK: ended normally; else why it was dropped */
	const char *message;        /* the failure, or why the stream ended early ("" if none) */
	int width, height;
	double fps;                 /* the stream's frame rate (0: unknown) */
	const char *codec;
	int64_t decoded, inferred, dropped, corrupt;
} odet_source_report;
typedef void (*odet_source_fn)(void *user, const odet_source_report *r);

typedef struct odet_video_stats {
	int n_sources, failed_sources;
	int64_t decoded, inferred, dropped, corrupt, detections, batches;
	double seconds;             /* wall time */
	double decode_s;            /* decoding threads' time (demux, decode, RGB), summed */
	double wait_s;              /* device threads waiting for frames, summed */
	double device_s;            /* letterbox + engine + head until results are back, summed */
	double sink_s;              /* tracker and callbacks */
	double latency_p50_s, latency_p99_s; /* decode to callback, over delivered frames */
} odet_video_stats;

/* Decode, batch, infer and track every source; fn is called for each frame in order per
 * source (one call at a time), ev once per source when it ends or fails (may be NULL). Returns
 * ODET_OK when the run completed (even with failed sources: see the reports and stats), or
 * the status of a callback or a device failure that stopped it. */
ODET_API odet_status odet_video_run(odet_pipeline *p, const char *const *sources, int n, const odet_video_opts *opts,
			   odet_frame_fn fn, odet_source_fn ev, void *user, odet_video_stats *stats);
/* Whether this build can read video (FFmpeg's headers at build time, its libraries loadable). */
ODET_API int odet_video_available(void);

/* Annotated video output: RGB frames encoded with libx264 (or FFmpeg's MPEG-4 part 2 encoder
 * when FFmpeg has no libx264) into the container the file name says (.mp4, .mkv, .avi);
 * written to PATH.tmp and renamed onto path by a successful close. */
typedef struct odet_video_writer odet_video_writer;
ODET_API odet_status odet_video_writer_open(odet_ctx *ctx, const char *path, int width, int height, double fps,
				   odet_video_writer **out);
/* A frame of another size is scaled to the size given at open (made even). */
ODET_API odet_status odet_video_writer_write(odet_video_writer *w, const odet_image *frame);
/* Finish the file; frees w, also on failure (the partial file is then removed). */
ODET_API odet_status odet_video_writer_close(odet_video_writer *w);

/* ---------------------------------------------------------------- queue (Redis Streams)
 *
 * odet as a worker of a Redis Streams job queue (docs/queue.md). A job is a stream entry with
 * the fields id (unique; default: the entry id), image (JPEG/PNG bytes) or path (a file the
 * worker can read), and optionally score (a threshold above the pipeline's). Workers of one
 * consumer group share the jobs; each job's outcome is written once, atomically with its
 * acknowledgement (a Lua script): the key RESULTS:<id> (SET NX) and, only when that key was
 * new, an entry of the RESULTS stream, so a job run twice after a reclaim still has one
 * result. Jobs idle past the visibility timeout on a dead worker are reclaimed (XAUTOCLAIM).
 * Undecodable, oversized or malformed jobs go to the dead-letter stream with the reason
 * (a missing file after max_attempts deliveries; any job once it has been delivered more
 * often than that without a result), and their result says so. hiredis is loaded at run time;
 * without it (or built without its headers) the calls fail with ODET_ERR_UNSUPPORTED. */

typedef struct odet_queue_opts {
	const char *url;           /* redis://[:PASSWORD@]HOST[:PORT][/DB]; default redis://127.0.0.1:6379 */
	const char *stream;        /* jobs; default "odet:jobs" */
	const char *group;         /* consumer group; default "odet" */
	const char *results;       /* result stream and key prefix; default "odet:results" */
	const char *dead_letter;   /* default "odet:dead" */
	double retry_s;            /* keep (re)connecting this long (backoff 0.1 s doubling to 2 s);
	                            * 0 (default) = fail at the first refused connection */
	int timeout_ms;            /* connect and reply timeout beyond a command's own blocking; default 5000 */
} odet_queue_opts;

typedef struct odet_worker_stats {
	int64_t jobs;              /* jobs with a result written by this worker (detections) */
	int64_t dead_lettered;     /* jobs this worker sent to the dead-letter stream */
	int64_t duplicates;        /* jobs whose result already existed (run twice) */
	int64_t reclaimed;         /* jobs taken over from idle consumers */
	int64_t retried;           /* jobs left pending after a transient failure */
	int64_t batches, reconnects;
	int64_t pending;           /* the group's pending entries (at the last metrics call) */
	double seconds;            /* since the worker started */
	double busy_s;             /* from the first job read to the last outcome written */
	double jobs_per_s;         /* over the last metrics interval */
	double batch_fill;         /* jobs per batch / batch, over the run */
} odet_worker_stats;

typedef struct odet_worker_opts {
	odet_queue_opts queue;
	const char *consumer;      /* this worker's name in the group; default HOST-PID */
	int batch;                 /* jobs read from Redis at a time, their outcomes written together;
	                            * 0 = the engine's batch (one pipeline run streams them all) */
	int batch_timeout_ms;      /* a partial batch runs this long after its first job; default 20 */
	int visibility_ms;         /* jobs idle this long on any consumer are reclaimed; default 30000 */
	int max_attempts;          /* deliveries before a job is dead-lettered; default 3 */
	int result_ttl_s;          /* expiry of the result keys; 0 (default) = none */
	int64_t results_maxlen;    /* result stream trimmed to about this many entries; default 10^6 */
	size_t max_payload;        /* largest image field; default 64 MiB */
	double idle_exit_s;        /* return after this long without jobs (0 = never) */
	double metrics_s;          /* metrics called this often (default 10 s; 0 = never) */
	/* polled before each read of jobs (at least every 100 ms): nonzero = finish what was read,
	 * acknowledge, return. It and metrics are called from the worker's reading thread. */
	int (*should_stop)(void *user);
	void (*metrics)(void *user, const odet_worker_stats *s);
	void *user;
} odet_worker_opts;

ODET_API odet_worker_opts odet_worker_opts_default(void);
/* Serve jobs through the pipeline until should_stop, idle_exit_s, or a failure (the Redis
 * server unreachable past retry_s: ODET_ERR_IO; a device failure). stats may be NULL. */
ODET_API odet_status odet_worker_run(odet_pipeline *p, const odet_worker_opts *opts, odet_worker_stats *stats);

/* One job's outcome, as odet_submit_run collects it (pointers valid during the callback). */
typedef struct odet_job_result {
	int64_t index;             /* in the source list */
	const char *source;
	const char *id;
	odet_status status;        /* ODET_OK, or why the job was dead-lettered */
	const char *error;
	int width, height;
	int count;
	const float *boxes;        /* [count][4] x1 y1 x2 y2 in the image's pixels */
	const float *scores;
	const int32_t *classes;    /* the model's class numbering */
	const int32_t *category_ids; /* COCO category ids (-1: none) */
} odet_job_result;
typedef odet_status (*odet_job_fn)(void *user, const odet_job_result *r);

typedef struct odet_submit_opts {
	odet_queue_opts queue;
	int by_path;               /* 1: send paths (shared storage), 0 (default): the files' bytes */
	int max_in_flight;         /* the job stream holds at most this many unfinished jobs; default 1024 */
	int wait;                  /* 1: collect every job's result, fn called in input order */
	double wait_timeout_s;     /* 0 = wait as long as it takes */
	const char *job_prefix;    /* ids are PREFIX-INDEX; default HOST-PID-TIME */
	float score;               /* per-job score threshold sent with each job; < 0 (default): none */
} odet_submit_opts;

typedef struct odet_submit_stats {
	int64_t submitted, results, failed, unreadable;
	double seconds;
} odet_submit_stats;

ODET_API odet_submit_opts odet_submit_opts_default(void);
/* Enqueue one job per source file (a file that cannot be read is reported through fn with its
 * status and counted, and not sent); with opts.wait, collect the results. */
ODET_API odet_status odet_submit_run(odet_ctx *ctx, const odet_submit_opts *opts, const char *const *sources, int64_t n,
				     odet_job_fn fn, void *user, odet_submit_stats *stats);
/* Messages appended to a Redis stream (`odet video --publish`: one JSON line per frame), as
 * DeepStream's message-broker sink publishes detections: url redis://[:PASSWORD@]HOST[:PORT]/STREAM,
 * each message one entry with the field msg (XADD STREAM MAXLEN ~ maxlen; 0 = 100000). A send
 * whose connection failed connects once more and retries; ODET_ERR_IO when that fails too. */
typedef struct odet_publisher odet_publisher;
ODET_API odet_status odet_publisher_open(odet_ctx *ctx, const char *url, int64_t maxlen, odet_publisher **out);
ODET_API odet_status odet_publisher_send(odet_publisher *p, const char *msg, size_t n);
ODET_API void odet_publisher_close(odet_publisher *p);
/* Whether this build can reach Redis (hiredis's headers at build time, libhiredis loadable). */
ODET_API int odet_queue_available(void);

#ifdef __cplusplus
}
#endif
#endif
