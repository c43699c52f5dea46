/*
 * plan_graph.c — the graph section of a plan file, read as untrusted input: every offset,
 * length, count and index is checked against the bytes that are there before it is used or
 * anything is allocated from it; after parsing, each node's stored output shapes are compared
 * with its shape function's (plan_format.h).
 */
#include "engine/plan_format.h"

static ir_op op_from_names(const char *domain, const char *name)
{
	for (int i = 0; i < IR_OP_COUNT; i++)
		if (!strcmp(plan_ops[i].domain, domain) && !strcmp(plan_ops[i].name, name))
			return (ir_op)i;
	return IR_OP_COUNT;
}

static odet_status read_attr(const loader *L, rd *r, ir_graph *g, int node)
{
	ir_attr a;
	memset(&a, 0, sizeof a);
	a.tensor = -1;
	odet_status rc = ODET_OK;
	a.name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
	a.type = (ir_attr_type)get_u32(r);
	if (r->bad)
		goto out_trunc;
	uint32_t n;
	switch (a.type) {
	case IR_ATTR_FLOAT: a.f = get_f32(r); break;
	case IR_ATTR_INT: a.i = get_i64(r); break;
	case IR_ATTR_STRING: a.s = get_str(r, SIZE_MAX, &a.s_len); break;
	case IR_ATTR_TENSOR:
		a.tensor = get_i32(r);
		if (!r->bad && (a.tensor < 0 || a.tensor >= g->n_values ||
				g->values[a.tensor].kind != IR_VALUE_CONST)) {
			rc = LBAD(L, "node '%s': attribute '%s' refers to value %d, not a constant",
				  g->nodes[node].name, a.name, a.tensor);
			goto out_free;
		}
		break;
	case IR_ATTR_FLOATS:
	case IR_ATTR_INTS: {
		size_t es = a.type == IR_ATTR_FLOATS ? 4 : 8;
		n = get_u32(r);
		if (r->bad || n > remaining(r) / es || n > INT32_MAX)
			goto out_trunc;
		a.n = (int)n;
		if (a.type == IR_ATTR_FLOATS) {
			if (!(a.floats = odet_calloc(L->ctx, (size_t)n + 1, sizeof(float))))
				goto out_nomem;
			for (uint32_t i = 0; i < n; i++)
				a.floats[i] = get_f32(r);
		} else {
			if (!(a.ints = odet_calloc(L->ctx, (size_t)n + 1, sizeof(int64_t))))
				goto out_nomem;
			for (uint32_t i = 0; i < n; i++)
				a.ints[i] = get_i64(r);
		}
		break;
	}
	case IR_ATTR_STRINGS:
		n = get_u32(r);
		if (r->bad || n > remaining(r) / 4 || n > INT32_MAX)
			goto out_trunc;
		if (!(a.strings = odet_calloc(L->ctx, (size_t)n + 1, sizeof(char *))))
			goto out_nomem;
		a.n = (int)n;
		for (uint32_t i = 0; i < n && !r->bad; i++)
			a.strings[i] = get_str(r, SIZE_MAX, NULL);
		break;
	default:
		rc = LBAD(L, "node '%s': attribute '%s' has unknown type %d", g->nodes[node].name,
			  a.name ? a.name : "?", (int)a.type);
		goto out_free;
	}
	if (r->bad)
		goto out_trunc;
	return ir_attr_append(g, node, &a); /* takes ownership, frees on failure */
out_nomem:
	rc = ODET_ERR_NO_MEMORY;
	goto out_free;
out_trunc:
	rc = LBAD(L, "node '%s': attribute truncated or too long", g->nodes[node].name);
out_free:
	free(a.name);
	free(a.s);
	free(a.ints);
	free(a.floats);
	for (int i = 0; a.strings && i < a.n; i++)
		free(a.strings[i]);
	free(a.strings);
	return rc;
}

/* Minimal encoded sizes, used to bound counts before allocating. */
#define MIN_VALUE_BYTES 24u
#define MIN_NODE_BYTES 24u

static odet_status read_values(const loader *L, rd *r, ir_graph *g, uint32_t n_values, size_t sec_size)
{
	char *name = NULL;
	for (uint32_t v = 0; v < n_values; v++) {
		name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		uint32_t kind = get_u32(r), dtype = get_u32(r), flags;
		int32_t rank = get_i32(r);
		flags = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (kind > IR_VALUE_CONST || dtype >= ODET_DTYPE_MAX || rank < 0 || rank > ODET_MAX_RANK ||
		    flags > 1) {
			odet_status rc = LBAD(L, "value %u ('%s'): invalid kind %u, dtype %u, rank %d or flags %u",
					      v, name, kind, dtype, rank, flags);
			free(name);
			return rc;
		}
		int64_t dims[ODET_MAX_RANK];
		for (int k = 0; k < rank; k++)
			dims[k] = get_i64(r);
		if (r->bad)
			goto out_trunc;
		int idx = ir_value_add(g, name, (odet_dtype)dtype, rank, dims);
		free(name);
		name = NULL;
		if (idx < 0)
			return ODET_ERR_NO_MEMORY;
		ir_value *val = &g->values[idx];
		val->kind = (ir_value_kind)kind;
		val->is_output = false; /* set from the output list */
		int64_t numel;
		size_t bytes;
		if (!odet_dims_numel(val->dims, rank, &numel) ||
		    !odet_mul_size((size_t)numel, odet_dtype_size(val->dtype), &bytes) ||
		    bytes > (size_t)ODET_LIMIT_MAX_TENSOR_BYTES)
			return LBAD(L, "value '%s': invalid or too large dims", val->name);
		uint32_t mask = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (mask >> rank)
			return LBAD(L, "value '%s': symbolic dims mask 0x%x beyond rank %d", val->name, mask, rank);
		for (int k = 0; k < rank; k++) {
			if (!(mask & (1u << k)))
				continue;
			if (!(val->sym[k] = get_str(r, ODET_LIMIT_MAX_NAME, NULL)))
				goto out_trunc;
		}
		if (val->kind == IR_VALUE_CONST) {
			uint64_t off = get_u64(r), nb = get_u64(r);
			if (r->bad)
				goto out_trunc;
			if (odet_dtype_size(val->dtype) == 0 || nb != bytes)
				return LBAD(L, "constant '%s': %llu data bytes, %s%s needs %zu", val->name,
					    (unsigned long long)nb, odet_dtype_name(val->dtype),
					    odet_dtype_size(val->dtype) ? "" : " (unsupported dtype)", bytes);
			if (off % PLAN_ALIGN || off > sec_size || nb > sec_size - off)
				return LBAD(L, "constant '%s': data at %llu (+%llu) is outside the section or unaligned",
					    val->name, (unsigned long long)off, (unsigned long long)nb);
			if (!(val->data = odet_malloc(L->ctx, bytes ? bytes : 1)))
				return ODET_ERR_NO_MEMORY;
			if (bytes)
				memcpy(val->data, r->p + off, bytes);
			val->nbytes = bytes;
		}
	}
	return ODET_OK;
out_trunc:
	free(name);
	return LBAD(L, "value records truncated (at byte %zu of %zu)", r->pos, r->n);
}

static odet_status read_nodes(const loader *L, rd *r, ir_graph *g, uint32_t n_nodes)
{
	char *dom = NULL, *op = NULL, *name = NULL;
	int io[IR_MAX_IO];
	odet_status rc = ODET_OK;
	for (uint32_t i = 0; i < n_nodes; i++) {
		dom = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		op = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		name = get_str(r, ODET_LIMIT_MAX_NAME, NULL);
		uint32_t n_in = get_u32(r);
		if (r->bad)
			goto out_trunc;
		ir_op id = op_from_names(dom, op);
		if (id == IR_OP_COUNT) {
			rc = plan_bad(L, ODET_ERR_MISMATCH,
				      "node '%s': op '%s' (domain '%s') is unknown to this odet (plan from a newer version?)",
				      name, op, dom);
			goto out_free;
		}
		if (n_in > IR_MAX_IO) {
			rc = LBAD(L, "node '%s': %u inputs (limit %d)", name, n_in, IR_MAX_IO);
			goto out_free;
		}
		int in[IR_MAX_IO];
		for (uint32_t k = 0; k < n_in; k++) {
			in[k] = get_i32(r);
			if (in[k] < -1 || in[k] >= g->n_values) {
				rc = LBAD(L, "node '%s': input %u refers to value %d (graph has %d)", name, k,
					  in[k], g->n_values);
				goto out_free;
			}
		}
		uint32_t n_out = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (n_out > IR_MAX_IO) {
			rc = LBAD(L, "node '%s': %u outputs (limit %d)", name, n_out, IR_MAX_IO);
			goto out_free;
		}
		for (uint32_t k = 0; k < n_out; k++) {
			io[k] = get_i32(r);
			if (r->bad)
				goto out_trunc;
			if (io[k] < 0 || io[k] >= g->n_values || g->values[io[k]].kind != IR_VALUE_INTERMEDIATE ||
			    g->values[io[k]].producer >= 0) {
				rc = LBAD(L, "node '%s': output %u (value %d) is not a fresh intermediate", name,
					  k, io[k]);
				goto out_free;
			}
			for (uint32_t j = 0; j < k; j++)
				if (io[j] == io[k]) {
					rc = LBAD(L, "node '%s': output %u repeated", name, k);
					goto out_free;
				}
		}
		/* producers come first: every intermediate input is produced by an earlier node */
		for (uint32_t k = 0; k < n_in; k++) {
			if (in[k] >= 0 && g->values[in[k]].kind == IR_VALUE_INTERMEDIATE &&
			    g->values[in[k]].producer < 0) {
				rc = LBAD(L, "node '%s': input '%s' is not produced by an earlier node", name,
					  g->values[in[k]].name);
				goto out_free;
			}
		}
		int idx = ir_node_add(g, id, name, (int)n_in, in, (int)n_out, io);
		if (idx < 0) {
			rc = ODET_ERR_NO_MEMORY;
			goto out_free;
		}
		free(dom);
		free(op);
		free(name);
		dom = op = name = NULL;
		uint32_t n_attrs = get_u32(r);
		if (r->bad)
			goto out_trunc;
		if (n_attrs > remaining(r) / 8) {
			rc = LBAD(L, "node '%s': %u attributes do not fit the section", g->nodes[idx].name, n_attrs);
			goto out_free;
		}
		for (uint32_t k = 0; k < n_attrs; k++)
			if ((rc = read_attr(L, r, g, idx)))
				goto out_free;
	}
	return ODET_OK;
out_trunc:
	rc = LBAD(L, "node records truncated (at byte %zu of %zu)", r->pos, r->n);
out_free:
	free(dom);
	free(op);
	free(name);
	return rc;
}

static odet_status read_io_lists(const loader *L, rd *r, ir_graph *g, uint32_t n_in, uint32_t n_out)
{
	g->inputs = odet_calloc(L->ctx, (size_t)n_in + 1, sizeof(int));
	g->outputs = odet_calloc(L->ctx, (size_t)n_out + 1, sizeof(int));
	if (!g->inputs || !g->outputs)
		return ODET_ERR_NO_MEMORY;
	for (uint32_t i = 0; i < n_in; i++) {
		int v = get_i32(r);
		if (r->bad)
			return LBAD(L, "input list truncated");
		if (v < 0 || v >= g->n_values || g->values[v].kind != IR_VALUE_INPUT)
			return LBAD(L, "graph input %u refers to value %d, not an input value", i, v);
		for (uint32_t j = 0; j < i; j++)
			if (g->inputs[j] == v)
				return LBAD(L, "graph input %u repeated", i);
		g->inputs[g->n_inputs++] = v;
	}
	for (int v = 0; v < g->n_values; v++) {
		if (g->values[v].kind != IR_VALUE_INPUT)
			continue;
		int found = 0;
		for (int i = 0; i < g->n_inputs; i++)
			found |= g->inputs[i] == v;
		if (!found)
			return LBAD(L, "value '%s' is an input but not in the input list", g->values[v].name);
	}
	for (uint32_t i = 0; i < n_out; i++) {
		int v = get_i32(r);
		if (r->bad)
			return LBAD(L, "output list truncated");
		if (v < 0 || v >= g->n_values)
			return LBAD(L, "graph output %u refers to value %d (graph has %d)", i, v, g->n_values);
		if (g->values[v].kind == IR_VALUE_INTERMEDIATE && g->values[v].producer < 0)
			return LBAD(L, "graph output '%s' is never produced", g->values[v].name);
		g->values[v].is_output = true;
		g->outputs[g->n_outputs++] = v;
	}
	return ODET_OK;
}

/* Recompute each node's output shapes with its shape function and compare with the stored
 * ones: kernels trust shapes, so a plan must not be able to lie about them. Each output is
 * reset to unknown first, so a shape function that cannot infer it (or leaves it alone) is
 * refused rather than trusted: an engine has static shapes, all inferable from its inputs. */
static odet_status verify_shapes(const loader *L, ir_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ir_node *n = &g->nodes[i];
		ir_shape_fn fn = ir_shape_fn_of(n->op);
		if (!fn)
			return LBAD(L, "node '%s' (%s): no shape function to check its stored shapes", n->name,
				    ir_op_name(n->op));
		ir_value saved[IR_MAX_IO];
		for (int k = 0; k < n->n_out; k++) {
			ir_value *o = &g->values[n->out[k]];
			saved[k] = *o;
			o->dtype = ODET_DTYPE_UNDEFINED;
			o->rank = -1;
			for (int d = 0; d < ODET_MAX_RANK; d++)
				o->dims[d] = -1;
		}
		odet_status rc = fn(g, n);
		if (rc)
			return L->sec_index > 0 ? odet_error_prefix(L->ctx, "%s: section %d (%s): ", L->label, L->sec_index, L->sec_name)
					       : odet_error_prefix(L->ctx, "%s: ", L->label);
		for (int k = 0; k < n->n_out; k++) {
			const ir_value *a = &saved[k], *b = &g->values[n->out[k]];
			bool same = a->dtype == b->dtype && a->rank == b->rank;
			for (int d = 0; same && d < a->rank; d++)
				same = a->dims[d] == b->dims[d];
			if (same && ir_value_shape_known(b))
				continue;
			char s1[128], s2[128];
			if (!ir_value_shape_known(b) || b->dtype == ODET_DTYPE_UNDEFINED)
				return LBAD(L, "node '%s' (%s): stored output '%s' %s %s cannot be inferred from its inputs (got %s %s)",
					    n->name, ir_op_name(n->op), a->name, odet_dtype_name(a->dtype),
					    ir_shape_str(a, s1, sizeof s1), odet_dtype_name(b->dtype),
					    ir_shape_str(b, s2, sizeof s2));
			return LBAD(L, "node '%s' (%s): stored output '%s' %s %s differs from inferred %s %s",
				    n->name, ir_op_name(n->op), a->name, odet_dtype_name(a->dtype),
				    ir_shape_str(a, s1, sizeof s1), odet_dtype_name(b->dtype),
				    ir_shape_str(b, s2, sizeof s2));
		}
	}
	return ODET_OK;
}

odet_status plan_read_graph(loader *L, const uint8_t *p, size_t size, ir_graph **out)
{
	rd r = {.p = p, .n = size};
	ir_graph *g;
	odet_status rc = ir_graph_create(L->ctx, &g);
	if (rc)
		return rc;
	uint32_t n_values = get_u32(&r), n_nodes = get_u32(&r), n_in = get_u32(&r), n_out = get_u32(&r);
	g->opset = get_i32(&r);
	char *name = get_str(&r, ODET_LIMIT_MAX_NAME, NULL);
	if (r.bad) {
		free(name);
		rc = LBAD(L, "truncated graph header");
		goto out_free;
	}
	g->name = name;
	if (n_values > remaining(&r) / MIN_VALUE_BYTES || n_nodes > remaining(&r) / MIN_NODE_BYTES ||
	    n_nodes > ODET_LIMIT_MAX_NODES || n_in > n_values || n_out > n_values) {
		rc = LBAD(L, "counts (%u values, %u nodes, %u inputs, %u outputs) do not fit the section",
			  n_values, n_nodes, n_in, n_out);
		goto out_free;
	}
	if ((rc = read_values(L, &r, g, n_values, size)))
		goto out_free;
	if ((rc = read_nodes(L, &r, g, n_nodes)))
		goto out_free;
	if ((rc = read_io_lists(L, &r, g, n_in, n_out)))
		goto out_free;
	if ((rc = verify_shapes(L, g)))
		goto out_free;
	*out = g;
	return ODET_OK;
out_free:
	ir_graph_free(g);
	return rc;
}
