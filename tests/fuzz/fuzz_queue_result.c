/* fuzz_queue_result.c — a job's result as a Redis queue submitter reads it (sv_result_parse,
 * docs/queue.md): JSON written by a worker, or by whoever else can write to the stream. A result
 * that parses must hold what it says: count in 0..100000 and every detection readable. */
#include "fuzz.h"
#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	sv_result r;
	odet_status rc = sv_result_parse(ctx, (const char *)data, size, &r);
	fuzz_check_status(rc);
	if (rc == ODET_OK) {
		if (r.count < 0 || r.count > 100000 || r.width < 0 || r.height < 0 || (r.count && !r.boxes))
			abort();
		volatile float sum = 0;
		for (int i = 0; i < r.count; i++)
			sum += r.boxes[4 * i] + r.boxes[4 * i + 3] + r.scores[i] + (float)r.classes[i] + (float)r.cats[i];
		(void)sum;
	}
	sv_result_free(&r);
	return 0;
}
