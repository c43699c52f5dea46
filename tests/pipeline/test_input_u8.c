/*
 * test_input_u8.c — odet_build_opts.input_u8 on the CPU backend (the convolution-free SSD
 * stand-in of gen_tiny_ssd.py with the ssd300-nvidia head, and darknet's photos):
 *   1. the engine's image input is uint8 with the float engine's dims; its model info says
 *      scale 1, bias 0; the float engine's says the head's normalization;
 *   2. raw pixels into the uint8 engine give the same bytes as pixel * scale + bias (float32,
 *      multiply then add) into the float engine: raw outputs and detections, batch 2;
 *   3. a saved and reloaded uint8 plan gives the same outputs again;
 *   4. the pipeline over the photos with the uint8 engine (the letterbox writes rounded pixels)
 *      finds >= 95% of the float pipeline's detections: same class, IoU > 0.9, score within 0.02;
 *   5. refused: input_u8 without a head (the normalization is unknown), input_u8 = 2.
 * usage: test_input_u8 TINY_SSD.onnx SAMPLES_DIR
 */
#include "odet.h"
#include "pipeline_test.h"
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DET 256

typedef struct img_dets {
	int n;
	int32_t cls[MAX_DET];
	float box[MAX_DET][4], score[MAX_DET];
} img_dets;

static odet_status collect(void *user, const odet_image_result *r)
{
	img_dets *d = (img_dets *)user + r->index;
	d->n = r->count < MAX_DET ? r->count : MAX_DET;
	for (int k = 0; k < d->n; k++) {
		d->cls[k] = r->classes[k];
		d->score[k] = r->scores[k];
		memcpy(d->box[k], r->boxes + 4 * k, sizeof d->box[k]);
	}
	return ODET_OK;
}

/* IoU, or 1 for boxes within half a pixel of each other (boxes clipped flat at the border) */
static float iou(const float *a, const float *b)
{
	if (fabsf(a[0] - b[0]) <= 0.5f && fabsf(a[1] - b[1]) <= 0.5f && fabsf(a[2] - b[2]) <= 0.5f &&
	    fabsf(a[3] - b[3]) <= 0.5f)
		return 1;
	float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
	if (w <= 0 || h <= 0)
		return 0;
	float i = w * h, u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i;
	return u > 0 ? i / u : 0;
}

static odet_status build(odet_ctx *ctx, const odet_graph *g, int u8, int no_head, odet_engine **e)
{
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.batch = 2;
	o.head = no_head ? NULL : "ssd300-nvidia";
	o.no_head = no_head;
	o.input_u8 = u8;
	return odet_engine_build(ctx, g, &o, e);
}

/* raw outputs of one run: outputs[i].data malloc'ed */
static int run_raw(odet_engine *e, const odet_tensor *in, odet_tensor *out, int max_out)
{
	odet_exec *x = NULL;
	int n = odet_engine_num_outputs(e);
	if (n > max_out || odet_exec_create(e, &x))
		return -1;
	for (int i = 0; i < n; i++) {
		const char *name;
		odet_engine_output_info(e, i, &name, &out[i]);
		out[i].data = calloc((size_t)odet_tensor_numel(&out[i]), odet_dtype_size(out[i].dtype));
	}
	odet_status rc = odet_exec_infer(x, in, 1, out, n);
	odet_exec_destroy(x);
	return rc ? -1 : n;
}

static bool same_outputs(const odet_tensor *a, const odet_tensor *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i].dtype != b[i].dtype || odet_tensor_numel(&a[i]) != odet_tensor_numel(&b[i]) ||
		    memcmp(a[i].data, b[i].data, (size_t)odet_tensor_numel(&a[i]) * odet_dtype_size(a[i].dtype)))
			return false;
	return true;
}

static void free_outputs(odet_tensor *t, int n)
{
	for (int i = 0; i < n; i++)
		free(t[i].data);
}

static void pipeline_dets(odet_ctx *ctx, const char *model, int u8, const char *const *paths, img_dets *d)
{
	odet_pipeline_opts po = pt_cpu_opts(model, "ssd300-nvidia", 2);
	po.build.input_u8 = u8;
	odet_pipeline *p = NULL;
	odet_status rc = odet_pipeline_create(ctx, &po, &p);
	CHECK_MSG(rc == ODET_OK, "pipeline (u8 %d): %s", u8, odet_ctx_last_error(ctx));
	if (!rc) {
		rc = odet_pipeline_run(p, paths, PT_N_PHOTOS, collect, d, NULL);
		CHECK_MSG(rc == ODET_OK, "pipeline run (u8 %d): %s", u8, odet_ctx_last_error(ctx));
	}
	odet_pipeline_destroy(p);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s TINY_SSD.onnx SAMPLES_DIR\n", argv[0]);
		return 2;
	}
	odet_ctx *ctx = pt_ctx();
	odet_graph *g = NULL;
	odet_engine *ef = NULL, *eu = NULL, *el = NULL;
	CHECK(ctx != NULL);
	odet_status rc = odet_graph_load(ctx, argv[1], &g);
	CHECK_MSG(rc == ODET_OK, "%s: %s", argv[1], odet_ctx_last_error(ctx));
	if (rc)
		return test_summary("input_u8");
	CHECK_MSG(build(ctx, g, 0, 0, &ef) == ODET_OK, "float engine: %s", odet_ctx_last_error(ctx));
	CHECK_MSG(build(ctx, g, 1, 0, &eu) == ODET_OK, "uint8 engine: %s", odet_ctx_last_error(ctx));
	if (!ef || !eu)
		return test_summary("input_u8");

	/* 1. the interface */
	const char *nf, *nu;
	odet_tensor tf, tu;
	odet_model_info mf, mu;
	CHECK(odet_engine_input_info(ef, 0, &nf, &tf) == ODET_OK && odet_engine_input_info(eu, 0, &nu, &tu) == ODET_OK);
	CHECK_MSG(tf.dtype == ODET_F32 && tu.dtype == ODET_U8, "dtypes %d %d", (int)tf.dtype, (int)tu.dtype);
	CHECK(tf.rank == 4 && tu.rank == 4 && !memcmp(tf.dims, tu.dims, sizeof tf.dims) && !strcmp(nf, nu));
	CHECK(odet_engine_model_info(ef, &mf) == ODET_OK && odet_engine_model_info(eu, &mu) == ODET_OK);
	bool norm = false;
	for (int c = 0; c < 3; c++) {
		CHECK(mu.pixel_scale[c] == 1.0f && mu.pixel_bias[c] == 0.0f);
		norm |= mf.pixel_scale[c] != 1.0f || mf.pixel_bias[c] != 0.0f;
	}
	CHECK_MSG(norm, "the float engine's model info has a normalization to move (scale %g bias %g)",
		  mf.pixel_scale[0], mf.pixel_bias[0]);
	CHECK(mu.input_h == mf.input_h && mu.input_w == mf.input_w && mu.layout == mf.layout);

	/* 2. raw pixels vs their normalization in float: the same bytes out */
	const int64_t numel = odet_tensor_numel(&tf), hw = tf.dims[2] * tf.dims[3];
	uint8_t *px = malloc((size_t)numel);
	float *xf = malloc(sizeof(float) * (size_t)numel);
	uint32_t s = 12345u;
	for (int64_t i = 0; i < numel; i++) {
		s = s * 1664525u + 1013904223u;
		px[i] = (uint8_t)(s >> 24);
		int c = (int)((i / hw) % 3); /* NCHW */
		volatile float prod = (float)px[i] * mf.pixel_scale[c];
		xf[i] = prod + mf.pixel_bias[c];
	}
	odet_tensor inf = tf, inu = tu;
	inf.data = xf;
	inu.data = px;
	odet_tensor of[8], ou[8], ol[8];
	int nof = run_raw(ef, &inf, of, 8), nou = run_raw(eu, &inu, ou, 8);
	CHECK_MSG(nof > 0 && nof == nou, "runs: %d %d outputs (%s)", nof, nou, odet_ctx_last_error(ctx));
	if (nof > 0 && nof == nou) {
		CHECK_MSG(same_outputs(of, ou, nof), "uint8 engine's outputs differ from the float engine's");
		int32_t found = 0;
		for (int b = 0; b < 2; b++) /* output 0: detection counts per image (heads/head.h) */
			found += of[0].dtype == ODET_I32 ? ((int32_t *)of[0].data)[b] : 0;
		CHECK_MSG(found > 0, "no detections on the random pixels: the comparison would be empty");
	}

	/* 3. a plan round trip */
	char plan[] = "/tmp/odet_u8_XXXXXX";
	int fd = mkstemp(plan);
	CHECK(fd >= 0);
	if (fd >= 0) {
		fclose(fdopen(fd, "w"));
		CHECK_MSG(odet_engine_save(eu, plan) == ODET_OK, "save: %s", odet_ctx_last_error(ctx));
		CHECK_MSG(odet_engine_load(ctx, plan, 0, &el) == ODET_OK, "load: %s", odet_ctx_last_error(ctx));
		remove(plan);
	}
	if (el) {
		odet_tensor tl;
		CHECK(odet_engine_input_info(el, 0, &nu, &tl) == ODET_OK && tl.dtype == ODET_U8);
		int nol = run_raw(el, &inu, ol, 8);
		CHECK_MSG(nol == nou && nol > 0 && same_outputs(ol, ou, nol), "reloaded plan: outputs differ");
		if (nol > 0)
			free_outputs(ol, nol);
	}
	if (nof > 0)
		free_outputs(of, nof);
	if (nou > 0)
		free_outputs(ou, nou);
	free(px);
	free(xf);

	/* 4. the pipeline: rounded pixels, the float pipeline's detections */
	char paths[PT_N_PHOTOS][4096];
	const char *pp[PT_N_PHOTOS];
	for (int i = 0; i < PT_N_PHOTOS; i++) {
		snprintf(paths[i], sizeof paths[i], "%s/%s.jpg", argv[2], pt_photos[i]);
		pp[i] = paths[i];
	}
	static img_dets df[PT_N_PHOTOS], du[PT_N_PHOTOS];
	pipeline_dets(ctx, argv[1], 0, pp, df);
	pipeline_dets(ctx, argv[1], 1, pp, du);
	int total = 0, matched = 0;
	for (int i = 0; i < PT_N_PHOTOS; i++)
		for (int k = 0; k < df[i].n; k++) {
			total++;
			for (int j = 0; j < du[i].n; j++)
				if (du[i].cls[j] == df[i].cls[k] && iou(du[i].box[j], df[i].box[k]) > 0.9f &&
				    fabsf(du[i].score[j] - df[i].score[k]) <= 0.02f) {
					matched++;
					break;
				}
		}
	CHECK_MSG(total > 0 && matched >= total * 95 / 100, "pipeline: %d of %d float detections found with uint8 input",
		  matched, total);
	printf("pipeline: %d of %d float detections found with uint8 input\n", matched, total);

	/* 5. refusals */
	odet_engine *bad = NULL;
	rc = build(ctx, g, 1, 1, &bad);
	CHECK_MSG(rc == ODET_ERR_UNSUPPORTED && strstr(odet_ctx_last_error(ctx), "normalization"), "no head: %d %s", rc,
		  odet_ctx_last_error(ctx));
	odet_engine_destroy(bad);
	bad = NULL;
	rc = build(ctx, g, 2, 0, &bad);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && !bad, "input_u8 = 2: %d", rc);
	odet_engine_destroy(bad);

	odet_engine_destroy(el);
	odet_engine_destroy(eu);
	odet_engine_destroy(ef);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return test_summary("input_u8");
}
