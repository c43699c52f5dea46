/* fuzz_tensor.c — a tensor file (.bin of odet run / tests), parsed from memory. */
#include "fuzz.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	odet_named_tensor *t = NULL;
	int n = 0;
	odet_status rc = odet_tensor_file_parse(ctx, data, size, "fuzz.bin", &t, &n);
	fuzz_check_status(rc);
	if (rc == ODET_OK)
		odet_tensor_file_free(t, n);
	return 0;
}
