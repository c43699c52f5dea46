/*
 * odet.h — the whole public C API of odet, an object-detection inference engine.
 *
 *   model.onnx --odet_graph_load_onnx--> odet_graph --odet_engine_build--> odet_engine
 *   odet_engine --odet_engine_save--> model.plan --odet_engine_load--> odet_engine
 *   odet_engine --odet_exec_create--> odet_exec (one stream + arena) --odet_exec_*--> outputs
 *
 * Every fallible call returns odet_status; the context keeps a detailed message of the
 * last error (odet_ctx_last_error). The library never exits or aborts on bad input.
 */
#ifndef ODET_H
#define ODET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
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
const char *odet_status_str(odet_status s);
/* CLI exit code for a status: 0 ok, 2 bad input or usage, 1 runtime failure. */
int odet_status_exit_code(odet_status s);

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
	ODET_DTYPE_MAX = 17
} odet_dtype;

/* Size in bytes of one element; 0 for undefined/string. */
size_t odet_dtype_size(odet_dtype t);
const char *odet_dtype_name(odet_dtype t);

/* A dense row-major tensor in host memory (device < 0) or on GPU `device`. */
typedef struct odet_tensor {
	odet_dtype dtype;
	int rank;
	int64_t dims[ODET_MAX_RANK];
	void *data;
	int device;
} odet_tensor;

/* Number of elements (1 for rank 0); -1 on overflow or a negative dim. */
int64_t odet_tensor_numel(const odet_tensor *t);

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
	 * (default) = time every candidate at every build/load. The string is copied. */
	const char *tune_cache;
} odet_ctx_opts;

odet_ctx_opts odet_ctx_opts_default(void);
odet_status odet_ctx_create(const odet_ctx_opts *opts, odet_ctx **out);
void odet_ctx_destroy(odet_ctx *ctx);
/* Detailed message of the last error on this context ("" if none). */
const char *odet_ctx_last_error(const odet_ctx *ctx);

/* ---------------------------------------------------------------- graph */

odet_status odet_graph_load_onnx(odet_ctx *ctx, const char *path, odet_graph **out);
/* TF.js graph model (model.json with its weight shards beside it). */
odet_status odet_graph_load_tfjs(odet_ctx *ctx, const char *path, odet_graph **out);
/* By file type: *.json → TF.js, anything else → ONNX. */
odet_status odet_graph_load(odet_ctx *ctx, const char *path, odet_graph **out);
void odet_graph_destroy(odet_graph *g);
/* Print nodes with shapes, FLOPs and parameter counts, and totals. */
odet_status odet_graph_print(const odet_graph *g, FILE *f);

/* ---------------------------------------------------------------- engine */

typedef enum odet_backend_kind {
	ODET_BACKEND_AUTO = 0, /* CUDA when a GPU is present, else CPU */
	ODET_BACKEND_CPU = 1,
	ODET_BACKEND_CUDA = 2
} odet_backend_kind;

typedef enum odet_precision {
	ODET_PRECISION_FP32 = 0,
	ODET_PRECISION_FP16 = 1,
	ODET_PRECISION_INT8 = 2
} odet_precision;

typedef struct odet_build_opts {
	odet_backend_kind backend;
	int device;            /* GPU index for CUDA */
	int batch;             /* value of a symbolic batch dimension; default 1 */
	int input_h, input_w;  /* override symbolic/dynamic H and W of the image input; 0 = keep */
	odet_precision precision;
	const char *head;      /* detection head preset name or config file; NULL = auto */
	int no_head;           /* 1 = never attach a head, run the raw network */
	int verbose;           /* print the graph before/after passes to stderr */
	/* fp16: names of nodes kept in fp32 (NULL-free array of n_keep_fp32 names) */
	const char *const *keep_fp32;
	int n_keep_fp32;
} odet_build_opts;

odet_build_opts odet_build_opts_default(void);
odet_status odet_engine_build(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *opts,
			      odet_engine **out);
/* Written atomically (temporary file + rename). */
odet_status odet_engine_save(const odet_engine *e, const char *path);
odet_status odet_engine_load(odet_ctx *ctx, const char *path, int device, odet_engine **out);
void odet_engine_destroy(odet_engine *e);
/* The optimized graph inside the engine (for printing). */
const odet_graph *odet_engine_graph(const odet_engine *e);

int odet_engine_num_inputs(const odet_engine *e);
int odet_engine_num_outputs(const odet_engine *e);
/* Name, dtype and shape of an input/output; info->data is NULL. */
odet_status odet_engine_input_info(const odet_engine *e, int i, const char **name, odet_tensor *info);
odet_status odet_engine_output_info(const odet_engine *e, int i, const char **name, odet_tensor *info);

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
odet_status odet_engine_model_info(const odet_engine *e, odet_model_info *info);

/* ---------------------------------------------------------------- execution */

odet_status odet_exec_create(odet_engine *e, odet_exec **out);
void odet_exec_destroy(odet_exec *x);

/* Run the network on raw tensors: inputs and outputs in the engine's order, host memory,
 * shapes exactly as in odet_engine_*_info. Output buffers are provided by the caller. */
odet_status odet_exec_infer(odet_exec *x, const odet_tensor *inputs, int n_inputs,
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

odet_status odet_detections_alloc(int batch, int capacity, odet_detections *d);
void odet_detections_free(odet_detections *d);

/* Run network + detection head on one input batch. Fails with ODET_ERR_UNSUPPORTED
 * when the engine has no head attached. */
odet_status odet_exec_run(odet_exec *x, const odet_tensor *input, odet_detections *out);

#ifdef __cplusplus
}
#endif
#endif
