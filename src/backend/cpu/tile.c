/*
 * tile.c — Tile(X, repeats): Y.dims[d] = X.dims[d] * repeats[d]; Y[c] = X[c mod X.dims].
 *   Any fixed-size dtype; repeats int64 (rank entries, >= 0). Rows of the last dim are
 *   copied whole and repeated.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

static odet_status tile_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	if (!x || !ir_in(g, n, 1) || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Tile needs X of a fixed-size dtype and repeats",
				  n->name);
	return ODET_OK;
}

static odet_status tile_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int64_t rep[ODET_MAX_RANK], xs[ODET_MAX_RANK];
	int nr;
	odet_status rc = cpu_read_ints(a, 1, rep, ODET_MAX_RANK, &nr);
	if (rc)
		return rc;
	bool ok = nr == x->rank && y->rank == x->rank && y->dtype == x->dtype;
	for (int d = 0; ok && d < x->rank; d++) {
		int64_t want;
		ok = rep[d] >= 0 && odet_mul_i64(x->dims[d], rep[d], &want) && y->dims[d] == want;
	}
	if (!ok)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Tile): repeats do not match the shapes",
				  a->node->name);
	int64_t numel = odet_tensor_numel(y);
	if (numel <= 0)
		return ODET_OK;
	if (x->rank == 0) {
		memcpy(y->data, x->data, odet_dtype_size(x->dtype));
		return ODET_OK;
	}
	cpu_strides(x, xs);
	int r = x->rank;
	size_t esz = odet_dtype_size(x->dtype);
	size_t row = (size_t)x->dims[r - 1] * esz;
	int64_t c[ODET_MAX_RANK] = {0}; /* output coordinates of the row start (dims < r-1) */
	char *dst = y->data;
	for (;;) {
		int64_t off = 0;
		for (int d = 0; d < r - 1; d++)
			off += (c[d] % x->dims[d]) * xs[d];
		const char *src = (const char *)x->data + off * (int64_t)esz;
		for (int64_t k = 0; k < rep[r - 1]; k++) {
			memcpy(dst, src, row);
			dst += row;
		}
		int d = r - 2;
		for (; d >= 0; d--) {
			if (++c[d] < y->dims[d])
				break;
			c[d] = 0;
		}
		if (d < 0)
			break;
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_TILE = {.check = tile_check, .run = tile_run};
