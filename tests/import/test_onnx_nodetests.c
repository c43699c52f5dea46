/* test_onnx_nodetests.c — import every model.onnx of ONNX's backend node tests (Debian's
 * libonnx-testdata) and every input_*.pb / output_*.pb of its test data sets.
 *
 * The test decides on its own (protobuf-c + ops.def, not the importer) whether all ops of a
 * model are known to odet: ir_op_lookup() finds them, or they are Upsample/Dropout, which the
 * importer rewrites. Such models must import (ODET_OK) or be refused as ODET_ERR_UNSUPPORTED
 * (an attribute value or dtype odet does not handle, an opset outside 7..21); any other status
 * fails. Models with an unknown op must be refused as ODET_ERR_UNSUPPORTED. Counts are printed
 * (imported, refused by reason, unknown ops by op).
 * Usage: test_onnx_nodetests DIR   (default /usr/share/libonnx-testdata/data/node) */
#include "core/core.h"
#include "graph/ir.h"
#include "import/import.h"
#include "onnx.pb-c.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

typedef struct count {
	char key[160];
	int n;
} count;

static void bump(count *c, int *nc, int cap, const char *key)
{
	for (int i = 0; i < *nc; i++)
		if (strcmp(c[i].key, key) == 0) {
			c[i].n++;
			return;
		}
	if (*nc < cap) {
		snprintf(c[*nc].key, sizeof c[*nc].key, "%s", key);
		c[(*nc)++].n = 1;
	}
}

static int cmp_count(const void *a, const void *b)
{
	const count *x = a, *y = b;
	return x->n != y->n ? y->n - x->n : strcmp(x->key, y->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* First op of the model odet does not know, or NULL; *parsed false if protobuf-c fails. */
static const char *unknown_op(const Onnx__ModelProto *m, char *buf, size_t n)
{
	for (size_t i = 0; m->graph && i < m->graph->n_node; i++) {
		const Onnx__NodeProto *np = m->graph->node[i];
		const char *dom = np->domain ? np->domain : "";
		if (!*dom && (strcmp(np->op_type, "Upsample") == 0 || strcmp(np->op_type, "Dropout") == 0 ||
			     strcmp(np->op_type, "NonMaxSuppression") == 0)) /* cut for the onnx-nms head */
			continue;
		if ((*dom && strcmp(dom, "ai.onnx") != 0) || ir_op_lookup("", np->op_type) == IR_OP_COUNT) {
			snprintf(buf, n, "%s%s%s", dom, *dom ? "." : "", np->op_type);
			return buf;
		}
	}
	return NULL;
}

/* Import the .pb files of the model's test data sets; returns failures. */
static int import_data(odet_ctx *ctx, const char *mdir, int *n_ok)
{
	int bad = 0;
	DIR *d = opendir(mdir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "test_data_set_", 14) != 0)
			continue;
		char sdir[1200];
		snprintf(sdir, sizeof sdir, "%s/%s", mdir, e->d_name);
		DIR *s = opendir(sdir);
		struct dirent *f;
		while (s && (f = readdir(s))) {
			size_t l = strlen(f->d_name);
			if (l < 4 || strcmp(f->d_name + l - 3, ".pb") != 0)
				continue;
			char path[1400];
			snprintf(path, sizeof path, "%s/%s", sdir, f->d_name);
			odet_tensor t;
			char *name = NULL;
			odet_status rc = odet_import_onnx_tensor_file(ctx, path, &t, &name);
			if (rc == ODET_OK) {
				(*n_ok)++;
				free(t.data);
				free(name);
			} else if (rc != ODET_ERR_UNSUPPORTED) {
				if (bad++ < 3)
					fprintf(stderr, "tensor: %s\n", odet_ctx_last_error(ctx));
			}
		}
		if (s)
			closedir(s);
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "/usr/share/libonnx-testdata/data/node";
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 1;
	o.log_level = ODET_LOG_WARN;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	DIR *d = opendir(root);
	if (!d) {
		fprintf(stderr, "%s: cannot open\n", root);
		CHECK(d != NULL);
		return test_summary("onnx_nodetests");
	}
	char **names = NULL;
	int n_names = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "test_", 5) != 0)
			continue;
		if (n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, sizeof *names * (size_t)cap);
		}
		names[n_names++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n_names, sizeof *names, cmp_str);

	static count unknown[512], refused[512];
	int n_unknown_ops = 0, n_refused_kinds = 0;
	int total = 0, known = 0, imported = 0, n_refused = 0, n_unknown = 0, tensors_ok = 0;
	for (int i = 0; i < n_names; i++) {
		char mdir[1024], path[1100], buf[160];
		snprintf(mdir, sizeof mdir, "%s/%s", root, names[i]);
		snprintf(path, sizeof path, "%s/model.onnx", mdir);
		void *data;
		size_t size;
		if (odet_file_read(ctx, path, (size_t)1 << 30, &data, &size))
			continue;
		total++;
		Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
		free(data);
		CHECK_MSG(m != NULL, "%s: protobuf-c cannot parse it", names[i]);
		if (!m)
			continue;
		const char *op = unknown_op(m, buf, sizeof buf);
		ir_graph *g = NULL;
		odet_status rc = odet_import_onnx_file(ctx, path, &g);
		if (op) {
			n_unknown++;
			bump(unknown, &n_unknown_ops, 512, op);
			CHECK_MSG(rc == ODET_ERR_UNSUPPORTED, "%s (op %s): %s: %s", names[i], op,
				  odet_status_str(rc), odet_ctx_last_error(ctx));
		} else {
			known++;
			if (rc == ODET_OK) {
				imported++;
				int non_init = 0;
				for (size_t k = 0; k < m->graph->n_input; k++) {
					bool init = false;
					for (size_t j = 0; j < m->graph->n_initializer; j++)
						init |= strcmp(m->graph->initializer[j]->name, m->graph->input[k]->name) == 0;
					non_init += !init;
				}
				CHECK_MSG(g->n_inputs == non_init && g->n_outputs == (int)m->graph->n_output,
					  "%s: %d inputs, %d outputs", names[i], g->n_inputs, g->n_outputs);
				int bad = import_data(ctx, mdir, &tensors_ok);
				CHECK_MSG(bad == 0, "%s: %d tensor files failed", names[i], bad);
			} else {
				CHECK_MSG(rc == ODET_ERR_UNSUPPORTED, "%s: %s: %s", names[i], odet_status_str(rc),
					  odet_ctx_last_error(ctx));
				if (rc == ODET_ERR_UNSUPPORTED) {
					n_refused++;
					/* reason = the message after the path */
					const char *msg = odet_ctx_last_error(ctx);
					const char *r = strstr(msg, "model.onnx: ");
					printf("refused: %s: %s\n", names[i], r ? r + 12 : msg);
					bump(refused, &n_refused_kinds, 512, names[i]);
				}
			}
		}
		ir_graph_free(g);
		onnx__model_proto__free_unpacked(m, NULL);
	}
	for (int i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	qsort(unknown, (size_t)n_unknown_ops, sizeof *unknown, cmp_count);
	printf("node tests: %d models; %d with all ops known: %d imported, %d refused as unsupported; "
	       "%d refused for %d unknown ops; %d test-data tensors imported\n",
	       total, known, imported, n_refused, n_unknown, n_unknown_ops, tensors_ok);
	printf("unknown ops (models):");
	for (int i = 0; i < n_unknown_ops; i++)
		printf(" %s %d", unknown[i].key, unknown[i].n);
	printf("\n");
	CHECK(total > 0 && imported > 0);
	odet_ctx_destroy(ctx);
	return test_summary("onnx_nodetests");
}
