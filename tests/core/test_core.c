/* test_core.c — status table, checked arithmetic, float16 conversion, CRC-32, thread pool,
 * the tuning cache file, and the IR's construction/compaction helpers. */
#include "core/core.h"
#include "graph/ir.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sum_range(void *arg, int64_t b, int64_t e, int thread)
{
	int64_t *out = arg;
	for (int64_t i = b; i < e; i++)
		__atomic_fetch_add(out, i, __ATOMIC_RELAXED);
}

/* a context whose tuning cache is a new temporary file holding `lines` (path: 22 bytes) */
static odet_ctx *ctx_with_tune_file(char path[22], const char *lines)
{
	strcpy(path, "/tmp/odet_tune_XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	CHECK(write(fd, lines, strlen(lines)) == (ssize_t)strlen(lines));
	close(fd);
	odet_ctx_opts o = odet_ctx_opts_default();
	o.tune_cache = path;
	odet_ctx *ctx = NULL;
	CHECK(odet_ctx_create(&o, &ctx) == ODET_OK);
	return ctx;
}

/* tuning cache: last entry wins, exact keys, bad lines and a missing file are ignored */
static void test_tune_cache(void)
{
	char path[22], val[64];
	odet_ctx *ctx = ctx_with_tune_file(path, "no tab here\nk\t\nbad\x01\tv\nk2\tv\x7f\n");
	if (!ctx)
		return;
	odet_ctx_opts o = odet_ctx_opts_default();
	CHECK(!odet_tune_get(ctx, NULL, "k", val, sizeof val));
	CHECK(!odet_tune_get(ctx, NULL, "k2", val, sizeof val));
	odet_tune_put(ctx, NULL, "conv a", "legacy 1 1");
	odet_tune_put(ctx, NULL, "conv ab", "graph 0 41");
	odet_tune_put(ctx, NULL, "conv a", "graph 3 4");
	odet_tune_put(ctx, NULL, "tab\tkey", "x"); /* refused: tab in key */
	CHECK(odet_tune_get(ctx, NULL, "conv a", val, sizeof val) && !strcmp(val, "graph 3 4"));
	CHECK(odet_tune_get(ctx, NULL, "conv ab", val, sizeof val) && !strcmp(val, "graph 0 41"));
	CHECK(!odet_tune_get(ctx, NULL, "conv", val, sizeof val));
	CHECK(!odet_tune_get(ctx, NULL, "conv a", val, 4)); /* does not fit */
	odet_ctx_destroy(ctx);
	unlink(path);
	o.tune_cache = path; /* missing file: nothing found, nothing fails */
	CHECK(odet_ctx_create(&o, &ctx) == ODET_OK);
	CHECK(!odet_tune_get(ctx, NULL, "conv a", val, sizeof val));
	odet_ctx_destroy(ctx);
	o.tune_cache = NULL;
	CHECK(odet_ctx_create(&o, &ctx) == ODET_OK);
	odet_tune_put(ctx, NULL, "conv a", "legacy 1 1");
	CHECK(!odet_tune_get(ctx, NULL, "conv a", val, sizeof val));
	odet_ctx_destroy(ctx);
}

/* an engine's set: consulted before the file, filled by put and by what get finds in the file,
 * one entry per key (replaced), invalid strings refused */
static void test_tune_set(void)
{
	char path[22], val[64];
	odet_ctx *ctx = ctx_with_tune_file(path, "conv f\tfile 1\nconv g\tfile 2\n");
	if (!ctx)
		return;
	odet_tune_set set = {0};
	CHECK(odet_tune_set_add(&set, "conv g", "plan 7")); /* as a plan's section would */
	CHECK(odet_tune_get(ctx, &set, "conv g", val, sizeof val) && !strcmp(val, "plan 7")); /* set first */
	CHECK(odet_tune_get(ctx, NULL, "conv g", val, sizeof val) && !strcmp(val, "file 2"));
	CHECK(odet_tune_get(ctx, &set, "conv f", val, sizeof val) && !strcmp(val, "file 1"));
	CHECK(set.n == 2 && odet_tune_set_find(&set, "conv f") && !strcmp(odet_tune_set_find(&set, "conv f"), "file 1"));
	odet_tune_put(ctx, &set, "conv f", "timed 3"); /* replaces in the set, appends to the file */
	CHECK(set.n == 2 && !strcmp(odet_tune_set_find(&set, "conv f"), "timed 3"));
	CHECK(odet_tune_get(ctx, NULL, "conv f", val, sizeof val) && !strcmp(val, "timed 3"));
	CHECK(!odet_tune_get(ctx, &set, "conv h", val, sizeof val) && set.n == 2); /* a miss adds nothing */
	CHECK(!odet_tune_get(ctx, &set, "conv g", val, 4));                        /* does not fit */
	CHECK(!odet_tune_set_add(&set, "tab\tkey", "x") && !odet_tune_set_add(&set, "k", "") &&
	      !odet_tune_set_add(&set, "k", "\x7f") && !odet_tune_set_add(NULL, "k", "v") && set.n == 2);
	char big[600];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	CHECK(!odet_tune_set_add(&set, big, "v") && !odet_tune_valid(big) && odet_tune_valid("a b"));
	for (int i = 0; i < 100; i++) { /* growth */
		char k[32];
		snprintf(k, sizeof k, "key %d", i);
		CHECK(odet_tune_set_add(&set, k, "v"));
	}
	CHECK(set.n == 102 && !strcmp(odet_tune_set_find(&set, "key 99"), "v") && !odet_tune_set_find(&set, "key"));
	odet_tune_set_free(&set);
	CHECK(set.n == 0 && !set.key && !odet_tune_set_find(&set, "conv g"));
	odet_tune_set_free(&set); /* twice is harmless */
	odet_ctx_destroy(ctx);
	unlink(path);
}

/* odet_slice_range against a walk of the ONNX rules (clamp, then step from start towards end) */
static void test_slice_range(void)
{
	const int64_t ext[] = {INT64_MIN, INT64_MIN + 1, -1000, INT64_MAX - 1, INT64_MAX, 1000};
	int bad = 0, n = 0;
	for (int64_t dim = 0; dim <= 5; dim++)
		for (int si = -8; si <= 8 + 6; si++)
			for (int ei = -8; ei <= 8 + 6; ei++)
				for (int k = -5; k <= 5; k++) {
					if (!k)
						continue;
					int64_t st = k == -5 ? INT64_MIN : k == 5 ? INT64_MAX : k;
					int64_t s0 = si > 8 ? ext[si - 9] : si, e0 = ei > 8 ? ext[ei - 9] : ei;
					/* reference: negative counts from the end (without overflow), then clamp */
					int64_t s = s0 < 0 ? (s0 < -dim ? -1 - dim : s0 + dim) : s0;
					int64_t e = e0 < 0 ? (e0 < -dim ? -1 - dim : e0 + dim) : e0;
					int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? dim : dim - 1;
					s = s < 0 ? 0 : s > hi ? hi : s;
					e = e < lo ? lo : e > hi ? hi : e;
					int64_t cnt = 0;
					for (int64_t i = s; dim > 0 && (st > 0 ? i < e : i > e);) {
						cnt++;
						if ((st > 0 && i > INT64_MAX - st) || (st < 0 && i < INT64_MIN - st))
							break; /* the next index is past any dim */
						i += st;
					}
					int64_t first, got = odet_slice_range(dim, s0, e0, st, &first);
					n++;
					if (got != (dim ? cnt : 0) || (got && first != s)) {
						if (bad++ < 5)
							printf("slice_range(%lld, %lld, %lld, %lld) = %lld first %lld, want %lld first %lld\n",
							       (long long)dim, (long long)s0, (long long)e0, (long long)st, (long long)got,
							       (long long)first, (long long)cnt, (long long)s);
					}
				}
	CHECK_MSG(bad == 0, "%d of %d slice ranges differ", bad, n);
}

int main(void)
{
	test_slice_range();
	test_tune_cache();
	test_tune_set();
	/* status table */
	for (int s = 0; s < ODET_STATUS_COUNT; s++)
		CHECK(strlen(odet_status_str((odet_status)s)) > 0);
	CHECK(odet_status_exit_code(ODET_OK) == 0);
	CHECK(odet_status_exit_code(ODET_ERR_BAD_INPUT) == 2);
	CHECK(odet_status_exit_code(ODET_ERR_IO) == 1);

	/* checked arithmetic */
	int64_t n;
	int64_t dims[3] = {1 << 30, 1 << 30, 1 << 30};
	CHECK(!odet_dims_numel(dims, 3, &n));
	int64_t neg[2] = {3, -1};
	CHECK(!odet_dims_numel(neg, 2, &n));
	int64_t ok[3] = {2, 3, 4};
	CHECK(odet_dims_numel(ok, 3, &n) && n == 24);

	/* float16: exhaustive round trip of every finite half, and rounding of floats */
	int bad = 0;
	for (uint32_t h = 0; h < 0x10000; h++) {
		if (((h >> 10) & 0x1f) == 0x1f)
			continue;
		if (odet_f32_to_f16(odet_f16_to_f32((uint16_t)h)) != h)
			bad++;
	}
	CHECK_MSG(bad == 0, "%d halves do not round-trip", bad);
	CHECK(odet_f32_to_f16(1.0f) == 0x3c00);
	CHECK(odet_f32_to_f16(65504.0f) == 0x7bff);
	CHECK(odet_f32_to_f16(1e6f) == 0x7c00);
	CHECK(odet_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);   /* tie to even */
	CHECK(odet_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);   /* tie to even, up */
	CHECK(odet_f16_to_f32(0x0001) == 5.9604644775390625e-08f);

	/* CRC-32 of "123456789" is 0xCBF43926 */
	CHECK(odet_crc32(0, "123456789", 9) == 0xCBF43926u);

	/* thread pool: every index once */
	odet_threadpool *pool;
	CHECK(odet_threadpool_create(4, &pool) == ODET_OK);
	for (int rep = 0; rep < 50; rep++) {
		int64_t sum = 0;
		odet_parallel_for(pool, 10007, 1, sum_range, &sum);
		CHECK(sum == (int64_t)10007 * 10006 / 2);
	}
	odet_threadpool_destroy(pool);

	/* IR: build a -> Relu -> b -> Identity -> c, kill Identity, compact */
	odet_ctx *ctx;
	CHECK(odet_ctx_create(NULL, &ctx) == ODET_OK);
	/* one line per message: control bytes from a file's names become '?' (issue 18) */
	odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': bad", "a\nfake: ok\r\x1b[2J");
	CHECK(!strcmp(odet_ctx_last_error(ctx), "node 'a?fake: ok??[2J': bad"));
	odet_error_prefix(ctx, "%s: ", "m\n");
	CHECK(!strcmp(odet_ctx_last_error(ctx), "m?: node 'a?fake: ok??[2J': bad"));
	/* fault injection: the n-th counted call fails, then none */
	odet_ctx_fail_at(ctx, 2);
	void *p1 = odet_malloc(ctx, 8), *p2 = odet_malloc(ctx, 8), *p3 = odet_malloc(ctx, 8);
	CHECK(p1 && !p2 && p3 && odet_ctx_fault_calls(ctx) == 3 && ctx->last_status == ODET_ERR_NO_MEMORY);
	free(p1);
	free(p3);
	odet_ctx_fail_at(ctx, 0);
	ir_graph *g;
	CHECK(ir_graph_create(ctx, &g) == ODET_OK);
	int64_t d[2] = {2, 3};
	int a = ir_value_add(g, "a", ODET_F32, 2, d);
	int b = ir_value_add(g, "b", ODET_F32, 2, d);
	int c = ir_value_add(g, "c", ODET_F32, 2, d);
	int n1 = ir_node_add(g, IR_OP_IDENTITY, "id", 1, &b, 1, &c);
	int n0 = ir_node_add(g, IR_OP_RELU, "relu", 1, &a, 1, &b);
	CHECK(n0 == 1 && n1 == 0);
	g->inputs = calloc(1, sizeof(int));
	g->outputs = calloc(1, sizeof(int));
	g->inputs[0] = a;
	g->n_inputs = 1;
	g->outputs[0] = c;
	g->n_outputs = 1;
	g->values[c].is_output = true;
	CHECK(ir_graph_toposort(g) == ODET_OK);
	CHECK(g->nodes[0].op == IR_OP_RELU);
	CHECK(ir_op_lookup("", "Conv") == IR_OP_CONV);
	CHECK(ir_op_lookup("ai.onnx", "Relu") == IR_OP_RELU);
	CHECK(ir_op_lookup("", "NoSuchOp") == IR_OP_COUNT);
	g->nodes[1].dead = true;
	ir_value_replace_uses(g, c, b);
	CHECK(ir_graph_compact(g) == ODET_OK);
	CHECK(g->n_nodes == 1 && g->n_values == 2);
	CHECK(strcmp(g->values[g->outputs[0]].name, "b") == 0);
	ir_graph *g2;
	CHECK(ir_graph_clone(g, &g2) == ODET_OK);
	CHECK(g2->n_nodes == 1 && g2->n_values == 2);
	ir_graph_free(g2);
	ir_graph_free(g);
	odet_ctx_destroy(ctx);
	return test_summary("core");
}
