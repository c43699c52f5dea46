/*
 * test_cpu_ops.c — runs single-node cases through the CPU backend and compares outputs.
 *
 * Usage: test_cpu_ops DIR [NAME_SUBSTRING]
 * Every DIR/ *.bin is one case in the tensor file format (docs/formats.md), written by
 * gen_cases.py (numpy references) or onnx_node_cases.py (ONNX backend node tests):
 *   "op"              uint8 [n]  op name as in ops.def (ONNX op_type)
 *   "in:<i>"          input i (an absent index is an omitted optional input)
 *   "out:<i>"         expected output i (its dims also set the output value's shape)
 *   "attr_i:<name>"   int64 scalar    -> INT attribute     "attr_is:<name>" int64 [n] -> INTS
 *   "attr_f:<name>"   float32 scalar  -> FLOAT             "attr_fs:<name>" float32 [n] -> FLOATS
 *   "attr_s:<name>"   uint8 [n]       -> STRING            "attr_t:<name>" any -> TENSOR (a CONST value)
 *   "tol"             float64 [2]     rtol, atol for float outputs (default 1e-4, 1e-5)
 *   "expect_fail"     uint8 [1]       1: check or run must fail (bad input / refused case)
 * Prints one line per failing case and the summary "N passed, N failed".
 */
#include "backend/backend.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENSORS 64

typedef struct named_tensor {
	char name[256];
	odet_tensor t;
	size_t nbytes;
	void *own; /* t.data: a 64-byte aligned copy (file offsets need not suit the dtype) */
} named_tensor;

typedef struct test_case {
	int n;
	named_tensor ts[MAX_TENSORS];
	void *file;
} test_case;

static bool rd(const uint8_t *p, size_t size, size_t *off, void *dst, size_t n)
{
	if (n > size - *off)
		return false;
	memcpy(dst, p + *off, n);
	*off += n;
	return true;
}

/* Parse a tensor file; each tensor's data is copied to its own aligned buffer (case_free). */
static bool case_load(odet_ctx *ctx, const char *path, test_case *c)
{
	size_t size, off = 8;
	void *data;
	uint32_t count, u;
	memset(c, 0, sizeof *c);
	if (odet_file_read(ctx, path, (size_t)1 << 30, &data, &size))
		return false;
	c->file = data;
	const uint8_t *p = data;
	if (size < 12 || memcmp(p, "ODTN", 4) || !rd(p, size, &off, &count, 4) || count > MAX_TENSORS)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		named_tensor *nt = &c->ts[c->n++];
		if (!rd(p, size, &off, &u, 4) || u >= sizeof nt->name || !rd(p, size, &off, nt->name, u))
			return false;
		nt->name[u] = 0;
		if (!rd(p, size, &off, &u, 4))
			return false;
		nt->t.dtype = (odet_dtype)u;
		if (!rd(p, size, &off, &u, 4) || u > ODET_MAX_RANK)
			return false;
		nt->t.rank = (int)u;
		nt->t.device = -1;
		if (!rd(p, size, &off, nt->t.dims, 8 * (size_t)u))
			return false;
		int64_t numel = odet_tensor_numel(&nt->t);
		if (numel < 0 || !odet_dtype_size(nt->t.dtype))
			return false;
		nt->nbytes = (size_t)numel * odet_dtype_size(nt->t.dtype);
		if (nt->nbytes > size - off)
			return false;
		nt->own = aligned_alloc(64, (nt->nbytes + 63) / 64 * 64 + 64);
		if (!nt->own)
			return false;
		memcpy(nt->own, p + off, nt->nbytes);
		nt->t.data = nt->own;
		off += nt->nbytes;
	}
	return off == size;
}

static void case_free(test_case *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->ts[i].own);
	free(c->file);
}

static named_tensor *find(test_case *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->ts[i].name, name))
			return &c->ts[i];
	return NULL;
}

static double as_double(const odet_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case ODET_F32: return ((const float *)t->data)[i];
	case ODET_F64: return ((const double *)t->data)[i];
	case ODET_F16: return odet_f16_to_f32(((const uint16_t *)t->data)[i]);
	case ODET_BF16: {
		uint32_t b = (uint32_t)((const uint16_t *)t->data)[i] << 16;
		float f;
		memcpy(&f, &b, 4);
		return f;
	}
	default: return 0;
	}
}

/* Compare got against want; on mismatch write a message into msg. */
static bool compare(const odet_tensor *got, const odet_tensor *want, double rtol, double atol, char *msg, size_t n)
{
	int64_t numel = odet_tensor_numel(want);
	bool is_float = want->dtype == ODET_F32 || want->dtype == ODET_F64 || want->dtype == ODET_F16 ||
			want->dtype == ODET_BF16;
	size_t esz = odet_dtype_size(want->dtype);
	for (int64_t i = 0; i < numel; i++) {
		if (is_float) {
			double g = as_double(got, i), w = as_double(want, i);
			if (isnan(w) ? !isnan(g) : !(fabs(g - w) <= atol + rtol * fabs(w)) && g != w) {
				snprintf(msg, n, "element %lld: got %.9g, want %.9g", (long long)i, g, w);
				return false;
			}
		} else if (memcmp((const char *)got->data + i * (int64_t)esz, (const char *)want->data + i * (int64_t)esz,
				  esz)) {
			int64_t g = 0, w = 0;
			memcpy(&g, (const char *)got->data + i * (int64_t)esz, esz < 8 ? esz : 8);
			memcpy(&w, (const char *)want->data + i * (int64_t)esz, esz < 8 ? esz : 8);
			snprintf(msg, n, "element %lld: got bytes %llx, want %llx", (long long)i, (long long)g, (long long)w);
			return false;
		}
	}
	return true;
}

/* Build the one-node graph, run it, compare. Returns true on pass; *why explains a failure. */
static bool run_case(odet_ctx *ctx, test_case *c, char *why, size_t why_n)
{
	ir_graph *g = NULL;
	bool ok = false;
	odet_tensor in[IR_MAX_IO], out[IR_MAX_IO];
	int in_v[IR_MAX_IO], out_v[IR_MAX_IO], n_in = 0, n_out = 0;
	void *out_buf[IR_MAX_IO] = {0};
	named_tensor *opn = find(c, "op"), *tol = find(c, "tol"), *xf = find(c, "expect_fail");
	double rtol = 1e-4, atol = 1e-5;
	bool expect_fail = xf && xf->nbytes && ((uint8_t *)xf->t.data)[0];
	char opname[64] = {0};
	if (!opn || opn->nbytes >= sizeof opname) {
		snprintf(why, why_n, "no op");
		return false;
	}
	memcpy(opname, opn->t.data, opn->nbytes);
	ir_op op = ir_op_lookup("", opname);
	if (op == IR_OP_COUNT) {
		snprintf(why, why_n, "unknown op %s", opname);
		return false;
	}
	if (tol && tol->t.dtype == ODET_F64 && tol->nbytes == 16) {
		rtol = ((double *)tol->t.data)[0];
		atol = ((double *)tol->t.data)[1];
	}
	if (ir_graph_create(ctx, &g)) {
		snprintf(why, why_n, "graph create");
		return false;
	}
	memset(in, 0, sizeof in);
	memset(out, 0, sizeof out);
	for (int i = 0; i < IR_MAX_IO; i++) {
		char name[32];
		named_tensor *t;
		snprintf(name, sizeof name, "in:%d", i);
		in_v[i] = -1;
		if ((t = find(c, name))) {
			in_v[i] = ir_value_add(g, name, t->t.dtype, t->t.rank, t->t.dims);
			in[i] = t->t;
			n_in = i + 1;
		}
		snprintf(name, sizeof name, "out:%d", i);
		if ((t = find(c, name))) {
			out_v[i] = ir_value_add(g, NULL, t->t.dtype, t->t.rank, t->t.dims);
			out[i] = t->t;
			out_buf[i] = malloc(t->nbytes + 1);
			memset(out_buf[i], 0xcd, t->nbytes + 1); /* garbage: kernels must write everything */
			out[i].data = out_buf[i];
			n_out = i + 1;
		}
	}
	int node = ir_node_add(g, op, "n0", n_in, in_v, n_out, out_v);
	for (int i = 0; i < c->n && node >= 0; i++) {
		named_tensor *t = &c->ts[i];
		const char *colon = strchr(t->name, ':');
		if (strncmp(t->name, "attr_", 5) || !colon)
			continue;
		const char *an = colon + 1;
		size_t kind = (size_t)(colon - t->name);
		if (!strncmp(t->name, "attr_is:", kind + 1))
			ir_attr_set_ints(g, node, an, t->t.data, (int)(t->nbytes / 8));
		else if (!strncmp(t->name, "attr_i:", kind + 1))
			ir_attr_set_int(g, node, an, *(int64_t *)t->t.data);
		else if (!strncmp(t->name, "attr_fs:", kind + 1))
			ir_attr_set_floats(g, node, an, t->t.data, (int)(t->nbytes / 4));
		else if (!strncmp(t->name, "attr_f:", kind + 1))
			ir_attr_set_float(g, node, an, *(float *)t->t.data);
		else if (!strncmp(t->name, "attr_s:", kind + 1)) {
			char s[256] = {0};
			memcpy(s, t->t.data, t->nbytes < 255 ? t->nbytes : 255);
			ir_attr_set_string(g, node, an, s);
		} else if (!strncmp(t->name, "attr_t:", kind + 1)) {
			void *d = malloc(t->nbytes ? t->nbytes : 1);
			memcpy(d, t->t.data, t->nbytes);
			int v = ir_const_add(g, NULL, t->t.dtype, t->t.rank, t->t.dims, d);
			ir_attr a = {.name = strdup(an), .type = IR_ATTR_TENSOR, .tensor = v};
			ir_attr_append(g, node, &a);
		}
	}
	if (node < 0) {
		snprintf(why, why_n, "node add: %s", odet_ctx_last_error(ctx));
		goto out_free;
	}
	odet_status rc = be_eval_node(odet_backend_cpu(), ctx, g, &g->nodes[node], in, out);
	if (expect_fail) {
		ok = rc != ODET_OK;
		if (!ok)
			snprintf(why, why_n, "expected a failure, got success");
		goto out_free;
	}
	if (rc) {
		snprintf(why, why_n, "%s: %s", odet_status_str(rc), odet_ctx_last_error(ctx));
		goto out_free;
	}
	ok = true;
	for (int i = 0; i < n_out && ok; i++) {
		char name[32], msg[200];
		snprintf(name, sizeof name, "out:%d", i);
		named_tensor *want = find(c, name);
		if (!want)
			continue;
		if (!compare(&out[i], &want->t, rtol, atol, msg, sizeof msg)) {
			snprintf(why, why_n, "output %d %s", i, msg);
			ok = false;
		}
	}
out_free:
	for (int i = 0; i < IR_MAX_IO; i++)
		free(out_buf[i]);
	ir_graph_free(g);
	return ok;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [NAME_SUBSTRING]\n", argv[0]);
		return 2;
	}
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 2;
	o.log_level = ODET_LOG_ERROR;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	struct dirent **ents;
	int n = scandir(argv[1], &ents, NULL, by_name);
	CHECK_MSG(n > 0, "no cases in %s", argv[1]);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		if (len > 4 && !strcmp(name + len - 4, ".bin") && (argc < 3 || strstr(name, argv[2]))) {
			char path[4096], why[512] = "";
			test_case *c = malloc(sizeof *c);
			snprintf(path, sizeof path, "%s/%s", argv[1], name);
			bool loaded = case_load(ctx, path, c);
			CHECK_MSG(loaded, "%s: cannot parse", name);
			if (loaded) {
				bool pass = run_case(ctx, c, why, sizeof why);
				CHECK_MSG(pass, "%s: %s", name, why);
			}
			case_free(c);
			free(c);
		}
		free(ents[i]);
	}
	free(ents);
	odet_ctx_destroy(ctx);
	return test_summary("cpu_ops");
}
