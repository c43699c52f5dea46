/* report_passes.h — `odet report MODEL --passes` (report_passes.c): the optimization ladder. */
#ifndef ODET_REPORT_PASSES_H
#define ODET_REPORT_PASSES_H

#include "cli.h"

typedef struct rp_args {
	const char *model;
	const char *calib;     /* int8 step: the calibration cache (NULL: that step is n/a) */
	const char *json, *md; /* outputs (may be NULL); Markdown is also printed */
	int batch;
	long warmup, runs;
} rp_args;

/* The table for graph g built with base's backend, device and head; exit code (0, or 1 when a
 * step failed or an output could not be written). */
int report_passes(odet_ctx *ctx, const odet_graph *g, const odet_build_opts *base, const rp_args *a);

#endif
