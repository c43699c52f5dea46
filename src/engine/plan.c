/*
 * plan.c — odet_engine_load: a plan file's header, section table, head and tuning sections
 * (layout: plan_format.h, docs/plan-format.md; the graph section: plan_graph.c). Loading treats
 * the file as untrusted: the header's checksum, format version, backend, GPU architecture and
 * library versions are checked, every section must lie inside the file with a matching CRC-32,
 * and the graph goes through the same structure checks, backend check/prepare and memory plan
 * as a fresh build.
 */
#include "engine/plan_format.h"

#include <math.h>

static const char *section_name(uint32_t type)
{
	switch (type) {
	case PLAN_SEC_GRAPH: return "graph";
	case PLAN_SEC_HEAD: return "head";
	case PLAN_SEC_BACKEND: return "backend";
	case PLAN_SEC_TUNING: return "tuning";
	default: return "unknown";
	}
}

static odet_status read_head(loader *L, const uint8_t *p, size_t size, char **desc, odet_model_info *mi)
{
	rd r = {.p = p, .n = size};
	*desc = get_str(&r, ODET_LIMIT_MAX_NAME, NULL);
	uint32_t opaque = get_u32(&r);
	if (!r.bad && opaque == PLAN_HEAD_INFO_BYTES && opaque <= remaining(&r)) {
		get(&r, mi->pixel_scale, sizeof mi->pixel_scale);
		get(&r, mi->pixel_bias, sizeof mi->pixel_bias);
		mi->num_classes = (int)get_u32(&r);
		mi->coco_offset = (int)get_u32(&r);
		bool ok = mi->num_classes >= 0 && mi->num_classes <= (1 << 20) && mi->coco_offset >= -1 &&
			  mi->coco_offset <= (1 << 20);
		for (int c = 0; c < 3; c++)
			ok = ok && isfinite(mi->pixel_scale[c]) && isfinite(mi->pixel_bias[c]);
		if (!ok) {
			free(*desc);
			*desc = NULL;
			return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (head): invalid model info",
					  L->label, L->sec_index);
		}
		opaque = 0;
	}
	if (r.bad || opaque > remaining(&r)) {
		free(*desc);
		*desc = NULL;
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (head): truncated", L->label,
				  L->sec_index);
	}
	if (!**desc) {
		free(*desc);
		*desc = NULL;
	}
	return ODET_OK;
}

/* the tuning section into set: every entry valid (odet_tune_valid), no key twice */
static odet_status read_tuning(loader *L, const uint8_t *p, size_t size, odet_tune_set *set)
{
	rd r = {.p = p, .n = size};
	uint32_t n = get_u32(&r);
	if (r.bad || n > PLAN_MAX_TUNING || (size_t)n * 8 > remaining(&r))
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): %s", L->label, L->sec_index,
				  r.bad ? "truncated" : "entry count exceeds the section");
	for (uint32_t i = 0; i < n; i++) {
		char *k = get_str(&r, 1024, NULL), *v = get_str(&r, 1024, NULL);
		bool valid = !r.bad && odet_tune_valid(k) && odet_tune_valid(v);
		int before = set->n;
		bool added = valid && odet_tune_set_add(set, k, v);
		free(k);
		free(v);
		if (valid && !added)
			return odet_error(L->ctx, ODET_ERR_NO_MEMORY, "%s: out of memory reading the tuning section",
					  L->label);
		if (!valid || set->n == before) /* invalid, or a key given twice (add replaced it) */
			return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): entry %u %s", L->label,
					  L->sec_index, i + 1, r.bad ? "truncated" : "invalid or repeated");
	}
	if (remaining(&r))
		return odet_error(L->ctx, ODET_ERR_BAD_INPUT, "%s: section %d (tuning): %zu bytes after the last entry",
				  L->label, L->sec_index, remaining(&r));
	return ODET_OK;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

odet_status engine_load_buffer(odet_ctx *ctx, const void *data, size_t size, const char *label,
			       const odet_backend *be, odet_engine **out)
{
	return engine_load_buffer_dev(ctx, data, size, label, be, 0, out);
}

odet_status engine_load_buffer_dev(odet_ctx *ctx, const void *data, size_t size, const char *label,
				   const odet_backend *be, int device, odet_engine **out)
{
	const uint8_t *p = data;
	loader L = {.ctx = ctx, .label = label ? label : "plan"};
	if (!out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	if (size == 0)
		return LBAD(&L, "empty file, not an odet plan");
	if (size < 8 || memcmp(p, PLAN_MAGIC, 8) != 0)
		return LBAD(&L, "not an odet plan (bad magic)");
	if (size < PLAN_HEADER_SIZE)
		return LBAD(&L, "truncated: %zu bytes, the header alone is %u", size, PLAN_HEADER_SIZE);
	uint32_t version = rd32(p + 8);
	if (version < PLAN_FORMAT_OLDEST || version > PLAN_FORMAT_VERSION)
		return plan_bad(&L, ODET_ERR_MISMATCH, "format version %u, this odet reads %u..%u", version,
				PLAN_FORMAT_OLDEST, PLAN_FORMAT_VERSION);
	uint64_t file_size = rd64(p + 72);
	uint32_t n_sec = rd32(p + 56);
	if (file_size != size)
		return LBAD(&L, "%s: the header says %llu bytes, the file has %zu",
			    file_size > size ? "truncated" : "size mismatch", (unsigned long long)file_size, size);
	if (rd32(p + 12) != PLAN_HEADER_SIZE || n_sec == 0 || n_sec > PLAN_MAX_SECTIONS ||
	    rd64(p + 64) != PLAN_HEADER_SIZE || PLAN_HEADER_SIZE + (size_t)n_sec * PLAN_SECTION_ENTRY > size)
		return LBAD(&L, "header checksum mismatch or corrupt header (sections %u)", n_sec);
	uint32_t crc = odet_crc32(0, p, PLAN_HEADER_CRC_AT);
	crc = odet_crc32(crc, p + PLAN_HEADER_SIZE, (size_t)n_sec * PLAN_SECTION_ENTRY);
	if (crc != rd32(p + PLAN_HEADER_CRC_AT))
		return LBAD(&L, "header checksum mismatch");

	/* header fields */
	uint32_t backend_kind = rd32(p + 20), precision = rd32(p + 36), flags = rd32(p + 52);
	int32_t batch = (int32_t)rd32(p + 40), ih = (int32_t)rd32(p + 44), iw = (int32_t)rd32(p + 48);
	if (backend_kind != ODET_BACKEND_CPU && backend_kind != ODET_BACKEND_CUDA)
		return LBAD(&L, "unknown backend kind %u", backend_kind);
	if (precision > ODET_PRECISION_BF16 || flags > 3 || batch < 1 || ih < 0 || iw < 0)
		return LBAD(&L, "invalid build options in the header");
	odet_status rc;
	if (!be) {
		if (backend_kind == ODET_BACKEND_CUDA && !odet_backend_cuda())
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built for the CUDA backend; this odet has no CUDA backend");
		if ((rc = engine_backend_select(ctx, (odet_backend_kind)backend_kind, &be)))
			return rc;
	}
	/* GPU architecture and CUDA/cuDNN versions (header bytes 24..35): a plan runs only on
	 * the architecture and library versions it was built (and tuned) for */
	uint32_t devinfo[3] = {0, 0, 0};
	if (be->set_device && (rc = be->set_device(ctx, device)))
		return rc;
	if (be->device_info && (rc = be->device_info(ctx, device, devinfo)))
		return rc;
	{
		uint32_t arch = rd32(p + 24), rt = rd32(p + 28), dnn = rd32(p + 32);
		if (arch != devinfo[0])
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built for GPU architecture sm_%u, device %d is sm_%u: rebuild the plan on this machine",
					arch, device, devinfo[0]);
		if (rt / 1000 != devinfo[1] / 1000 || rt % 1000 / 10 != devinfo[1] % 1000 / 10)
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built with CUDA runtime %u.%u, this process runs %u.%u: rebuild the plan",
					rt / 1000, rt % 1000 / 10, devinfo[1] / 1000, devinfo[1] % 1000 / 10);
		if (dnn != devinfo[2])
			return plan_bad(&L, ODET_ERR_MISMATCH,
					"built with cuDNN %u.%u.%u, this process loads cuDNN %u.%u.%u: rebuild the plan",
					dnn / 10000, dnn % 10000 / 100, dnn % 100, devinfo[2] / 10000,
					devinfo[2] % 10000 / 100, devinfo[2] % 100);
	}

	/* the sections this reader knows, by type: bytes, size, 1-based index for messages */
	struct {
		const uint8_t *p;
		size_t n;
		int i;
	} found[PLAN_SEC_TUNING + 1] = {{0}};
	for (uint32_t i = 0; i < n_sec; i++) {
		const uint8_t *t = p + PLAN_HEADER_SIZE + (size_t)i * PLAN_SECTION_ENTRY;
		uint32_t type = rd32(t);
		uint64_t off = rd64(t + 8), len = rd64(t + 16);
		uint32_t scrc = rd32(t + 24);
		if (off % PLAN_ALIGN || off < PLAN_HEADER_SIZE + (uint64_t)n_sec * PLAN_SECTION_ENTRY ||
		    off > size || len > size - off)
			return LBAD(&L, "section %u (%s): offset %llu size %llu outside the file", i + 1,
				    section_name(type), (unsigned long long)off, (unsigned long long)len);
		if (odet_crc32(0, p + off, (size_t)len) != scrc)
			return LBAD(&L, "section %u (%s) checksum mismatch", i + 1, section_name(type));
		if (type == PLAN_SEC_GRAPH || type == PLAN_SEC_HEAD || type == PLAN_SEC_TUNING) {
			if (found[type].p)
				return LBAD(&L, "section %u (%s) repeated", i + 1, section_name(type));
			found[type].p = p + off;
			found[type].n = (size_t)len;
			found[type].i = (int)i + 1;
		}
		/* other types (backend blob, future additions) are ignored by the CPU backend */
	}
	if (!found[PLAN_SEC_GRAPH].p)
		return LBAD(&L, "no graph section");
	if ((flags & PLAN_FLAG_HAS_HEAD) && !found[PLAN_SEC_HEAD].p)
		return LBAD(&L, "the header announces a head but there is no head section");

	odet_engine *e = odet_calloc(ctx, 1, sizeof *e);
	if (!e)
		return ODET_ERR_NO_MEMORY;
	e->ctx = ctx;
	e->be = be;
	e->opts = odet_build_opts_default();
	e->opts.backend = be->kind;
	e->opts.precision = (odet_precision)precision;
	e->opts.batch = batch;
	e->opts.input_h = ih;
	e->opts.input_w = iw;
	e->opts.no_head = (flags & PLAN_FLAG_NO_HEAD) != 0;
	e->opts.device = device;
	memcpy(e->devinfo, devinfo, sizeof devinfo);
	e->nodes_before = -1;
	L.sec_index = found[PLAN_SEC_GRAPH].i;
	L.sec_name = "graph";
	if ((rc = plan_read_graph(&L, found[PLAN_SEC_GRAPH].p, found[PLAN_SEC_GRAPH].n, &e->g)))
		goto out_destroy;
	L.sec_index = found[PLAN_SEC_HEAD].i;
	L.sec_name = "head";
	if (found[PLAN_SEC_HEAD].p &&
	    (rc = read_head(&L, found[PLAN_SEC_HEAD].p, found[PLAN_SEC_HEAD].n, &e->head_desc, &e->g->info)))
		goto out_destroy;
	L.sec_index = found[PLAN_SEC_TUNING].i;
	L.sec_name = "tuning";
	if (found[PLAN_SEC_TUNING].p &&
	    (rc = read_tuning(&L, found[PLAN_SEC_TUNING].p, found[PLAN_SEC_TUNING].n, &e->tune)))
		goto out_destroy;
	L.sec_index = 0;
	if (flags & PLAN_FLAG_HAS_HEAD) {
		if (!engine_outputs_are_head(e->g)) {
			rc = LBAD(&L, "the plan has a head but its outputs are not det_count/boxes/scores/classes");
			goto out_destroy;
		}
		e->has_head = true;
	}
	if ((rc = engine_finalize(e))) {
		odet_error_prefix(ctx, "%s: ", L.label);
		goto out_destroy;
	}
	*out = e;
	return ODET_OK;
out_destroy:
	odet_engine_destroy(e);
	return rc;
}

odet_status odet_engine_load(odet_ctx *ctx, const char *path, int device, odet_engine **out)
{
	if (!ctx || !path || !out)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "odet_engine_load: NULL argument");
	void *data;
	size_t size;
	odet_status rc = odet_file_read(ctx, path, (size_t)ODET_LIMIT_MAX_TENSOR_BYTES, &data, &size);
	if (rc)
		return rc;
	rc = engine_load_buffer_dev(ctx, data, size, path, NULL, device, out);
	free(data);
	return rc;
}
