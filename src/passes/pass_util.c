/* pass_util.c — helpers shared by the passes (see pass_util.h). */
#include "passes/pass_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pass_sole_consumer(const ir_graph *g, int v)
{
	if (v < 0 || g->values[v].is_output)
		return -1;
	int found = -1;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++) {
			if (n->in[k] != v)
				continue;
			if (found >= 0)
				return -1;
			found = i;
		}
	}
	return found;
}

void pass_node_kill(ir_graph *g, int i)
{
	ir_node *n = &g->nodes[i];
	n->dead = true;
	for (int k = 0; k < n->n_in; k++)
		n->in[k] = -1;
	for (int k = 0; k < n->n_out; k++)
		n->out[k] = -1;
}

odet_status pass_node_set_input(ir_graph *g, int node, int slot, int v)
{
	ir_node *n = &g->nodes[node];
	if (slot >= IR_MAX_IO)
		return odet_error(g->ctx, ODET_ERR_INTERNAL, "input slot %d out of range", slot);
	if (slot >= n->n_in) {
		int *in = odet_realloc_array(g->ctx, n->in, (size_t)slot + 1, sizeof(int));
		if (!in)
			return ODET_ERR_NO_MEMORY;
		for (int k = n->n_in; k <= slot; k++)
			in[k] = -1;
		n->in = in;
		n->n_in = slot + 1;
	}
	n->in[slot] = v;
	return ODET_OK;
}

int pass_const_f32(ir_graph *g, const char *base, const char *suffix, int rank, const int64_t *dims,
		   const float *src)
{
	int64_t numel;
	size_t bytes;
	char name[512];
	if (!odet_dims_numel(dims, rank, &numel) || !odet_mul_size((size_t)numel, sizeof(float), &bytes)) {
		odet_error(g->ctx, ODET_ERR_INTERNAL, "constant '%s%s': invalid dims", base, suffix);
		return -1;
	}
	snprintf(name, sizeof name, "%s%s", base, suffix);
	for (int k = 1; ir_value_find(g, name) >= 0; k++)
		snprintf(name, sizeof name, "%s%s%d", base, suffix, k);
	float *data = odet_calloc(g->ctx, bytes ? bytes : 1, 1);
	if (!data)
		return -1;
	if (src)
		memcpy(data, src, bytes);
	return ir_const_add(g, name, ODET_F32, rank, dims, data);
}

odet_status pass_fuse_each(ir_graph *g, ir_op op, odet_status (*fuse)(ir_graph *g, int node, bool *done),
			   int *count)
{
	int n0 = g->n_nodes;
	*count = 0;
	for (int i = 0; i < n0; i++) {
		if (g->nodes[i].dead || g->nodes[i].op != op)
			continue;
		bool done = false;
		odet_status rc = fuse(g, i, &done);
		if (rc)
			return rc;
		*count += done;
	}
	if (!*count)
		return ODET_OK;
	odet_status rc;
	if ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
		return rc;
	return ODET_OK;
}

/* Constant c (rank <= r) broadcast against a rank-r tensor in transposed order p becomes,
 * in the untransposed order, a rank-r constant c' with c'[j] along dim j = c4 along dim
 * pinv[j]: c' = transpose(c4, pinv). Returns the new value index or -1. */
int pass_permute_const(ir_graph *g, int c, const int64_t *perm, int r)
{
	const ir_value *cv = &g->values[c];
	if (cv->rank > r || cv->rank < 0)
		return -1;
	if (cv->rank == 0)
		return c; /* a scalar broadcasts the same in any order */
	int64_t d4[ODET_MAX_RANK], nd[ODET_MAX_RANK], pinv[ODET_MAX_RANK];
	for (int i = 0; i < r; i++)
		d4[i] = i < r - cv->rank ? 1 : cv->dims[i - (r - cv->rank)];
	for (int i = 0; i < r; i++)
		pinv[perm[i]] = i;
	for (int j = 0; j < r; j++)
		nd[j] = d4[pinv[j]];
	int64_t numel = ir_value_numel(cv);
	size_t es = odet_dtype_size(cv->dtype);
	if (numel < 0 || !es)
		return -1;
	uint8_t *data = odet_malloc(g->ctx, (size_t)numel * es);
	if (!data)
		return -1;
	/* out index (in nd order) → source index (in d4 order): source dim i = out dim perm[i] */
	int64_t sstride[ODET_MAX_RANK], ostride[ODET_MAX_RANK];
	sstride[r - 1] = ostride[r - 1] = 1;
	for (int i = r - 2; i >= 0; i--) {
		sstride[i] = sstride[i + 1] * d4[i + 1];
		ostride[i] = ostride[i + 1] * nd[i + 1];
	}
	for (int64_t o = 0; o < numel; o++) {
		int64_t rem = o, src = 0;
		for (int j = 0; j < r; j++) {
			int64_t idx = rem / ostride[j];
			rem %= ostride[j];
			src += idx * sstride[pinv[j]];
		}
		memcpy(data + o * (int64_t)es, (const uint8_t *)cv->data + src * (int64_t)es, es);
	}
	int v = ir_const_add(g, NULL, cv->dtype, r, nd, data);
	return v;
}

bool pass_zero_const_pad(const ir_graph *g, const ir_node *n)
{
	if (strcmp(ir_attr_string(n, "mode", "constant"), "constant"))
		return false;
	const ir_value *c = n->n_in > 2 ? ir_in(g, n, 2) : NULL;
	if (!c)
		return true;
	if (c->kind != IR_VALUE_CONST || !c->data || ir_value_numel(c) != 1)
		return false;
	if (c->dtype == ODET_F32)
		return *(const float *)c->data == 0.0f;
	if (c->dtype == ODET_F16)
		return (*(const uint16_t *)c->data & 0x7fff) == 0;
	return false;
}
