/* fuzz_head_config.c — a head config file (docs/heads.md), read from a private folder. */
#include "fuzz.h"
#include "heads/heads_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	const char *path = fuzz_write("head.cfg", data, size);
	if (!path)
		return 0;
	head_spec s;
	odet_status rc = head_config_load(ctx, path, &s);
	fuzz_check_status(rc);
	return 0;
}
