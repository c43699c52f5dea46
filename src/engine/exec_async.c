/*
 * exec_async.c — the public asynchronous and measuring side of exec contexts (odet.h):
 * odet_exec_submit queues a batch on the exec's stream with four timing events (before the
 * input copies, after them, after the nodes, after the output copies) and returns;
 * odet_exec_wait synchronizes and reads the stage times; odet_exec_profile times each node.
 * Backends without events (CPU) run a submitted batch to the end and report its host time.
 */
#include "engine/engine.h"

odet_status odet_exec_submit(odet_exec *x, const odet_tensor *inputs, int n_inputs, odet_tensor *outputs,
			     int n_outputs, const odet_exec *after)
{
	if (!x)
		return ODET_ERR_INVALID_ARG;
	const odet_engine *e = x->e;
	const odet_backend *be = e->be;
	odet_ctx *ctx = e->ctx;
	if (x->inflight)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "odet_exec_submit: a batch is in flight on this exec context (odet_exec_wait first)");
	if (after && after->e != e)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_exec_submit: 'after' runs another engine");
	odet_status rc;
	if (!be->event_create) {
		double t0 = odet_now_s();
		if ((rc = odet_exec_infer(x, inputs, n_inputs, outputs, n_outputs)))
			return rc;
		x->host_ms = (float)((odet_now_s() - t0) * 1e3);
		x->inflight = true;
		return ODET_OK;
	}
	for (int j = 0; j < 4; j++)
		if (!x->ev[j] && (rc = be->event_create(ctx, &x->ev[j])))
			return rc;
	void *wait_for = after && after != x && after->ev[2] ? after->ev[2] : NULL;
	if ((rc = exec_enqueue(x, inputs, n_inputs, outputs, n_outputs, x->ev, wait_for)))
		return rc;
	x->inflight = true;
	return ODET_OK;
}

odet_status odet_exec_wait(odet_exec *x, odet_exec_timing *t)
{
	if (!x)
		return ODET_ERR_INVALID_ARG;
	const odet_backend *be = x->e->be;
	odet_ctx *ctx = x->e->ctx;
	if (!x->inflight)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_exec_wait: nothing was submitted");
	x->inflight = false;
	odet_exec_timing tm = {0};
	odet_status rc = ODET_OK;
	if (!be->event_create) {
		tm.total_ms = x->host_ms;
	} else if ((rc = be->stream_sync(ctx, x->stream)) ||
		   (rc = be->event_elapsed(ctx, x->ev[0], x->ev[1], &tm.h2d_ms)) ||
		   (rc = be->event_elapsed(ctx, x->ev[1], x->ev[2], &tm.compute_ms)) ||
		   (rc = be->event_elapsed(ctx, x->ev[2], x->ev[3], &tm.d2h_ms)) ||
		   (rc = be->event_elapsed(ctx, x->ev[0], x->ev[3], &tm.total_ms))) {
		return rc;
	}
	if (t)
		*t = tm;
	return ODET_OK;
}

void odet_exec_set_graph_replay(odet_exec *x, int enable)
{
	if (x)
		x->no_graph = !enable;
}

int odet_exec_graph_replay(const odet_exec *x)
{
	return x && x->graph != NULL;
}

odet_status odet_exec_profile(odet_exec *x, const odet_tensor *inputs, int n_inputs, odet_tensor *outputs,
			      int n_outputs, float *ms)
{
	if (!x || !ms)
		return ODET_ERR_INVALID_ARG;
	const odet_engine *e = x->e;
	if (!e->be->event_create)
		return odet_error(e->ctx, ODET_ERR_UNSUPPORTED, "the %s backend has no timing events", e->be->name);
	if (x->inflight)
		return odet_error(e->ctx, ODET_ERR_INVALID_ARG,
				  "odet_exec_profile: a batch is in flight on this exec context (odet_exec_wait first)");
	/* a whole run first: it checks the tensors, and the nodes then run on its inputs */
	odet_status rc = odet_exec_infer(x, inputs, n_inputs, outputs, n_outputs);
	if (rc)
		return rc;
	return exec_profile_nodes(x, inputs, n_inputs, ms);
}

void exec_async_release(odet_exec *x)
{
	const odet_backend *be = x->e->be;
	if (x->inflight && be->event_create)
		be->stream_sync(x->e->ctx, x->stream);
	x->inflight = false;
	for (int j = 0; j < 4; j++)
		if (x->ev[j])
			be->event_destroy(x->ev[j]);
}
