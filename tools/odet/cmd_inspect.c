/*
 * cmd_inspect.c — `odet inspect MODEL [--batch N] [--input-size HxW] [--head SPEC|--no-head]
 * [--threads N] [-v]`: for an ONNX model, the imported graph, then the optimized graph
 * after the passes (built on the CPU backend with the given options), the head and the
 * memory plan; for a plan file, the graph stored in it, the head and the memory plan.
 */
#include "cli_engine.h"

#include <stdio.h>
#include <string.h>

int cmd_inspect(int argc, char **argv)
{
	const char *model = NULL;
	odet_build_opts o = odet_build_opts_default();
	long threads = 0;
	int verbose = 0;
	o.backend = ODET_BACKEND_CPU;
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	cli_parser p;
	cli_parser_init(&p, "inspect", "usage: odet inspect MODEL(.onnx|.plan) [--batch N] [--input-size HxW]\n"
				       "                    [--head SPEC | --no-head] [--threads N] [-v]\n"
				       "Print the imported graph, the optimized graph, the detection head and the memory plan.\n");
	cli_positionals(&p, &model, NULL, NULL, 0);
	cli_add_build(&p, CLI_OPT_BATCH | CLI_OPT_INPUT_SIZE | CLI_OPT_HEAD | CLI_OPT_NO_HEAD | CLI_OPT_THREADS |
			  CLI_OPT_VERBOSE, &o, &threads, &verbose);
	cli_add(&p, (cli_opt){.kind = CLI_TEXT, .help = "Builds on the CPU unless one of these is given:"});
	cli_add_engine(&p, &eo);
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;
	odet_ctx *ctx;
	int code = cli_engine_ctx("inspect", &o, threads, verbose, &ctx);
	if (code)
		return code;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	odet_status rc;
	int ret = 0;
	if (cli_is_plan(model)) {
		if ((rc = odet_engine_load(ctx, model, eo.device, &e))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
		odet_engine_desc d;
		odet_engine_describe(e, &d);
		printf("== plan %s (batch %d)\n", model, d.batch);
	} else {
		if ((rc = cli_load_graph(ctx, model, &g))) {
			ret = cli_error(ctx, rc, model);
			goto out;
		}
		printf("== imported graph (%s)\n", model);
		cli_print_graph(g, stdout);
		if (eo.backend_given || eo.precision != ODET_PRECISION_FP32) {
			cli_engine_apply(&eo, &o);
			if (!eo.backend_given)
				o.backend = ODET_BACKEND_AUTO;
		}
		if ((rc = odet_engine_build(ctx, g, &o, &e))) {
			fflush(stdout);
			ret = cli_error(ctx, rc, model);
			goto out;
		}
		printf("\n");
	}
	printf("== optimized graph\n");
	cli_print_graph(odet_engine_graph(e), stdout);
	printf("\n");
	cli_print_engine(e, stdout);
out:
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
