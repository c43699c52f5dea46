/*
 * tfjs_dump.c — odet's side of the TF.js reference check. For a TF.js model and some photos:
 * letterbox each photo into the model's input (as `odet detect` does), run the raw network
 * and the network + head on it, and write per photo into OUTDIR:
 *   <stem>.in.bin    the input tensor
 *   <stem>.raw.bin   the raw network outputs (names as in the model)
 *   <stem>.det.bin   det_count, det_boxes, det_scores, det_classes of the head
 * usage: tfjs_dump MODEL.json OUTDIR IMAGE...
 */
#include "core/core.h"
#include "io/image.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(odet_ctx *ctx, const char *what)
{
	fprintf(stderr, "tfjs_dump: %s: %s\n", what, odet_ctx_last_error(ctx));
	return 1;
}

/* run engine e on input, write all outputs to path */
static int run_and_write(odet_ctx *ctx, odet_engine *e, const odet_tensor *input, const char *path)
{
	odet_exec *x = NULL;
	int n = odet_engine_num_outputs(e), rc = 1;
	odet_named_tensor *out = calloc((size_t)n, sizeof *out);
	if (!out || odet_exec_create(e, &x))
		goto out_free;
	for (int i = 0; i < n; i++) {
		const char *name;
		if (odet_engine_output_info(e, i, &name, &out[i].t))
			goto out_free;
		out[i].name = strdup(name);
		out[i].t.data = calloc((size_t)odet_tensor_numel(&out[i].t), odet_dtype_size(out[i].t.dtype));
		out[i].t.device = -1;
		if (!out[i].t.data || !out[i].name)
			goto out_free;
	}
	odet_tensor outs[16];
	for (int i = 0; i < n && i < 16; i++)
		outs[i] = out[i].t;
	if (odet_exec_infer(x, input, 1, outs, n) || odet_tensor_file_write(ctx, path, out, n))
		goto out_free;
	rc = 0;
out_free:
	if (rc)
		fail(ctx, path);
	odet_exec_destroy(x);
	if (out)
		odet_tensor_file_free(out, n);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: tfjs_dump MODEL.json OUTDIR IMAGE...\n");
		return 2;
	}
	odet_ctx *ctx;
	odet_graph *g;
	odet_engine *raw = NULL, *det = NULL;
	if (odet_ctx_create(NULL, &ctx))
		return 1;
	if (odet_graph_load(ctx, argv[1], &g))
		return fail(ctx, argv[1]);
	odet_build_opts o = odet_build_opts_default();
	o.no_head = 1;
	if (odet_engine_build(ctx, g, &o, &raw))
		return fail(ctx, "build (raw)");
	o.no_head = 0;
	if (odet_engine_build(ctx, g, &o, &det))
		return fail(ctx, "build (head)");
	odet_model_info mi;
	odet_tensor in;
	const char *in_name;
	if (odet_engine_model_info(det, &mi) || odet_engine_input_info(det, 0, &in_name, &in))
		return fail(ctx, "model info");
	size_t numel = (size_t)odet_tensor_numel(&in);
	float *buf = malloc(numel * sizeof(float));
	int status = 0;
	for (int a = 3; a < argc && buf; a++) {
		io_image img;
		io_lbox lb;
		if (io_image_decode_file(ctx, argv[a], &img)) {
			status = fail(ctx, argv[a]);
			continue;
		}
		io_letterbox(&img, mi.input_w, mi.input_h, mi.layout == ODET_LAYOUT_NHWC ? IO_LAYOUT_NHWC : IO_LAYOUT_NCHW,
			     mi.pixel_scale, mi.pixel_bias, 0.0f, buf, &lb);
		io_image_free(&img);
		char stem[512], path[1200];
		const char *b = strrchr(argv[a], '/');
		snprintf(stem, sizeof stem, "%s", b ? b + 1 : argv[a]);
		char *dot = strrchr(stem, '.');
		if (dot)
			*dot = 0;
		in.data = buf;
		in.device = -1;
		odet_named_tensor nt = {.name = (char *)in_name, .t = in};
		snprintf(path, sizeof path, "%s/%s.in.bin", argv[2], stem);
		if (odet_tensor_file_write(ctx, path, &nt, 1)) {
			status = fail(ctx, path);
			continue;
		}
		snprintf(path, sizeof path, "%s/%s.raw.bin", argv[2], stem);
		status |= run_and_write(ctx, raw, &in, path);
		snprintf(path, sizeof path, "%s/%s.det.bin", argv[2], stem);
		status |= run_and_write(ctx, det, &in, path);
	}
	free(buf);
	odet_engine_destroy(raw);
	odet_engine_destroy(det);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return status;
}
