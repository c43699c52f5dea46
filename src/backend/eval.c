/* eval.c — run one node on host tensors (constant folding, tests). */
#include "backend/backend.h"

#include <stdlib.h>

odet_status be_eval_node(const odet_backend *be, odet_ctx *ctx, const ir_graph *g, const ir_node *n,
			 const odet_tensor *in, odet_tensor *out)
{
	void *state = NULL, *ws = NULL;
	size_t ws_size = 0;
	odet_status rc = be->check(ctx, g, n);
	if (rc)
		return rc;
	rc = be->prepare(ctx, g, n, &state, &ws_size);
	if (rc)
		return rc;
	if (ws_size) {
		ws = odet_aligned_alloc(ctx, ws_size);
		if (!ws) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_release;
		}
	}
	be_run_args a = {
		.ctx = ctx, .g = g, .node = n, .state = state,
		.in = in, .n_in = n->n_in, .out = out, .n_out = n->n_out,
		.workspace = ws, .workspace_size = ws_size,
		.pool = ctx->pool, .stream = NULL,
	};
	rc = be->run(&a);
	odet_aligned_free(ws);
out_release:
	be->release(n, state);
	return rc;
}
