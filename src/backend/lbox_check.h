/*
 * lbox_check.h — the letterbox hook's argument rules (be_lbox_args in backend.h), one copy for
 * the CPU and CUDA implementations: NULL when the host-visible arguments are valid, else the
 * reason (each backend adds its own limits, and the CPU also checks the descriptors).
 */
#ifndef ODET_BACKEND_LBOX_CHECK_H
#define ODET_BACKEND_LBOX_CHECK_H

#include "backend/backend.h"

static inline const char *be_lbox_invalid(const be_lbox_args *a)
{
	if (!a)
		return "no arguments";
	if (!a->dst)
		return "no destination";
	if (a->batch <= 0 || a->dst_h <= 0 || a->dst_w <= 0)
		return "batch and destination size must be positive";
	if (a->n < 0 || a->n > a->batch)
		return "more images than the batch holds";
	if (a->n > 0 && !a->images)
		return "no image descriptors";
	if (a->dtype != ODET_F32 && a->dtype != ODET_F16 && a->dtype != ODET_U8)
		return "destination dtype must be float32, float16 or uint8";
	if (a->layout != ODET_LAYOUT_NCHW && a->layout != ODET_LAYOUT_NHWC)
		return "destination layout must be NCHW or NHWC";
	return NULL;
}

#endif
