/* fuzz_coco.c — COCO evaluation input: ground truth (instances JSON), then "\n--8<--\n" and
 * a results JSON list; both loaded from memory, then evaluated when both load. */
#include "fuzz.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	odet_ctx *ctx = fuzz_ctx();
	size_t n1, n2;
	const uint8_t *p2;
	fuzz_split(data, size, &n1, &p2, &n2);
	odet_coco_eval *e = NULL;
	odet_status rc = odet_coco_eval_load_gt_mem(ctx, "gt.json", (const char *)data, n1, &e);
	fuzz_check_status(rc);
	if (rc == ODET_OK) {
		rc = odet_coco_eval_load_results_mem(e, "results.json", (const char *)p2, n2);
		fuzz_check_status(rc);
		if (rc == ODET_OK)
			fuzz_check_status(odet_coco_eval_evaluate(e));
	}
	odet_coco_eval_destroy(e);
	return 0;
}
