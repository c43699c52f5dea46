/* bench_image.h — `odet bench MODEL --image FILE` (bench_image.c). */
#ifndef ODET_BENCH_IMAGE_H
#define ODET_BENCH_IMAGE_H

#include "cli.h"

/* Returns the exit code. gpu_decode: as odet_pipeline_opts. */
int bench_image(odet_ctx *ctx, const char *model, const char *image, const odet_build_opts *bo, int device,
		double duration_s, long warmup, int gpu_decode);

#endif
