/*
 * exec.c — exec contexts: one arena (the memory plan's size, backend memory) and one
 * stream each; per-node tensor descriptors are bound once at creation so that running
 * allocates nothing. odet_exec_infer validates the caller's tensors exactly (count, dtype,
 * rank, dims), copies the inputs into the arena, runs the nodes in order and copies the
 * outputs out. Constants are read from the graph's host data on the CPU backend and from
 * the engine's constant block in backend memory otherwise (uploaded once per engine,
 * shared by every exec). On backends that capture graphs (CUDA) the node sequence is
 * captured on the exec's second run and replayed from then on; between the input upload
 * and the output download nothing is allocated and the host does not wait.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

const void *exec_value_ptr(const odet_exec *x, int v)
{
	const ir_value *val = &x->e->g->values[v];
	if (val->kind == IR_VALUE_CONST) {
		const odet_engine *e = x->e;
		if (e->const_dev && e->const_off && e->const_off[v] != SIZE_MAX)
			return (const char *)e->const_dev + e->const_off[v];
		return val->data;
	}
	size_t off = x->e->plan.value_offset[v];
	return off == SIZE_MAX ? NULL : (const char *)x->arena + off;
}

static void bind(odet_exec *x, int v, odet_tensor *t)
{
	memset(t, 0, sizeof *t);
	t->device = x->e->be->kind == ODET_BACKEND_CPU ? -1 : x->e->opts.device;
	if (v < 0)
		return; /* omitted optional input: data NULL */
	const ir_value *val = &x->e->g->values[v];
	t->dtype = val->dtype;
	t->rank = val->rank;
	for (int k = 0; k < val->rank; k++)
		t->dims[k] = val->dims[k];
	t->data = (void *)exec_value_ptr(x, v);
}

odet_status odet_exec_create(odet_engine *e, odet_exec **out)
{
	if (!e || !out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	odet_ctx *ctx = e->ctx;
	const ir_graph *g = e->g;
	odet_exec *x = odet_calloc(ctx, 1, sizeof *x);
	if (!x)
		return ODET_ERR_NO_MEMORY;
	x->e = e;
	odet_status rc = ODET_OK;
	if (e->be->set_device && (rc = e->be->set_device(ctx, e->opts.device)))
		goto out_destroy;
	if ((rc = e->be->mem_alloc(ctx, e->plan.arena_bytes, &x->arena)))
		goto out_destroy;
	if ((rc = e->be->stream_create(ctx, &x->stream)))
		goto out_destroy;
	if (e->be->exec_ctx_create && (rc = e->be->exec_ctx_create(ctx, e->be_state, x->stream, &x->exec_ctx)))
		goto out_destroy;
	size_t total = 0;
	for (int i = 0; i < g->n_nodes; i++)
		total += (size_t)g->nodes[i].n_in + (size_t)g->nodes[i].n_out;
	x->in = odet_calloc(ctx, (size_t)g->n_nodes + 1, sizeof *x->in);
	x->out = odet_calloc(ctx, (size_t)g->n_nodes + 1, sizeof *x->out);
	x->tensors = odet_calloc(ctx, total + 1, sizeof *x->tensors);
	if (!x->in || !x->out || !x->tensors) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_destroy;
	}
	odet_tensor *t = x->tensors;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		x->in[i] = t;
		for (int k = 0; k < n->n_in; k++)
			bind(x, n->in[k], t++);
		x->out[i] = t;
		for (int k = 0; k < n->n_out; k++)
			bind(x, n->out[k], t++);
	}
	*out = x;
	return ODET_OK;
out_destroy:
	odet_exec_destroy(x);
	return rc;
}

void odet_exec_destroy(odet_exec *x)
{
	if (!x)
		return;
	exec_async_release(x);
	if (x->graph && x->e->be->graph_destroy)
		x->e->be->graph_destroy(x->graph);
	if (x->exec_ctx && x->e->be->exec_ctx_destroy)
		x->e->be->exec_ctx_destroy(x->exec_ctx);
	if (x->stream)
		x->e->be->stream_destroy(x->stream);
	if (x->arena)
		x->e->be->mem_free(x->arena);
	free(x->in);
	free(x->out);
	free(x->tensors);
	free(x);
}

static odet_status run_one(odet_exec *x, int i)
{
	const odet_engine *e = x->e;
	const ir_graph *g = e->g;
	const ir_node *n = &g->nodes[i];
	size_t ws = e->plan.ws_size[i];
	be_run_args a = {
		.ctx = e->ctx, .g = g, .node = n, .state = e->state[i],
		.in = x->in[i], .n_in = n->n_in, .out = x->out[i], .n_out = n->n_out,
		.workspace = ws ? (char *)x->arena + e->plan.ws_offset[i] : NULL,
		.workspace_size = ws, .pool = e->ctx->pool, .stream = x->stream, .exec_ctx = x->exec_ctx,
	};
	return e->be->run(&a);
}

static odet_status run_direct(odet_exec *x)
{
	for (int i = 0; i < x->e->g->n_nodes; i++) {
		odet_status rc = run_one(x, i);
		if (rc)
			return rc;
	}
	return ODET_OK;
}

/* Capture the node sequence into x->graph; on failure the stream is left usable and
 * graph_failed set (reported once). */
static void capture(odet_exec *x)
{
	const odet_backend *be = x->e->be;
	odet_ctx *ctx = x->e->ctx;
	void *graph = NULL;
	odet_status rc = be->capture_begin(ctx, x->stream);
	if (!rc) {
		odet_status run_rc = run_direct(x);
		rc = be->capture_end(ctx, x->stream, &graph);
		if (!rc && run_rc) {
			be->graph_destroy(graph);
			graph = NULL;
			rc = run_rc;
		}
	}
	if (rc || !graph) {
		x->graph_failed = true;
		odet_log(ctx, ODET_LOG_WARN, "graph capture failed (%s): running node by node",
			 odet_ctx_last_error(ctx));
		return;
	}
	x->graph = graph;
}

odet_status exec_run_nodes(odet_exec *x)
{
	const odet_backend *be = x->e->be;
	bool graphs = be->capture_begin && be->capture_end && be->graph_launch && be->graph_destroy &&
		      !x->no_graph && !x->graph_failed;
	x->runs++;
	if (graphs && !x->graph && x->runs >= 2)
		capture(x);
	if (graphs && x->graph)
		return be->graph_launch(x->e->ctx, x->graph, x->stream);
	return run_direct(x);
}

/* Copy the (checked) inputs into their arena slots on the exec's stream. */
static odet_status upload_inputs(odet_exec *x, const odet_tensor *inputs, int n_inputs)
{
	const odet_engine *e = x->e;
	for (int i = 0; i < n_inputs; i++) {
		int v = e->g->inputs[i];
		odet_status rc = e->be->copy_to(e->ctx, (char *)x->arena + e->plan.value_offset[v], inputs[i].data,
						e->plan.value_size[v], x->stream);
		if (rc)
			return rc;
	}
	return ODET_OK;
}

odet_status exec_profile_nodes(odet_exec *x, const odet_tensor *inputs, int n_inputs, float *ms)
{
	const odet_engine *e = x->e;
	const odet_backend *be = e->be;
	odet_ctx *ctx = e->ctx;
	int nn = e->g->n_nodes;
	if (!be->event_create)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "the %s backend has no timing events", be->name);
	if (n_inputs != e->g->n_inputs || (n_inputs && !inputs))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "profile: %d inputs given, the engine has %d", n_inputs,
				  e->g->n_inputs);
	void **ev = odet_calloc(ctx, (size_t)nn + 1, sizeof *ev);
	if (!ev)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = ODET_OK;
	int made = 0;
	for (; made <= nn; made++)
		if ((rc = be->event_create(ctx, &ev[made])))
			goto out_events;
	/* the inputs again: the memory plan may have given their slots to later values */
	if ((rc = upload_inputs(x, inputs, n_inputs)) || (rc = be->event_record(ctx, ev[0], x->stream)))
		goto out_events;
	for (int i = 0; i < nn; i++)
		if ((rc = run_one(x, i)) || (rc = be->event_record(ctx, ev[i + 1], x->stream)))
			goto out_events;
	for (int i = 0; i < nn; i++)
		if ((rc = be->event_elapsed(ctx, ev[i], ev[i + 1], &ms[i])))
			goto out_events;
out_events:
	for (int i = 0; i < made; i++)
		be->event_destroy(ev[i]);
	free(ev);
	return rc;
}

/* The caller's tensor t must match value v exactly. */
static odet_status check_tensor(odet_ctx *ctx, const ir_value *v, const odet_tensor *t, const char *what,
				int i)
{
	char buf[128];
	if (!t->data)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "%s %d ('%s'): data is NULL", what, i, v->name);
	if (t->device >= 0)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "%s %d ('%s'): device tensors are not accepted here (host memory only)",
				  what, i, v->name);
	if (t->dtype != v->dtype)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "%s %d ('%s'): dtype %s, the engine expects %s",
				  what, i, v->name, odet_dtype_name(t->dtype), odet_dtype_name(v->dtype));
	bool same = t->rank == v->rank;
	for (int k = 0; same && k < v->rank; k++)
		same = t->dims[k] == v->dims[k];
	if (!same) {
		char got[128];
		size_t off = 0;
		off += (size_t)snprintf(got, sizeof got, "[");
		for (int k = 0; k < t->rank && k < ODET_MAX_RANK && off < sizeof got; k++)
			off += (size_t)snprintf(got + off, sizeof got - off, "%s%lld", k ? "," : "",
						(long long)t->dims[k]);
		if (off < sizeof got)
			snprintf(got + off, sizeof got - off, "]");
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "%s %d ('%s'): shape %s, the engine expects %s",
				  what, i, v->name, got, ir_shape_str(v, buf, sizeof buf));
	}
	return ODET_OK;
}

odet_status exec_enqueue(odet_exec *x, const odet_tensor *inputs, int n_inputs, odet_tensor *outputs,
			 int n_outputs, void *const ev[4], void *after)
{
	if (!x)
		return ODET_ERR_INVALID_ARG;
	const odet_engine *e = x->e;
	odet_ctx *ctx = e->ctx;
	const ir_graph *g = e->g;
	if (n_inputs != g->n_inputs || n_outputs != g->n_outputs)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "odet_exec_infer: %d inputs and %d outputs given, the engine has %d and %d",
				  n_inputs, n_outputs, g->n_inputs, g->n_outputs);
	if ((n_inputs && !inputs) || (n_outputs && !outputs))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_exec_infer: NULL tensor array");
	odet_status rc;
	for (int i = 0; i < n_inputs; i++)
		if ((rc = check_tensor(ctx, &g->values[g->inputs[i]], &inputs[i], "input", i)))
			return rc;
	for (int i = 0; i < n_outputs; i++)
		if ((rc = check_tensor(ctx, &g->values[g->outputs[i]], &outputs[i], "output", i)))
			return rc;
	if (ev && (rc = e->be->event_record(ctx, ev[0], x->stream)))
		return rc;
	if ((rc = upload_inputs(x, inputs, n_inputs)))
		return rc;
	if (ev && (rc = e->be->event_record(ctx, ev[1], x->stream)))
		return rc;
	if (after && e->be->event_wait && (rc = e->be->event_wait(ctx, x->stream, after)))
		return rc;
	if ((rc = exec_run_nodes(x)))
		return rc;
	if (ev && (rc = e->be->event_record(ctx, ev[2], x->stream)))
		return rc;
	for (int i = 0; i < n_outputs; i++) {
		int v = g->outputs[i];
		const ir_value *val = &g->values[v];
		if (val->kind == IR_VALUE_CONST) {
			if (val->nbytes)
				memcpy(outputs[i].data, val->data, val->nbytes);
			continue;
		}
		rc = e->be->copy_from(ctx, outputs[i].data, exec_value_ptr(x, v), e->plan.value_size[v],
				      x->stream);
		if (rc)
			return rc;
	}
	if (ev && (rc = e->be->event_record(ctx, ev[3], x->stream)))
		return rc;
	return ODET_OK;
}

odet_status odet_exec_infer(odet_exec *x, const odet_tensor *inputs, int n_inputs, odet_tensor *outputs,
			    int n_outputs)
{
	if (!x)
		return ODET_ERR_INVALID_ARG;
	odet_status rc = exec_enqueue(x, inputs, n_inputs, outputs, n_outputs, NULL, NULL);
	if (rc)
		return rc;
	return x->e->be->stream_sync(x->e->ctx, x->stream);
}
