/*
 * test_cpu_onnx_node.c — the CPU kernels of Conv, BatchNormalization, MaxPool, AveragePool,
 * GlobalAveragePool, Gemm and MatMul against the ONNX backend node tests (libonnx-testdata),
 * exported by onnx_node_export.py into a manifest of ops, attributes and raw float32 files.
 * W and all other inputs are fed at run time, as in the node tests. Cases with a non-float32
 * tensor or a second output (Indices, training outputs) must be refused by check with
 * ODET_ERR_UNSUPPORTED; every other case must match: max|diff| / max|ref| <= 1e-4.
 *   test_cpu_onnx_node MANIFEST
 */
#include "backend/backend.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define MAX_IO 6

typedef struct tensor_spec {
	bool present;
	odet_dtype dtype;
	int rank;
	int64_t dims[ODET_MAX_RANK];
	char path[512];
} tensor_spec;

static odet_dtype dtype_of(const char *s)
{
	if (strcmp(s, "f32") == 0)
		return ODET_F32;
	if (strcmp(s, "uint8") == 0)
		return ODET_U8;
	if (strcmp(s, "int64") == 0)
		return ODET_I64;
	return ODET_DTYPE_UNDEFINED;
}

static float *read_f32(const char *path, int64_t n)
{
	FILE *f = fopen(path, "rb");
	float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
	if (!f || !p || fread(p, sizeof(float), (size_t)n, f) != (size_t)n) {
		if (f)
			fclose(f);
		free(p);
		return NULL;
	}
	fclose(f);
	return p;
}

static int64_t numel(const tensor_spec *t)
{
	int64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= t->dims[i];
	return n;
}

/* parse "KIND DTYPE RANK d0 d1 ... PATH" (KIND already consumed) or "none" */
static bool parse_tensor(char *rest, tensor_spec *t)
{
	memset(t, 0, sizeof *t);
	char *tok = strtok(rest, " \n");
	if (!tok)
		return false;
	if (strcmp(tok, "none") == 0)
		return true;
	t->present = true;
	t->dtype = dtype_of(tok);
	tok = strtok(NULL, " \n");
	t->rank = tok ? atoi(tok) : -1;
	if (t->rank < 0 || t->rank > ODET_MAX_RANK)
		return false;
	for (int i = 0; i < t->rank; i++) {
		tok = strtok(NULL, " \n");
		if (!tok)
			return false;
		t->dims[i] = atoll(tok);
	}
	tok = strtok(NULL, " \n");
	if (!tok)
		return false;
	snprintf(t->path, sizeof t->path, "%s", tok);
	return true;
}

static int matched, refused;

static void run_case(odet_ctx *ctx, const char *name, ir_graph *g, int node, tensor_spec *in, int n_in,
		     tensor_spec *out, int n_out)
{
	bool expect_refusal = n_out > 1;
	for (int i = 0; i < n_in; i++)
		expect_refusal = expect_refusal || (in[i].present && in[i].dtype != ODET_F32);
	for (int i = 0; i < n_out; i++)
		expect_refusal = expect_refusal || (out[i].present && out[i].dtype != ODET_F32);
	const odet_backend *be = odet_backend_cpu();
	odet_status rc = be->check(ctx, g, &g->nodes[node]);
	if (expect_refusal) {
		CHECK_MSG(rc == ODET_ERR_UNSUPPORTED, "%s: expected a refusal, got status %d", name, rc);
		refused += rc == ODET_ERR_UNSUPPORTED;
		return;
	}
	odet_tensor ti[MAX_IO], to;
	memset(ti, 0, sizeof ti);
	memset(&to, 0, sizeof to);
	bool ok = true;
	for (int i = 0; i < n_in; i++) {
		ti[i].dtype = ODET_F32;
		ti[i].rank = in[i].rank;
		memcpy(ti[i].dims, in[i].dims, sizeof in[i].dims);
		ti[i].device = -1;
		if (in[i].present) {
			ti[i].data = read_f32(in[i].path, numel(&in[i]));
			ok = ok && ti[i].data;
		}
	}
	int64_t ny = numel(&out[0]);
	float *ref = read_f32(out[0].path, ny);
	float *y = malloc(sizeof(float) * (size_t)(ny ? ny : 1));
	if (!ok || !ref || !y) {
		CHECK_MSG(0, "%s: cannot read its data files", name);
		goto out_free;
	}
	for (int64_t i = 0; i < ny; i++)
		y[i] = NAN;
	to.dtype = ODET_F32;
	to.rank = out[0].rank;
	memcpy(to.dims, out[0].dims, sizeof to.dims);
	to.data = y;
	to.device = -1;
	rc = be_eval_node(be, ctx, g, &g->nodes[node], ti, &to);
	double md = 0, mr = 0;
	for (int64_t i = 0; i < ny; i++) {
		double d = isnan(y[i]) ? INFINITY : fabs((double)y[i] - ref[i]);
		md = d > md ? d : md;
		mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
	}
	double e = mr > 0 ? md / mr : md;
	CHECK_MSG(rc == ODET_OK && e <= 1e-4, "%s: status %d (%s), rel err %g", name, rc,
		  rc ? odet_ctx_last_error(ctx) : "", e);
	matched += rc == ODET_OK && e <= 1e-4;
out_free:
	for (int i = 0; i < n_in; i++)
		free(ti[i].data);
	free(ref);
	free(y);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_cpu_onnx_node MANIFEST\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", argv[1]);
		return 1;
	}
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 2;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	char line[4096], name[256] = "", op[64] = "";
	ir_graph *g = NULL;
	int node = -1, n_in = 0, n_out = 0, cases = 0;
	tensor_spec in[MAX_IO], out[MAX_IO];
	/* attributes are set once the node exists: keep them until "end" */
	char attrs[32][1024];
	int n_attrs = 0;
	while (fgets(line, sizeof line, f)) {
		char kind[16];
		if (sscanf(line, "%15s", kind) != 1)
			continue;
		char *rest = line + strlen(kind);
		if (strcmp(kind, "case") == 0) {
			sscanf(rest, "%255s %63s", name, op);
			n_in = n_out = n_attrs = 0;
		} else if (strcmp(kind, "in") == 0 && n_in < MAX_IO) {
			CHECK_MSG(parse_tensor(rest, &in[n_in]), "%s: bad manifest line", name);
			n_in++;
		} else if (strcmp(kind, "out") == 0 && n_out < MAX_IO) {
			CHECK_MSG(parse_tensor(rest, &out[n_out]), "%s: bad manifest line", name);
			n_out++;
		} else if (strcmp(kind, "end") != 0 && n_attrs < 32) {
			snprintf(attrs[n_attrs++], sizeof attrs[0], "%s", line);
		} else if (strcmp(kind, "end") == 0) {
			ir_graph_create(ctx, &g);
			int ids_in[MAX_IO], ids_out[MAX_IO];
			for (int i = 0; i < n_in; i++)
				ids_in[i] = in[i].present ? ir_value_add(g, NULL, in[i].dtype, in[i].rank, in[i].dims) : -1;
			for (int i = 0; i < n_out; i++)
				ids_out[i] = out[i].present ? ir_value_add(g, NULL, out[i].dtype, out[i].rank, out[i].dims) : -1;
			node = ir_node_add(g, ir_op_lookup("", op), name, n_in, ids_in, n_out, ids_out);
			for (int a = 0; a < n_attrs; a++) {
				char k[16], an[128], sv[256];
				char *p = attrs[a];
				sscanf(p, "%15s %127s", k, an);
				p = strstr(p, an) + strlen(an);
				if (strcmp(k, "int") == 0) {
					ir_attr_set_int(g, node, an, atoll(p));
				} else if (strcmp(k, "float") == 0) {
					ir_attr_set_float(g, node, an, strtof(p, NULL));
				} else if (strcmp(k, "string") == 0) {
					sscanf(p, "%255s", sv);
					ir_attr_set_string(g, node, an, sv);
				} else if (strcmp(k, "ints") == 0) {
					char *end;
					int cnt = (int)strtol(p, &end, 10);
					int64_t v[16];
					for (int i = 0; i < cnt && i < 16; i++)
						v[i] = strtoll(end, &end, 10);
					ir_attr_set_ints(g, node, an, v, cnt < 16 ? cnt : 16);
				}
			}
			run_case(ctx, name, g, node, in, n_in, out, n_out);
			ir_graph_free(g);
			g = NULL;
			cases++;
		}
	}
	fclose(f);
	odet_ctx_destroy(ctx);
	printf("onnx node tests: %d cases, %d matched, %d refused as expected\n", cases, matched, refused);
	CHECK(cases > 0);
	return test_summary("cpu_onnx_node");
}
