/*
 * set_input_shape.c — fix the batch dim (dim 0) of every graph input and H/W (the last two
 * dims) of 4-D inputs. A fixed dim loses its symbolic name. A value of 0 leaves the dim
 * as it is; a dim already known with another value is refused (the model cannot take it).
 */
#include "passes/passes.h"

#include <stdlib.h>

static odet_status fix_dim(ir_graph *g, ir_value *v, int i, int64_t want, const char *what)
{
	if (want <= 0 || i >= v->rank)
		return ODET_OK;
	if (v->dims[i] >= 0 && v->dims[i] != want)
		return odet_error(g->ctx, ODET_ERR_INVALID_ARG,
				  "input '%s': %s is fixed to %lld by the model, cannot set %lld", v->name,
				  what, (long long)v->dims[i], (long long)want);
	v->dims[i] = want;
	free(v->sym[i]);
	v->sym[i] = NULL;
	return ODET_OK;
}

odet_status pass_set_input_shape(ir_graph *g, int batch, int h, int w)
{
	odet_status rc;
	if (batch < 0 || h < 0 || w < 0)
		return odet_error(g->ctx, ODET_ERR_INVALID_ARG, "batch %d, height %d, width %d: must not be negative",
				  batch, h, w);
	for (int k = 0; k < g->n_inputs; k++) {
		ir_value *v = &g->values[g->inputs[k]];
		if (v->rank < 0) {
			if (batch || h || w)
				odet_log(g->ctx, ODET_LOG_DEBUG, "input '%s' has unknown rank; shape not fixed", v->name);
			continue;
		}
		if ((rc = fix_dim(g, v, 0, batch, "batch")))
			return rc;
		if (v->rank == 4 && ((rc = fix_dim(g, v, 2, h, "height")) || (rc = fix_dim(g, v, 3, w, "width"))))
			return rc;
	}
	return ODET_OK;
}
