/*
 * describe.c — the public description of an engine (odet.h): backend, build options, memory
 * plan, head and tuned choices; host memory suited to its inputs and outputs.
 */
#include "engine/engine.h"

#include <string.h>

odet_status odet_engine_describe(const odet_engine *e, odet_engine_desc *out)
{
	if (!e || !out)
		return ODET_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	out->backend = e->be->name;
	out->precision = e->opts.precision;
	out->device = e->opts.device;
	out->batch = e->opts.batch;
	out->input_size_fixed = e->opts.input_h != 0;
	out->has_head = e->has_head;
	out->head = e->has_head ? e->head_desc : NULL;
	out->arena_bytes = e->plan.arena_bytes;
	out->naive_bytes = e->plan.naive_bytes;
	for (int i = 0; i < e->g->n_nodes; i++)
		out->workspace_bytes += e->plan.ws_size[i];
	out->constant_bytes = e->const_bytes;
	out->nodes = e->g->n_nodes;
	out->nodes_imported = e->nodes_before;
	out->build_seconds = e->build_seconds;
	out->n_tuned = e->tune.n;
	out->events = e->be->event_create && e->be->event_record && e->be->event_elapsed;
	return ODET_OK;
}

odet_status odet_engine_tuned(const odet_engine *e, int i, const char **key, const char **value)
{
	if (!e)
		return ODET_ERR_INVALID_ARG;
	if (i < 0 || i >= e->tune.n)
		return odet_error(e->ctx, ODET_ERR_INVALID_ARG, "tuned choice %d out of range (engine has %d)", i,
				  e->tune.n);
	if (key)
		*key = e->tune.key[i];
	if (value)
		*value = e->tune.val[i];
	return ODET_OK;
}

odet_status odet_host_alloc(const odet_engine *e, size_t bytes, void **out)
{
	if (!e || !out)
		return ODET_ERR_INVALID_ARG;
	if (e->be->host_alloc && e->be->event_create)
		return e->be->host_alloc(e->ctx, bytes, out);
	*out = odet_aligned_alloc(e->ctx, bytes);
	return *out ? ODET_OK : ODET_ERR_NO_MEMORY;
}

void odet_host_free(const odet_engine *e, void *p)
{
	if (!e || !p)
		return;
	if (e->be->host_alloc && e->be->event_create)
		e->be->host_free(p);
	else
		odet_aligned_free(p);
}
