/*
 * bench_core.h — the engine benchmark of `odet bench` and `odet report` (bench_core.c): random
 * inputs (never zeros) rotating over BENCH_BUFFERS sets; on the CPU one batch at a time timed on
 * the host; on a GPU (events) n_slots exec contexts in flight round-robin with odet_exec_submit,
 * page-locked host buffers, each batch's total / H2D / compute / D2H read from its events.
 */
#ifndef ODET_BENCH_CORE_H
#define ODET_BENCH_CORE_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>

#define BENCH_BUFFERS 3

#define BENCH_MAX_STREAMS 16

typedef struct bench_timing {
	double total_ms;
	double h2d_ms, compute_ms, d2h_ms; /* 0 on CPU: not separable */
} bench_timing;

/* One exec context with its own output buffers. */
typedef struct bench_slot {
	odet_exec *x;
	odet_tensor *out;
	bool inflight;
} bench_slot;

typedef struct bench {
	odet_engine *e;
	odet_engine_desc d;
	int n_in, n_out, n_slots;
	odet_tensor *in[BENCH_BUFFERS]; /* n_in tensors per buffer set */
	bench_slot slot[BENCH_MAX_STREAMS];
	bool gpu;                       /* events, pinned host buffers, asynchronous slots */
	bool ordered;                   /* --ordered: a slot's nodes wait for the previous slot's */
} bench;

/* Measured figures: runs, wall seconds, images/s, and [total, h2d, compute, d2h] x [min, p50,
 * p90, p99] in ms per batch (GPU parts 0 on the CPU). */
typedef struct bench_result {
	size_t runs;
	long warmup;
	double wall_s, images_per_s;
	double st[4][4];
} bench_result;

double bench_now_ms(void);
/* Inputs, outputs and n_slots exec contexts of e (one on the CPU). Free with bench_free, also
 * after a failure. */
odet_status bench_setup(odet_engine *e, int n_slots, bench *b);
void bench_free(bench *b);
/* Wait for slot k's batch in flight (if any) and read its event times (*got). */
odet_status bench_slot_finish(bench *b, int k, bench_timing *t, bool *got);
/* One batch (iteration iter); on a GPU the slot's previous batch is collected first (*got). */
odet_status bench_iteration(bench *b, long iter, bench_timing *t, bool *got);
/* max(warmup, 2 per slot) untimed batches, then batches for duration_s. */
odet_status bench_measure(bench *b, long warmup, double duration_s, bench_result *r);

#endif
