/*
 * bench_image.c — `odet bench MODEL --image FILE`: end-to-end latency of one image through the
 * pipeline, as a service answering one request sees it: the file read, decoded (nvJPEG on CUDA
 * engines), letterboxed on the device, network + head, detections back in host memory and
 * mapped to the image's pixels (odet_pipeline_detect_file). Wall-clock per call after the
 * warm-up runs; min, median, p90, p99, then one JSON line.
 */
#include "bench_image.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int bench_image(odet_ctx *ctx, const char *model, const char *image, const odet_build_opts *bo, int device,
		double duration_s, long warmup, int gpu_decode)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = model;
	po.build = *bo;
	po.devices = &device;
	po.n_devices = 1;
	po.gpu_decode = gpu_decode;
	po.read_threads = 1;
	po.slots = 1;
	odet_pipeline *p = NULL;
	odet_status rc = odet_pipeline_create(ctx, &po, &p);
	if (rc)
		return cli_fail(ctx, rc, model);
	int ret = 0;
	size_t cap = 1 << 16, n = 0;
	double *lat = malloc(cap * sizeof *lat);
	odet_image_result r;
	if (!lat) {
		ret = cli_fail(ctx, ODET_ERR_NO_MEMORY, "bench");
		goto out;
	}
	for (long i = 0; i < warmup; i++) {
		if ((rc = odet_pipeline_detect_file(p, image, &r))) {
			ret = cli_fail(ctx, rc, image);
			goto out;
		}
		if (r.status) {
			fprintf(stderr, "odet: %s\n", r.error);
			ret = 2;
			goto out;
		}
	}
	double t_end = now_ms() + duration_s * 1e3;
	int count = 0;
	while (n < cap && (now_ms() < t_end || n < 3)) {
		double t0 = now_ms();
		if ((rc = odet_pipeline_detect_file(p, image, &r))) {
			ret = cli_fail(ctx, rc, image);
			goto out;
		}
		lat[n++] = now_ms() - t0;
		count = r.count;
	}
	qsort(lat, n, sizeof *lat, cmp_double);
	int dev = odet_pipeline_device(p, 0);
	printf("%s, %s: %zu runs, %d detections; latency ms min %.3f, median %.3f, p90 %.3f, p99 %.3f "
	       "(decode: %s, batch %d)\n",
	       model, image, n, count, lat[0], pct(lat, n, 0.5), pct(lat, n, 0.9), pct(lat, n, 0.99),
	       r.gpu_decoded ? odet_pipeline_decoder(p) : "cpu", odet_pipeline_batch(p));
	printf("{\"mode\": \"image\", \"model\": \"%s\", \"image\": \"%s\", \"backend\": \"%s\", \"batch\": %d, "
	       "\"decode\": \"%s\", \"runs\": %zu, \"latency_ms\": {\"min\": %.4f, \"median\": %.4f, \"p90\": %.4f, "
	       "\"p99\": %.4f}}\n",
	       model, image, dev < 0 ? "cpu" : "cuda", odet_pipeline_batch(p),
	       r.gpu_decoded ? odet_pipeline_decoder(p) : "cpu", n, lat[0], pct(lat, n, 0.5), pct(lat, n, 0.9),
	       pct(lat, n, 0.99));
out:
	free(lat);
	odet_pipeline_destroy(p);
	return ret;
}
