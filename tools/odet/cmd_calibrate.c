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
	int n_src = 0, verbose = 0, quiet = 0, no_snr = 0;
	long threads = 0, max_images = 0, snr_images = 0;
	double pct = 99.99;
	odet_calib_opts co = odet_calib_opts_default();
	int calibrator = (int)co.calibrator;
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	static const cli_choice calibrators[] = {
		{"minmax", ODET_CALIB_MINMAX}, {"entropy", ODET_CALIB_ENTROPY}, {"percentile", ODET_CALIB_PERCENTILE}, {NULL, 0}};
	cli_parser p;
	cli_parser_init(&p, "calibrate",
			"usage: odet calibrate MODEL IMAGES... -o FILE [--calibrator C] [--percentile P]\n"
			"                      [--max-images N] [--batch N] [--backend B] [--device K] [--head SPEC]\n"
			"                      [--input-size HxW] [--threads N] [-v] [--quiet]\n"
			"Calibrate a model for INT8: run its fp32 engine over images (files, folders, globs, @LIST)\n"
			"and write the calibration cache (per-tensor ranges) that odet build --precision int8\n"
			"--calib FILE reads. Use photos like those the model will see; keep them apart from the\n"
			"images you evaluate on.\n");
	cli_positionals(&p, &model, sources, &n_src, (int)(sizeof sources / sizeof *sources));
	p.srcs_name = "IMAGES";
	cli_add(&p, (cli_opt){"-o|--output", CLI_STR, &out, .required = 1, .arg = "FILE", .help = "the cache to write (atomically)"});
	cli_add(&p, (cli_opt){"--calibrator", CLI_ENUM, &calibrator, .choices = calibrators, .arg = "C",
			      .help = "minmax (default), entropy (TensorRT's KL search) or percentile"});
	cli_add(&p, (cli_opt){"--percentile", CLI_DOUBLE, &pct, 1e-9, 100, .arg = "P",
			      .help = "for --calibrator percentile (default 99.99)"});
	cli_add(&p, (cli_opt){"--max-images", CLI_LONG, &max_images, 1, 100000000, .arg = "N",
			      .help = "use at most N images (default: all)"});
	cli_add(&p, (cli_opt){"--snr-images", CLI_LONG, &snr_images, 1, 100000000, .arg = "N",
			      .help = "per-layer SNR measured on the first N images (default: all)"});
	cli_add(&p, (cli_opt){"--no-snr", CLI_FLAG, &no_snr,
			      .help = "no per-layer SNR pass (odet build --keep-sensitive needs it)"});
	cli_add(&p, (cli_opt){"--quiet", CLI_FLAG, &quiet, .help = "no progress line"});
	cli_add_build(&p, CLI_OPT_BATCH | CLI_OPT_INPUT_SIZE | CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &co.build,
		      &threads, &verbose);
	cli_add_engine(&p, &eo);
	cli_add(&p, (cli_opt){.kind = CLI_TEXT, .help = "(-v also prints every layer's SNR; default: the 10 lowest)"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;
	co.calibrator = (odet_calibrator)calibrator;
	if (no_snr)
		snr_images = -1;
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
