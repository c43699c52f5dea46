/*
 * nvjpeg.c — batched JPEG decode on the GPU through nvJPEG, loaded with dlopen.
 *
 * Plain C, built on every configuration: neither nvjpeg.h nor cuda_runtime.h is included. The
 * part of nvJPEG's C API used here is declared below, as in nvjpeg.h of CUDA 12.x / 13.x (same
 * names, same values); tests/io/nvjpeg_decl_check.c compares it with the real header and
 * library on a machine that has them. A cudaStream_t is passed as void *.
 *
 * Calls per batch object (one thread): nvjpegJpegStreamParseHeader (+ nvjpegDecodeBatchedSupported on
 * the hardware backend) per image to choose it, then nvjpegDecodeBatchedInitialize whenever
 * the batch size changes or a batch failed (the nvJPEG guide asks for both), then
 * nvjpegDecodeBatched, which enqueues on the stream. Initialize must not run while a batch of
 * the same state is still being decoded: the caller waits for its previous batch first.
 */
#include "io/nvjpeg.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- nvJPEG's declarations (nvjpeg.h); each value is checked by tests/io/nvjpeg_decl_check.c */
typedef enum {
	NVJPEG_STATUS_SUCCESS = 0,
	NVJPEG_STATUS_NOT_INITIALIZED = 1,
	NVJPEG_STATUS_INVALID_PARAMETER = 2,
	NVJPEG_STATUS_BAD_JPEG = 3,
	NVJPEG_STATUS_JPEG_NOT_SUPPORTED = 4,
	NVJPEG_STATUS_ALLOCATOR_FAILURE = 5,
	NVJPEG_STATUS_EXECUTION_FAILED = 6,
	NVJPEG_STATUS_ARCH_MISMATCH = 7,
	NVJPEG_STATUS_INTERNAL_ERROR = 8,
	NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED = 9,
	NVJPEG_STATUS_INCOMPLETE_BITSTREAM = 10
} nvjpegStatus_t;

typedef enum { NVJPEG_BACKEND_DEFAULT = 0, NVJPEG_BACKEND_HARDWARE = 3 } nvjpegBackend_t;
typedef enum { NVJPEG_OUTPUT_RGBI = 5 } nvjpegOutputFormat_t;
#define NVJPEG_FLAGS_DEFAULT 0u
#define NVJPEG_MAX_COMPONENT 4

typedef struct {
	unsigned char *channel[NVJPEG_MAX_COMPONENT];
	size_t pitch[NVJPEG_MAX_COMPONENT];
} nvjpegImage_t;

struct nvjpegHandle;
typedef struct nvjpegHandle *nvjpegHandle_t;
struct nvjpegJpegState;
typedef struct nvjpegJpegState *nvjpegJpegState_t;
struct nvjpegJpegStream;
typedef struct nvjpegJpegStream *nvjpegJpegStream_t;

/* the allocator arguments (nvjpegDevAllocator_t *, nvjpegPinnedAllocator_t *) are always NULL */
typedef nvjpegStatus_t (*nvjpeg_create_ex_fn)(nvjpegBackend_t backend, void *dev_allocator, void *pinned_allocator,
					      unsigned int flags, nvjpegHandle_t *handle);
typedef nvjpegStatus_t (*nvjpeg_destroy_fn)(nvjpegHandle_t handle);
typedef nvjpegStatus_t (*nvjpeg_state_create_fn)(nvjpegHandle_t handle, nvjpegJpegState_t *jpeg_handle);
typedef nvjpegStatus_t (*nvjpeg_state_destroy_fn)(nvjpegJpegState_t jpeg_handle);
typedef nvjpegStatus_t (*nvjpeg_stream_create_fn)(nvjpegHandle_t handle, nvjpegJpegStream_t *jpeg_stream);
typedef nvjpegStatus_t (*nvjpeg_stream_destroy_fn)(nvjpegJpegStream_t jpeg_stream);
typedef nvjpegStatus_t (*nvjpeg_stream_parse_fn)(nvjpegHandle_t handle, const unsigned char *data, size_t length,
						 nvjpegJpegStream_t jpeg_stream);
typedef nvjpegStatus_t (*nvjpeg_batched_supported_fn)(nvjpegHandle_t handle, nvjpegJpegStream_t jpeg_stream,
						      int *is_supported);
typedef nvjpegStatus_t (*nvjpeg_batched_init_fn)(nvjpegHandle_t handle, nvjpegJpegState_t jpeg_handle, int batch_size,
						 int max_cpu_threads, nvjpegOutputFormat_t output_format);
typedef nvjpegStatus_t (*nvjpeg_batched_fn)(nvjpegHandle_t handle, nvjpegJpegState_t jpeg_handle,
					    const unsigned char *const *data, const size_t *lengths,
					    nvjpegImage_t *destinations, void *stream);

typedef struct nvjpeg_api {
	nvjpeg_create_ex_fn create_ex;
	nvjpeg_destroy_fn destroy;
	nvjpeg_state_create_fn state_create;
	nvjpeg_state_destroy_fn state_destroy;
	nvjpeg_stream_create_fn stream_create;
	nvjpeg_stream_destroy_fn stream_destroy;
	nvjpeg_stream_parse_fn stream_parse;
	nvjpeg_batched_supported_fn batched_supported;
	nvjpeg_batched_init_fn batched_init;
	nvjpeg_batched_fn batched;
} nvjpeg_api;

/* the symbols resolved (tests/io/nvjpeg_decl_check.c keeps the same list) */
static const struct {
	const char *name;
	size_t offset;
} nvjpeg_symbols[] = {
	{"nvjpegCreateEx", offsetof(nvjpeg_api, create_ex)},
	{"nvjpegDestroy", offsetof(nvjpeg_api, destroy)},
	{"nvjpegJpegStateCreate", offsetof(nvjpeg_api, state_create)},
	{"nvjpegJpegStateDestroy", offsetof(nvjpeg_api, state_destroy)},
	{"nvjpegJpegStreamCreate", offsetof(nvjpeg_api, stream_create)},
	{"nvjpegJpegStreamDestroy", offsetof(nvjpeg_api, stream_destroy)},
	{"nvjpegJpegStreamParseHeader", offsetof(nvjpeg_api, stream_parse)},
	{"nvjpegDecodeBatchedSupported", offsetof(nvjpeg_api, batched_supported)},
	{"nvjpegDecodeBatchedInitialize", offsetof(nvjpeg_api, batched_init)},
	{"nvjpegDecodeBatched", offsetof(nvjpeg_api, batched)},
};

static const char *const nvjpeg_sonames[] = {"libnvjpeg.so.13", "libnvjpeg.so.12", "libnvjpeg.so"};

static const char *const nvjpeg_status_names[] = {
	"NVJPEG_STATUS_SUCCESS",
	"NVJPEG_STATUS_NOT_INITIALIZED",
	"NVJPEG_STATUS_INVALID_PARAMETER",
	"NVJPEG_STATUS_BAD_JPEG",
	"NVJPEG_STATUS_JPEG_NOT_SUPPORTED",
	"NVJPEG_STATUS_ALLOCATOR_FAILURE",
	"NVJPEG_STATUS_EXECUTION_FAILED",
	"NVJPEG_STATUS_ARCH_MISMATCH",
	"NVJPEG_STATUS_INTERNAL_ERROR",
	"NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED",
	"NVJPEG_STATUS_INCOMPLETE_BITSTREAM",
};

static const char *status_name(nvjpegStatus_t s)
{
	size_t i = (size_t)s;
	return i < sizeof nvjpeg_status_names / sizeof nvjpeg_status_names[0] ? nvjpeg_status_names[i]
									      : "unknown nvJPEG status";
}

struct io_nvjpeg {
	odet_ctx *ctx;
	void *dl;
	const char *soname;
	nvjpeg_api api;
	nvjpegHandle_t handle;
	bool hw; /* NVJPEG_BACKEND_HARDWARE, else NVJPEG_BACKEND_DEFAULT */
};

struct io_nvjpeg_batch {
	io_nvjpeg *nj;
	nvjpegJpegState_t state;
	nvjpegJpegStream_t parsed; /* io_nvjpeg_supported's parse */
	int max_batch;
	int init_n; /* batch size of the last nvjpegDecodeBatchedInitialize; 0: initialize again */
	nvjpegImage_t *dest;
};

/* dlopen the first of nvjpeg_sonames that loads; if none does, the message says why the first
 * (the newest) did not */
static odet_status load_library(odet_ctx *ctx, io_nvjpeg *nj)
{
	char why[256] = "";
	for (size_t i = 0; i < sizeof nvjpeg_sonames / sizeof nvjpeg_sonames[0]; i++) {
		const char *so = nvjpeg_sonames[i];
		nj->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
		if (nj->dl) {
			nj->soname = so;
			return ODET_OK;
		}
		const char *e = dlerror();
		if (i > 0)
			continue;
		/* glibc's message starts with the file's name unless a dependency is what is missing */
		if (e && !strncmp(e, so, strlen(so)))
			snprintf(why, sizeof why, "%s", e);
		else
			snprintf(why, sizeof why, "%s: %s", so, e ? e : "not found");
	}
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "nvJPEG not available (%s)", why);
}

static odet_status resolve_symbols(odet_ctx *ctx, io_nvjpeg *nj)
{
	for (size_t i = 0; i < sizeof nvjpeg_symbols / sizeof nvjpeg_symbols[0]; i++) {
		void *p = dlsym(nj->dl, nvjpeg_symbols[i].name);
		if (!p)
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "nvJPEG not usable (%s has no %s)", nj->soname,
					  nvjpeg_symbols[i].name);
		/* POSIX: a function pointer has the representation of the void * dlsym returns */
		memcpy((char *)&nj->api + nvjpeg_symbols[i].offset, &p, sizeof p);
	}
	return ODET_OK;
}

odet_status io_nvjpeg_open(odet_ctx *ctx, int prefer_hw, io_nvjpeg **out)
{
	odet_status rc;
	nvjpegStatus_t st;
	*out = NULL;
	io_nvjpeg *nj = odet_calloc(ctx, 1, sizeof *nj);
	if (!nj)
		return ODET_ERR_NO_MEMORY;
	nj->ctx = ctx;
	if ((rc = load_library(ctx, nj)))
		goto out_free;
	if ((rc = resolve_symbols(ctx, nj)))
		goto out_close;
	if (prefer_hw) {
		st = nj->api.create_ex(NVJPEG_BACKEND_HARDWARE, NULL, NULL, NVJPEG_FLAGS_DEFAULT, &nj->handle);
		if (st == NVJPEG_STATUS_SUCCESS) {
			nj->hw = true;
		} else {
			nj->handle = NULL;
			odet_log(ctx, ODET_LOG_INFO, "nvJPEG hardware decoder not available (%s): using the GPU backend",
				 status_name(st));
		}
	}
	if (!nj->hw) {
		st = nj->api.create_ex(NVJPEG_BACKEND_DEFAULT, NULL, NULL, NVJPEG_FLAGS_DEFAULT, &nj->handle);
		if (st != NVJPEG_STATUS_SUCCESS) {
			/* ARCH_MISMATCH: this GPU (or none) cannot run nvJPEG at all */
			rc = odet_error(ctx, st == NVJPEG_STATUS_ARCH_MISMATCH ? ODET_ERR_UNSUPPORTED : ODET_ERR_DEVICE,
					"nvJPEG: cannot create a handle (%s): %s (%d)", nj->soname, status_name(st),
					(int)st);
			goto out_close;
		}
	}
	*out = nj;
	return ODET_OK;
out_close:
	dlclose(nj->dl);
out_free:
	free(nj);
	return rc;
}

void io_nvjpeg_close(io_nvjpeg *nj)
{
	if (!nj)
		return;
	nj->api.destroy(nj->handle);
	dlclose(nj->dl);
	free(nj);
}

const char *io_nvjpeg_backend_name(const io_nvjpeg *nj)
{
	return nj->hw ? "hardware" : "gpu";
}

odet_status io_nvjpeg_batch_create(io_nvjpeg *nj, int max_batch, io_nvjpeg_batch **out)
{
	odet_ctx *ctx = nj->ctx;
	odet_status rc;
	nvjpegStatus_t st;
	*out = NULL;
	if (max_batch < 1)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "nvJPEG: batch size %d", max_batch);
	io_nvjpeg_batch *b = odet_calloc(ctx, 1, sizeof *b);
	if (!b)
		return ODET_ERR_NO_MEMORY;
	b->nj = nj;
	b->max_batch = max_batch;
	b->dest = odet_calloc(ctx, (size_t)max_batch, sizeof *b->dest);
	if (!b->dest) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	if ((st = nj->api.state_create(nj->handle, &b->state)) != NVJPEG_STATUS_SUCCESS) {
		rc = odet_error(ctx, ODET_ERR_DEVICE, "nvJPEG: cannot create a decode state: %s (%d)", status_name(st),
				(int)st);
		goto out_free_dest;
	}
	if ((st = nj->api.stream_create(nj->handle, &b->parsed)) != NVJPEG_STATUS_SUCCESS) {
		rc = odet_error(ctx, ODET_ERR_DEVICE, "nvJPEG: cannot create a JPEG stream: %s (%d)", status_name(st),
				(int)st);
		goto out_destroy_state;
	}
	*out = b;
	return ODET_OK;
out_destroy_state:
	nj->api.state_destroy(b->state);
out_free_dest:
	free(b->dest);
out_free:
	free(b);
	return rc;
}

void io_nvjpeg_batch_destroy(io_nvjpeg_batch *b)
{
	if (!b)
		return;
	b->nj->api.stream_destroy(b->parsed);
	b->nj->api.state_destroy(b->state);
	free(b->dest);
	free(b);
}

bool io_nvjpeg_supported(io_nvjpeg_batch *b, const uint8_t *data, size_t size)
{
	const io_nvjpeg *nj = b->nj;
	if (!data || size == 0)
		return false;
	if (nj->api.stream_parse(nj->handle, data, size, b->parsed) != NVJPEG_STATUS_SUCCESS)
		return false;
	if (!nj->hw)
		return true;
	int is_supported = -1;
	if (nj->api.batched_supported(nj->handle, b->parsed, &is_supported) != NVJPEG_STATUS_SUCCESS)
		return false;
	return is_supported == 0; /* 0: the hardware decoder takes it */
}

/* what a failed nvJPEG call says about its input: the file (BAD_INPUT) or the device */
static odet_status status_kind(nvjpegStatus_t st)
{
	switch (st) {
	case NVJPEG_STATUS_BAD_JPEG:
	case NVJPEG_STATUS_JPEG_NOT_SUPPORTED:
	case NVJPEG_STATUS_INCOMPLETE_BITSTREAM:
		return ODET_ERR_BAD_INPUT;
	default:
		return ODET_ERR_DEVICE;
	}
}

odet_status io_nvjpeg_decode(io_nvjpeg_batch *b, const uint8_t *const *data, const size_t *size, int n,
			     uint8_t *const *dst, const size_t *pitch, const char *const *labels, void *stream)
{
	io_nvjpeg *nj = b->nj;
	odet_ctx *ctx = nj->ctx;
	nvjpegStatus_t st;
	if (n == 0)
		return ODET_OK;
	if (n < 0 || n > b->max_batch)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "nvJPEG: batch of %d images, at most %d", n, b->max_batch);
	const char *first = labels && labels[0] ? labels[0] : "?";
	for (int i = 0; i < n; i++) {
		memset(&b->dest[i], 0, sizeof b->dest[i]);
		b->dest[i].channel[0] = dst[i];
		b->dest[i].pitch[0] = pitch[i];
	}
	if (b->init_n != n) {
		/* max_cpu_threads: unused by nvJPEG since CUDA 11 (its guide); 1 as in NVIDIA's samples */
		st = nj->api.batched_init(nj->handle, b->state, n, 1, NVJPEG_OUTPUT_RGBI);
		if (st != NVJPEG_STATUS_SUCCESS) {
			b->init_n = 0;
			return odet_error(ctx, ODET_ERR_DEVICE, "nvJPEG batched decode of %d images (first: %s): %s (%d)", n,
					  first, status_name(st), (int)st);
		}
		b->init_n = n;
	}
	st = nj->api.batched(nj->handle, b->state, data, size, b->dest, stream);
	if (st != NVJPEG_STATUS_SUCCESS) {
		b->init_n = 0; /* a failed batch leaves the state to be initialized again */
		return odet_error(ctx, status_kind(st), "nvJPEG batched decode of %d images (first: %s): %s (%d)", n,
				  first, status_name(st), (int)st);
	}
	return ODET_OK;
}
