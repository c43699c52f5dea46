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
#include "cli_opts.h"

#include <stdio.h>
#include <string.h>

int cmd_eval(int argc, char **argv)
{
	const char *ann = NULL, *res = NULL, *json = NULL;
	int per_class = 0;
	cli_parser p;
	cli_parser_init(&p, "eval", "usage: odet eval --annotations instances.json --results detections.json\n"
				    "                 [--json stats.json] [--per-class]\n"
				    "COCO bbox evaluation, identical to pycocotools' COCOeval (iouType 'bbox').\n");
	cli_add(&p, (cli_opt){"--annotations", CLI_STR, &ann, .required = 1, .arg = "FILE",
			      .help = "ground truth (COCO instances JSON)"});
	cli_add(&p, (cli_opt){"--results", CLI_STR, &res, .required = 1, .arg = "FILE",
			      .help = "detections: a JSON list of {image_id, category_id, bbox [x,y,w,h], score}"});
	cli_add(&p, (cli_opt){"--json", CLI_STR, &json, .arg = "FILE", .help = "write the 12 numbers and per-class AP as JSON"});
	cli_add(&p, (cli_opt){"--per-class", CLI_FLAG, &per_class, .help = "print a per-class AP table after the 12 lines"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;

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
