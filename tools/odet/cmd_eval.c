/*
 * cmd_eval.c — `odet eval`: COCO bounding-box evaluation of a results file, printing
 * pycocotools' 12 lines (and a per-class table), optionally all figures as JSON.
 *
 *   odet eval --annotations instances.json --results detections.json [--json stats.json]
 *             [--per-class]
 *
 * Exit codes: 0 success; 2 bad input or usage (one line names the file, record and field);
 * 1 runtime failure (I/O, memory).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void eval_usage(FILE *f)
{
	fprintf(f, "usage: odet eval --annotations instances.json --results detections.json\n"
		   "                 [--json stats.json] [--per-class]\n"
		   "COCO bbox evaluation, identical to pycocotools' COCOeval (iouType 'bbox').\n"
		   "  --annotations  ground truth (COCO instances JSON)\n"
		   "  --results      detections: a JSON list of {image_id, category_id, bbox [x,y,w,h], score}\n"
		   "  --json         write the 12 numbers and per-class AP as JSON\n"
		   "  --per-class    print a per-class AP table after the 12 lines\n");
}

int cmd_eval(int argc, char **argv)
{
	const char *ann = NULL, *res = NULL, *json = NULL;
	int per_class = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			eval_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--per-class")) {
			per_class = 1;
			continue;
		}
		const char **dst = !strcmp(a, "--annotations") ? &ann : !strcmp(a, "--results") ? &res :
				   !strcmp(a, "--json") ? &json : NULL;
		if (!dst) {
			fprintf(stderr, "odet eval: unknown option '%s'\n", a);
			eval_usage(stderr);
			return 2;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "odet eval: %s needs a value\n", a);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!ann || !res) {
		fprintf(stderr, "odet eval: --annotations and --results are required\n");
		eval_usage(stderr);
		return 2;
	}

	odet_ctx *ctx = NULL;
	odet_coco_eval *e = NULL;
	odet_status rc = odet_ctx_create(NULL, &ctx);
	if (rc)
		return cli_fail(NULL, rc, "eval");
	rc = odet_coco_eval_load_gt(ctx, ann, &e);
	if (!rc)
		rc = odet_coco_eval_load_results(e, res);
	if (!rc)
		rc = odet_coco_eval_evaluate(e);
	if (rc) {
		int code = cli_fail(ctx, rc, "eval");
		odet_coco_eval_destroy(e);
		odet_ctx_destroy(ctx);
		return code;
	}
	if (odet_coco_eval_num_unknown_category(e))
		fprintf(stderr, "odet eval: %s: %lld detections have a category id not in %s; not evaluated\n",
			res, (long long)odet_coco_eval_num_unknown_category(e), ann);
	odet_coco_eval_print_summary(e, stdout);
	if (per_class)
		odet_coco_eval_print_per_class(e, stdout);
	if (json)
		rc = odet_coco_eval_write_json(e, json);
	int code = rc ? cli_fail(ctx, rc, "eval") : 0;
	odet_coco_eval_destroy(e);
	odet_ctx_destroy(ctx);
	return code;
}
