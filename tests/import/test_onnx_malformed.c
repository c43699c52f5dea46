/* test_onnx_malformed.c — bad input to the ONNX importer gives the documented status and one
 * message prefixed with the file path, never a crash (run under valgrind by ctest too).
 *   1. OUTDIR/bad/<status>__<case>[.onnx|/model.onnx] from gen_models.py: expected status
 *   2. truncation of small.onnx at every stride-th byte: every proper prefix is bad input
 *   3. random bit flips and byte overwrites (fixed seed): OK or bad input/unsupported/limit
 *   4. hand-made wire data: wrong wire types, groups, overlong varints, huge lengths, nesting
 *   5. TensorProto truncation through odet_import_onnx_tensor
 * Usage: test_onnx_malformed OUTDIR [--stride K] [--flips N] [--flip-model PATH]... */
#include "core/core.h"
#include "graph/ir.h"
#include "import/import.h"
#include "test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx;

static bool refusal(odet_status rc)
{
	return rc == ODET_ERR_BAD_INPUT || rc == ODET_ERR_UNSUPPORTED || rc == ODET_ERR_LIMIT;
}

static bool prefixed(const char *label)
{
	const char *m = odet_ctx_last_error(ctx);
	size_t n = strlen(label);
	return strncmp(m, label, n) == 0 && m[n] == ':' && m[n + 1] == ' ' && m[n + 2];
}

static odet_status import_buf(const void *d, size_t n, const char *label)
{
	ir_graph *g = NULL;
	odet_status rc = odet_import_onnx_buffer(ctx, d, n, NULL, label, &g);
	if (rc == ODET_OK)
		ir_graph_free(g);
	else if (g)
		return ODET_ERR_INTERNAL; /* a graph must not be returned on failure */
	return rc;
}

static void test_bad_files(const char *dir)
{
	static const struct {
		const char *prefix;
		odet_status s;
	} kinds[] = {{"bad_input__", ODET_ERR_BAD_INPUT}, {"unsupported__", ODET_ERR_UNSUPPORTED},
		     {"limit__", ODET_ERR_LIMIT}};
	/* parts of the message that must appear, by case */
	static const struct {
		const char *name, *needle;
	} needles[] = {
		{"unsupported__unknown_op", "node 'nz_1': op NonZero (opset 17) is not supported"},
		{"unsupported__other_domain", "domain com.microsoft"},
		{"bad_input__undefined_input", "node 'relu_u'"},
		{"bad_input__undefined_input", "'nope'"},
		{"bad_input__cycle", "cycle"},
		{"bad_input__raw_size", "initializer 'w'"},
		{"bad_input__ext_absolute", "initializer 'w': external data path '/etc/hostname'"},
		{"bad_input__ext_dotdot", "'../outside.bin' contains '..'"},
		{"bad_input__ext_symlink", "outside the model's folder"},
		{"bad_input__ext_offset", "beyond the end"},
		{"unsupported__dropout_mask", "'mask'"},
		{"unsupported__auto_pad", "auto_pad='FOO'"},
		{"limit__rank9", "rank 9"},
		{"bad_input__no_default_opset", "node 'relu': op Relu is in the default domain"},
	};
	char bad[1024], path[1200];
	snprintf(bad, sizeof bad, "%s/bad", dir);
	DIR *d = opendir(bad);
	CHECK_MSG(d != NULL, "cannot open %s", bad);
	if (!d)
		return;
	int n_cases = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		odet_status want = ODET_OK;
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			if (strncmp(e->d_name, kinds[k].prefix, strlen(kinds[k].prefix)) == 0)
				want = kinds[k].s;
		if (want == ODET_OK)
			continue;
		size_t len = strlen(e->d_name);
		bool file = len > 5 && strcmp(e->d_name + len - 5, ".onnx") == 0;
		snprintf(path, sizeof path, "%s/%s%s", bad, e->d_name, file ? "" : "/model.onnx");
		ir_graph *g = NULL;
		odet_status rc = odet_import_onnx_file(ctx, path, &g);
		n_cases++;
		CHECK_MSG(rc == want && !g, "%s: status %s, expected %s (%s)", e->d_name,
			  odet_status_str(rc), odet_status_str(want), odet_ctx_last_error(ctx));
		CHECK_MSG(prefixed(path), "%s: message not prefixed with the path: %s", e->d_name,
			  odet_ctx_last_error(ctx));
		char stem[256];
		snprintf(stem, sizeof stem, "%.*s", (int)(file ? len - 5 : len), e->d_name);
		for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++)
			if (strcmp(needles[k].name, stem) == 0)
				CHECK_MSG(strstr(odet_ctx_last_error(ctx), needles[k].needle),
					  "%s: message lacks \"%s\": %s", stem, needles[k].needle,
					  odet_ctx_last_error(ctx));
		if (strcmp(stem, "unsupported__unknown_op") == 0)
			printf("example message: %s\n", odet_ctx_last_error(ctx));
		ir_graph_free(g);
	}
	closedir(d);
	CHECK_MSG(n_cases >= 30, "only %d bad cases found", n_cases);
	printf("bad models: %d cases\n", n_cases);
}

static void test_truncation(const uint8_t *buf, size_t n, size_t stride)
{
	int wrong = 0, tried = 0;
	for (size_t k = 0; k < n; k += stride) {
		odet_status rc = import_buf(buf, k, "small.onnx");
		tried++;
		if (rc != ODET_ERR_BAD_INPUT || !prefixed("small.onnx")) {
			if (wrong++ < 5)
				fprintf(stderr, "truncated at %zu: %s: %s\n", k, odet_status_str(rc),
					odet_ctx_last_error(ctx));
		}
	}
	CHECK_MSG(wrong == 0, "%d of %d truncations not refused cleanly", wrong, tried);
	CHECK_MSG(import_buf(buf, n, "small.onnx") == ODET_OK, "full model: %s", odet_ctx_last_error(ctx));
	printf("truncation: %d prefixes of %zu bytes refused\n", tried, n);
}

static uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void test_flips(const uint8_t *buf, size_t n, int count)
{
	uint8_t *m = malloc(n);
	uint64_t seed = 42;
	int ok = 0, refused = 0, wrong = 0;
	for (int it = 0; it < count; it++) {
		memcpy(m, buf, n);
		int edits = 1 + (int)(rng_next(&seed) % 4);
		for (int e = 0; e < edits; e++) {
			size_t at = rng_next(&seed) % n;
			if (it % 3 == 2)
				m[at] = (uint8_t)rng_next(&seed); /* overwrite a byte */
			else
				m[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
		}
		odet_status rc = import_buf(m, n, "flipped.onnx");
		if (rc == ODET_OK)
			ok++;
		else if (refusal(rc) && prefixed("flipped.onnx"))
			refused++;
		else if (wrong++ < 5)
			fprintf(stderr, "flip %d: %s: %s\n", it, odet_status_str(rc), odet_ctx_last_error(ctx));
	}
	free(m);
	CHECK_MSG(wrong == 0, "%d bit-flip variants gave another status or no message", wrong);
	CHECK_MSG(refused > 0, "no bit-flip variant was refused");
	printf("bit flips: %d variants, %d still valid, %d refused\n", count, ok, refused);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void expect_wire(const uint8_t *d, size_t n, const char *needle, const char *what)
{
	odet_status rc = import_buf(d, n, "wire.onnx");
	CHECK_MSG(rc == ODET_ERR_BAD_INPUT && prefixed("wire.onnx") &&
			  strstr(odet_ctx_last_error(ctx), "not a valid ONNX protobuf") &&
			  strstr(odet_ctx_last_error(ctx), needle),
		  "%s: %s: %s", what, odet_status_str(rc), odet_ctx_last_error(ctx));
}

static void test_wire(void)
{
	/* ModelProto.graph (7, a message) sent as a varint */
	expect_wire((const uint8_t[]){0x38, 0x01}, 2, "wire type 0, expected 2", "graph as varint");
	/* ModelProto.ir_version (1, int64) sent length-delimited */
	expect_wire((const uint8_t[]){0x0a, 0x00}, 2, "wire type 2, expected 0", "ir_version as bytes");
	/* GraphProto.node (1) as fixed32 inside graph */
	expect_wire((const uint8_t[]){0x3a, 0x05, 0x0d, 0, 0, 0, 0}, 7, "onnx.GraphProto", "nested");
	/* a group (wire type 3) and wire type 7 */
	expect_wire((const uint8_t[]){0xa3, 0x06}, 2, "groups", "group (unknown field 100)");
	expect_wire((const uint8_t[]){0x0f}, 1, "wire type 7", "wire type 7");
	/* an 11-byte varint */
	expect_wire((const uint8_t[]){0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		    12, "truncated varint", "long varint");
	/* a 34-bit length for graph */
	expect_wire((const uint8_t[]){0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, 7, "past the end", "huge length");
	/* packed float_data (TensorProto 4) of 3 bytes inside initializer (GraphProto 5) */
	expect_wire((const uint8_t[]){0x3a, 0x07, 0x2a, 0x05, 0x22, 0x03, 1, 2, 3}, 9, "multiple",
		    "packed floats");
	/* 30001 nested messages: Model.graph > Graph.node > Node.attribute > Attribute.g > Graph...
	 * Sizes from the inside out (s[0] = empty graph), headers written from the outside in. */
	enum { LEVELS = 30001 };
	static const int fields[3] = {6, 5, 1}; /* inside out: Attribute.g, Node.attribute, Graph.node */
	size_t *sz = calloc(LEVELS + 1, sizeof *sz);
	uint8_t *a = malloc((size_t)LEVELS * 8);
	for (int i = 0; i < LEVELS; i++) {
		uint8_t tmp[10];
		sz[i + 1] = sz[i] + 1 + put_varint(tmp, sz[i]);
	}
	size_t n = 0;
	for (int i = LEVELS - 1; i >= 0; i--) {
		int f = i == LEVELS - 1 ? 7 : fields[i % 3];
		a[n++] = (uint8_t)(f << 3 | 2);
		n += put_varint(a + n, sz[i]);
	}
	CHECK(n == sz[LEVELS]);
	expect_wire(a, n, "nested deeper", "deep nesting");
	free(a);
	free(sz);
}

static void test_tensor(const char *dir, size_t stride)
{
	char path[1024];
	void *data;
	size_t n;
	snprintf(path, sizeof path, "%s/tensor.pb", dir);
	if (odet_file_read(ctx, path, 1 << 20, &data, &n)) {
		CHECK_MSG(0, "%s", odet_ctx_last_error(ctx));
		return;
	}
	int wrong = 0;
	for (size_t k = 0; k < n; k += stride) {
		odet_tensor t;
		char *name = NULL;
		odet_status rc = odet_import_onnx_tensor(ctx, data, k, &t, &name);
		if (rc != ODET_ERR_BAD_INPUT || name || t.data || !prefixed("TensorProto"))
			wrong++;
		if (!rc) {
			free(t.data);
			free(name);
		}
	}
	CHECK_MSG(wrong == 0, "%d TensorProto truncations not refused cleanly", wrong);
	odet_tensor t;
	char *name = NULL;
	CHECK(odet_import_onnx_tensor(ctx, data, n, &t, &name) == ODET_OK);
	free(t.data);
	free(name);
	free(data);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [--stride K] [--flips N]\n", argv[0]);
		return 2;
	}
	size_t stride = 1;
	int flips = 3000;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--stride") == 0)
			stride = (size_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--flips") == 0)
			flips = atoi(argv[i + 1]);
	}
	if (stride < 1)
		stride = 1;
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 1;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	test_bad_files(argv[1]);
	char path[1024];
	void *small;
	size_t n;
	snprintf(path, sizeof path, "%s/small.onnx", argv[1]);
	if (odet_file_read(ctx, path, 1 << 20, &small, &n) == ODET_OK) {
		test_truncation(small, n, stride);
		free(small);
	} else {
		CHECK_MSG(0, "%s", odet_ctx_last_error(ctx));
	}
	/* bit flips: small.onnx is mostly weights; the others are mostly structure */
	static const char *const flip_models[] = {"small.onnx", "ok/typed.onnx", "ok/cos_v13.onnx",
						  "ok/pad_v10.onnx", "ok/upsample_v7.onnx"};
	for (size_t k = 0; k < sizeof flip_models / sizeof flip_models[0]; k++) {
		snprintf(path, sizeof path, "%s/%s", argv[1], flip_models[k]);
		if (odet_file_read(ctx, path, 1 << 20, &small, &n) != ODET_OK) {
			CHECK_MSG(0, "%s", odet_ctx_last_error(ctx));
			continue;
		}
		printf("%s: ", flip_models[k]);
		test_flips(small, n, flips);
		free(small);
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--flip-model") || odet_file_read(ctx, argv[i + 1], 1 << 30, &small, &n))
			continue;
		printf("%s: ", argv[i + 1]);
		test_flips(small, n, flips);
		free(small);
	}
	test_wire();
	/* external data from a buffer without a model folder is refused, naming the tensor */
	snprintf(path, sizeof path, "%s/ok/ext/model.onnx", argv[1]);
	if (odet_file_read(ctx, path, 1 << 20, &small, &n) == ODET_OK) {
		odet_status rc = import_buf(small, n, "mem");
		CHECK_MSG(rc == ODET_ERR_UNSUPPORTED && prefixed("mem") &&
				  strstr(odet_ctx_last_error(ctx), "initializer 'ea'"),
			  "%s", odet_ctx_last_error(ctx));
		free(small);
	}
	test_tensor(argv[1], stride);
	odet_ctx_destroy(ctx);
	return test_summary("onnx_malformed");
}
