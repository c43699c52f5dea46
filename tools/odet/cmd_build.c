/*
 * cmd_build.c — `odet build MODEL.onnx -o MODEL.plan [--batch N] [--input-size HxW]
 * [--head SPEC|--no-head] [--layer-precision NODE=fp16|fp32,...] [--keep-sensitive N] [--threads N]
 * [-v]`: import, optimize, attach the head, plan
 * memory, write the plan file (atomically), and print a short summary: nodes before/after,
 * FLOPs per image, parameters, arena bytes vs the naive sum, build time, peak RSS.
 */
#include "cli_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUILD_MAX_LAYERS 256

static void usage(FILE *f)
{
	fprintf(f, "usage: odet build MODEL.onnx -o MODEL.plan [--batch N] [--input-size HxW] [--input-u8]\n"
		   "                  [--head SPEC | --no-head] [--threads N] [-v]\n"
		   "Compile a model into a plan file.\n" CLI_ENGINE_USAGE
		   "  -o, --output PATH  the plan file to write (written atomically)\n"
		   "  --batch N          value of the batch dimension (default 1)\n"
		   "  --input-size HxW   fix the image input's height and width\n"
		   "  --input-u8         the image input takes uint8 pixels (4x less to copy); the model's\n"
		   "                     normalization runs in the engine (needs a detection head)\n"
		   "  --head SPEC        head preset or config file (default: recognized from the outputs)\n"
		   "  --no-head          never attach a head: the plan runs the raw network\n"
		   "  --layer-precision NODE=fp16|fp32,...  int8 (or fp16): these nodes stay in float, unquantized\n"
		   "  --keep-sensitive N int8: the N layers of lowest SNR in the --calib cache stay in float\n"
		   "  --threads N        CPU threads used while building (default: all cores)\n"
		   "  -v                 log passes and planning\n");
}

/* "\rbuild: N / M nodes prepared (NAME)", cleared at the end */
static void build_progress(void *user, int64_t done, int64_t total, const char *node)
{
	(void)user;
	fprintf(stderr, "\rbuild: %lld / %lld nodes prepared (%.40s)\033[K", (long long)done, (long long)total,
		node ? node : "");
	if (done == total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "NODE=fp16|fp32[,NODE=...]" appended to lp (s, an argv string, is cut in place: the names
 * point into it); false with a message on a malformed entry. */
static bool parse_layers(char *s, odet_layer_precision *lp, int *n)
{
	int before = *n;
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		char *eq = strrchr(t, '=');
		if (!eq || eq == t || (strcmp(eq + 1, "fp16") && strcmp(eq + 1, "fp32"))) {
			fprintf(stderr, "odet build: --layer-precision expects NODE=fp16 or NODE=fp32 (comma-separated), got '%s'\n", t);
			return false;
		}
		if (*n == BUILD_MAX_LAYERS) {
			fprintf(stderr, "odet build: --layer-precision: at most %d nodes\n", BUILD_MAX_LAYERS);
			return false;
		}
		*eq = 0;
		lp[*n].node = t;
		lp[*n].precision = !strcmp(eq + 1, "fp16") ? ODET_PRECISION_FP16 : ODET_PRECISION_FP32;
		(*n)++;
	}
	if (*n == before)
		fprintf(stderr, "odet build: --layer-precision needs NODE=fp16|fp32\n");
	return *n > before;
}

int cmd_build(int argc, char **argv)
{
	const char *model = NULL, *out = NULL;
	odet_build_opts o = odet_build_opts_default();
	long threads = 0, keep_sensitive = 0;
	int verbose = 0, n_layers = 0;
	odet_layer_precision layers[BUILD_MAX_LAYERS];
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int eok = cli_common_opt("build", argc, argv, &i, CLI_OPT_BATCH | CLI_OPT_INPUT_SIZE | CLI_OPT_HEAD | CLI_OPT_NO_HEAD |
					     CLI_OPT_THREADS | CLI_OPT_VERBOSE | CLI_OPT_INPUT_U8, &eo, &o, &threads, &verbose);
		if (eok < 0)
			return 2;
		if (eok > 0) {
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (!(out = cli_arg("build", argc, argv, &i)))
				return 2;
		} else if (!strcmp(a, "--layer-precision")) {
			if (!cli_arg("build", argc, argv, &i) || !parse_layers(argv[i], layers, &n_layers))
				return 2;
		} else if (!strcmp(a, "--keep-sensitive")) {
			const char *v = cli_arg("build", argc, argv, &i);
			if (!v || !cli_int("build", a, v, 0, 100000, &keep_sensitive))
				return 2;
		} else if (a[0] == '-' || model) {
			fprintf(stderr, "odet build: unexpected argument '%s'\n", a);
			usage(stderr);
			return 2;
		} else {
			model = a;
		}
	}
	if (!model || !out) {
		fprintf(stderr, "odet build: %s\n", model ? "-o PATH is required" : "MODEL is required");
		usage(stderr);
		return 2;
	}
	if (o.head && o.no_head) {
		fprintf(stderr, "odet build: --head and --no-head exclude each other\n");
		return 2;
	}
	odet_ctx *ctx;
	if (cli_ctx((int)threads, verbose, &ctx))
		return 1;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	int ret = 0;
	double t0 = now();
	odet_status rc = cli_load_graph(ctx, model, &g);
	if (rc) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	double t_import = now() - t0;
	cli_engine_apply(&eo, &o);
	o.layer_precision = n_layers ? layers : NULL;
	o.n_layer_precision = n_layers;
	o.keep_sensitive = (int)keep_sensitive;
	if (isatty(2)) { /* a terminal sees which node is being tuned */
		o.progress = build_progress;
		o.progress_user = NULL;
	}
	if ((rc = odet_engine_build(ctx, g, &o, &e))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	if ((rc = odet_engine_save(e, out))) {
		ret = cli_error(ctx, rc, out);
		goto out;
	}
	double t_total = now() - t0;
	int64_t flops, params;
	odet_engine_desc d;
	if ((rc = odet_engine_describe(e, &d))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	cli_graph_cost(odet_engine_graph(e), &flops, &params);
	char a[32], b[32], r[32];
	printf("%s -> %s\n", model, out);
	printf("nodes:        %d imported, %d after optimization\n", odet_graph_num_nodes(g), d.nodes);
	if (flops || params)
		printf("cost:         %.3f GFLOPs/image, %.3f M parameters\n",
		       (double)flops / 1e9 / d.batch, (double)params / 1e6);
	else
		printf("cost:         (cost model not available in this build)\n");
	printf("arena:        %s planned vs %s naive (%zu vs %zu bytes)\n",
	       cli_bytes((double)d.arena_bytes, a, sizeof a),
	       cli_bytes((double)d.naive_bytes, b, sizeof b), d.arena_bytes, d.naive_bytes);
	printf("head:         %s\n", d.has_head ? (d.head ? d.head : "attached") : "none");
	if (d.n_tuned)
		printf("tuned:        %d kernel choices, saved in the plan\n", d.n_tuned);
	printf("time:         %.3f s (import %.3f s, build %.3f s); peak RSS %s\n", t_total, t_import,
	       d.build_seconds, cli_bytes((double)cli_peak_rss(), r, sizeof r));
out:
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
