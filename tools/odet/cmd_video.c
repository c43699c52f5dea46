/*
 * cmd_video.c — `odet video MODEL SOURCE... [options]`: detect and track objects in video files.
 *
 * A front end over odet.h only (odet_video_run): every source is decoded on its own thread,
 * frames of all sources are batched into the engine, detections are tracked per source, and
 * this file writes one JSON line per frame (source, frame index, pts, and per detection its
 * track id, box in the frame's pixels, class, score, track age and velocity), a progress line
 * per source every few seconds, a report per source (failed sources by name) and a summary;
 * --save-video: an annotated video per source (boxes, labels, track ids).
 * The JSONL file is written as frames arrive; Ctrl-C stops the run, flushes and closes it.
 * Exit codes: 0 every source read to its end, 2 bad input (a source failed or usage), 1 runtime
 * failure or interrupted.
 */
#include "cli_sources.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_DEVICES 64

/* Ctrl-C: the frame callback sees it and stops the run (the one thing a signal may set). */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

typedef struct video_cli {
	const char *model, *out_dir, *json_path, *head;
	const char *publish;    /* --publish redis://HOST[:PORT]/STREAM */
	const char **sources;
	int n_sources, n_devices, quiet, verbose, realtime, no_infer, no_track, batch, threads, save_video;
	int decode;             /* --decode: -1 auto, 0 cpu, 1 nvdec */
	int devices[MAX_DEVICES];
	long timeout_ms, queue, max_frames;
	float score;
	int backend;            /* odet_backend_kind */
	int precision;          /* odet_precision: fp32 or fp16 */
} video_cli;

typedef struct video_sink {
	const video_cli *o;
	odet_model_info mi;
	FILE *jf;
	int64_t *frames;        /* per source, delivered */
	double t0, last_progress, last_flush;
	int n_failed;
	odet_ctx *ctx;
	odet_video_writer **writers; /* --save-video: per source, opened on its first frame */
	int *writer_failed;
	uint8_t *draw;          /* the frame being annotated */
	size_t draw_cap;
	int save_errors;
	odet_publisher *pub;    /* --publish: each frame's line, also to a Redis stream */
} video_sink;


/* 0 ok, 1 --help printed, 2 usage error (printed) */
static int parse(int argc, char **argv, video_cli *o)
{
	static const cli_choice decoders[] = {{"auto", -1}, {"cpu", 0}, {"nvdec", 1}, {NULL, 0}};
	static const cli_choice precisions[] = {{"fp32", ODET_PRECISION_FP32}, {"fp16", ODET_PRECISION_FP16}, {NULL, 0}};
	memset(o, 0, sizeof *o);
	o->out_dir = "odet-video";
	o->score = 0.3f;
	o->timeout_ms = 40;
	o->decode = -1;
	o->batch = 0;
	o->backend = ODET_BACKEND_AUTO;
	o->sources = calloc((size_t)argc, sizeof *o->sources);
	if (!o->sources)
		return 2;
	cli_device_list devices = {o->devices, MAX_DEVICES, &o->n_devices};
	cli_parser p;
	cli_parser_init(&p, "video", "usage: odet video MODEL SOURCE... [options]\n"
				     "  MODEL             model.onnx, TF.js model.json, or model.plan\n"
				     "  SOURCE            video files (mp4, mkv, avi, mov, ...: what FFmpeg reads)\n");
	cli_positionals(&p, &o->model, o->sources, &o->n_sources, argc);
	cli_add(&p, (cli_opt){"--out", CLI_STR, &o->out_dir, .arg = "DIR", .help = "output folder (default: odet-video)"});
	cli_add(&p, (cli_opt){"--json", CLI_STR, &o->json_path, .arg = "FILE",
			      .help = "JSON lines, one per frame (default: DIR/detections.jsonl)"});
	cli_add(&p, (cli_opt){"--publish", CLI_STR, &o->publish, .arg = "URL",
			      .help = "each frame's JSON line also to a Redis stream (field msg):\n"
				      "redis://[:PASSWORD@]HOST[:PORT]/STREAM (docs/queue.md)"});
	cli_add(&p, (cli_opt){"--score", CLI_FLOAT, &o->score, 0, 1, .arg = "T", .help = "minimum score to report (default 0.3)"});
	cli_add(&p, (cli_opt){"--head", CLI_STR, &o->head, .arg = "SPEC",
			      .help = "detection head preset or config (default: recognized)"});
	cli_add(&p, (cli_opt){"--batch", CLI_INT, &o->batch, 1, 4096, .arg = "N",
			      .help = "frames per batch, from all sources (default 1; a plan keeps its own)"});
	cli_add(&p, (cli_opt){"--batch-timeout-ms", CLI_LONG, &o->timeout_ms, 0, 600000, .arg = "T",
			      .help = "a partial batch goes out T ms after its oldest frame (default 40)"});
	cli_add(&p, (cli_opt){"--realtime", CLI_FLAG, &o->realtime,
			      .help = "read each source at its frame rate, as a camera delivers it"});
	cli_add(&p, (cli_opt){"--max-frames", CLI_LONG, &o->max_frames, 0, 2000000000L, .arg = "N",
			      .help = "frames per source (default: all)"});
	cli_add(&p, (cli_opt){"--queue", CLI_LONG, &o->queue, 1, 4096, .arg = "N",
			      .help = "decoded frames buffered per source (default: 2 x batch / sources + 2, >= 4)"});
	cli_add(&p, (cli_opt){"--no-infer", CLI_FLAG, &o->no_infer, .help = "decode only (frames/s of the decoders)"});
	cli_add(&p, (cli_opt){"--decode", CLI_ENUM, &o->decode, .choices = decoders, .arg = "D",
			      .help = "auto (default: nvdec where it can serve, else cpu), cpu (FFmpeg on the\n"
				      "CPU) or nvdec (H.264/HEVC on the GPU, frames stay in GPU memory; CUDA,\n"
				      "one GPU, not with --save-video; other codecs fall back to the CPU)"});
	cli_add(&p, (cli_opt){"--no-track", CLI_FLAG, &o->no_track, .help = "no tracker (track ids -1)"});
	cli_add(&p, (cli_opt){"--save-video", CLI_FLAG, &o->save_video,
			      .help = "an annotated video per source: DIR/<name>.mp4 (boxes, labels, track ids)"});
	cli_add(&p, (cli_opt){"--backend", CLI_ENUM, &o->backend, .choices = cli_backends, .arg = "B",
			      .help = "cpu, cuda or auto (default: cuda when a GPU answers)"});
	cli_add(&p, (cli_opt){"--precision", CLI_ENUM, &o->precision, .choices = precisions, .arg = "P",
			      .help = "fp32 (default) or fp16 (CUDA)"});
	cli_add(&p, (cli_opt){"--devices", CLI_FN, &devices, .fn = cli_devices, .arg = "L",
			      .help = "GPUs, e.g. 0,1 (repeats allowed); default: every visible GPU"});
	cli_add(&p, (cli_opt){"--threads", CLI_INT, &o->threads, 0, 256, .arg = "N",
			      .help = "CPU threads of a CPU engine (default: all cores)"});
	cli_add(&p, (cli_opt){"--quiet", CLI_FLAG, &o->quiet, .help = "no progress lines"});
	cli_add(&p, (cli_opt){"-v", CLI_COUNT, &o->verbose, .help = "log engine building"});
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "exit codes: 0 every source read, 2 bad input (a source failed) or usage, 1 runtime failure"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr;
	if (o->n_sources > 4096) { /* odet_video_run's limit, said before anything is opened */
		fprintf(stderr, "odet video: %d sources; one run takes at most 4096\n", o->n_sources);
		return 2;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(video_sink *k, bool last)
{
	double el = now_s() - k->t0;
	for (int i = 0; i < k->o->n_sources; i++)
		fprintf(stderr, "odet: %s: %lld frames, %.1f frames/s%s\n", k->o->sources[i], (long long)k->frames[i],
			el > 0 ? k->frames[i] / el : 0.0, last ? " (done)" : "");
}

/* DIR/<file name without extension>.mp4; -<index> when an earlier source has the same name. */
static void video_path(const video_cli *o, int i, char *out, size_t n)
{
	char stem[1024], other[1024];
	cli_file_stem(o->sources[i], stem, sizeof stem);
	int dup = 0;
	for (int j = 0; j < i; j++) {
		cli_file_stem(o->sources[j], other, sizeof other);
		dup |= !strcmp(other, stem);
	}
	if (dup)
		snprintf(out, n, "%s/%s-%d.mp4", o->out_dir, stem, i);
	else
		snprintf(out, n, "%s/%s.mp4", o->out_dir, stem);
}

/* --save-video: the frame with its boxes, labels and track ids, into the source's video. */
static void save_frame(video_sink *k, const odet_frame_result *r)
{
	int s = r->source;
	if (k->writer_failed[s] || !r->rgb)
		return;
	char path[4200];
	if (!k->writers[s]) {
		video_path(k->o, s, path, sizeof path);
		if (odet_video_writer_open(k->ctx, path, r->width, r->height, r->fps > 0 ? r->fps : 25, &k->writers[s])) {
			fprintf(stderr, "odet: %s\n", odet_ctx_last_error(k->ctx));
			k->writer_failed[s] = 1;
			k->save_errors++;
			return;
		}
	}
	size_t bytes = (size_t)r->width * (size_t)r->height * 3;
	if (bytes > k->draw_cap) {
		uint8_t *d = realloc(k->draw, bytes);
		if (!d) {
			k->writer_failed[s] = 1;
			k->save_errors++;
			return;
		}
		k->draw = d;
		k->draw_cap = bytes;
	}
	memcpy(k->draw, r->rgb, bytes);
	odet_image img = {.width = r->width, .height = r->height, .rgb = k->draw};
	int th = r->width >= 1200 ? 4 : r->width >= 500 ? 3 : 2;
	for (int i = r->count - 1; i >= 0; i--) {
		uint8_t col[3];
		char label[96];
		const char *name = odet_coco_class_name(&k->mi, r->classes[i]);
		odet_class_color(r->classes[i], col);
		if (r->tracks)
			snprintf(label, sizeof label, "%s id%d %.2f", name ? name : "?", r->tracks[i].id, r->scores[i]);
		else
			snprintf(label, sizeof label, "%s %.2f", name ? name : "?", r->scores[i]);
		odet_image_draw_box(&img, r->boxes + 4 * i, col, th, label);
	}
	if (odet_video_writer_write(k->writers[s], &img)) {
		fprintf(stderr, "odet: %s\n", odet_ctx_last_error(k->ctx));
		k->writer_failed[s] = 1;
		k->save_errors++;
	}
}

static odet_status on_frame(void *user, const odet_frame_result *r)
{
	video_sink *k = user;
	if (interrupted)
		return ODET_ERR_IO;
	k->frames[r->source]++;
	/* --publish: the line is built in memory, then written to the file and sent */
	char *line = NULL;
	size_t line_n = 0;
	FILE *f = k->pub ? open_memstream(&line, &line_n) : k->jf;
	if (!f)
		return odet_error(k->ctx, ODET_ERR_NO_MEMORY, "no memory for a frame's line");
	fprintf(f, "{\"source\": %d, \"name\": ", r->source);
	cli_json_str(f, r->name);
	fprintf(f, ", \"frame\": %lld, \"pts\": %.4f, \"width\": %d, \"height\": %d, \"detections\": [", (long long)r->frame,
		r->pts, r->width, r->height);
	for (int i = 0; i < r->count; i++) {
		const float *b = r->boxes + 4 * i;
		const char *name = odet_coco_class_name(&k->mi, r->classes[i]);
		fprintf(f, "%s{\"track\": %d, \"box\": [%.2f, %.2f, %.2f, %.2f], \"class\": %d, \"category\": %d, "
			"\"label\": ", i ? ", " : "", r->tracks ? r->tracks[i].id : -1, b[0], b[1], b[2], b[3], r->classes[i],
			odet_coco_category_id(&k->mi, r->classes[i]));
		cli_json_str(f, name ? name : "");
		fprintf(f, ", \"score\": %.5f", r->scores[i]);
		if (r->tracks)
			fprintf(f, ", \"age\": %d, \"velocity\": [%.2f, %.2f]", r->tracks[i].age, r->tracks[i].vx,
				r->tracks[i].vy);
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (k->pub) {
		if (fclose(f) != 0 || !line)
			return odet_error(k->ctx, ODET_ERR_NO_MEMORY, "no memory for a frame's line");
		f = k->jf;
		fwrite(line, 1, line_n, f);
		odet_status prc = odet_publisher_send(k->pub, line, line_n ? line_n - 1 : 0);
		free(line);
		if (prc)
			return odet_error(k->ctx, prc, "--publish %s: %s", k->o->publish, odet_ctx_last_error(k->ctx));
	}
	if (k->o->save_video)
		save_frame(k, r);
	double t = now_s();
	if (t - k->last_flush > 0.5) {
		fflush(f);
		k->last_flush = t;
	}
	if (!k->o->quiet && t - k->last_progress > 5) {
		progress(k, false);
		k->last_progress = t;
	}
	return ferror(f) ? ODET_ERR_IO : ODET_OK;
}

static void on_source(void *user, const odet_source_report *r)
{
	video_sink *k = user;
	if (r->status) {
		k->n_failed++;
		const char *m = r->message && *r->message ? r->message : odet_status_str(r->status);
		size_t nl = strlen(r->name);
		if (!strncmp(m, r->name, nl) && m[nl] == ':') /* the message names the file already */
			fprintf(stderr, "odet: %s\n", m);
		else
			fprintf(stderr, "odet: %s: %s\n", r->name, m);
		return;
	}
	if (r->message && *r->message)
		fprintf(stderr, "odet: %s: %s\n", r->name, r->message);
	if (!k->o->quiet)
		fprintf(stderr, "odet: %s: %dx%d %s %.2f fps: %lld decoded, %lld inferred, %lld dropped, %lld corrupt\n",
			r->name, r->width, r->height, r->codec, r->fps, (long long)r->decoded, (long long)r->inferred,
			(long long)r->dropped, (long long)r->corrupt);
}

static odet_status open_pipeline(odet_ctx *ctx, const video_cli *o, odet_pipeline **p)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = o->model;
	po.score = o->score;
	po.build.backend = (odet_backend_kind)o->backend;
	po.build.precision = (odet_precision)o->precision;
	po.build.head = o->head;
	po.build.batch = o->batch; /* 0: a plan keeps its own, a model gets 1 */
	po.devices = o->n_devices ? o->devices : NULL;
	po.n_devices = o->n_devices;
	po.gpu_decode = 0;
	odet_status rc = odet_pipeline_create(ctx, &po, p);
	if (rc == ODET_ERR_DEVICE && o->backend == ODET_BACKEND_AUTO) {
		fprintf(stderr, "odet: %s; running on the CPU\n", odet_ctx_last_error(ctx));
		po.build.backend = ODET_BACKEND_CPU;
		po.devices = NULL;
		po.n_devices = 0;
		rc = odet_pipeline_create(ctx, &po, p);
	}
	return rc;
}

int cmd_video(int argc, char **argv)
{
	video_cli o;
	int pr = parse(argc, argv, &o);
	if (pr) {
		free(o.sources);
		return pr == 1 ? 0 : 2;
	}
	int exit_code = 1;
	odet_ctx *ctx = NULL;
	odet_pipeline *p = NULL;
	video_sink k = {.o = &o};
	char jpath[4200];
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = o.threads;
	co.log_level = o.verbose >= 2 ? ODET_LOG_DEBUG : o.verbose ? ODET_LOG_INFO : ODET_LOG_WARN;
	odet_status rc = odet_ctx_create(&co, &ctx);
	if (rc) {
		fprintf(stderr, "odet video: cannot create a context: %s\n", odet_status_str(rc));
		goto out_free;
	}
	if (!odet_video_available()) {
		fprintf(stderr, "odet video: this odet was built without FFmpeg (libavformat, libavcodec, libswscale): "
				"no video input\n");
		exit_code = 2;
		goto out_free;
	}
	if (!o.json_path || o.save_video) {
		if (mkdir(o.out_dir, 0777) && errno != EEXIST) {
			fprintf(stderr, "odet video: cannot create %s: %s\n", o.out_dir, strerror(errno));
			goto out_free;
		}
	}
	if (!o.json_path) {
		snprintf(jpath, sizeof jpath, "%s/detections.jsonl", o.out_dir);
		o.json_path = jpath;
	}
	if ((rc = open_pipeline(ctx, &o, &p))) {
		const char *msg = odet_ctx_last_error(ctx);
		if (!strncmp(msg, o.model, strlen(o.model))) /* the message names the model already */
			fprintf(stderr, "odet: %s\n", msg);
		else
			fprintf(stderr, "odet: %s: %s\n", o.model, *msg ? msg : odet_status_str(rc));
		exit_code = odet_status_exit_code(rc);
		goto out_free;
	}
	odet_pipeline_model_info(p, &k.mi);
	if (o.publish && (rc = odet_publisher_open(ctx, o.publish, 0, &k.pub))) {
		fprintf(stderr, "odet video: --publish %s: %s\n", o.publish, odet_ctx_last_error(ctx));
		exit_code = rc == ODET_ERR_INVALID_ARG ? 2 : 1;
		goto out_free;
	}
	if (!(k.jf = fopen(o.json_path, "w"))) {
		fprintf(stderr, "odet video: cannot write %s: %s\n", o.json_path, strerror(errno));
		goto out_free;
	}
	k.ctx = ctx;
	if (!(k.frames = calloc((size_t)o.n_sources, sizeof *k.frames)) ||
	    !(k.writers = calloc((size_t)o.n_sources, sizeof *k.writers)) ||
	    !(k.writer_failed = calloc((size_t)o.n_sources, sizeof *k.writer_failed)))
		goto out_free;
	odet_video_opts vo = odet_video_opts_default();
	vo.batch_timeout_ms = (int)o.timeout_ms;
	vo.realtime = o.realtime;
	vo.max_frames = o.max_frames;
	vo.queue_frames = (int)o.queue;
	vo.no_infer = o.no_infer;
	vo.track = !o.no_track;
	vo.keep_frames = o.save_video;
	vo.decode = o.decode;
	struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	k.t0 = k.last_progress = k.last_flush = now_s();
	odet_video_stats st;
	rc = odet_video_run(p, o.sources, o.n_sources, &vo, on_frame, on_source, &k, &st);
	sigaction(SIGINT, &old_sa, NULL);
	if (fclose(k.jf) && !rc) {
		k.jf = NULL;
		fprintf(stderr, "odet video: writing %s failed\n", o.json_path);
		goto out_free;
	}
	k.jf = NULL;
	for (int i = 0; i < o.n_sources; i++)
		if (k.writers[i]) {
			odet_status wrc = odet_video_writer_close(k.writers[i]);
			k.writers[i] = NULL;
			if (wrc) {
				fprintf(stderr, "odet: %s\n", odet_ctx_last_error(ctx));
				k.save_errors++;
			}
		}
	if (!o.quiet)
		progress(&k, true);
	double s = st.seconds > 0 ? st.seconds : 1e-9;
	fprintf(stderr,
		"odet: %d sources (%d failed), %lld frames decoded, %lld inferred, %lld dropped, %lld corrupt, "
		"%lld detections in %.2f s: %.1f frames/s; decode %.1f frames/s per thread, device %.2f s, "
		"latency p50 %.1f ms p99 %.1f ms; %s\n",
		st.n_sources, st.failed_sources, (long long)st.decoded, (long long)st.inferred, (long long)st.dropped,
		(long long)st.corrupt, (long long)st.detections, st.seconds, (o.no_infer ? st.decoded : st.inferred) / s,
		st.decode_s > 0 ? st.decoded / st.decode_s : 0.0, st.device_s, st.latency_p50_s * 1e3,
		st.latency_p99_s * 1e3, o.json_path);
	if (interrupted) {
		fprintf(stderr, "odet video: interrupted; %s holds the frames delivered so far\n", o.json_path);
		exit_code = 1;
	} else if (rc) {
		exit_code = cli_fail(ctx, rc, "video");
	} else {
		exit_code = k.n_failed ? 2 : k.save_errors ? 1 : 0;
	}
out_free:
	if (k.jf)
		fclose(k.jf);
	for (int i = 0; k.writers && i < o.n_sources; i++)
		odet_video_writer_close(k.writers[i]);
	odet_publisher_close(k.pub);
	free(k.writers);
	free(k.writer_failed);
	free(k.draw);
	free(k.frames);
	odet_pipeline_destroy(p);
	odet_ctx_destroy(ctx);
	free(o.sources);
	return exit_code;
}
