/* pipeline_test.h — the setup the CPU pipeline tests share (test_pipeline, test_pull,
 * test_input_u8): darknet's photos by name, a quiet context, the pipeline's options on the CPU. */
#ifndef ODET_TEST_PIPELINE_TEST_H
#define ODET_TEST_PIPELINE_TEST_H

#include "odet.h"

#include <stddef.h>

#define PT_N_PHOTOS 6

/* The photos of Debian's darknet samples (scripts/samples.sh): SAMPLES_DIR/<name>.jpg */
static const char *const pt_photos[PT_N_PHOTOS] = {"dog", "horses", "person", "giraffe", "kite", "eagle"};

/* A context that logs errors only; NULL when none could be made. */
static inline odet_ctx *pt_ctx(void)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	odet_ctx *ctx = NULL;
	co.log_level = ODET_LOG_ERROR;
	return odet_ctx_create(&co, &ctx) == ODET_OK ? ctx : NULL;
}

/* Pipeline options: model with head on the CPU backend at engine batch `batch`, 3 reading
 * threads, detections scoring >= 0.05. */
static inline odet_pipeline_opts pt_cpu_opts(const char *model, const char *head, int batch)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = model;
	po.build.backend = ODET_BACKEND_CPU;
	po.build.batch = batch;
	po.build.head = head;
	po.read_threads = 3;
	po.score = 0.05f;
	return po;
}

#endif
