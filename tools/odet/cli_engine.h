/* cli_engine.h — helpers shared by the engine subcommands (inspect, build, run, bench):
 * option parsing, opening a model (.onnx or .plan), summaries. */
#ifndef ODET_CLI_ENGINE_H
#define ODET_CLI_ENGINE_H

#include "cli.h"
#include "engine/engine.h"

#include <stdbool.h>

/* cli_fail, without repeating `what` when the message already starts with it. */
int cli_error(odet_ctx *ctx, odet_status s, const char *what);
/* Parse an integer in [min, max]; false (message printed) otherwise. */
bool cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
bool cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out);
/* "HxW" (e.g. 640x640). */
bool cli_hw(const char *cmd, const char *s, int *h, int *w);
/* The option's argument, or NULL (message printed) when missing. */
const char *cli_arg(const char *cmd, int argc, char **argv, int *i);

/* A context with n_threads (0 = all cores) and the log level (verbose: info). */
odet_status cli_ctx(int n_threads, bool verbose, odet_ctx **out);
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
/* Peak resident set size of this process in bytes. */
int64_t cli_peak_rss(void);
/* Human size "12.3 MiB". */
const char *cli_bytes(double bytes, char *buf, size_t n);

#endif
