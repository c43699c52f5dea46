/* fuzz_calib_cache.c — an INT8 calibration cache (docs/quantization.md), read from a private
 * folder; a table that loads is saved again and reloaded (it must load the same). */
#include "fuzz.h"
#include "quant/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	const char *path = fuzz_write("calib.cache", data, size);
	if (!path)
		return 0;
	char p[512], q[512];
	snprintf(p, sizeof p, "%s", path);
	snprintf(q, sizeof q, "%s.again", path);
	quant_table t = {0}, u = {0};
	odet_status rc = quant_table_load(ctx, p, &t);
	fuzz_check_status(rc);
	if (rc == ODET_OK) {
		if (quant_table_save(ctx, &t, q) != ODET_OK || quant_table_load(ctx, q, &u) != ODET_OK || u.n != t.n)
			abort(); /* what loads must save and load back */
		quant_table_free(&u);
	}
	quant_table_free(&t);
	return 0;
}
