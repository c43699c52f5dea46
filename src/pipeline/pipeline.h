/*
 * pipeline.h — internals of the image pipeline (odet_pipeline_* in odet.h).
 *
 *   sources.c   odet_sources_expand: files, folders, globs, @LIST → paths
 *   pipeline.c  create / destroy: one engine + worker state per device, nvJPEG per worker
 *   slot.c      one batch in flight on one device: stage (bytes or RGB into page-locked
 *               memory), enqueue (H2D, nvJPEG, letterbox hook, engine, D2H on the exec's
 *               stream), finish (wait, map boxes back to each image)
 *   run.c       odet_pipeline_run: reading threads → ring of items → slot threads (each
 *               stages, enqueues and finishes one batch at a time) → in-order delivery;
 *               odet_pipeline_detect_file
 *
 * Threads: each reading thread and each device has its own odet_ctx; the `slots` threads of
 * one device (one batch in flight each, on its own exec context and stream) share the
 * device's context, whose error writes are serialized.
 */
#ifndef ODET_PIPELINE_H
#define ODET_PIPELINE_H

#include "engine/engine.h"
#include "io/image.h"
#include "io/nvjpeg.h"

#include <pthread.h>

/* The largest engine batch a pipeline takes (a slot's item list lives on its thread's stack),
 * checked before any engine is built (docs/limits.md). */
#define PL_MAX_BATCH 4096

/* One input image, from reading to delivery. */
typedef struct pl_item {
	int64_t index;
	const char *path;
	odet_status status;
	char *error;              /* message when status != OK (owned) */
	uint8_t *bytes;           /* file contents, kept for nvJPEG (owned) */
	size_t size;
	io_image img;             /* RGB decoded on the CPU (owned) */
	const struct io_nv12_frame *nv; /* or an NVDEC frame in device memory (video; not owned) */
	int w, h;
	bool jpeg_gpu;            /* baseline JPEG: nvJPEG may take it */
	bool gpu_decoded;
	bool keep_img;            /* video: img outlives staging (odet_video_opts.keep_frames) */
	double read_s, decode_s;
} pl_item;

/* A batch's results, mapped to image pixels, waiting for in-order delivery. */
typedef struct pl_result {
	int n;
	odet_image_result *r;     /* n results */
	float *boxes, *scores;    /* storage the results point into */
	int32_t *classes;
} pl_result;

typedef struct pl_slot {
	odet_exec *x;
	odet_detections det;      /* arrays in det_block */
	void *det_block;          /* page-locked when the backend has host_alloc */
	int *pos;                 /* per batch item: its row in the engine batch, -1 failed */
	io_nvjpeg_batch *nj;
	void *ev_start, *ev_end;  /* device timing of the batch (optional) */
	/* staging: compressed bytes and CPU-decoded RGB in page-locked memory, RGB on the device */
	uint8_t *stage;
	size_t stage_cap;
	uint8_t *rgb_dev;
	size_t rgb_cap;
	be_lbox_image *desc_host, *desc_dev;
	be_nv12_image *nv_host, *nv_dev; /* NVDEC frames' descriptors (allocated at the first) */
	io_lbox *lbox;            /* per batch image: geometry to map boxes back */
	pl_item **items;          /* the batch's items (borrowed from the ring) */
	int n;                    /* images in the batch */
	int64_t batch_index;
	bool busy;
	pthread_t thread;         /* odet_pipeline_run: one thread per slot */
	bool started;
	odet_status rc;           /* the slot thread's failure */
	odet_pipeline_stats st;   /* this slot's share */
	/* nvJPEG call arguments */
	const uint8_t **nj_data;
	size_t *nj_size;
	uint8_t **nj_dst;
	size_t *nj_pitch;
	const char **nj_label;
} pl_slot;

typedef struct pl_device {
	struct odet_pipeline *p;
	int device;               /* GPU (-1: CPU) */
	odet_ctx *ctx;            /* this worker's context (engine built / loaded in it) */
	odet_engine *e;
	io_nvjpeg *nj;
	pl_slot *slots;
	int n_slots;
} pl_device;

struct odet_pipeline {
	odet_ctx *ctx;            /* the caller's: logger, limits, the final error */
	odet_pipeline_opts opts;
	char *model;
	pl_device *dev;
	int n_dev;
	odet_model_info mi;
	int batch, capacity;      /* engine batch, detection rows per image */
	odet_dtype in_dtype;
	const char *decoder;      /* "hardware", "gpu", "none" */
	/* odet_pipeline_detect_file: the last image and its result */
	pl_item one;
	pl_result one_res;
};

/* slot.c */
odet_status pl_slot_init(pl_device *d, pl_slot *s);
void pl_slot_free(pl_device *d, pl_slot *s);
/* Stage items[0..n) (decode on the CPU whatever nvJPEG cannot take) and enqueue the whole
 * batch on the slot's stream. Items that fail here get their status and message. */
odet_status pl_slot_enqueue(pl_device *d, pl_slot *s, pl_item **items, int n, int64_t batch_index);
/* Wait for the slot's batch and fill res (one result per item, boxes in image pixels). */
odet_status pl_slot_finish(pl_device *d, pl_slot *s, pl_result *res);
void pl_result_free(pl_result *r);
/* Read and check one item (file bytes, or a copy of mem[mem_size] when mem is not NULL; JPEG
 * header; CPU decode unless nvJPEG may take it). ctx: the calling thread's. */
void pl_item_load(odet_ctx *ctx, pl_item *it, const void *mem, size_t mem_size, bool gpu_jpeg);
void pl_item_clear(pl_item *it);
/* Decode the item's bytes on the CPU (they are freed; status and message on failure). */
void pl_item_decode_cpu(odet_ctx *ctx, pl_item *it);
/* A message as the item's error (status kept). */
void pl_item_fail(pl_item *it, odet_status st, const char *msg);

#endif
