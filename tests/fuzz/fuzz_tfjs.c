/* fuzz_tfjs.c — TF.js import: input = model.json, then "\n--8<--\n" and the bytes of its one
 * weight shard, written to w.bin in a private folder (which also holds out.bin, a symlink
 * leaving it); an imported graph is built for the CPU backend. */
#include "fuzz.h"
#include "import/import.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	static int ready;
	if (!ready) {
		char p[512];
		snprintf(p, sizeof p, "%s/out.bin", fuzz_dir());
		if (symlink("/etc/hostname", p) != 0)
			unlink(p);
		ready = 1;
	}
	size_t n1, n2;
	const uint8_t *p2;
	fuzz_split(data, size, &n1, &p2, &n2);
	char model[512];
	const char *m = fuzz_write("model.json", data, n1);
	if (!m)
		return 0;
	snprintf(model, sizeof model, "%s", m); /* fuzz_write's buffer is reused */
	if (!fuzz_write("w.bin", p2, n2))
		return 0;
	ir_graph *g = NULL;
	odet_status rc = odet_import_tfjs_file(ctx, model, &g);
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
