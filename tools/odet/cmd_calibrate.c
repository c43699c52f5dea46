/*
 * cmd_calibrate.c — `odet calibrate MODEL IMAGES... -o FILE.calib [--calibrator
 * entropy|percentile|minmax] [--percentile P] [--max-images N] [--batch N] [--backend B]
 * [--device K] [--head SPEC] [--input-size HxW] [--threads N] [--snr-images N | --no-snr] [-v]
 * [--quiet]`: run the fp32 engine over calibration images (files, folders, globs, @LIST) and
 * write the INT8 calibration cache that `odet build --precision int8 --calib FILE` reads
 * (odet_calibrate, docs/quantization.md), then print the layers' SNR, lowest first (10; all
 * with -v). Exit 0, 1 (runtime), 2 (bad input: no images, none readable, usage).
 */
#include "cli_sources.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: odet calibrate MODEL IMAGES... -o FILE [--calibrator C] [--percentile P]\n"
		   "                      [--max-images N] [--batch N] [--backend B] [--device K] [--head SPEC]\n"
		   "                      [--input-size HxW] [--threads N] [-v] [--quiet]\n"
		   "Calibrate a model for INT8: run its fp32 engine over images (files, folders, globs, @LIST)\n"
		   "and write the calibration cache (per-tensor ranges) that odet build --precision int8\n"
		   "--calib FILE reads. Use photos like those the model will see; keep them apart from the\n"
		   "images you evaluate on.\n"
		   "  -o, --output FILE   the cache to write (atomically)\n"
		   "  --calibrator C      minmax (default), entropy (TensorRT's KL search) or percentile\n"
		   "  --percentile P      for --calibrator percentile (default 99.99)\n"
		   "  --max-images N      use at most N images (default: all)\n"
		   "  --batch N           images per engine run (default 8)\n"
		   "  --backend B         cpu, cuda or auto; --device K  GPU index\n"
		   "  --head SPEC         head preset or config (gives the model's preprocessing)\n"
		   "  --snr-images N      per-layer SNR measured on the first N images (default: all)\n"
		   "  --no-snr            no per-layer SNR pass (odet build --keep-sensitive needs it)\n"
		   "  -v                  log, and print every layer's SNR (default: the 10 lowest)\n"
		   "  --quiet             no progress line\n");
}

static void progress(void *user, int64_t done, int64_t total)
{
	if (*(const int *)user)
		return;
	fprintf(stderr, "\rcalibrating: %lld / %lld images", (long long)done, (long long)total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

typedef struct snr_print {
	int shown, verbose;
} snr_print;

static void layer_snr(void *user, const char *node, double db)
{
	snr_print *p = user;
	if (p->shown == 0)
		printf("per-layer SNR of the int8 layer vs fp32 (lowest first):\n");
	if (p->verbose || p->shown < 10)
		printf("  %8.2f dB  %s\n", db, node);
	p->shown++;
}

int cmd_calibrate(int argc, char **argv)
{
	const char *model = NULL, *out = NULL;
	const char *sources[4096];
	int n_src = 0, verbose = 0, quiet = 0;
	long threads = 0, max_images = 0, snr_images = 0;
	double pct = 99.99;
	odet_calib_opts co = odet_calib_opts_default();
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		int eok = cli_common_opt("calibrate", argc, argv, &i, CLI_OPT_BATCH | CLI_OPT_INPUT_SIZE | CLI_OPT_HEAD |
					     CLI_OPT_THREADS | CLI_OPT_VERBOSE, &eo, &co.build, &threads, &verbose);
		if (eok < 0)
			return 2;
		if (eok > 0)
			continue;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (!(out = cli_arg("calibrate", argc, argv, &i)))
				return 2;
		} else if (!strcmp(a, "--calibrator")) {
			if (!(v = cli_arg("calibrate", argc, argv, &i)))
				return 2;
			if (!strcmp(v, "entropy"))
				co.calibrator = ODET_CALIB_ENTROPY;
			else if (!strcmp(v, "percentile"))
				co.calibrator = ODET_CALIB_PERCENTILE;
			else if (!strcmp(v, "minmax"))
				co.calibrator = ODET_CALIB_MINMAX;
			else {
				fprintf(stderr, "odet calibrate: --calibrator expects entropy, percentile or minmax, got '%s'\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--percentile")) {
			if (!(v = cli_arg("calibrate", argc, argv, &i)) || !cli_double("calibrate", a, v, 1e-9, 100, &pct))
				return 2;
		} else if (!strcmp(a, "--max-images")) {
			if (!(v = cli_arg("calibrate", argc, argv, &i)) || !cli_int("calibrate", a, v, 1, 100000000, &max_images))
				return 2;
		} else if (!strcmp(a, "--snr-images")) {
			if (!(v = cli_arg("calibrate", argc, argv, &i)) || !cli_int("calibrate", a, v, 1, 100000000, &snr_images))
				return 2;
		} else if (!strcmp(a, "--no-snr")) {
			snr_images = -1;
		} else if (!strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "odet calibrate: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (cli_sources_arg("calibrate", a, &model, sources, &n_src, (int)(sizeof sources / sizeof *sources))) {
			return 2;
		}
	}
	if (!model || !n_src || !out) {
		fprintf(stderr, "odet calibrate: %s\n", !model ? "no model given" : !n_src ? "no images given" : "-o FILE is required");
		usage(stderr);
		return 2;
	}
	if (eo.precision != ODET_PRECISION_FP32) {
		fprintf(stderr, "odet calibrate: calibration runs the fp32 engine (no --precision)\n");
		return 2;
	}
	cli_engine_apply(&eo, &co.build);
	co.percentile = pct;
	co.max_images = max_images;
	co.progress = progress;
	co.progress_user = &quiet;
	co.snr_images = snr_images;
	snr_print sp = {0, verbose};
	co.layer_snr = layer_snr;
	co.layer_snr_user = &sp;
	odet_ctx *ctx = NULL;
	if (cli_ctx((int)threads, verbose, &ctx))
		return 1;
	int code = 0;
	odet_graph *g = NULL;
	odet_path_list paths = {0};
	int n_bad = 0;
	odet_status rc = odet_sources_expand(ctx, sources, n_src, &paths, &n_bad);
	if (rc) {
		code = cli_error(ctx, rc, "calibrate");
		goto out;
	}
	if (!paths.n) {
		fprintf(stderr, "odet calibrate: no images found in the sources given\n");
		code = 2;
		goto out;
	}
	if ((rc = odet_graph_load(ctx, model, &g))) {
		code = cli_error(ctx, rc, model);
		goto out;
	}
	odet_calib_report rep;
	rc = odet_calibrate(ctx, g, (const char *const *)paths.paths, paths.n, &co, out, &rep);
	if (rc) {
		code = cli_error(ctx, rc, "calibrate");
		goto out;
	}
	printf("calibration: %lld images (%lld skipped), %d tensors, calibrator %s, %.2f s -> %s\n",
	       (long long)rep.images, (long long)rep.failed, rep.tensors,
	       co.calibrator == ODET_CALIB_ENTROPY ? "entropy" : co.calibrator == ODET_CALIB_PERCENTILE ? "percentile" : "minmax",
	       rep.seconds, out);
	if (rep.layers)
		printf("%d layers' SNR measured (%.2f s of the time)%s\n", rep.layers, rep.snr_seconds,
		       sp.shown > 10 && !verbose ? "; -v lists all" : "");
	if (rep.failed || n_bad)
		code = 2;
out:
	odet_graph_destroy(g);
	odet_path_list_free(&paths);
	odet_ctx_destroy(ctx);
	return code;
}
