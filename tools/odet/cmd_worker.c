/*
 * cmd_worker.c — `odet worker MODEL --redis URL [options]`: serve detection jobs from a Redis
 * Streams queue (odet_worker_run in odet.h; docs/queue.md). The pipeline is opened as
 * `odet detect` opens it; SIGTERM and SIGINT set a flag the worker polls between batches, so
 * a signal lets the current batch finish, its results written and acknowledged, before the
 * worker leaves.
 * Exit codes: 0 stopped by a signal or --idle-exit-s; 1 Redis unreachable (past --retry-s),
 * hiredis missing, or a device failure; 2 usage or a bad model.
 */
#include "cli_queue.h"
#include "cli_sources.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SIGTERM / SIGINT: polled between batches (the one thing a signal may set). */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

typedef struct worker_cli {
	const char *model;
	odet_worker_opts wo;
	odet_build_opts bo;
	cli_engine_opts eo;
	long threads;
	int verbose, gpu_decode, read_threads, slots, n_devices;
	int devices[64];
	float score;
} worker_cli;


static int should_stop(void *user)
{
	(void)user;
	return stop_requested != 0;
}

static void metrics(void *user, const odet_worker_stats *s)
{
	worker_cli *w = user;
	fprintf(stderr,
		"odet worker%s%s: %.1f jobs/s, batch fill %.2f, pending %lld, done %lld, reclaimed %lld, "
		"dead-lettered %lld, duplicates %lld, retried %lld, reconnects %lld\n",
		w->wo.consumer ? " " : "", w->wo.consumer ? w->wo.consumer : "", s->jobs_per_s, s->batch_fill, (long long)s->pending,
		(long long)s->jobs, (long long)s->reclaimed, (long long)s->dead_lettered, (long long)s->duplicates,
		(long long)s->retried, (long long)s->reconnects);
}

/* 0 parsed, 1 --help printed, -1 bad usage (printed) */
static int parse_args(int argc, char **argv, worker_cli *w)
{
	static const cli_choice decoders[] = {{"auto", -1}, {"gpu", 1}, {"cpu", 0}, {NULL, 0}};
	cli_device_list devices = {w->devices, 64, &w->n_devices};
	long max_payload = (long)w->wo.max_payload;
	cli_parser p;
	cli_parser_init(&p, "worker", "usage: odet worker MODEL --redis URL [options]\n"
				      "  serve detection jobs from a Redis stream: each job is an entry with the fields id,\n"
				      "  image (JPEG/PNG bytes) or path (a file this worker can read), and optionally score\n"
				      "  MODEL             model.onnx, TF.js model.json, or model.plan\n");
	cli_positionals(&p, &w->model, NULL, NULL, 0);
	cli_add_queue(&p, &w->wo.queue);
	cli_add(&p, (cli_opt){"--consumer", CLI_STR, &w->wo.consumer, .arg = "NAME",
			      .help = "this worker's name in the group (default HOST-PID)"});
	cli_add_common(&p, CLI_OPT_BATCH | CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &w->eo, &w->bo, &w->threads,
		       &w->verbose);
	cli_add(&p, (cli_opt){"--batch-timeout-ms", CLI_INT, &w->wo.batch_timeout_ms, 0, 60000, .arg = "MS",
			      .help = "a partial batch runs this long after its first job (default 20)"});
	cli_add(&p, (cli_opt){"--visibility-ms", CLI_INT, &w->wo.visibility_ms, 1, 86400000, .arg = "MS",
			      .help = "jobs idle this long on any worker are reclaimed (default 30000)"});
	cli_add(&p, (cli_opt){"--max-attempts", CLI_INT, &w->wo.max_attempts, 1, 1000, .arg = "N",
			      .help = "deliveries before a job goes to the dead-letter stream (default 3)"});
	cli_add(&p, (cli_opt){"--result-ttl", CLI_INT, &w->wo.result_ttl_s, 0, 100000000, .arg = "S",
			      .help = "result keys expire after S seconds (default: never)"});
	cli_add(&p, (cli_opt){"--max-payload", CLI_LONG, &max_payload, 1, 1L << 30, .arg = "B",
			      .help = "largest image in a job, bytes (default 67108864)"});
	cli_add(&p, (cli_opt){"--score", CLI_FLOAT, &w->score, 0, 1, .arg = "T",
			      .help = "minimum score to report (default 0.3; a job's score field raises it)"});
	cli_add(&p, (cli_opt){"--idle-exit-s", CLI_DOUBLE, &w->wo.idle_exit_s, 0, 1e9, .arg = "S",
			      .help = "leave after S seconds without jobs and nothing pending (default: never)"});
	cli_add(&p, (cli_opt){"--metrics-s", CLI_DOUBLE, &w->wo.metrics_s, 0, 1e9, .arg = "S",
			      .help = "metrics line every S seconds on stderr (default 10; 0: none)"});
	cli_add(&p, (cli_opt){"--devices", CLI_FN, &devices, .fn = cli_devices, .arg = "L",
			      .help = "GPUs of this worker, e.g. 0,1 (one engine each; default: --device)"});
	cli_add(&p, (cli_opt){"--decode", CLI_ENUM, &w->gpu_decode, .choices = decoders, .arg = "D",
			      .help = "auto (nvJPEG on CUDA when it loads), gpu (required), or cpu"});
	cli_add(&p, (cli_opt){"--read-threads", CLI_INT, &w->read_threads, 0, 256, .arg = "N",
			      .help = "threads reading and CPU-decoding (default: cores, at most 16)"});
	cli_add(&p, (cli_opt){"--slots", CLI_INT, &w->slots, 1, 8, .arg = "N",
			      .help = "batches in flight per device (default: 2 CUDA, 1 CPU)"});
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "exit codes: 0 stopped (SIGTERM, SIGINT, --idle-exit-s), 1 Redis unreachable, hiredis missing\n"
				      "  or a device failure, 2 usage or a bad model"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 1 : -1;
	w->wo.max_payload = (size_t)max_payload;
	return 0;
}

int cmd_worker(int argc, char **argv)
{
	worker_cli w;
	memset(&w, 0, sizeof w);
	w.wo = odet_worker_opts_default();
	w.bo = odet_build_opts_default();
	w.bo.batch = 0;
	w.gpu_decode = -1;
	w.score = 0.3f;
	cli_engine_opts_init(&w.eo);
	int pa = parse_args(argc, argv, &w);
	if (pa)
		return pa > 0 ? 0 : 2;
	odet_ctx *ctx = NULL;
	odet_pipeline *p = NULL;
	int code = 0;
	odet_status rc;
	struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cli_ctx((int)w.threads, w.verbose, &ctx)) {
		code = 1;
		goto out;
	}
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = w.model;
	po.build = w.bo;
	cli_engine_apply(&w.eo, &po.build);
	/* --batch: jobs per batch; also the engine batch of a model built here */
	w.wo.batch = w.bo.batch;
	po.build.batch = cli_is_plan(w.model) ? 0 : w.bo.batch;
	if (w.n_devices) {
		po.devices = w.devices;
		po.n_devices = w.n_devices;
	} else if (w.eo.device) {
		po.devices = &w.eo.device;
		po.n_devices = 1;
	}
	po.gpu_decode = w.gpu_decode;
	po.read_threads = w.read_threads;
	po.slots = w.slots;
	po.score = w.score;
	rc = cli_pipeline_create(ctx, &po, &p);
	if (rc) {
		code = cli_error(ctx, rc, w.model);
		goto out;
	}
	w.wo.should_stop = should_stop;
	w.wo.metrics = metrics;
	w.wo.user = &w;
	odet_worker_stats st;
	rc = odet_worker_run(p, &w.wo, &st);
	if (rc) {
		code = cli_queue_exit(ctx, rc, "worker");
		goto out;
	}
	fprintf(stderr,
		"odet worker: stopped after %.1f s (%.3f s busy): %lld results, %lld dead-lettered, %lld duplicates, "
		"%lld reclaimed, %lld retried, %lld batches (fill %.2f), %lld reconnects\n",
		st.seconds, st.busy_s, (long long)st.jobs, (long long)st.dead_lettered, (long long)st.duplicates,
		(long long)st.reclaimed, (long long)st.retried, (long long)st.batches, st.batch_fill,
		(long long)st.reconnects);
out:
	odet_pipeline_destroy(p);
	odet_ctx_destroy(ctx);
	return code;
}
