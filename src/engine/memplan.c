/*
 * memplan.c — the static memory plan of an engine: one arena per exec context holding
 * every non-constant value and every node's workspace (see engine.h for time steps).
 *
 * Algorithm (greedy by size, best fit): items sorted by size descending (ties: earlier
 * first); each is placed at the lowest-waste gap between the already-placed items whose
 * lifetimes intersect its own, or after the highest of them. Offsets are multiples of
 * ENGINE_ALIGN. O(n^2) in the number of items, fine for graphs of thousands of values.
 */
#include "engine/engine.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct placed {
	size_t offset, end;
} placed;

static int cmp_placed(const void *a, const void *b)
{
	const placed *x = a, *y = b;
	return (x->offset > y->offset) - (x->offset < y->offset);
}

/* sort keys: size descending, then item index (deterministic plans) */
typedef struct sort_key {
	size_t size;
	int idx;
} sort_key;

static int cmp_key(const void *a, const void *b)
{
	const sort_key *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->idx - y->idx;
}

odet_status memplan_solve(odet_ctx *ctx, memplan_item *items, int n, size_t *arena_bytes,
			  size_t *naive_bytes)
{
	*arena_bytes = 0;
	*naive_bytes = 0;
	if (n <= 0)
		return ODET_OK;
	sort_key *keys = odet_calloc(ctx, (size_t)n, sizeof *keys);
	int *order_placed = odet_calloc(ctx, (size_t)n, sizeof *order_placed);
	placed *live = odet_calloc(ctx, (size_t)n, sizeof *live);
	odet_status rc = ODET_OK;
	if (!keys || !order_placed || !live) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	size_t naive = 0;
	for (int i = 0; i < n; i++) {
		if (items[i].size % ENGINE_ALIGN) {
			rc = odet_error(ctx, ODET_ERR_INTERNAL, "memory plan: item %d size not aligned", i);
			goto out_free;
		}
		if (!odet_add_size(naive, items[i].size, &naive)) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "memory plan: total size overflows");
			goto out_free;
		}
		keys[i].size = items[i].size;
		keys[i].idx = i;
	}
	qsort(keys, (size_t)n, sizeof *keys, cmp_key);

	size_t total = 0;
	int n_placed = 0;
	for (int k = 0; k < n; k++) {
		memplan_item *it = &items[keys[k].idx];
		if (it->size == 0) {
			it->offset = 0;
			continue;
		}
		/* collect placed items whose lifetimes intersect */
		int n_live = 0;
		for (int j = 0; j < n_placed; j++) {
			const memplan_item *o = &items[order_placed[j]];
			if (o->first <= it->last && it->first <= o->last) {
				live[n_live].offset = o->offset;
				live[n_live].end = o->offset + o->size;
				n_live++;
			}
		}
		qsort(live, (size_t)n_live, sizeof *live, cmp_placed);
		size_t best = SIZE_MAX, best_waste = SIZE_MAX, cursor = 0;
		for (int j = 0; j < n_live; j++) {
			if (live[j].offset > cursor) {
				size_t gap = live[j].offset - cursor;
				if (gap >= it->size && gap - it->size < best_waste) {
					best = cursor;
					best_waste = gap - it->size;
				}
			}
			if (live[j].end > cursor)
				cursor = live[j].end;
		}
		if (best == SIZE_MAX)
			best = cursor;
		size_t end;
		if (!odet_add_size(best, it->size, &end)) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "memory plan: arena size overflows");
			goto out_free;
		}
		it->offset = best;
		if (end > total)
			total = end;
		order_placed[n_placed++] = keys[k].idx;
	}
	*arena_bytes = total;
	*naive_bytes = naive;
out_free:
	free(keys);
	free(order_placed);
	free(live);
	return rc;
}

static bool round_up(size_t n, size_t *out)
{
	size_t r;
	if (!odet_add_size(n, ENGINE_ALIGN - 1, &r))
		return false;
	*out = r / ENGINE_ALIGN * ENGINE_ALIGN;
	return true;
}

void engine_plan_free(engine_plan *p)
{
	free(p->value_offset);
	free(p->value_size);
	free(p->value_first);
	free(p->value_last);
	free(p->ws_offset);
	free(p->ws_size);
	p->value_offset = p->value_size = p->ws_offset = p->ws_size = NULL;
	p->value_first = p->value_last = NULL;
}

odet_status engine_plan_memory(odet_engine *e)
{
	odet_ctx *ctx = e->ctx;
	ir_graph *g = e->g;
	engine_plan *p = &e->plan;
	int nv = g->n_values, nn = g->n_nodes;
	odet_status rc = ODET_OK;
	memplan_item *items = NULL;
	int *item_of_value = NULL;

	/* p->ws_size was filled by engine_finalize (prepare); everything else is set here */
	if (!p->ws_size || p->value_offset)
		return odet_error(ctx, ODET_ERR_INTERNAL, "memory plan: planned twice or before prepare");
	p->value_offset = odet_calloc(ctx, (size_t)nv + 1, sizeof(size_t));
	p->value_first = odet_calloc(ctx, (size_t)nv + 1, sizeof(int));
	p->value_last = odet_calloc(ctx, (size_t)nv + 1, sizeof(int));
	item_of_value = odet_calloc(ctx, (size_t)nv + 1, sizeof(int));
	items = odet_calloc(ctx, (size_t)nv + (size_t)nn + 1, sizeof *items);
	if (!p->value_offset || !p->value_first || !p->value_last || !item_of_value || !items) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	p->value_size = odet_calloc(ctx, (size_t)nv + 1, sizeof(size_t));
	p->ws_offset = odet_calloc(ctx, (size_t)nn + 1, sizeof(size_t));
	if (!p->value_size || !p->ws_offset) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	for (int v = 0; v < nv; v++) {
		p->value_first[v] = -1;
		p->value_last[v] = -1;
		p->value_offset[v] = SIZE_MAX;
		item_of_value[v] = -1;
	}
	/* definitions */
	for (int i = 0; i < g->n_inputs; i++)
		p->value_first[g->inputs[i]] = 0;
	for (int i = 0; i < nn; i++) {
		const ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_out; k++) {
			int v = n->out[k];
			if (v >= 0 && g->values[v].kind != IR_VALUE_CONST && p->value_first[v] < 0)
				p->value_first[v] = i + 1;
		}
	}
	/* uses */
	for (int v = 0; v < nv; v++)
		p->value_last[v] = p->value_first[v];
	for (int i = 0; i < nn; i++) {
		const ir_node *n = &g->nodes[i];
		for (int k = 0; k < n->n_in; k++) {
			int v = n->in[k];
			if (v >= 0 && p->value_first[v] >= 0 && p->value_last[v] < i + 1)
				p->value_last[v] = i + 1;
		}
	}
	for (int i = 0; i < g->n_outputs; i++) {
		int v = g->outputs[i];
		if (p->value_first[v] >= 0)
			p->value_last[v] = nn + 1;
	}
	int n_items = 0;
	for (int v = 0; v < nv; v++) {
		if (p->value_first[v] < 0)
			continue;
		const ir_value *val = &g->values[v];
		int64_t numel = ir_value_numel(val);
		size_t bytes;
		if (numel < 0 || !odet_mul_size((size_t)numel, odet_dtype_size(val->dtype), &bytes) ||
		    !round_up(bytes, &items[n_items].size)) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "value '%s': size unknown or too large",
					val->name);
			goto out_free;
		}
		p->value_size[v] = bytes;
		items[n_items].first = p->value_first[v];
		items[n_items].last = p->value_last[v];
		item_of_value[v] = n_items++;
	}
	int first_ws = n_items;
	for (int i = 0; i < nn; i++) {
		if (!round_up(p->ws_size[i], &items[n_items].size)) {
			rc = odet_error(ctx, ODET_ERR_LIMIT, "node '%s': workspace too large",
					g->nodes[i].name);
			goto out_free;
		}
		items[n_items].first = items[n_items].last = i + 1;
		n_items++;
	}
	rc = memplan_solve(ctx, items, n_items, &p->arena_bytes, &p->naive_bytes);
	if (rc)
		goto out_free;
	for (int v = 0; v < nv; v++)
		if (item_of_value[v] >= 0)
			p->value_offset[v] = items[item_of_value[v]].offset;
	for (int i = 0; i < nn; i++)
		p->ws_offset[i] = items[first_ws + i].offset;
	odet_log(ctx, ODET_LOG_INFO, "memory plan: arena %zu bytes (naive sum %zu bytes, %d items)",
		 p->arena_bytes, p->naive_bytes, n_items);
out_free:
	free(items);
	free(item_of_value);
	return rc;
}
