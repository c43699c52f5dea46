/*
 * core.h — internal services shared by every layer: errors, logging, checked arithmetic,
 * allocation, the thread pool and file reading. Nothing here knows about graphs.
 */
#ifndef ODET_CORE_H
#define ODET_CORE_H

#include "odet.h"

#include <limits.h>
#include <pthread.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits applied to every untrusted file */
#define ODET_LIMIT_MAX_RANK ODET_MAX_RANK
#define ODET_LIMIT_MAX_TENSOR_BYTES ((int64_t)1 << 36) /* 64 GiB: refuse anything larger */
#define ODET_LIMIT_MAX_NODES (1 << 20)
#define ODET_LIMIT_MAX_NAME 4096

typedef struct odet_threadpool odet_threadpool;

/* Build options the environment overrides (odet_build_opts; read once by odet_ctx_create,
 * applied by every build and plan load on the context); ODET_ENV_UNSET = no variable. */
#define ODET_ENV_UNSET INT_MIN
typedef struct odet_env_build {
	int conv_path, conv_candidates, nms_sort, stem_pad;
} odet_env_build;

/* The libraries a context loads with dlopen and keeps (odet_ctx_lib). */
typedef enum { ODET_CTX_LIB_FFMPEG, ODET_CTX_LIB_NVDEC, ODET_CTX_LIB_COUNT } odet_ctx_lib_kind;

struct odet_ctx {
	odet_ctx_opts opts;
	odet_threadpool *pool;
	odet_status last_status;
	char last_error[1024];
	char *tune_cache; /* owned copy of opts.tune_cache */
	odet_env_build env_build;
	/* exec contexts of one engine may run on several threads (pipelines): their error
	 * writes are serialized; the message kept is the last one written */
	pthread_mutex_t error_lock;
	/* fault injection (tests): the fault_at-th call (1-based) of the counted wrappers fails;
	 * 0 = never. Counted: odet_malloc/calloc/realloc_array/strdup/aligned_alloc, file
	 * reads, opens inside a model folder and atomic writes. Atomic: exec threads share ctx. */
	int64_t fault_at, fault_calls;
	/* run-time loaded libraries (odet_ctx_lib), released by odet_ctx_destroy */
	pthread_mutex_t lib_lock;
	void *lib[ODET_CTX_LIB_COUNT];
	void (*lib_release[ODET_CTX_LIB_COUNT])(void *handle);
};

/* A library the context loads on first use and owns until odet_ctx_destroy (FFmpeg; NVDEC's
 * libcuda + libnvcuvid: loaded once for all the videos a context opens). The first call for a kind runs load(why, n) under the
 * context's lock (threads open videos at once) and keeps its handle; later calls return it. NULL
 * when load fails, why saying what is missing (the next call tries again). release(handle) runs
 * at destroy. */
void *odet_ctx_lib(odet_ctx *ctx, odet_ctx_lib_kind kind, void *(*load)(char *why, size_t n),
		   void (*release)(void *handle), char *why, size_t n);

/* Arm fault injection on ctx: the n-th counted call from now fails (0 = off); the count
 * restarts at 0. Tests only (tests/engine/test_faults.c); no global state. */
void odet_ctx_fail_at(odet_ctx *ctx, int64_t n);
/* Counted calls since the last odet_ctx_fail_at. */
int64_t odet_ctx_fault_calls(const odet_ctx *ctx);
/* Count one call; true when it is the one to fail. ctx NULL: false. */
bool odet_fault(odet_ctx *ctx);

/* odet_error (odet.h) records an error on ctx and returns it. Message: free text; callers
 * name the file/node/op. */
/* Prefix the current message with more context ("model.onnx: " + old message). */
odet_status odet_error_prefix(odet_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void odet_log(const odet_ctx *ctx, odet_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- tuned choices (tune_cache.c): KEY -> VALUE, each printable ASCII without tabs and under
 * 512 bytes (odet_tune_valid); keys name the device and library versions (backends build them).
 * Two stores: an engine's own set (what its build or load chose; its plan's tuning section
 * fills it before a load's prepare), consulted first, and the file opts.tune_cache (no file:
 * none). get copies the VALUE of KEY into val (cap bytes) and returns true if found; a value
 * found in the file is added to set. put records into set and appends to the file. set may be
 * NULL; a store that fails (memory, file) only costs a later re-timing, never an error. */
typedef struct odet_tune_set {
	int n, cap;
	char **key, **val;
} odet_tune_set;
bool odet_tune_get(const odet_ctx *ctx, odet_tune_set *set, const char *key, char *val, size_t cap);
void odet_tune_put(const odet_ctx *ctx, odet_tune_set *set, const char *key, const char *val);
bool odet_tune_valid(const char *s);
/* Add or replace KEY in set; false when key or val is not valid or memory runs out. */
bool odet_tune_set_add(odet_tune_set *set, const char *key, const char *val);
const char *odet_tune_set_find(const odet_tune_set *set, const char *key);
void odet_tune_set_free(odet_tune_set *set);

/* ---- overflow-checked arithmetic: return false on overflow */
static inline bool odet_mul_i64(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}
static inline bool odet_add_i64(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}
static inline bool odet_mul_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}
static inline bool odet_add_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}
/* Product of dims (all >= 0) with overflow check; false on negative dim or overflow. */
bool odet_dims_numel(const int64_t *dims, int rank, int64_t *out);
/* An ONNX axis (negative counts from the end) into [0, rank): false when out of range. */
static inline bool odet_norm_axis(int64_t axis, int rank, int *out)
{
	if (axis < -(int64_t)rank || axis >= rank)
		return false;
	*out = (int)(axis < 0 ? axis + rank : axis);
	return true;
}

/* Softmax's [outer, n, inner] view around axis: n = dims[axis], or with coerce (opsets < 13:
 * the input read as 2-D) the product of dims[axis..rank-1] and inner = 1. */
static inline void odet_dims_split_softmax(const int64_t *dims, int rank, int axis, bool coerce, int64_t *outer,
					   int64_t *n, int64_t *inner)
{
	*outer = *n = *inner = 1;
	for (int d = 0; d < rank; d++) {
		if (d < axis)
			*outer *= dims[d];
		else if (d == axis || coerce)
			*n *= dims[d];
		else
			*inner *= dims[d];
	}
}

/* The [outer, dims[axis], inner] view of dims around axis (0 <= axis < rank): products of the
 * dims before and after it. */
static inline void odet_dims_split(const int64_t *dims, int rank, int axis, int64_t *outer, int64_t *inner)
{
	int64_t n;
	odet_dims_split_softmax(dims, rank, axis, false, outer, &n, inner);
}

/* One axis of an ONNX Slice (10+) over a dim of size dim >= 0: start and end count from the
 * end when negative, then are clamped to [0, dim] (step > 0) or start to [0, dim-1] and end to
 * [-1, dim-1] (step < 0). Returns how many elements are taken; *first = the first index.
 * step != 0 (any other value, INT64_MIN included: nothing here negates it). Shared by the
 * shape function and every backend's kernel. */
static inline int64_t odet_slice_range(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first)
{
	*first = 0;
	if (dim <= 0 || step == 0)
		return 0;
	if (start < 0)
		start += dim;
	if (end < 0)
		end += dim;
	int64_t hi = step > 0 ? dim : dim - 1, lo = step > 0 ? 0 : -1;
	start = start < 0 ? 0 : start > hi ? hi : start;
	end = end < lo ? lo : end > hi ? hi : end;
	*first = start;
	if (step > 0)
		return end > start ? (end - start - 1) / step + 1 : 0;
	return start > end ? (end - start + 1) / step + 1 : 0;
}

/* ---- allocation: plain malloc wrappers that never return NULL silently */
void *odet_malloc(odet_ctx *ctx, size_t n);             /* sets ODET_ERR_NO_MEMORY on failure */
void *odet_calloc(odet_ctx *ctx, size_t n, size_t size); /* overflow-checked */
void *odet_realloc_array(odet_ctx *ctx, void *p, size_t n, size_t size);
char *odet_strdup(odet_ctx *ctx, const char *s);
/* odet_aligned_alloc / odet_aligned_free: odet.h */

/* ---- thread pool: parallel_for over [0, n) split into contiguous chunks */
typedef void (*odet_range_fn)(void *arg, int64_t begin, int64_t end, int thread);
odet_status odet_threadpool_create(int n_threads, odet_threadpool **out);
void odet_threadpool_destroy(odet_threadpool *p);
int odet_threadpool_size(const odet_threadpool *p);
/* Runs fn over [0, n) in at most size() chunks; chunks are at least `grain` long.
 * Calls from inside a running task execute serially. pool may be NULL (serial). */
void odet_parallel_for(odet_threadpool *p, int64_t n, int64_t grain, odet_range_fn fn, void *arg);

/* ---- clock: seconds of CLOCK_MONOTONIC (durations only) */
double odet_now_s(void);

/* ---- files */
/* Read a whole file (limit bytes at most). *data is malloc'ed; free() it. */
odet_status odet_file_read(odet_ctx *ctx, const char *path, size_t limit, void **data, size_t *size);
/* Write atomically: path.tmp.<pid> then rename. */
odet_status odet_file_write_atomic(odet_ctx *ctx, const char *path, const void *data, size_t size);
/* Open `rel`, a file named by an untrusted model relative to its folder `dir`, refusing
 * (ODET_ERR_BAD_INPUT) an absolute path, a '..' component, a realpath (symlinks resolved)
 * outside realpath(dir), a missing file and anything but a regular file (a FIFO cannot
 * block the open). Messages start "<what>: <kind> ..." (kind: "external data", "weight
 * shard"). On success *fd is open (close it) and *size is the file's size. */
odet_status odet_file_open_inside(odet_ctx *ctx, const char *dir, const char *rel, const char *what,
				  const char *kind, int *fd, uint64_t *size);
/* Read exactly n bytes at offset (EINTR retried); a short read is ODET_ERR_IO naming what. */
odet_status odet_file_pread_all(odet_ctx *ctx, int fd, uint64_t offset, void *buf, size_t n, const char *what);

/* ---- checksums */
uint32_t odet_crc32(uint32_t crc, const void *data, size_t n);

#endif
