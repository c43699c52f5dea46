/* cli.h — shared helpers of the odet CLI subcommands (tools/odet/cmd_<name>.c). */
#ifndef ODET_CLI_H
#define ODET_CLI_H

#include "odet.h"

/* Each subcommand: argv[0] is the subcommand name. Returns the process exit code:
 * 0 success, 1 runtime failure, 2 bad input or usage. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

#define CLI_COMMANDS(X)                                                         \
	X(inspect, "print a model's graph before and after optimization")      \
	X(build, "compile a model into a plan file")                            \
	X(run, "run a plan (or model) on raw tensor files")                     \
	X(bench, "measure throughput and latency of a plan")                    \
	X(detect, "detect objects in images")                                   \
	X(video, "detect and track objects in video files")                     \
	X(eval, "COCO bbox evaluation of a results file")                      \
	X(calibrate, "INT8 calibration cache of a model from images")          \
	X(report, "precision x batch table: accuracy and speed of a model")    \
	X(worker, "serve detection jobs from a Redis Streams queue")           \
	X(submit, "enqueue images for odet workers, collect their results")

#define X(name, help) int cmd_##name(int argc, char **argv) __attribute__((weak));
CLI_COMMANDS(X)
#undef X

/* Print "odet: <msg>" to stderr and return the exit code for status s. */
int cli_fail(odet_ctx *ctx, odet_status s, const char *what);

#endif
