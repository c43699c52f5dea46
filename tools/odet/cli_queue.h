/* cli_queue.h — options shared by `odet worker` and `odet submit` (the Redis queue). */
#ifndef ODET_CLI_QUEUE_H
#define ODET_CLI_QUEUE_H

#include "cli_engine.h"

/* Add --redis URL, --stream NAME, --group NAME, --results NAME, --dead-letter NAME, --retry-s S,
 * --timeout-ms MS to p's table (values into q). */
void cli_add_queue(cli_parser *p, odet_queue_opts *q);
/* Exit code of a queue failure: 1 for Redis unreachable / no hiredis, else the status's. */
int cli_queue_exit(odet_ctx *ctx, odet_status rc, const char *what);

#endif
