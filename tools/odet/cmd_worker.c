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

static void usage(FILE *f)
{
	fprintf(f, "usage: odet worker MODEL --redis URL [options]\n"
		   "  serve detection jobs from a Redis stream: each job is an entry with the fields id,\n"
		   "  image (JPEG/PNG bytes) or path (a file this worker can read), and optionally score\n"
		   "  MODEL            model.onnx, TF.js model.json, or model.plan\n"
		   CLI_QUEUE_USAGE
		   "  --consumer NAME  this worker's name in the group (default HOST-PID)\n"
		   "  --batch N        jobs read and acknowledged together, and the engine batch of an ONNX model\n"
		   "                   (a plan keeps its own); default: the engine's batch\n"
		   "  --batch-timeout-ms MS  a partial batch runs this long after its first job (default 20)\n"
		   "  --visibility-ms MS  jobs idle this long on any worker are reclaimed (default 30000)\n"
		   "  --max-attempts N deliveries before a job goes to the dead-letter stream (default 3)\n"
		   "  --result-ttl S   result keys expire after S seconds (default: never)\n"
		   "  --max-payload B  largest image in a job, bytes (default 67108864)\n"
		   "  --score T        minimum score to report (default 0.3; a job's score field raises it)\n"
		   "  --idle-exit-s S  leave after S seconds without jobs and nothing pending (default: never)\n"
		   "  --metrics-s S    metrics line every S seconds on stderr (default 10; 0: none)\n"
		   CLI_ENGINE_USAGE
		   "  --devices L      GPUs of this worker, e.g. 0,1 (one engine each; default: --device)\n"
		   "  --decode D       auto (nvJPEG on CUDA when it loads), gpu (required), or cpu\n"
		   "  --read-threads N threads reading and CPU-decoding (default: cores, at most 16)\n"
		   "  --slots N        batches in flight per device (default: 2 CUDA, 1 CPU)\n"
		   "  --threads N      CPU threads of a CPU engine (default: all cores)\n"
		   "  -v               log engine building, reclaims and reconnections\n"
		   "exit codes: 0 stopped (SIGTERM, SIGINT, --idle-exit-s), 1 Redis unreachable, hiredis missing\n"
		   "  or a device failure, 2 usage or a bad model\n");
}

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

static int parse_args(int argc, char **argv, worker_cli *w)
{
	long lv;
	double dv;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		}
		if ((r = cli_queue_opt("worker", argc, argv, &i, &w->wo.queue)) != 0 ||
		    (r = cli_common_opt("worker", argc, argv, &i, CLI_OPT_BATCH | CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE,
					&w->eo, &w->bo, &w->threads, &w->verbose)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if (a[0] != '-') {
			if (w->model) {
				fprintf(stderr, "odet worker: one model only ('%s')\n", a);
				return -1;
			}
			w->model = a;
			continue;
		}
		const char *v = cli_arg("worker", argc, argv, &i);
		if (!v)
			return -1;
		if (!strcmp(a, "--consumer")) {
			w->wo.consumer = v;
		} else if (!strcmp(a, "--batch-timeout-ms")) {
			if (!cli_int("worker", a, v, 0, 60000, &lv))
				return -1;
			w->wo.batch_timeout_ms = (int)lv;
		} else if (!strcmp(a, "--visibility-ms")) {
			if (!cli_int("worker", a, v, 1, 86400000, &lv))
				return -1;
			w->wo.visibility_ms = (int)lv;
		} else if (!strcmp(a, "--max-attempts")) {
			if (!cli_int("worker", a, v, 1, 1000, &lv))
				return -1;
			w->wo.max_attempts = (int)lv;
		} else if (!strcmp(a, "--result-ttl")) {
			if (!cli_int("worker", a, v, 0, 100000000, &lv))
				return -1;
			w->wo.result_ttl_s = (int)lv;
		} else if (!strcmp(a, "--max-payload")) {
			if (!cli_int("worker", a, v, 1, 1L << 30, &lv))
				return -1;
			w->wo.max_payload = (size_t)lv;
		} else if (!strcmp(a, "--score")) {
			if (!cli_double("worker", a, v, 0, 1, &dv))
				return -1;
			w->score = (float)dv;
		} else if (!strcmp(a, "--idle-exit-s")) {
			if (!cli_double("worker", a, v, 0, 1e9, &w->wo.idle_exit_s))
				return -1;
		} else if (!strcmp(a, "--metrics-s")) {
			if (!cli_double("worker", a, v, 0, 1e9, &w->wo.metrics_s))
				return -1;
		} else if (!strcmp(a, "--decode")) {
			w->gpu_decode = !strcmp(v, "gpu") ? 1 : !strcmp(v, "cpu") ? 0 : -1;
			if (strcmp(v, "gpu") && strcmp(v, "cpu") && strcmp(v, "auto")) {
				fprintf(stderr, "odet worker: --decode expects auto, gpu or cpu\n");
				return -1;
			}
		} else if (!strcmp(a, "--devices")) {
			if (cli_devices("worker", v, w->devices, 64, &w->n_devices))
				return -1;
		} else if (!strcmp(a, "--read-threads")) {
			if (!cli_int("worker", a, v, 0, 256, &lv))
				return -1;
			w->read_threads = (int)lv;
		} else if (!strcmp(a, "--slots")) {
			if (!cli_int("worker", a, v, 1, 8, &lv))
				return -1;
			w->slots = (int)lv;
		} else {
			fprintf(stderr, "odet worker: unknown option '%s'\n", a);
			return -1;
		}
	}
	if (!w->model) {
		usage(stderr);
		return -1;
	}
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
