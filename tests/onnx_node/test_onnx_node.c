/*
 * test_onnx_node.c — ONNX's backend node tests (Debian libonnx-testdata) through odet:
 * for every DIR/test_* : import model.onnx, fix unknown input dims from the test's inputs
 * (which fixes the batch too), build on the CPU backend without a head, run every test_data_set_* and compare with its
 * output_*.pb (float: |a - b| <= 1e-5 + 1e-4 |b|, NaN == NaN; integers and bools exact).
 *
 * Each case runs in a forked child (a crash or a hang is a failure of that case only).
 * When the build is refused because an input determines a shape (Reshape's shape, Slice's
 * starts, Resize's scales, ... fed as graph inputs by these tests), the case is rebuilt per
 * data set with those inputs baked in as constants, as they are in deployed models.
 * Classification: pass; fail; skipped = import or build refused with ODET_ERR_UNSUPPORTED
 * (the reason is printed: op not supported, dtype, attribute, ...).
 * A case belongs to the op its name starts with (test_<op>_..., ONNX's naming) when that op
 * is in ops.def: "claimed"; other cases are reported but never fail the run.
 * Exit status 1 iff a claimed case fails. Usage: test_onnx_node [DIR] [NAME-FILTER] [-v]
 */
#include "backend/backend.h"
#include "engine/engine.h"
#include "import/import.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


#define DEFAULT_DIR "/usr/share/libonnx-testdata/data/node"
#define MAX_TENSORS 64
#define CASE_TIMEOUT_S 60

enum { R_PASS, R_FAIL, R_SKIP };

/* ---- which op a test belongs to */

static const char *const onnx_names[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = onnx,
#include "graph/ops.def"
#undef OP
};
static const char *const onnx_domains[IR_OP_COUNT] = {
#define OP(id, onnx, dom) [IR_OP_##id] = dom,
#include "graph/ops.def"
#undef OP
};

/* Test-name prefixes that belong to ops other than the one their prefix spells. */
static const struct {
	const char *prefix;
	int op; /* IR op, or -1 = not an odet op */
} aliases[] = {
	{"batchnorm", IR_OP_BATCHNORM}, {"constant_pad", IR_OP_PAD}, {"edge_pad", IR_OP_PAD},
	{"reflect_pad", IR_OP_PAD}, {"wrap_pad", IR_OP_PAD},
	{"gather_elements", -1}, {"less_equal", -1}, {"greater_equal", -1},
	{"softmax_cross_entropy", -1}, {"log_softmax", -1}, {"reduce_sum_square", -1},
	{"reduce_log_sum", -1}, {"reduce_log_sum_exp", -1}, {"split_to_sequence", -1},
	{"maxunpool", -1}, {"basic_conv", IR_OP_CONV}, {"basic_convinteger", -1}, {"upsample", IR_OP_RESIZE},
};

/* "ReduceMean" -> "reduce_mean"; lower -> "reducemean" */
static void op_keys(const char *name, char *lower, char *snake, size_t n)
{
	size_t a = 0, b = 0;
	for (size_t i = 0; name[i] && a + 1 < n && b + 2 < n; i++) {
		char c = name[i];
		lower[a++] = (char)tolower((unsigned char)c);
		if (i && isupper((unsigned char)c) && islower((unsigned char)name[i - 1]))
			snake[b++] = '_';
		snake[b++] = (char)tolower((unsigned char)c);
	}
	lower[a] = snake[b] = 0;
}

static bool prefix_at(const char *s, const char *p)
{
	size_t n = strlen(p);
	return strncmp(s, p, n) == 0 && (s[n] == 0 || s[n] == '_');
}

/* The op of test "test_<...>", or -1. */
static int op_of_test(const char *test)
{
	const char *s = test + 5;
	int best = -1;
	size_t best_len = 0;
	for (int i = 0; i < IR_OP_COUNT; i++) {
		if (onnx_domains[i][0])
			continue;
		char lower[64], snake[64];
		op_keys(onnx_names[i], lower, snake, sizeof lower);
		const char *keys[2] = {lower, snake};
		for (int k = 0; k < 2; k++)
			if (prefix_at(s, keys[k]) && strlen(keys[k]) > best_len) {
				best = i;
				best_len = strlen(keys[k]);
			}
	}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (prefix_at(s, aliases[i].prefix) && strlen(aliases[i].prefix) > best_len) {
			best = aliases[i].op;
			best_len = strlen(aliases[i].prefix);
		}
	return best;
}

/* ---- running one case (in the child) */

typedef struct tensor_set {
	int n;
	odet_tensor t[MAX_TENSORS];
	char *name[MAX_TENSORS];
} tensor_set;

static void set_free(tensor_set *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->t[i].data);
		free(s->name[i]);
	}
	s->n = 0;
}

/* Read PREFIX_0.pb, PREFIX_1.pb, ... from dir. */
static odet_status read_set(odet_ctx *ctx, const char *dir, const char *prefix, tensor_set *s)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < MAX_TENSORS; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, i);
		if (access(path, R_OK) != 0)
			break;
		void *data;
		size_t size;
		odet_status rc = odet_file_read(ctx, path, (size_t)1 << 30, &data, &size);
		if (!rc) {
			rc = odet_import_onnx_tensor(ctx, data, size, &s->t[s->n], &s->name[s->n]);
			free(data);
		}
		if (rc) {
			odet_error_prefix(ctx, "%s_%d.pb: ", prefix, i);
			return rc;
		}
		s->n++;
	}
	return ODET_OK;
}

static bool close_enough(odet_dtype dt, const void *a, const void *b, int64_t i)
{
	double x, y;
	switch (dt) {
	case ODET_F32: x = ((const float *)a)[i], y = ((const float *)b)[i]; break;
	case ODET_F64: x = ((const double *)a)[i], y = ((const double *)b)[i]; break;
	case ODET_F16:
		x = odet_f16_to_f32(((const uint16_t *)a)[i]);
		y = odet_f16_to_f32(((const uint16_t *)b)[i]);
		break;
	case ODET_BF16: {
		uint32_t ba = (uint32_t)((const uint16_t *)a)[i] << 16, bb = (uint32_t)((const uint16_t *)b)[i] << 16;
		float fa, fb;
		memcpy(&fa, &ba, 4);
		memcpy(&fb, &bb, 4);
		x = fa, y = fb;
		break;
	}
	default: {
		size_t es = odet_dtype_size(dt);
		return memcmp((const char *)a + (size_t)i * es, (const char *)b + (size_t)i * es, es) == 0;
	}
	}
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	if (isinf(x) || isinf(y))
		return x == y;
	return fabs(x - y) <= 1e-5 + 1e-4 * fabs(y);
}

/* Give unknown input dims the test's values (models with symbolic dims). */
static void fix_input_dims(ir_graph *g, const tensor_set *in)
{
	for (int i = 0; i < g->n_inputs; i++) {
		ir_value *v = &g->values[g->inputs[i]];
		const odet_tensor *t = NULL;
		for (int k = 0; k < in->n; k++)
			if (in->name[k] && !strcmp(in->name[k], v->name))
				t = &in->t[k];
		if (!t && i < in->n)
			t = &in->t[i];
		if (!t)
			continue;
		if (v->rank < 0) {
			v->rank = t->rank;
			for (int d = 0; d < t->rank; d++)
				v->dims[d] = -1;
		}
		if (v->rank != t->rank)
			continue;
		for (int d = 0; d < v->rank; d++)
			if (v->dims[d] < 0)
				v->dims[d] = t->dims[d];
	}
}

/* Inputs whose values determine output shapes (canonical IR forms, ir.h). */
static bool is_shape_operand(ir_op op, int k)
{
	switch (op) {
	case IR_OP_RESHAPE: case IR_OP_EXPAND: case IR_OP_TILE: case IR_OP_TOPK: case IR_OP_SPLIT:
	case IR_OP_SQUEEZE: case IR_OP_UNSQUEEZE: case IR_OP_REDUCEMEAN: case IR_OP_REDUCESUM:
	case IR_OP_REDUCEMAX:
		return k == 1;
	case IR_OP_SLICE: case IR_OP_PAD: case IR_OP_RESIZE:
		return k >= 1;
	case IR_OP_CONSTANTOFSHAPE: case IR_OP_RANGE:
		return true;
	default:
		return false;
	}
}

static bool is_shape_input(const ir_graph *g, int v)
{
	for (int i = 0; i < g->n_nodes; i++)
		for (int k = 0; k < g->nodes[i].n_in; k++)
			if (g->nodes[i].in[k] == v && is_shape_operand(g->nodes[i].op, k))
				return true;
	return false;
}

static bool has_shape_inputs(const ir_graph *g)
{
	for (int i = 0; i < g->n_inputs; i++)
		if (is_shape_input(g, g->inputs[i]))
			return true;
	return false;
}

/* The test tensor for graph input i: by name, else by position. */
static const odet_tensor *tensor_for(const ir_graph *g, int i, const tensor_set *in)
{
	const char *name = g->values[g->inputs[i]].name;
	for (int k = 0; k < in->n; k++)
		if (in->name[k] && !strcmp(in->name[k], name))
			return &in->t[k];
	return i < in->n ? &in->t[i] : NULL;
}

/* Turn the shape-determining graph inputs into constants holding the test's values. */
static odet_status bake_inputs(ir_graph *g, const tensor_set *in)
{
	int w = 0;
	for (int i = 0; i < g->n_inputs; i++) {
		int v = g->inputs[i];
		const odet_tensor *t = tensor_for(g, i, in);
		if (!t || !is_shape_input(g, v) || t->dtype != g->values[v].dtype) {
			g->inputs[w++] = v;
			continue;
		}
		size_t bytes = (size_t)odet_tensor_numel(t) * odet_dtype_size(t->dtype);
		void *data = malloc(bytes + 1);
		if (!data)
			return ODET_ERR_NO_MEMORY;
		memcpy(data, t->data, bytes);
		ir_value *val = &g->values[v];
		val->rank = t->rank;
		for (int d = 0; d < t->rank; d++)
			val->dims[d] = t->dims[d];
		ir_value_set_data(g, v, data, bytes);
	}
	g->n_inputs = w;
	return ODET_OK;
}

static odet_status build_for(odet_ctx *ctx, const ir_graph *g, const tensor_set *in, bool bake,
			     odet_engine **e)
{
	ir_graph *c;
	odet_status rc = ir_graph_clone(g, &c);
	if (rc)
		return rc;
	fix_input_dims(c, in);
	if (!bake || !(rc = bake_inputs(c, in))) {
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CPU;
		o.no_head = 1; /* raw outputs; the input dims are fixed: the default batch keeps them */
		rc = odet_engine_build(ctx, c, &o, e);
	}
	ir_graph_free(c);
	return rc;
}

/* Returns R_*; reason filled for fail/skip ("baked" for a pass with constant shape inputs). */
static int run_case(const char *dir, char *reason, size_t rn)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 1;
	co.log_level = ODET_LOG_ERROR;
	odet_ctx *ctx;
	if (odet_ctx_create(&co, &ctx))
		return snprintf(reason, rn, "cannot create a context"), R_FAIL;
	int res = R_FAIL;
	ir_graph *g = NULL;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	tensor_set in = {0}, want = {0};
	odet_tensor got[MAX_TENSORS];
	memset(got, 0, sizeof got);
	char path[4096];
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	odet_status rc = odet_import_onnx_file(ctx, path, &g);
	if (rc) {
		snprintf(reason, rn, "import: %s", odet_ctx_last_error(ctx));
		res = rc == ODET_ERR_UNSUPPORTED ? R_SKIP : R_FAIL;
		goto out;
	}
	snprintf(path, sizeof path, "%s/test_data_set_0", dir);
	if ((rc = read_set(ctx, path, "input", &in))) {
		snprintf(reason, rn, "%s", odet_ctx_last_error(ctx));
		res = rc == ODET_ERR_UNSUPPORTED ? R_SKIP : R_FAIL;
		goto out;
	}
	/* first as the model says; when that is refused, again with the inputs that determine
	 * shapes (Reshape's shape, Slice's starts, ...) baked in as constants from the data set,
	 * as they would be in a deployed model (rebuilt for every data set) */
	bool bake = false;
	if ((rc = build_for(ctx, g, &in, false, &e))) {
		snprintf(reason, rn, "build: %s", odet_ctx_last_error(ctx));
		if (rc == ODET_ERR_UNSUPPORTED && has_shape_inputs(g) && !build_for(ctx, g, &in, true, &e)) {
			bake = true;
			rc = ODET_OK;
		} else {
			res = rc == ODET_ERR_UNSUPPORTED ? R_SKIP : R_FAIL;
			goto out;
		}
	}
	for (int set = 0;; set++) {
		snprintf(path, sizeof path, "%s/test_data_set_%d", dir, set);
		if (access(path, R_OK) != 0)
			break;
		set_free(&in);
		set_free(&want);
		if ((rc = read_set(ctx, path, "input", &in)) || (rc = read_set(ctx, path, "output", &want))) {
			snprintf(reason, rn, "data set %d: %s", set, odet_ctx_last_error(ctx));
			res = rc == ODET_ERR_UNSUPPORTED ? R_SKIP : R_FAIL;
			goto out;
		}
		if (bake && set > 0) {
			odet_exec_destroy(x);
			odet_engine_destroy(e);
			x = NULL;
			if ((rc = build_for(ctx, g, &in, true, &e))) {
				snprintf(reason, rn, "data set %d: build: %s", set, odet_ctx_last_error(ctx));
				goto out;
			}
		}
		if (!x && (rc = odet_exec_create(e, &x))) {
			snprintf(reason, rn, "exec: %s", odet_ctx_last_error(ctx));
			goto out;
		}
		int ni = odet_engine_num_inputs(e), no = odet_engine_num_outputs(e);
		if (no > MAX_TENSORS || ni > MAX_TENSORS) {
			snprintf(reason, rn, "too many inputs/outputs");
			goto out;
		}
		for (int i = 0; i < MAX_TENSORS; i++) {
			free(got[i].data);
			got[i].data = NULL;
		}
		for (int i = 0; i < no; i++) {
			odet_engine_output_info(e, i, NULL, &got[i]);
			got[i].data = malloc((size_t)odet_tensor_numel(&got[i]) * odet_dtype_size(got[i].dtype) + 16);
		}
		odet_tensor feed[MAX_TENSORS];
		for (int i = 0; i < ni; i++) {
			const char *name;
			odet_tensor info;
			odet_engine_input_info(e, i, &name, &info);
			int k = -1;
			for (int j = 0; j < in.n; j++)
				if (in.name[j] && !strcmp(in.name[j], name))
					k = j;
			if (k < 0 && ni == in.n)
				k = i;
			if (k < 0) {
				snprintf(reason, rn, "data set %d: no tensor for input '%s'", set, name);
				goto out;
			}
			feed[i] = in.t[k];
			feed[i].device = -1;
			/* ONNX's test data stores bfloat16 tensors as uint16 bits */
			if (info.dtype == ODET_BF16 && feed[i].dtype == ODET_U16)
				feed[i].dtype = ODET_BF16;
		}
		if (want.n != no) {
			snprintf(reason, rn, "data set %d: %d expected outputs, the engine has %d", set, want.n, no);
			goto out;
		}
		if ((rc = odet_exec_infer(x, feed, ni, got, no))) {
			snprintf(reason, rn, "data set %d: run: %s", set, odet_ctx_last_error(ctx));
			goto out;
		}
		for (int i = 0; i < no; i++) {
			odet_tensor *w = &want.t[i];
			if (got[i].dtype == ODET_BF16 && w->dtype == ODET_U16)
				w->dtype = ODET_BF16; /* as above */
			bool same = w->dtype == got[i].dtype && odet_tensor_numel(w) == odet_tensor_numel(&got[i]) &&
				    w->rank == got[i].rank;
			for (int d = 0; same && d < w->rank; d++)
				same = w->dims[d] == got[i].dims[d];
			if (!same) {
				snprintf(reason, rn, "data set %d: output %d: %s rank %d numel %lld, expected %s rank %d numel %lld",
					 set, i, odet_dtype_name(got[i].dtype), got[i].rank,
					 (long long)odet_tensor_numel(&got[i]), odet_dtype_name(w->dtype), w->rank,
					 (long long)odet_tensor_numel(w));
				goto out;
			}
			int64_t n = odet_tensor_numel(w), bad = 0, first = -1;
			for (int64_t k = 0; k < n; k++)
				if (!close_enough(w->dtype, got[i].data, w->data, k)) {
					bad++;
					if (first < 0)
						first = k;
				}
			if (bad) {
				snprintf(reason, rn, "data set %d: output %d: %lld of %lld elements differ (first at %lld)",
					 set, i, (long long)bad, (long long)n, (long long)first);
				goto out;
			}
		}
	}
	res = R_PASS;
	if (bake)
		snprintf(reason, rn, "baked");
out:
	for (int i = 0; i < MAX_TENSORS; i++)
		free(got[i].data);
	set_free(&in);
	set_free(&want);
	odet_exec_destroy(x);
	odet_engine_destroy(e);
	ir_graph_free(g);
	odet_ctx_destroy(ctx);
	return res;
}

/* Run one case in a child process; the result comes back through a pipe. */
static int run_forked(const char *dir, char *reason, size_t rn)
{
	int fd[2];
	if (pipe(fd) != 0)
		return snprintf(reason, rn, "pipe failed"), R_FAIL;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return snprintf(reason, rn, "fork failed"), R_FAIL;
	}
	if (pid == 0) {
		close(fd[0]);
		alarm(CASE_TIMEOUT_S);
		char msg[1024] = "";
		int r = run_case(dir, msg, sizeof msg);
		char out[1100];
		int len = snprintf(out, sizeof out, "%d%s", r, msg);
		if (write(fd[1], out, (size_t)(len < (int)sizeof out ? len : (int)sizeof out - 1)) < 0)
			_exit(3);
		_exit(0);
	}
	close(fd[1]);
	char buf[1100];
	size_t got = 0;
	ssize_t k;
	while (got < sizeof buf - 1 && (k = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)k;
	buf[got] = 0;
	close(fd[0]);
	int status;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return snprintf(reason, rn, "crashed: %s", strsignal(WTERMSIG(status))), R_FAIL;
	if (got == 0 || buf[0] < '0' || buf[0] > '2')
		return snprintf(reason, rn, "no result from the child"), R_FAIL;
	snprintf(reason, rn, "%s", buf + 1);
	return buf[0] - '0';
}

static int name_filter(const struct dirent *d)
{
	return strncmp(d->d_name, "test_", 5) == 0;
}

int main(int argc, char **argv)
{
	const char *dir = DEFAULT_DIR, *filter = NULL;
	bool verbose = false;
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (pos++ == 0)
			dir = argv[i];
		else
			filter = argv[i];
	}
	struct dirent **list;
	int n = scandir(dir, &list, name_filter, alphasort);
	if (n < 0) {
		fprintf(stderr, "onnx node tests: cannot read %s (apt-get install libonnx-testdata)\n", dir);
		return 1;
	}
	int count[IR_OP_COUNT + 1][3];
	memset(count, 0, sizeof count);
	int total[3] = {0}, claimed_fail = 0, baked = 0;
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (filter && !strstr(name, filter))
			continue;
		char path[4096], reason[1024];
		snprintf(path, sizeof path, "%s/%s", dir, name);
		int op = op_of_test(name);
		int r = run_forked(path, reason, sizeof reason);
		count[op < 0 ? IR_OP_COUNT : op][r]++;
		total[r]++;
		baked += r == R_PASS && !strcmp(reason, "baked");
		if (r == R_FAIL) {
			printf("FAIL %s%s: %s\n", name, op < 0 ? " (op not claimed)" : "", reason);
			claimed_fail += op >= 0;
		} else if (r == R_SKIP && (verbose || op >= 0)) {
			printf("skip %s: %s\n", name, reason);
		} else if (verbose) {
			printf("pass %s%s\n", name, strcmp(reason, "baked") ? "" : " (shape inputs baked as constants)");
		}
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	printf("\nper op (claimed ops of ops.def; 'other' = tests of ops odet does not list):\n");
	for (int op = 0; op <= IR_OP_COUNT; op++) {
		int *c = count[op];
		if (!c[0] && !c[1] && !c[2])
			continue;
		printf("  %-20s %4d passed %4d failed %4d skipped\n", op == IR_OP_COUNT ? "other" : onnx_names[op],
		       c[R_PASS], c[R_FAIL], c[R_SKIP]);
	}
	printf("onnx node tests: %d passed, %d failed, %d skipped (%d failures among claimed ops; "
	       "%d passed with their shape inputs baked in as constants)\n",
	       total[R_PASS], total[R_FAIL], total[R_SKIP], claimed_fail, baked);
	return claimed_fail ? 1 : 0;
}
