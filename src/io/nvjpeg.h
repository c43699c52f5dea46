/*
 * nvjpeg.h — GPU JPEG decode through NVIDIA's nvJPEG, loaded at run time (dlopen of
 * libnvjpeg.so.13, .so.12 or .so): odet builds and runs without it, and its headers are not
 * needed to build (nvjpeg.c declares the few calls it uses, checked against the real header
 * by tests/io/nvjpeg_decl_check.c on a machine that has it).
 *
 * One io_nvjpeg per device worker (a handle on the device current at open): the hardware
 * JPEG engine (NVJPEG_BACKEND_HARDWARE, A100/H100) when nvJPEG offers it and prefer_hw is set,
 * else nvJPEG's default GPU backend. One io_nvjpeg_batch per pipeline slot (decode state and
 * buffers; one batch in flight each). All calls of one batch object from one thread.
 */
#ifndef ODET_IO_NVJPEG_H
#define ODET_IO_NVJPEG_H

#include "core/core.h"

typedef struct io_nvjpeg io_nvjpeg;
typedef struct io_nvjpeg_batch io_nvjpeg_batch;

/* Load the library and create a handle on the current device. Library or GPU missing →
 * ODET_ERR_UNSUPPORTED with a message naming what is missing. */
odet_status io_nvjpeg_open(odet_ctx *ctx, int prefer_hw, io_nvjpeg **out);
void io_nvjpeg_close(io_nvjpeg *nj);
/* "hardware" or "gpu" */
const char *io_nvjpeg_backend_name(const io_nvjpeg *nj);

/* max_batch: the most images one io_nvjpeg_decode call gets. */
odet_status io_nvjpeg_batch_create(io_nvjpeg *nj, int max_batch, io_nvjpeg_batch **out);
void io_nvjpeg_batch_destroy(io_nvjpeg_batch *b);

/* Whether this JPEG (already checked by io_jpeg_header) can go to io_nvjpeg_decode on this
 * handle: nvJPEG parses it and, for the hardware backend, says the engine supports it
 * (baseline, its chroma subsamplings). false → decode it on the CPU. */
bool io_nvjpeg_supported(io_nvjpeg_batch *b, const uint8_t *data, size_t size);

/* Decode n JPEGs (host memory, page-locked for speed) into interleaved RGB8 in device
 * memory: image i to dst[i], pitch[i] bytes per row (>= 3 * width). Enqueued on stream;
 * returns without waiting for the GPU. A failure names the first image (labels[i]). */
odet_status io_nvjpeg_decode(io_nvjpeg_batch *b, const uint8_t *const *data, const size_t *size, int n,
			     uint8_t *const *dst, const size_t *pitch, const char *const *labels, void *stream);

#endif
