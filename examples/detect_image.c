/*
 * detect_image.c — detect objects in one image with libodet.
 *
 *   cc detect_image.c $(pkg-config --cflags --libs odet) -o detect_image
 *   ./detect_image MODEL IMAGE [SCORE]
 *
 * MODEL: model.onnx, a TF.js model.json or a plan from `odet build`. The pipeline opens the
 * model (CUDA when a GPU answers, else the CPU), decodes the image, letterboxes it into the
 * model's input, runs network + head and maps the boxes back to the image's pixels.
 * Prints one line per detection: class name, score, box x1 y1 x2 y2. Exit: 0 ok, 1 runtime
 * failure, 2 bad input (odet_status_exit_code).
 */
#include <odet.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODEL IMAGE [SCORE]\n", argv[0]);
		return 2;
	}
	odet_ctx *ctx = NULL;
	odet_pipeline *p = NULL;
	odet_status rc = odet_ctx_create(NULL, &ctx);
	if (rc) {
		fprintf(stderr, "odet: %s\n", odet_status_str(rc));
		return odet_status_exit_code(rc);
	}
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = argv[1];
	po.score = argc > 3 ? strtof(argv[3], NULL) : 0.3f;
	po.slots = 1;
	odet_model_info mi;
	odet_image_result r = {0};
	if ((rc = odet_pipeline_create(ctx, &po, &p)) || (rc = odet_pipeline_model_info(p, &mi)) ||
	    (rc = odet_pipeline_detect_file(p, argv[2], &r)))
		goto out;
	if ((rc = r.status)) {
		fprintf(stderr, "odet: %s\n", r.error);
		goto out;
	}
	printf("%s: %dx%d, %d detections\n", argv[2], r.width, r.height, r.count);
	for (int i = 0; i < r.count; i++) {
		const char *name = odet_coco_class_name(&mi, r.classes[i]);
		const float *b = r.boxes + 4 * i;
		printf("%-14s %.3f  %7.1f %7.1f %7.1f %7.1f\n", name ? name : "?", r.scores[i], b[0], b[1], b[2], b[3]);
	}
out:
	if (rc && !r.status)
		fprintf(stderr, "odet: %s\n", *odet_ctx_last_error(ctx) ? odet_ctx_last_error(ctx) : odet_status_str(rc));
	odet_pipeline_destroy(p);
	odet_ctx_destroy(ctx);
	return odet_status_exit_code(rc);
}
