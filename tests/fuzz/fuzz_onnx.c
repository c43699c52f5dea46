/* fuzz_onnx.c — ONNX import from bytes, external data resolved in a private folder holding
 * w.bin (4 KiB) and out.bin (a symlink leaving it); an imported graph is built for the CPU
 * backend (shape inference, passes, memory plan). */
#include "fuzz.h"
#include "import/import.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	static int ready;
	if (!ready) {
		uint8_t w[4096];
		for (size_t i = 0; i < sizeof w; i++)
			w[i] = (uint8_t)(i * 7);
		fuzz_write("w.bin", w, sizeof w);
		char p[512];
		snprintf(p, sizeof p, "%s/out.bin", fuzz_dir());
		if (symlink("/etc/hostname", p) != 0)
			unlink(p);
		ready = 1;
	}
	ir_graph *g = NULL;
	odet_status rc = odet_import_onnx_buffer(ctx, data, size, fuzz_dir(), "fuzz.onnx", &g);
	fuzz_check_status(rc);
	if (rc == ODET_OK) {
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CPU;
		odet_engine *e = NULL;
		rc = odet_engine_build(ctx, g, &o, &e);
		fuzz_check_status(rc);
		odet_engine_destroy(e);
	}
	odet_graph_destroy(g);
	return 0;
}
