/*
 * mux.h — the stream muxer of the video pipeline: one thread per source reads frames (through
 * an mx_reader: FFmpeg in video.c, synthetic ones in tests) into its bounded queue; consumers
 * (the device slot threads) take batches of up to B frames, one frame from each non-empty
 * queue in turn (the starting source rotates), stamped with a sequence number. A batch goes
 * out when B frames are queued, when its oldest frame has waited timeout_s, or when every
 * source has ended. Realtime: a source holds each frame until its pts (from the source's
 * start) and, when its queue is full, drops the oldest frame (counted); otherwise a full queue
 * makes the source wait. A source whose reader fails is marked failed and ends; the others go on.
 */
#ifndef ODET_PIPELINE_MUX_H
#define ODET_PIPELINE_MUX_H

#include "io/image.h"
#include "io/nvdec.h"

#include <pthread.h>

struct mx_frame;

/* What a source thread calls; self is the reader's state. open, read and close (also after a
 * failed open) run in the source's thread. */
typedef struct mx_reader {
	odet_status (*open)(void *self, odet_ctx *ctx, int *w, int *h, double *fps, char codec[32]);
	odet_status (*read)(void *self, io_image *img, double *pts, bool *eof);
	int64_t (*corrupt)(void *self);
	const char *(*end_message)(void *self);
	void (*close)(void *self);
	void *self;
	/* optional, used instead of read when set: the next frame into f (img on the host, or an
	 * NVDEC frame: nv + nv_dec) with its pts */
	odet_status (*read_frame)(void *self, struct mx_frame *f, bool *eof);
} mx_reader;

typedef struct mx_frame {
	int source;
	int64_t index;            /* frame index in its source */
	double pts;
	io_image img;             /* owned (decoded on the CPU) */
	io_nv12_frame nv;         /* or decoded by NVDEC: a buffer of nv_dec's pool, owned */
	io_nvdec *nv_dec;
	double t_ready;           /* when it entered the queue (odet_now_s) */
} mx_frame;

/* Free a frame's pixels (the host image, or the NVDEC buffer back to its decoder). */
void mx_frame_free(mx_frame *f);

typedef struct mx_source {
	struct mx *m;
	int index;
	const char *name;
	mx_reader rd;
	odet_ctx *ctx;            /* the thread's own (errors) */
	mx_frame *q;              /* ring of q_cap */
	int q_head, q_n;
	bool ended;
	odet_status status;       /* why it failed (ODET_OK: ended normally) */
	char msg[1024];
	int w, h;
	double fps;
	char codec[32];
	int64_t decoded, dropped, corrupt;
	double decode_s;
	pthread_t thread;
	bool started;
} mx_source;

typedef struct mx {
	mx_source *src;
	int n, B, q_cap, n_live, rr;
	double timeout_s;
	bool realtime, stop;
	int64_t max_frames, queued, next_seq;
	pthread_mutex_t mu;
	pthread_cond_t cv_data, cv_space;
} mx;

typedef struct mx_opts {
	int batch;                /* B */
	int queue_frames;         /* per source */
	double timeout_s;
	bool realtime;
	int64_t max_frames;       /* per source; 0 = all */
} mx_opts;

/* Start one thread per source (readers[i] read source names[i]; both must outlive m). */
odet_status mx_start(odet_ctx *ctx, const mx_opts *o, const char *const *names, const mx_reader *readers, int n,
		     mx **out);
/* Up to B frames into out[] (*n_out; 0: every source ended and every frame was taken, or
 * stopped) and the batch's sequence number (0, 1, ... in the order batches were taken). */
void mx_next_batch(mx *m, mx_frame *out, int *n_out, int64_t *seq);
/* Make every source and consumer wind down. */
void mx_stop(mx *m);
/* Stop, join the source threads, free queued frames. Source fields stay readable until then. */
void mx_destroy(mx *m);

#endif
