/* fuzz_plan.c — plan load from bytes (CPU backend); a plan that loads is run once on
 * zero inputs when its arena and tensors are small (kernels trust the shapes a plan may
 * lie about: issue 18's division by zero). The section and header checksums are recomputed
 * first (docs/plan-format.md), so mutations reach the parser behind them; the checksum
 * checks themselves are test_plan_corrupt's. */
#include "fuzz.h"
#include "engine/engine.h"

static int64_t bytes_of(const odet_tensor *t)
{
	int64_t n = odet_tensor_numel(t);
	return n < 0 ? -1 : n * (int64_t)odet_dtype_size(t->dtype);
}

static void run_once(odet_ctx *ctx, odet_engine *e)
{
	int ni = odet_engine_num_inputs(e), no = odet_engine_num_outputs(e);
	if (e->plan.arena_bytes > ((size_t)64 << 20) || ni > 16 || no > 16)
		return;
	odet_tensor in[16], out[16];
	int ok = 1, nin = 0, nout = 0;
	for (int i = 0; i < ni && ok; i++, nin++) {
		ok = odet_engine_input_info(e, i, NULL, &in[i]) == ODET_OK;
		int64_t b = ok ? bytes_of(&in[i]) : -1;
		ok = ok && b >= 0 && b <= (16 << 20) && (in[i].data = calloc(1, (size_t)b + 1)) != NULL;
	}
	for (int i = 0; i < no && ok; i++, nout++) {
		ok = odet_engine_output_info(e, i, NULL, &out[i]) == ODET_OK;
		int64_t b = ok ? bytes_of(&out[i]) : -1;
		ok = ok && b >= 0 && b <= (16 << 20) && (out[i].data = calloc(1, (size_t)b + 1)) != NULL;
	}
	odet_exec *x = NULL;
	if (ok) {
		odet_status rc = odet_exec_create(e, &x);
		fuzz_check_status(rc);
		if (!rc)
			fuzz_check_status(odet_exec_infer(x, in, ni, out, no));
		odet_exec_destroy(x);
	}
	for (int i = 0; i < nin; i++)
		free(in[i].data);
	for (int i = 0; i < nout; i++)
		free(out[i].data);
}

static void fix_crcs(uint8_t *p, size_t n)
{
	uint32_t n_sec;
	memcpy(&n_sec, p + 56, 4);
	if (n_sec > 64 || 128 + 32 * (size_t)n_sec > n)
		return;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	odet_engine *e = NULL;
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (size >= 128)
		fix_crcs(copy, size);
	odet_status rc = engine_load_buffer(ctx, copy, size, "fuzz.plan", odet_backend_cpu(), &e);
	fuzz_check_status(rc);
	if (rc == ODET_OK)
		run_once(ctx, e);
	odet_engine_destroy(e);
	free(copy);
	return 0;
}
