/*
 * pad.c — Pad(data, pads, constant_value?, axes?) with attr mode constant (default),
 *   reflect, edge or wrap. Any fixed-size dtype; pads int64 [2 * n_axes] (begins, then ends;
 *   negative values crop); constant_value: one element of data's dtype (default 0); axes
 *   (int32/int64, negative allowed) default to all dims.
 *   Per dim a map from output coordinate to input offset (-1 = constant) is built, then
 *   the output is gathered through the maps (cpu_map_gather, threaded over rows). reflect/edge/wrap need non-empty input dims.
 */
#include "backend/cpu/cpu_util.h"
#include "backend/pad_geom.h"

#include <string.h>

static odet_status pad_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *cv = ir_in(g, n, 2);
	if (!x || !ir_in(g, n, 1) || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Pad needs data of a fixed-size dtype and pads", n->name);
	if (pad_mode_of(n) < 0)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Pad mode '%s' is not supported", n->name,
				  ir_attr_string(n, "mode", ""));
	if (cv && cv->dtype != x->dtype)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Pad constant_value has dtype %s, data %s", n->name,
				  odet_dtype_name(cv->dtype), odet_dtype_name(x->dtype));
	return ODET_OK;
}

/* Workspace: one int64 map entry per output coordinate of every dim. */
static bool pad_ws_size(int r, const int64_t *out, size_t *bytes)
{
	int64_t total = 0;
	*bytes = 0;
	for (int d = 0; d < r; d++)
		if (out[d] < 0 || !odet_add_i64(total, out[d], &total))
			return false;
	return cpu_ws_add(bytes, (size_t)total, sizeof(int64_t));
}

static odet_status pad_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *workspace)
{
	const ir_value *y = ir_out(g, n, 0);
	if (!ir_value_shape_known(y) || !pad_ws_size(y->rank, y->dims, workspace))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Pad needs a known output shape", n->name);
	return ODET_OK;
}

static odet_status pad_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int r = x->rank;
	int64_t pads[2 * ODET_MAX_RANK], axes[ODET_MAX_RANK], begin[ODET_MAX_RANK] = {0};
	int np, na = 0;
	int mode = pad_mode_of(nd);
	odet_status rc = cpu_read_ints(a, 1, pads, 2 * ODET_MAX_RANK, &np);
	if (!rc && a->n_in > 3 && a->in[3].data)
		rc = cpu_read_ints(a, 3, axes, ODET_MAX_RANK, &na);
	if (rc)
		return rc;
	bool all_axes = a->n_in <= 3 || !a->in[3].data;
	int64_t want[ODET_MAX_RANK];
	const char *why = mode < 0 ? "mode not supported"
				   : pad_geometry(r, x->dims, pads, np, all_axes ? NULL : axes, all_axes ? r : na, begin, want);
	if (why)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Pad): %s (%d pads)", nd->name, why, np);
	size_t esz = odet_dtype_size(x->dtype);
	int64_t total = 0;
	for (int d = 0; d < r; d++) {
		if (y->rank != r || y->dims[d] != want[d] || y->dtype != x->dtype)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Pad): output shape mismatch", nd->name);
		if (mode != PAD_CONSTANT && x->dims[d] == 0 && want[d] > 0)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Pad): mode %s on an empty dim", nd->name,
					  ir_attr_string(nd, "mode", ""));
		total += y->dims[d];
	}
	int64_t numel = odet_tensor_numel(y);
	if (numel <= 0)
		return ODET_OK;
	uint8_t cval[16] = {0};
	if (a->n_in > 2 && a->in[2].data && odet_tensor_numel(&a->in[2]) >= 1 && esz <= sizeof cval) {
		if (a->in[2].dtype != x->dtype)
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Pad): constant_value dtype differs", nd->name);
		memcpy(cval, a->in[2].data, esz);
	}
	if (r == 0) {
		memcpy(y->data, x->data, esz);
		return ODET_OK;
	}
	size_t need;
	cpu_ws ws = {a->workspace, a->workspace_size};
	int64_t *map = pad_ws_size(r, y->dims, &need) ? cpu_ws_take(&ws, (size_t)total, sizeof *map) : NULL;
	if (!map)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (Pad): workspace of %zu bytes is too small",
				  nd->name, a->workspace_size);
	int64_t *m[ODET_MAX_RANK], xs[ODET_MAX_RANK];
	cpu_strides(x, xs);
	int64_t off = 0;
	for (int d = 0; d < r; d++) {
		m[d] = map + off;
		off += y->dims[d];
		for (int64_t o = 0; o < y->dims[d]; o++) {
			int64_t i = pad_src(mode, o, begin[d], x->dims[d]);
			m[d][o] = i < 0 ? -1 : i * xs[d];
		}
	}
	cpu_map_gather(a->pool, r, y->dims, m, x->data, y->data, esz, cval);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_PAD = {.check = pad_check, .prepare = pad_prepare, .run = pad_run};
