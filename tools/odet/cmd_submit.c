/*
 * cmd_submit.c — `odet submit --redis URL SOURCE... [options]`: enqueue images as jobs for
 * `odet worker` (odet_submit_run in odet.h; docs/queue.md), with back-pressure (at most
 * --max-in-flight unfinished jobs in the stream); with --wait or --json, collect every job's
 * result and write a COCO results file in input order (as `odet detect --json` writes it).
 * Exit codes: 0 every job has detections, 2 some sources unreadable or jobs dead-lettered
 * (each named), 1 Redis unreachable, hiredis missing, or results missing after --timeout.
 */
#include "cli_queue.h"
#include "cli_sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct submit_cli {
	odet_submit_opts so;
	const char *json_path;
	int quiet;
	FILE *jf;
	int first_record;
	int64_t n_bad, n_dets;
} submit_cli;


static odet_status on_job(void *user, const odet_job_result *r)
{
	submit_cli *s = user;
	if (r->status) {
		fprintf(stderr, "odet: %s: %s\n", r->source, r->error ? r->error : odet_status_str(r->status));
		s->n_bad++;
		return ODET_OK;
	}
	if (!s->so.wait)
		return ODET_OK;
	s->n_dets += r->count;
	for (int i = 0; s->jf && i < r->count; i++) {
		const float *b = r->boxes + 4 * i;
		char stem[1024];
		cli_file_stem(r->source, stem, sizeof stem);
		fprintf(s->jf, "%s\n{\"image_id\": ", s->first_record ? "" : ",");
		cli_json_image_id(s->jf, stem);
		fprintf(s->jf, ", \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], \"score\": %.5f}",
			r->category_ids[i], b[0], b[1], b[2] - b[0], b[3] - b[1], r->scores[i]);
		s->first_record = 0;
	}
	if (!s->quiet)
		printf("%s: %d detection(s)\n", cli_base_name(r->source), r->count);
	return ODET_OK;
}

/* 0 parsed, 1 --help printed, -1 bad usage (printed) */
static int parse_args(int argc, char **argv, submit_cli *s, const char **srcs, int *n_src)
{
	cli_parser p;
	cli_parser_init(&p, "submit", "usage: odet submit --redis URL SOURCE... [options]\n"
				      "  SOURCE            image files (JPEG/PNG), folders, glob patterns, or @LIST (one path a line)\n");
	cli_positionals(&p, NULL, srcs, n_src, argc);
	cli_add_queue(&p, &s->so.queue);
	cli_add(&p, (cli_opt){"--wait", CLI_FLAG, &s->so.wait,
			      .help = "wait for every job's result (one line per image unless --quiet)"});
	cli_add(&p, (cli_opt){"--json", CLI_STR, &s->json_path, .arg = "FILE",
			      .help = "COCO results file of the detections, in input order (implies --wait)"});
	cli_add(&p, (cli_opt){"--max-in-flight", CLI_INT, &s->so.max_in_flight, 1, 100000000, .arg = "N",
			      .help = "at most N unfinished jobs in the stream (default 1024)"});
	cli_add(&p, (cli_opt){"--by-path", CLI_FLAG, &s->so.by_path,
			      .help = "send each file's absolute path (storage the workers share), not its bytes"});
	cli_add(&p, (cli_opt){"--score", CLI_FLOAT, &s->so.score, 0, 1, .arg = "T",
			      .help = "score threshold sent with each job (default: the worker's)"});
	cli_add(&p, (cli_opt){"--job-prefix", CLI_STR, &s->so.job_prefix, .arg = "P",
			      .help = "job ids are P-INDEX (default HOST-PID-TIME)"});
	cli_add(&p, (cli_opt){"--timeout", CLI_DOUBLE, &s->so.wait_timeout_s, 0, 1e9, .arg = "S",
			      .help = "--wait gives up after S seconds (default: never)"});
	cli_add(&p, (cli_opt){"--quiet", CLI_FLAG, &s->quiet, .help = "no per-image lines"});
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "exit codes: 0 all jobs done, 2 some inputs unreadable or dead-lettered, 1 Redis unreachable,\n"
				      "  hiredis missing, or results missing after --timeout"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 1 : -1;
	if (s->json_path)
		s->so.wait = 1;
	return 0;
}

int cmd_submit(int argc, char **argv)
{
	submit_cli s;
	memset(&s, 0, sizeof s);
	s.so = odet_submit_opts_default();
	s.first_record = 1;
	odet_ctx *ctx = NULL;
	odet_path_list files = {0};
	char json_tmp[4200];
	int code = 0, n_missing = 0;
	odet_status rc;
	const char **srcs = calloc((size_t)argc + 1, sizeof *srcs);
	int n_src = 0;
	if (!srcs)
		return 1;
	int pa = parse_args(argc, argv, &s, srcs, &n_src);
	if (pa) {
		code = pa > 0 ? 0 : 2;
		goto out;
	}
	if (cli_ctx(1, 0, &ctx)) {
		code = 1;
		goto out;
	}
	if ((rc = odet_sources_expand(ctx, srcs, n_src, &files, &n_missing))) {
		code = cli_fail(ctx, rc, "submit");
		goto out;
	}
	if (files.n == 0) {
		fprintf(stderr, "odet: submit: no images found\n");
		code = 2;
		goto out;
	}
	if (s.json_path) {
		snprintf(json_tmp, sizeof json_tmp, "%s.tmp.%ld", s.json_path, (long)getpid());
		if (!(s.jf = fopen(json_tmp, "w"))) {
			fprintf(stderr, "odet: %s: cannot create: %s\n", json_tmp, strerror(errno));
			code = 1;
			goto out;
		}
		fputs("[", s.jf);
	}
	odet_submit_stats st;
	rc = odet_submit_run(ctx, &s.so, (const char *const *)files.paths, files.n, on_job, &s, &st);
	if (rc)
		code = cli_queue_exit(ctx, rc, "submit");
	if (s.jf) {
		/* what was collected is complete records: the file is closed and kept either way */
		fputs("\n]\n", s.jf);
		int bad = fclose(s.jf) != 0 || rename(json_tmp, s.json_path) != 0;
		s.jf = NULL;
		if (bad) {
			fprintf(stderr, "odet: %s: cannot write: %s\n", s.json_path, strerror(errno));
			unlink(json_tmp);
			code = 1;
			goto out;
		}
	}
	if (rc)
		goto out;
	if (s.so.wait)
		fprintf(stderr, "odet: %lld jobs, %lld results (%lld failed), %lld detections in %.2f s (%.1f jobs/s)%s%s\n",
			(long long)st.submitted, (long long)st.results, (long long)st.failed, (long long)s.n_dets,
			st.seconds, st.seconds > 0 ? st.results / st.seconds : 0.0, s.json_path ? "; results in " : "",
			s.json_path ? s.json_path : "");
	else
		fprintf(stderr, "odet: %lld jobs submitted to %s in %.2f s\n", (long long)st.submitted, s.so.queue.stream,
			st.seconds);
	if (s.n_bad || n_missing) {
		fprintf(stderr, "odet: %lld input(s) failed\n", (long long)(s.n_bad + n_missing));
		code = 2;
	}
out:
	if (s.jf) {
		fclose(s.jf);
		unlink(json_tmp);
	}
	odet_path_list_free(&files);
	odet_ctx_destroy(ctx);
	free(srcs);
	return code;
}
