/* cli_queue.c — the Redis queue options of `odet worker` and `odet submit` (cli_queue.h). */
#include "cli_queue.h"

#include <stdio.h>
#include <string.h>

int cli_queue_opt(const char *cmd, int argc, char **argv, int *i, odet_queue_opts *q)
{
	const char *a = argv[*i];
	static const char *const names[] = {"--redis", "--stream", "--group", "--results", "--dead-letter",
					    "--retry-s", "--timeout-ms"};
	int k = -1;
	for (int j = 0; j < 7; j++)
		if (!strcmp(a, names[j]))
			k = j;
	if (k < 0)
		return 0;
	const char *v = cli_arg(cmd, argc, argv, i);
	if (!v)
		return -1;
	double d;
	long l;
	switch (k) {
	case 0: q->url = v; break;
	case 1: q->stream = v; break;
	case 2: q->group = v; break;
	case 3: q->results = v; break;
	case 4: q->dead_letter = v; break;
	case 5:
		if (!cli_double(cmd, a, v, 0, 86400 * 365, &d))
			return -1;
		q->retry_s = d;
		break;
	default:
		if (!cli_int(cmd, a, v, 1, 3600000, &l))
			return -1;
		q->timeout_ms = (int)l;
	}
	if (k <= 4 && !*v) {
		fprintf(stderr, "odet %s: %s must not be empty\n", cmd, a);
		return -1;
	}
	return 1;
}

int cli_queue_exit(odet_ctx *ctx, odet_status rc, const char *what)
{
	int code = cli_error(ctx, rc, what);
	return rc == ODET_ERR_UNSUPPORTED || rc == ODET_ERR_IO ? 1 : code;
}
