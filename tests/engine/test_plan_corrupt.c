/*
 * test_plan_corrupt.c — plan files are untrusted input. A valid plan (the small graph of
 * test_backend.h, and one with a head section) is damaged in every way we can think of;
 * every load must fail with the right status and a reason, never crash or leak:
 *   empty file, a JPEG header, an ONNX file, truncation at every offset, every single-bit
 *   flip in the header and section table, bit flips throughout each section (checksums),
 *   a newer format version, a CUDA plan without CUDA, an unknown op name, and random byte
 *   mutations of each section (graph, head, tuning) with the checksums recomputed (the
 *   parser's own checks).
 * A plan that lies about shapes with valid checksums: a YoloDecode whose attribute `decoded`
 * is flipped from 1 to 0 (its input then has the wrong rank) must be refused at load, not
 * crash the CPU kernel with a division by zero (issue 18).
 * Run also under valgrind (ctest engine_plan_corrupt_valgrind) with --quick: strided.
 */
#include "engine/engine.h"
#include "test.h"
#include "test_backend.h"
#include "graph_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx;
static int stride = 1;

static odet_status load(const void *p, size_t n)
{
	odet_engine *e = NULL;
	odet_status rc = engine_load_buffer(ctx, p, n, "model.plan", test_backend(), &e);
	if (rc == ODET_OK)
		odet_engine_destroy(e);
	else if (e)
		return ODET_ERR_INTERNAL; /* out must stay NULL on failure */
	return rc;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Recompute section CRCs and the header CRC (layout: docs/plan-format.md). */
static void fix_crcs(uint8_t *p, size_t n)
{
	uint32_t n_sec = rd32(p + 56);
	for (uint32_t i = 0; i < n_sec; i++) {
		uint8_t *t = p + 128 + 32 * i;
		uint64_t off, len;
		memcpy(&off, t + 8, 8);
		memcpy(&len, t + 16, 8);
		if (off <= n && len <= n - off) {
			uint32_t c = odet_crc32(0, p + off, (size_t)len);
			memcpy(t + 24, &c, 4);
		}
	}
	uint32_t c = odet_crc32(0, p, 124);
	c = odet_crc32(c, p + 128, 32 * (size_t)n_sec);
	memcpy(p + 124, &c, 4);
}

static int has(const char *s)
{
	return strstr(odet_ctx_last_error(ctx), s) != NULL;
}

static void corrupt_all(const uint8_t *plan, size_t size, const char *what)
{
	uint8_t *m = malloc(size);
	odet_status rc;
	/* sanity: the intact plan loads */
	rc = load(plan, size);
	CHECK_MSG(rc == ODET_OK, "%s: intact plan: %s", what, odet_ctx_last_error(ctx));

	/* truncation at every offset */
	int bad = 0;
	for (size_t cut = 0; cut < size; cut += (size_t)stride) {
		memcpy(m, plan, cut);
		rc = load(m, cut);
		bad += rc != ODET_ERR_BAD_INPUT;
	}
	CHECK_MSG(bad == 0, "%s: %d truncations not refused as bad input", what, bad);
	memcpy(m, plan, size);
	CHECK(load(m, 100) == ODET_ERR_BAD_INPUT && has("truncated"));
	CHECK(load(m, size - 1) == ODET_ERR_BAD_INPUT && has("truncated"));

	/* every bit of the header and the section table */
	uint32_t n_sec = rd32(plan + 56);
	size_t table_end = 128 + 32 * (size_t)n_sec;
	bad = 0;
	for (size_t bit = 0; bit < table_end * 8; bit++) {
		memcpy(m, plan, size);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = load(m, size);
		odet_status want = (bit / 8 >= 8 && bit / 8 < 12) ? ODET_ERR_MISMATCH : ODET_ERR_BAD_INPUT;
		bad += rc != want;
	}
	CHECK_MSG(bad == 0, "%s: %d header/table bit flips not refused correctly", what, bad);

	/* bit flips through each section: checksum mismatch naming the section */
	bad = 0;
	int named = 0;
	for (uint32_t s = 0; s < n_sec; s++) {
		uint64_t off, len;
		memcpy(&off, plan + 128 + 32 * s + 8, 8);
		memcpy(&len, plan + 128 + 32 * s + 16, 8);
		char want[64];
		snprintf(want, sizeof want, "section %u (", s + 1);
		for (uint64_t i = 0; i < len; i += (uint64_t)stride) {
			memcpy(m, plan, size);
			m[off + i] ^= (uint8_t)(1u << (i % 8));
			rc = load(m, size);
			bad += rc != ODET_ERR_BAD_INPUT;
			named += rc == ODET_ERR_BAD_INPUT && has(want) && has("checksum mismatch");
		}
		if (s == 0) {
			memcpy(m, plan, size);
			m[off + len / 2] ^= 0x10;
			load(m, size);
			CHECK_MSG(has("model.plan: section 1 (graph) checksum mismatch"), "%s",
				  odet_ctx_last_error(ctx));
		}
	}
	CHECK_MSG(bad == 0, "%s: %d section bit flips not refused", what, bad);
	CHECK(named > 0);

	/* a newer format version */
	memcpy(m, plan, size);
	uint32_t v = 7;
	memcpy(m + 8, &v, 4);
	fix_crcs(m, size);
	CHECK(load(m, size) == ODET_ERR_MISMATCH && has("model.plan: format version 7, this odet reads 1..2"));

	/* built for CUDA, loaded without it */
	if (!odet_backend_cuda()) {
		odet_engine *e = NULL;
		memcpy(m, plan, size);
		v = ODET_BACKEND_CUDA;
		memcpy(m + 20, &v, 4);
		fix_crcs(m, size);
		CHECK(engine_load_buffer(ctx, m, size, "model.plan", NULL, &e) == ODET_ERR_MISMATCH &&
		      has("CUDA") && e == NULL);
	}

	/* an op this odet does not know (a plan from the future): "Relu" -> "Relq" */
	memcpy(m, plan, size);
	uint8_t *r = memmem(m, size, "\x04\x00\x00\x00Relu", 8);
	CHECK(r != NULL);
	if (r) {
		r[7] = 'q';
		fix_crcs(m, size);
		CHECK_MSG(load(m, size) == ODET_ERR_MISMATCH && has("Relq"), "%s", odet_ctx_last_error(ctx));
	}

	/* random mutations of each section with valid checksums: whatever the status, no
	 * crash, no leak (valgrind), and a message when refused; the graph section (1) most */
	uint32_t nsec;
	memcpy(&nsec, plan + 56, 4);
	for (uint32_t sec = 0; sec < nsec; sec++) {
		uint64_t goff, glen;
		uint32_t stype;
		memcpy(&stype, plan + 128 + 32 * sec, 4);
		memcpy(&goff, plan + 128 + 32 * sec + 8, 8);
		memcpy(&glen, plan + 128 + 32 * sec + 16, 8);
		unsigned seed = 2024 + sec;
		int refused = 0, accepted = 0, silent = 0;
		int rounds = (stride > 1 ? 400 : 3000) / (sec ? 4 : 1);
		for (int round = 0; round < rounds && glen; round++) {
			memcpy(m, plan, size);
			int nmut = 1 + round % 4;
			for (int k = 0; k < nmut; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (size_t)(goff + (seed >> 4) % glen);
				seed = seed * 1103515245u + 12345u;
				switch ((seed >> 8) % 4) {
				case 0: m[at] ^= (uint8_t)(1u << ((seed >> 12) % 8)); break;
				case 1: m[at] = 0xff; break;
				case 2: m[at] = 0; break;
				default: m[at] = (uint8_t)(seed >> 20); break;
				}
			}
			fix_crcs(m, size);
			ctx->last_error[0] = 0;
			rc = load(m, size);
			if (rc == ODET_OK) {
				accepted++;
			} else {
				refused++;
				silent += odet_ctx_last_error(ctx)[0] == 0;
				CHECK_MSG(rc == ODET_ERR_BAD_INPUT || rc == ODET_ERR_MISMATCH || rc == ODET_ERR_UNSUPPORTED ||
					  rc == ODET_ERR_LIMIT, "mutation %d: status %d (%s)", round, rc,
					  odet_ctx_last_error(ctx));
			}
		}
		CHECK(silent == 0);
		CHECK(sec > 0 || refused > rounds / 2); /* a head line or a tuned value may take any bytes */
		printf("%s: %zu bytes; mutated section %u (type %u): %d refused, %d accepted (benign)\n", what, size,
		       sec + 1, stype, refused, accepted);
	}
	free(m);
}

static void foreign_files(void)
{
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
				       0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
	/* ModelProto: ir_version 8, producer_name "pytorch", opset_import, graph ... (prefix) */
	static const uint8_t onnx[] = {0x08, 0x08, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h',
				       0x1a, 0x03, '2', '.', '1', 0x3a, 0x10, 0x0a, 0x03, 'A', 'd', 'd'};
	CHECK(load("", 0) == ODET_ERR_BAD_INPUT && has("empty"));
	CHECK(load(jpeg, sizeof jpeg) == ODET_ERR_BAD_INPUT && has("model.plan: not an odet plan (bad magic)"));
	CHECK(load(onnx, sizeof onnx) == ODET_ERR_BAD_INPUT && has("bad magic"));
	/* a real ONNX file when the ONNX test data is installed */
	void *data;
	size_t size;
	if (odet_file_read(ctx, "/usr/share/libonnx-testdata/data/node/test_add/model.onnx", 1 << 20, &data,
			   &size) == ODET_OK) {
		CHECK(load(data, size) == ODET_ERR_BAD_INPUT && has("bad magic"));
		free(data);
	}
	/* "ODETPLAN" then garbage */
	uint8_t junk[300];
	memset(junk, 0xa5, sizeof junk);
	memcpy(junk, "ODETPLAN", 8);
	CHECK(load(junk, 7) == ODET_ERR_BAD_INPUT);
	CHECK(load(junk, sizeof junk) != ODET_OK);
	/* through the file API: a missing file is an I/O error */
	odet_engine *e = NULL;
	CHECK(odet_engine_load(ctx, "/nonexistent/model.plan", 0, &e) == ODET_ERR_IO && e == NULL);
}

/* x [2,6,5] -> YoloDecode(version 8, decoded 1) -> boxes [2,5,4], scores [2,5,2], on the CPU
 * backend; the saved plan loads and runs; with `decoded` flipped to 0 (checksums recomputed)
 * the stored shapes no longer follow from the input and the load is refused. */
static void lying_yolo_plan(void)
{
	ir_graph *g;
	CHECK(ir_graph_create(ctx, &g) == ODET_OK);
	int64_t dx[3] = {2, 6, 5};
	int x = test_graph_input(g, "x", ODET_F32, 3, dx);
	int out[2] = {test_graph_value(g, "boxes"), test_graph_value(g, "scores")};
	int node = ir_node_add(g, IR_OP_YOLO_DECODE, "yolo", 1, &x, 2, out);
	ir_attr_set_int(g, node, "version", 8);
	ir_attr_set_int(g, node, "decoded", 1);
	test_graph_output(g, out[0]);
	test_graph_output(g, out[1]);
	odet_build_opts o = odet_build_opts_default();
	odet_engine *e = NULL;
	odet_status rc = engine_build_with(ctx, g, &o, odet_backend_cpu(), true, &e);
	CHECK_MSG(rc == ODET_OK, "yolo plan build: %s", odet_ctx_last_error(ctx));
	void *buf = NULL;
	size_t size = 0;
	if (e)
		CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
	odet_engine_destroy(e);
	ir_graph_free(g);
	if (!buf)
		return;
	e = NULL;
	CHECK_MSG(engine_load_buffer(ctx, buf, size, "model.plan", odet_backend_cpu(), &e) == ODET_OK, "%s",
		  odet_ctx_last_error(ctx));
	odet_engine_destroy(e);
	uint8_t *m = buf;
	uint8_t *at = memmem(m, size, "\x07\x00\x00\x00" "decoded", 11);
	CHECK(at != NULL);
	if (at) {
		int64_t v;
		memcpy(&v, at + 11 + 4, 8); /* name, u32 type, i64 value */
		CHECK(v == 1);
		v = 0;
		memcpy(at + 11 + 4, &v, 8);
		fix_crcs(m, size);
		e = NULL;
		rc = engine_load_buffer(ctx, m, size, "model.plan", odet_backend_cpu(), &e);
		CHECK_MSG(rc == ODET_ERR_BAD_INPUT && e == NULL && has("model.plan: section 1 (graph): ") &&
				  has("node 'yolo' (YoloDecode)") && has("must be 4-D"),
			  "flipped decoded: status %d: %s", rc, odet_ctx_last_error(ctx));
		if (e) { /* what the issue found: the kernel divides by a dim of 0 */
			odet_engine_destroy(e);
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--quick"))
		stride = 7;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 1;
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx) != ODET_OK)
		return 1;
	foreign_files();
	lying_yolo_plan();

	ir_graph *g = make_small_graph(ctx);
	odet_build_opts o = odet_build_opts_default();
	o.batch = 2;
	odet_engine *e = NULL;
	CHECK(engine_build_with(ctx, g, &o, test_backend(), false, &e) == ODET_OK);
	if (e) {
		void *buf;
		size_t size;
		CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
		corrupt_all(buf, size, "small graph plan");
		free(buf);
		odet_engine_destroy(e);
	}
	ir_graph_free(g);
	/* with a head section (marked the way odet_head_attach would) */
	g = make_head_graph(ctx);
	e = NULL;
	CHECK(engine_build_with(ctx, g, &o, test_backend(), false, &e) == ODET_OK);
	if (e) {
		void *buf;
		size_t size;
		e->has_head = true;
		e->head_desc = strdup("test head");
		CHECK(engine_save_buffer(e, &buf, &size) == ODET_OK);
		CHECK(rd32((uint8_t *)buf + 56) == 2u + (e->tune.n > 0)); /* graph, head, tuning */
		CHECK(e->tune.n > 0); /* the test backend tunes its Relus: the section is there to damage */
		corrupt_all(buf, size, "head plan");
		free(buf);
		odet_engine_destroy(e);
	}
	ir_graph_free(g);
	odet_ctx_destroy(ctx);
	return test_summary("plan corruption");
}
