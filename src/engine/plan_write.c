/*
 * plan_write.c — odet_engine_save: an engine's graph, head and tuned choices into a plan file
 * (layout: plan_format.h, docs/plan-format.md), written atomically.
 */
#include "engine/plan_format.h"

/* op (domain, name) table, from ops.def */
const struct plan_op_name plan_ops[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = {dom, onnx},
#include "graph/ops.def"
#undef OP
};

typedef struct wbuf {
	uint8_t *p;
	size_t n, cap;
	bool oom;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
	if (w->oom)
		return;
	if (w->n + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->n + n) {
			if (cap > SIZE_MAX / 2) {
				w->oom = true;
				return;
			}
			cap *= 2;
		}
		uint8_t *q = realloc(w->p, cap);
		if (!q) {
			w->oom = true;
			return;
		}
		w->p = q;
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void put_u32(wbuf *w, uint32_t v) { put(w, &v, 4); }
static void put_i32(wbuf *w, int32_t v) { put(w, &v, 4); }
static void put_u64(wbuf *w, uint64_t v) { put(w, &v, 8); }
static void put_i64(wbuf *w, int64_t v) { put(w, &v, 8); }
static void put_f32(wbuf *w, float v) { put(w, &v, 4); }

static void put_bytes_str(wbuf *w, const char *s, size_t n)
{
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

static void put_str(wbuf *w, const char *s)
{
	put_bytes_str(w, s ? s : "", s ? strlen(s) : 0);
}

static void put_align(wbuf *w, size_t base)
{
	static const uint8_t zeros[PLAN_ALIGN];
	size_t rel = (w->n - base) % PLAN_ALIGN;
	if (rel)
		put(w, zeros, PLAN_ALIGN - rel);
}

static void put_attr(wbuf *w, const ir_attr *a)
{
	put_str(w, a->name);
	put_u32(w, (uint32_t)a->type);
	switch (a->type) {
	case IR_ATTR_FLOAT: put_f32(w, a->f); break;
	case IR_ATTR_INT: put_i64(w, a->i); break;
	case IR_ATTR_STRING: put_bytes_str(w, a->s ? a->s : "", a->s ? a->s_len : 0); break;
	case IR_ATTR_TENSOR: put_i32(w, a->tensor); break;
	case IR_ATTR_FLOATS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_f32(w, a->floats[i]);
		break;
	case IR_ATTR_INTS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_i64(w, a->ints[i]);
		break;
	case IR_ATTR_STRINGS:
		put_u32(w, (uint32_t)a->n);
		for (int i = 0; i < a->n; i++)
			put_str(w, a->strings ? a->strings[i] : NULL);
		break;
	}
}

/* The graph section, starting at w->n (a multiple of PLAN_ALIGN). */
static odet_status write_graph(odet_ctx *ctx, const ir_graph *g, wbuf *w)
{
	size_t base = w->n;
	size_t *patch = odet_calloc(ctx, (size_t)g->n_values + 1, sizeof(size_t));
	if (!patch)
		return ODET_ERR_NO_MEMORY;
	put_u32(w, (uint32_t)g->n_values);
	put_u32(w, (uint32_t)g->n_nodes);
	put_u32(w, (uint32_t)g->n_inputs);
	put_u32(w, (uint32_t)g->n_outputs);
	put_i32(w, g->opset);
	put_str(w, g->name);
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *val = &g->values[v];
		put_str(w, val->name);
		put_u32(w, (uint32_t)val->kind);
		put_u32(w, (uint32_t)val->dtype);
		put_i32(w, val->rank);
		put_u32(w, val->is_output ? 1u : 0u);
		for (int k = 0; k < val->rank; k++)
			put_i64(w, val->dims[k]);
		uint32_t mask = 0;
		for (int k = 0; k < val->rank; k++)
			if (val->sym[k])
				mask |= 1u << k;
		put_u32(w, mask);
		for (int k = 0; k < val->rank; k++)
			if (val->sym[k])
				put_str(w, val->sym[k]);
		if (val->kind == IR_VALUE_CONST) {
			patch[v] = w->n;
			put_u64(w, 0);
			put_u64(w, val->nbytes);
		}
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		put_str(w, plan_ops[n->op].domain);
		put_str(w, plan_ops[n->op].name);
		put_str(w, n->name);
		put_u32(w, (uint32_t)n->n_in);
		for (int k = 0; k < n->n_in; k++)
			put_i32(w, n->in[k]);
		put_u32(w, (uint32_t)n->n_out);
		for (int k = 0; k < n->n_out; k++)
			put_i32(w, n->out[k]);
		put_u32(w, (uint32_t)n->n_attrs);
		for (int k = 0; k < n->n_attrs; k++)
			put_attr(w, &n->attrs[k]);
	}
	for (int i = 0; i < g->n_inputs; i++)
		put_i32(w, g->inputs[i]);
	for (int i = 0; i < g->n_outputs; i++)
		put_i32(w, g->outputs[i]);
	for (int v = 0; v < g->n_values; v++) {
		const ir_value *val = &g->values[v];
		if (val->kind != IR_VALUE_CONST)
			continue;
		put_align(w, base);
		uint64_t off = w->n - base;
		put(w, val->data, val->nbytes);
		if (!w->oom)
			memcpy(w->p + patch[v], &off, 8);
	}
	free(patch);
	return w->oom ? odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan") : ODET_OK;
}

typedef struct sec_entry {
	uint32_t type;
	uint64_t offset, size;
	uint32_t crc;
} sec_entry;

odet_status engine_save_buffer(const odet_engine *e, void **data, size_t *size)
{
	odet_ctx *ctx = e->ctx;
	wbuf w = {0};
	sec_entry sec[PLAN_MAX_SECTIONS];
	uint32_t n_sec = 0;
	uint8_t zeros[PLAN_HEADER_SIZE] = {0};
	*data = NULL;
	*size = 0;
	/* reserve about the final size up front: constants dominate, and growing by doubling
	 * would hold up to twice the weights while copying */
	size_t reserve = 1 << 16;
	for (int v = 0; v < e->g->n_values; v++)
		reserve += e->g->values[v].nbytes + PLAN_ALIGN + 256;
	reserve += (size_t)e->g->n_nodes * 512;
	if (!(w.p = malloc(reserve)))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan (%zu bytes)", reserve);
	w.cap = reserve;
	/* header and table placeholders */
	put(&w, zeros, PLAN_HEADER_SIZE);
	uint32_t n_sec_planned = 1 + (e->has_head ? 1 : 0) + (e->tune.n > 0 ? 1 : 0);
	for (uint32_t i = 0; i < n_sec_planned; i++)
		put(&w, zeros, PLAN_SECTION_ENTRY);
	put_align(&w, 0);

	sec[n_sec].type = PLAN_SEC_GRAPH;
	sec[n_sec].offset = w.n;
	odet_status rc = write_graph(ctx, e->g, &w);
	if (rc)
		goto out_free;
	sec[n_sec].size = w.n - sec[n_sec].offset;
	n_sec++;
	if (e->has_head) {
		put_align(&w, 0);
		sec[n_sec].type = PLAN_SEC_HEAD;
		sec[n_sec].offset = w.n;
		put_str(&w, e->head_desc);
		/* head bytes: the model info (preprocessing, label set) of the head */
		const odet_model_info *mi = &e->g->info;
		put_u32(&w, PLAN_HEAD_INFO_BYTES);
		put(&w, mi->pixel_scale, sizeof mi->pixel_scale);
		put(&w, mi->pixel_bias, sizeof mi->pixel_bias);
		put_u32(&w, (uint32_t)mi->num_classes);
		put_u32(&w, (uint32_t)mi->coco_offset);
		sec[n_sec].size = w.n - sec[n_sec].offset;
		n_sec++;
	}
	if (e->tune.n > 0) {
		put_align(&w, 0);
		sec[n_sec].type = PLAN_SEC_TUNING;
		sec[n_sec].offset = w.n;
		put_u32(&w, (uint32_t)e->tune.n);
		for (int i = 0; i < e->tune.n; i++) {
			put_str(&w, e->tune.key[i]);
			put_str(&w, e->tune.val[i]);
		}
		sec[n_sec].size = w.n - sec[n_sec].offset;
		n_sec++;
	}
	if (w.oom) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory serializing the plan");
		goto out_free;
	}
	/* section table */
	for (uint32_t i = 0; i < n_sec; i++) {
		uint8_t *t = w.p + PLAN_HEADER_SIZE + i * PLAN_SECTION_ENTRY;
		sec[i].crc = odet_crc32(0, w.p + sec[i].offset, sec[i].size);
		memset(t, 0, PLAN_SECTION_ENTRY);
		memcpy(t + 0, &sec[i].type, 4);
		memcpy(t + 8, &sec[i].offset, 8);
		memcpy(t + 16, &sec[i].size, 8);
		memcpy(t + 24, &sec[i].crc, 4);
	}
	/* header */
	uint8_t *h = w.p;
	uint32_t u;
	int32_t s;
	uint64_t q;
	memcpy(h, PLAN_MAGIC, 8);
	u = PLAN_FORMAT_VERSION; memcpy(h + 8, &u, 4);
	u = PLAN_HEADER_SIZE; memcpy(h + 12, &u, 4);
	u = (ODET_VERSION_MAJOR << 16) | (ODET_VERSION_MINOR << 8) | ODET_VERSION_PATCH; memcpy(h + 16, &u, 4);
	u = (uint32_t)e->be->kind; memcpy(h + 20, &u, 4);
	/* 24: GPU architecture, 28: CUDA runtime version, 32: cuDNN version (0 on CPU) */
	memcpy(h + 24, &e->devinfo[0], 4);
	memcpy(h + 28, &e->devinfo[1], 4);
	memcpy(h + 32, &e->devinfo[2], 4);
	u = (uint32_t)e->opts.precision; memcpy(h + 36, &u, 4);
	s = e->opts.batch; memcpy(h + 40, &s, 4);
	s = e->opts.input_h; memcpy(h + 44, &s, 4);
	s = e->opts.input_w; memcpy(h + 48, &s, 4);
	u = (e->opts.no_head ? PLAN_FLAG_NO_HEAD : 0) | (e->has_head ? PLAN_FLAG_HAS_HEAD : 0);
	memcpy(h + 52, &u, 4);
	memcpy(h + 56, &n_sec, 4);
	q = PLAN_HEADER_SIZE; memcpy(h + 64, &q, 8);
	q = w.n; memcpy(h + 72, &q, 8);
	u = odet_crc32(0, h, PLAN_HEADER_CRC_AT);
	u = odet_crc32(u, h + PLAN_HEADER_SIZE, (size_t)n_sec * PLAN_SECTION_ENTRY);
	memcpy(h + PLAN_HEADER_CRC_AT, &u, 4);
	*data = w.p;
	*size = w.n;
	return ODET_OK;
out_free:
	free(w.p);
	return rc;
}

odet_status odet_engine_save(const odet_engine *e, const char *path)
{
	if (!e || !path)
		return ODET_ERR_INVALID_ARG;
	void *data;
	size_t size;
	odet_status rc = engine_save_buffer(e, &data, &size);
	if (rc)
		return rc;
	rc = odet_file_write_atomic(e->ctx, path, data, size);
	free(data);
	return rc;
}
