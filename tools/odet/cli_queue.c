/* cli_queue.c — the Redis queue options of `odet worker` and `odet submit` (cli_queue.h). */
#include "cli_queue.h"

#include <stdio.h>
#include <string.h>

void cli_add_queue(cli_parser *p, odet_queue_opts *q)
{
	cli_add(p, (cli_opt){"--redis", CLI_NAME, &q->url, .arg = "URL",
			     .help = "redis://[:PASSWORD@]HOST[:PORT][/DB] (default redis://127.0.0.1:6379)"});
	cli_add(p, (cli_opt){"--stream", CLI_NAME, &q->stream, .arg = "NAME", .help = "job stream (default odet:jobs)"});
	cli_add(p, (cli_opt){"--group", CLI_NAME, &q->group, .arg = "NAME", .help = "consumer group (default odet)"});
	cli_add(p, (cli_opt){"--results", CLI_NAME, &q->results, .arg = "NAME",
			     .help = "result stream; result keys are NAME:<job id> (default odet:results)"});
	cli_add(p, (cli_opt){"--dead-letter", CLI_NAME, &q->dead_letter, .arg = "NAME",
			     .help = "stream of poison jobs with their reason (default odet:dead)"});
	cli_add(p, (cli_opt){"--retry-s", CLI_DOUBLE, &q->retry_s, 0, 86400 * 365, .arg = "S",
			     .help = "keep (re)connecting to Redis for S seconds, backoff 0.1 s doubling to 2 s\n"
				     "(default 0: an unreachable server is an error at once, exit 1)"});
	cli_add(p, (cli_opt){"--timeout-ms", CLI_INT, &q->timeout_ms, 1, 3600000, .arg = "MS",
			     .help = "Redis connect and reply timeout (default 5000)"});
}

int cli_queue_exit(odet_ctx *ctx, odet_status rc, const char *what)
{
	int code = cli_error(ctx, rc, what);
	return rc == ODET_ERR_UNSUPPORTED || rc == ODET_ERR_IO ? 1 : code;
}
