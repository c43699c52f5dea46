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

/* The nodes of --layer-precision. */
typedef struct layer_list {
	odet_layer_precision v[BUILD_MAX_LAYERS];
	int n;
} layer_list;

/* "NODE=fp16|fp32[,NODE=...]" appended to the layer_list (s, an argv string, is cut in place:
 * the names point into it); -1 with a message on a malformed entry. */
static int parse_layers(const char *cmd, const char *opt, char *s, void *ptr)
{
	layer_list *l = ptr;
	int before = l->n;
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		char *eq = strrchr(t, '=');
		if (!eq || eq == t || (strcmp(eq + 1, "fp16") && strcmp(eq + 1, "fp32"))) {
			fprintf(stderr, "odet %s: %s expects NODE=fp16 or NODE=fp32 (comma-separated), got '%s'\n", cmd,
				opt, t);
			return -1;
		}
		if (l->n == BUILD_MAX_LAYERS) {
			fprintf(stderr, "odet %s: %s: at most %d nodes\n", cmd, opt, BUILD_MAX_LAYERS);
			return -1;
		}
		*eq = 0;
		l->v[l->n].node = t;
		l->v[l->n].precision = !strcmp(eq + 1, "fp16") ? ODET_PRECISION_FP16 : ODET_PRECISION_FP32;
		l->n++;
	}
	if (l->n == before)
		fprintf(stderr, "odet %s: %s needs NODE=fp16|fp32\n", cmd, opt);
	return l->n > before ? 0 : -1;
}

int cmd_build(int argc, char **argv)
{
	const char *model = NULL, *out = NULL;
	odet_build_opts o = odet_build_opts_default();
	long threads = 0, keep_sensitive = 0;
	int verbose = 0;
	layer_list layers = {.n = 0};
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	cli_parser p;
	cli_parser_init(&p, "build", "usage: odet build MODEL.onnx -o MODEL.plan [--batch N] [--input-size HxW] [--input-u8]\n"
				     "                  [--head SPEC | --no-head] [--threads N] [-v]\n"
				     "Compile a model into a plan file.\n");
	cli_positionals(&p, &model, NULL, NULL, 0);
	cli_add(&p, (cli_opt){"-o|--output", CLI_STR, &out, .required = 1, .arg = "PATH",
			      .help = "the plan file to write (written atomically)"});
	cli_add_common(&p, CLI_OPT_BATCH | CLI_OPT_INPUT_SIZE | CLI_OPT_HEAD | CLI_OPT_NO_HEAD | CLI_OPT_THREADS |
			   CLI_OPT_VERBOSE | CLI_OPT_INPUT_U8, &eo, &o, &threads, &verbose);
	cli_add(&p, (cli_opt){"--layer-precision", CLI_FN, &layers, .fn = parse_layers, .arg = "NODE=fp16|fp32,...",
			      .help = "int8 (or fp16): these nodes stay in float, unquantized"});
	cli_add(&p, (cli_opt){"--keep-sensitive", CLI_LONG, &keep_sensitive, 0, 100000, .arg = "N",
			      .help = "int8: the N layers of lowest SNR in the --calib cache stay in float"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;
	odet_ctx *ctx;
	int code = cli_engine_ctx("build", &o, threads, verbose, &ctx);
	if (code)
		return code;
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
	o.layer_precision = layers.n ? layers.v : NULL;
	o.n_layer_precision = layers.n;
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
