/* cli_queue.h — options shared by `odet worker` and `odet submit` (the Redis queue). */
#ifndef ODET_CLI_QUEUE_H
#define ODET_CLI_QUEUE_H

#include "cli_engine.h"

/* --redis URL, --stream NAME, --group NAME, --results NAME, --dead-letter NAME, --retry-s S,
 * --timeout-ms MS. 1: argv[*i] was one (consumed); 0: not one; -1: bad value (printed). */
int cli_queue_opt(const char *cmd, int argc, char **argv, int *i, odet_queue_opts *q);
#define CLI_QUEUE_USAGE \
	"  --redis URL      redis://[:PASSWORD@]HOST[:PORT][/DB] (default redis://127.0.0.1:6379)\n" \
	"  --stream NAME    job stream (default odet:jobs)\n" \
	"  --group NAME     consumer group (default odet)\n" \
	"  --results NAME   result stream; result keys are NAME:<job id> (default odet:results)\n" \
	"  --dead-letter NAME  stream of poison jobs with their reason (default odet:dead)\n" \
	"  --retry-s S      keep (re)connecting to Redis for S seconds, backoff 0.1 s doubling to 2 s\n" \
	"                   (default 0: an unreachable server is an error at once, exit 1)\n" \
	"  --timeout-ms MS  Redis connect and reply timeout (default 5000)\n"
/* Exit code of a queue failure: 1 for Redis unreachable / no hiredis, else the status's. */
int cli_queue_exit(odet_ctx *ctx, odet_status rc, const char *what);

#endif
