/* cli_engine.h — helpers shared by the engine subcommands (inspect, build, run, bench):
 * option parsing, opening a model (.onnx or .plan), summaries. */
#ifndef ODET_CLI_ENGINE_H
#define ODET_CLI_ENGINE_H

#include "cli.h"
#include "cli_opts.h"

#include <stdbool.h>

/* cli_fail, without repeating `what` when the message already starts with it. */
int cli_error(odet_ctx *ctx, odet_status s, const char *what);
/* "HxW" (e.g. 640x640) into the build options' input_h/input_w (a cli_value_fn). */
int cli_hw(const char *cmd, const char *opt, char *s, void *build_opts);

/* Options shared by build / run / bench / inspect: --backend cpu|cuda|auto, --precision
 * fp32|fp16|bf16|int8|fp8, --calib FILE, --keep-fp32 NODE... (names up to the next option),
 * --device K. */
#define CLI_MAX_KEEP 256
typedef struct cli_engine_opts {
	int backend;        /* odet_backend_kind */
	int precision;      /* odet_precision */
	int device;
	const char *keep[CLI_MAX_KEEP];
	int n_keep;
	int backend_given;
	const char *calib;  /* --calib FILE: calibration cache for int8 / fp8 */
} cli_engine_opts;
void cli_engine_opts_init(cli_engine_opts *c);
/* Add the engine options to p's table (values into c). */
void cli_add_engine(cli_parser *p, cli_engine_opts *c);
/* Options that set build options or the context, shared by the engine commands; each command
 * accepts the subset in `accept` (CLI_OPT_*): --batch N (1..65536), --input-size HxW,
 * --head SPEC, --no-head, --threads N (0..256, 0 = all cores), -v/--verbose (info; twice or -vv: debug),
 * --input-u8 (the image input as uint8 pixels). */
enum {
	CLI_OPT_BATCH = 1,
	CLI_OPT_INPUT_SIZE = 2,
	CLI_OPT_HEAD = 4,
	CLI_OPT_NO_HEAD = 8,
	CLI_OPT_THREADS = 16,
	CLI_OPT_VERBOSE = 32,
	CLI_OPT_INPUT_U8 = 64,
};
void cli_add_build(cli_parser *p, unsigned accept, odet_build_opts *o, long *threads, int *verbose);
/* cli_add_engine, then cli_add_build: the shared options of every engine command. */
void cli_add_common(cli_parser *p, unsigned accept, cli_engine_opts *c, odet_build_opts *o, long *threads,
		    int *verbose);
/* Copy the parsed options into build options (keep points into c). */
void cli_engine_apply(const cli_engine_opts *c, odet_build_opts *o);
/* The choices of --backend and --precision. */
extern const cli_choice cli_backends[], cli_precisions[];

/* A context with n_threads (0 = all cores) and the log level (verbose: 1 info, 2 debug). */
odet_status cli_ctx(int n_threads, int verbose, odet_ctx **out);
/* After build / inspect parsed their options: 2 when --head and --no-head are both given, 1 when
 * no context could be made (both said on stderr), else 0 with *out from cli_ctx. */
int cli_engine_ctx(const char *cmd, const odet_build_opts *o, long threads, int verbose, odet_ctx **out);
/* odet_pipeline_create; with --backend auto, a GPU that fails (no memory, driver) leaves the
 * CPU, said on stderr (po->build.backend is then ODET_BACKEND_CPU). */
odet_status cli_pipeline_create(odet_ctx *ctx, odet_pipeline_opts *po, odet_pipeline **p);
/* Whether path is a plan: named *.plan, or starting with the plan magic. */
bool cli_is_plan(const char *path);
/* Load an ONNX model as a graph (ODET_ERR_UNSUPPORTED when the importer is not linked). */
odet_status cli_load_graph(odet_ctx *ctx, const char *path, odet_graph **out);
/* Print a graph: odet_graph_print when linked, else a plain node list. */
void cli_print_graph(const odet_graph *g, FILE *f);
/* Memory plan, head and size figures of an engine. */
void cli_print_engine(const odet_engine *e, FILE *f);
/* FLOPs and parameters of a graph (0 when the cost model is not linked). */
void cli_graph_cost(const odet_graph *g, int64_t *flops, int64_t *params);
/* "[1,3,300,300]" ("?" for an open dim), as odet_graph_print writes shapes. */
const char *cli_shape_str(const odet_tensor *t, char *buf, size_t n);
/* Peak resident set size of this process in bytes. */
int64_t cli_peak_rss(void);
/* s as a JSON string: quotes and backslashes escaped, control characters as \u00XX (the bytes
 * kept: a name with a tab or newline reads back as it is) */
void cli_json_str(FILE *f, const char *s);
/* Human size "12.3 MiB". */
const char *cli_bytes(double bytes, char *buf, size_t n);

#endif
