/* model_info.c — odet_engine_model_info: what callers need to feed images and name classes. */
#include "engine/engine.h"

#include <string.h>

odet_status odet_engine_model_info(const odet_engine *e, odet_model_info *info)
{
	if (!e || !info)
		return ODET_ERR_INVALID_ARG;
	*info = e->g->info;
	/* image input geometry from the graph's first 4-D input */
	for (int i = 0; i < e->g->n_inputs; i++) {
		const ir_value *v = &e->g->values[e->g->inputs[i]];
		if (v->rank != 4)
			continue;
		bool nhwc = v->dims[3] == 3 && v->dims[1] != 3;
		info->layout = nhwc ? ODET_LAYOUT_NHWC : ODET_LAYOUT_NCHW;
		info->input_h = (int)(nhwc ? v->dims[1] : v->dims[2]);
		info->input_w = (int)(nhwc ? v->dims[2] : v->dims[3]);
		break;
	}
	return ODET_OK;
}
