/* fuzz_plan.c — plan load from bytes (CPU backend); a plan that loads is run once on
 * zero inputs when its arena and tensors are small (kernels trust the shapes a plan may
 * lie about: issue 18's division by zero). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	odet_engine *e = NULL;
	odet_status rc = engine_load_buffer(ctx, data, size, "fuzz.plan", odet_backend_cpu(), &e);
	fuzz_check_status(rc);
	if (rc == ODET_OK)
		run_once(ctx, e);
	odet_engine_destroy(e);
	return 0;
}
