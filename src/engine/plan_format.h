/*
 * plan_format.h — the plan file's layout constants and the bounded reader shared by the plan
 * writer (plan_write.c), the graph section reader (plan_graph.c) and the loader (plan.c).
 *
 *   header (128 bytes: magic "ODETPLAN", format version, odet version, backend, GPU arch,
 *   CUDA/cuDNN versions, build options, section count, file size, header CRC-32 over the
 *   header and the section table) | section table (32 bytes per section: type, offset, size,
 *   CRC-32) | sections, each 64-byte aligned: graph, head, tuning (the backend's tuned choices,
 *   read back into the engine before prepare), backend blob (reserved).
 *
 * All integers little-endian (docs/plan-format.md). Ops are stored by (domain, name), never by
 * enum number, so adding ops never breaks old plans.
 */
#ifndef ODET_ENGINE_PLAN_FORMAT_H
#define ODET_ENGINE_PLAN_FORMAT_H

#include "engine/engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the plan files assume a little-endian host (plan files are little-endian)"
#endif

#define PLAN_MAGIC "ODETPLAN"
/* 2: BatchedNms may carry activation/layout (it then reads logits, fuse_scores_nms.c), which
 * a version-1 reader would ignore; version 1 plans read as before. */
#define PLAN_FORMAT_VERSION 2u
#define PLAN_FORMAT_OLDEST 1u
#define PLAN_HEADER_SIZE 128u
#define PLAN_HEADER_CRC_AT 124u
#define PLAN_SECTION_ENTRY 32u
#define PLAN_MAX_SECTIONS 16u
#define PLAN_ALIGN 64u

#define PLAN_HEAD_INFO_BYTES 32u /* 3 + 3 floats, 2 int32 */

#define PLAN_FLAG_NO_HEAD 1u
#define PLAN_FLAG_HAS_HEAD 2u

enum plan_section_type {
	PLAN_SEC_GRAPH = 1,
	PLAN_SEC_HEAD = 2,    /* head description line + opaque head bytes (reserved, empty) */
	PLAN_SEC_BACKEND = 3, /* backend blob (reserved: packed weights) */
	PLAN_SEC_TUNING = 4,  /* tuned choices (KEY, VALUE strings; odet_tune_set) */
};

/* entries of a tuning section at most: a build has one per convolution shape (SSD300 ~50), and
 * the set is searched linearly, so an untrusted plan must not make its load quadratic in more */
#define PLAN_MAX_TUNING 4096u

/* op (domain, name) table, from ops.def (plan_write.c) */
extern const struct plan_op_name {
	const char *domain, *name;
} plan_ops[IR_OP_COUNT];

/* ------------------------------------------------------------------ reader */

typedef struct rd {
	const uint8_t *p;
	size_t n, pos;
	bool bad;
} rd;

static inline bool get(rd *r, void *dst, size_t n)
{
	if (r->bad || n > r->n - r->pos) {
		r->bad = true;
		return false;
	}
	memcpy(dst, r->p + r->pos, n);
	r->pos += n;
	return true;
}

static inline uint32_t get_u32(rd *r) { uint32_t v = 0; get(r, &v, 4); return v; }
static inline int32_t get_i32(rd *r) { int32_t v = 0; get(r, &v, 4); return v; }
static inline uint64_t get_u64(rd *r) { uint64_t v = 0; get(r, &v, 8); return v; }
static inline int64_t get_i64(rd *r) { int64_t v = 0; get(r, &v, 8); return v; }
static inline float get_f32(rd *r) { float v = 0; get(r, &v, 4); return v; }

static inline size_t remaining(const rd *r)
{
	return r->bad ? 0 : r->n - r->pos;
}

/* A length-prefixed string, NUL-terminated copy (malloc); NULL on truncation or over max. */
static inline char *get_str(rd *r, size_t max, size_t *len_out)
{
	uint32_t len = get_u32(r);
	if (r->bad || len > max || len > remaining(r)) {
		r->bad = true;
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (!s) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p + r->pos, len);
	s[len] = 0;
	r->pos += len;
	if (len_out)
		*len_out = len;
	return s;
}

typedef struct loader {
	odet_ctx *ctx;
	const char *label;
	int sec_index; /* 1-based, for messages; 0 = not inside a section */
	const char *sec_name;
} loader;

#define LBAD(L, ...) plan_bad((L), ODET_ERR_BAD_INPUT, __VA_ARGS__)

static inline odet_status plan_bad(const loader *L, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline odet_status plan_bad(const loader *L, odet_status s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (L->sec_index > 0)
		return odet_error(L->ctx, s, "%s: section %d (%s): %s", L->label, L->sec_index, L->sec_name,
				  msg);
	return odet_error(L->ctx, s, "%s: %s", L->label, msg);
}

/* The graph section (plan_graph.c): parsed, bounds-checked, shapes verified. */
odet_status plan_read_graph(loader *L, const uint8_t *p, size_t size, ir_graph **out);

#endif
