/*
 * test_tfjs_malformed.c — TF.js graph models are untrusted input (issue 18). Generated in a
 * temporary folder at test time:
 *   - a 20,000-node chain of Relus, with a signature: imports (the walk over the inputs is
 *     iterative; it used to recurse once per node and overflow the stack);
 *   - the same chain without a signature: the one unconsumed node is found as the output
 *     (output finding used to be cubic in the node count);
 *   - two unconsumed nodes: both are outputs, in node order; a consumed node is not; a
 *     signature output the node does not have is refused;
 *   - weight shards: a symlink to a file outside the folder, '..', an absolute path, a
 *     missing file, a folder and a FIFO are refused as bad input naming the shard; a
 *     symlink inside the folder is read; a shape of 3.7 is refused, not truncated.
 */
#include "import/import.h"
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static odet_ctx *ctx;
static char dir[256];

static int has(const char *s)
{
	return strstr(odet_ctx_last_error(ctx), s) != NULL;
}

/* model.json: Placeholder x [1,4] -> n Relus (r0 .. r{n-1}) [-> Add(r{n-1}, w) with a weight
 * 'w' of shape `wshape` in shard `shard`], with or without a signature naming the last node. */
static void write_chain(const char *path, int n, bool signature, const char *shard, const char *wshape)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		CHECK_MSG(0, "cannot write %s", path);
		return;
	}
	fprintf(f, "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":[");
	fprintf(f, "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":"
		   "[{\"size\":\"1\"},{\"size\":\"4\"}]}}}}");
	for (int i = 0; i < n; i++) {
		if (i)
			fprintf(f, ",{\"name\":\"r%d\",\"op\":\"Relu\",\"input\":[\"r%d\"]}", i, i - 1);
		else
			fprintf(f, ",{\"name\":\"r0\",\"op\":\"Relu\",\"input\":[\"x\",\"^x\"]}");
	}
	char lastname[32];
	snprintf(lastname, sizeof lastname, "r%d", n - 1);
	if (shard) {
		fprintf(f, ",{\"name\":\"w\",\"op\":\"Const\"}");
		fprintf(f, ",{\"name\":\"sum\",\"op\":\"AddV2\",\"input\":[\"%s\",\"w\"]}", lastname);
		snprintf(lastname, sizeof lastname, "sum");
	}
	fprintf(f, "]},\"weightsManifest\":[");
	if (shard)
		fprintf(f, "{\"paths\":[\"%s\"],\"weights\":[{\"name\":\"w\",\"shape\":[%s],\"dtype\":\"float32\"}]}",
			shard, wshape);
	fprintf(f, "]");
	if (signature)
		fprintf(f, ",\"signature\":{\"outputs\":{\"out\":{\"name\":\"%s:0\"}}}", lastname);
	fprintf(f, "}\n");
	fclose(f);
}

static odet_status import(const char *path, ir_graph **g)
{
	*g = NULL;
	return odet_import_tfjs_file(ctx, path, g);
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead && g->nodes[i].op == op;
	return c;
}

static void long_chains(void)
{
	char path[512];
	ir_graph *g;
	const int n = 20000;
	snprintf(path, sizeof path, "%s/chain_sig.json", dir);
	write_chain(path, n, true, NULL, NULL);
	double t0 = odet_now_s();
	odet_status rc = import(path, &g);
	double t1 = odet_now_s();
	CHECK_MSG(rc == ODET_OK, "20,000-node chain with a signature: %s", odet_ctx_last_error(ctx));
	if (g) {
		CHECK(count_op(g, IR_OP_RELU) == n && g->n_outputs == 1 && g->n_inputs == 1);
		ir_graph_free(g);
	}
	snprintf(path, sizeof path, "%s/chain_nosig.json", dir);
	write_chain(path, n, false, NULL, NULL);
	double t2 = odet_now_s();
	rc = import(path, &g);
	double t3 = odet_now_s();
	CHECK_MSG(rc == ODET_OK, "20,000-node chain without a signature: %s", odet_ctx_last_error(ctx));
	if (g) {
		CHECK(count_op(g, IR_OP_RELU) == n && g->n_outputs == 1);
		CHECK_MSG(g->n_outputs == 1 && !strcmp(g->values[g->outputs[0]].name, "r19999"), "output '%s'",
			  g->n_outputs ? g->values[g->outputs[0]].name : "none");
		ir_graph_free(g);
	}
	/* for the commit message, never asserted */
	printf("20,000-node chain: %.3f s with a signature, %.3f s without\n", t1 - t0, t3 - t2);
}

static void outputs_without_signature(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/two_outputs.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
		   "{\"name\":\"b\",\"op\":\"Sigmoid\",\"input\":[\"a\"]},"
		   "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":[{\"size\":\"2\"}]}}}},"
		   "{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"x\"]},"
		   "{\"name\":\"c\",\"op\":\"Tanh\",\"input\":[\"a:0\"]}]},\"weightsManifest\":[]}\n");
	fclose(f);
	ir_graph *g;
	odet_status rc = import(path, &g);
	CHECK_MSG(rc == ODET_OK, "%s", odet_ctx_last_error(ctx));
	if (g) {
		CHECK(g->n_outputs == 2 && !strcmp(g->values[g->outputs[0]].name, "b") &&
		      !strcmp(g->values[g->outputs[1]].name, "c"));
		ir_graph_free(g);
	}	/* a signature naming an output the node does not have (found by fuzz_tfjs: read past
	 * the node's output list) */
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
		   "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":[{\"size\":\"2\"}]}}}},"
		   "{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"x\"]}]},\"weightsManifest\":[],"
		   "\"signature\":{\"outputs\":{\"y\":{\"name\":\"a:5\"}}}}\n");
	fclose(f);
	rc = import(path, &g);
	CHECK_MSG(rc == ODET_ERR_BAD_INPUT && !g && has("output 'a:5': node 'a' has no output 5"), "%s",
		  odet_ctx_last_error(ctx));
	ir_graph_free(g);
}

/* One model per shard case; want = NULL: must import. */
static void shard_case(const char *tag, const char *shard, const char *wshape, const char *want)
{
	char path[512];
	snprintf(path, sizeof path, "%s/model.json", dir);
	write_chain(path, 2, true, shard, wshape);
	ir_graph *g;
	odet_status rc = import(path, &g);
	if (!want) {
		CHECK_MSG(rc == ODET_OK && g && count_op(g, IR_OP_ADD) == 1, "%s: %s", tag, odet_ctx_last_error(ctx));
	} else {
		CHECK_MSG(rc == ODET_ERR_BAD_INPUT && !g && has(want) && !strchr(odet_ctx_last_error(ctx), '\n'),
			  "%s: status %d: %s", tag, rc, odet_ctx_last_error(ctx));
	}
	ir_graph_free(g);
}

static void shards(void)
{
	char p[512], q[512];
	float w[4] = {1, 2, 3, 4};
	snprintf(p, sizeof p, "%s/good.bin", dir);
	FILE *f = fopen(p, "wb");
	if (!f)
		return;
	fwrite(w, sizeof w, 1, f);
	fclose(f);
	shard_case("plain shard", "good.bin", "4", NULL);
	snprintf(q, sizeof q, "%s/inside_link.bin", dir);
	CHECK(symlink("good.bin", q) == 0);
	shard_case("symlink inside the folder", "inside_link.bin", "4", NULL);
	/* a file outside the folder, 16 bytes like the weight: only the path check can refuse it */
	snprintf(p, sizeof p, "%s.outside.bin", dir);
	f = fopen(p, "wb");
	if (f) {
		fwrite(w, sizeof w, 1, f);
		fclose(f);
	}
	snprintf(q, sizeof q, "%s/escape.bin", dir);
	CHECK(symlink(p, q) == 0);
	shard_case("symlink out of the folder", "escape.bin", "4", "outside the model's folder");
	snprintf(q, sizeof q, "%s/passwd.bin", dir);
	CHECK(symlink("/etc/passwd", q) == 0);
	shard_case("symlink to /etc/passwd", "passwd.bin", "4", "outside the model's folder");
	unlink(p);
	shard_case("dot-dot", "../x.bin", "4", "contains '..'");
	shard_case("absolute", "/etc/passwd", "4", "is absolute");
	shard_case("missing", "missing.bin", "4", "weight shard 'missing.bin': cannot open");
	snprintf(q, sizeof q, "%s/sub", dir);
	CHECK(mkdir(q, 0700) == 0);
	shard_case("a folder", "sub", "4", "weight shard 'sub' is not a readable file");
	snprintf(q, sizeof q, "%s/fifo.bin", dir);
	CHECK(mkfifo(q, 0600) == 0);
	shard_case("a FIFO", "fifo.bin", "4", "weight shard 'fifo.bin' is not a readable file");
	shard_case("fractional dim", "good.bin", "3.7", "bad shape");
	shard_case("short shard", "good.bin", "5", "needs 20 bytes");
}

int main(void)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx) != ODET_OK)
		return 1;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/odet_tfjs_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	long_chains();
	outputs_without_signature();
	shards();
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	odet_ctx_destroy(ctx);
	return test_summary("tfjs_malformed");
}
