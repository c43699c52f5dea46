/*
 * cmd_detect.c — `odet detect MODEL SOURCE... [options]`: detect objects in JPEG/PNG images.
 *
 * A thin front end over the image pipeline (odet_pipeline_* in odet.h): sources are expanded,
 * the pipeline reads, decodes (nvJPEG on CUDA engines), letterboxes, batches and runs them on
 * one or several devices, and hands back each image's detections in input order; this file
 * writes them: a COCO results file (atomically), annotated JPEGs, one line per image, a
 * progress bar, and a throughput summary. A bad image is reported by name and skipped; the
 * exit code is 2 when some inputs failed, 1 on a runtime failure (results so far are kept in
 * the JSON file, which is completed and closed).
 */
#include "cli_sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 64

typedef struct detect_opts {
	const char *model, *out_dir, *json_path, *annotations, *stats_path;
	float score;
	int quiet, draw, gpu_decode, read_threads, n_devices, verbose, slots;
	float cpu_share;
	int devices[MAX_DEVICES];
	long threads;
	odet_build_opts bo;
	cli_engine_opts eo;
} detect_opts;

typedef struct sink {
	const detect_opts *o;
	odet_ctx *ctx;
	odet_model_info mi;
	odet_coco_eval *ev;
	FILE *jf;
	int first_record, tty, show_progress, n_bad;
	int64_t total, done, n_dets;
	double t0, last_progress;
} sink;


static const char *class_name(const odet_model_info *mi, int cls, char *buf, size_t n)
{
	const char *s = odet_coco_class_name(mi, cls);
	if (s)
		return s;
	snprintf(buf, n, "class %d", cls);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(const sink *k)
{
	double el = now_s() - k->t0, rate = el > 0 ? k->done / el : 0;
	double eta = rate > 0 ? (k->total - k->done) / rate : 0;
	if (k->tty) {
		int w = 30, f = k->total ? (int)(k->done * w / k->total) : w;
		fprintf(stderr, "\r[%.*s%*s] %lld/%lld  %.1f img/s  ETA %d:%02d ", f, "==============================",
			w - f, "", (long long)k->done, (long long)k->total, rate, (int)eta / 60, (int)eta % 60);
		if (k->done == k->total)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "odet: %lld/%lld images, %.1f img/s, ETA %d:%02d\n", (long long)k->done,
			(long long)k->total, rate, (int)eta / 60, (int)eta % 60);
	}
}

static odet_status draw_image(sink *k, const odet_image_result *r, const char *stem)
{
	const detect_opts *o = k->o;
	odet_image img;
	odet_status rc = odet_image_decode_file(k->ctx, r->path, &img);
	if (rc)
		return rc;
	/* lowest scores first so the best boxes and labels end on top */
	for (int i = r->count - 1; i >= 0; i--) {
		uint8_t col[3];
		char label[96], nbuf[32];
		odet_class_color(r->classes[i], col);
		snprintf(label, sizeof label, "%s %.2f", class_name(&k->mi, r->classes[i], nbuf, sizeof nbuf),
			 r->scores[i]);
		int th = img.width >= 1200 ? 4 : img.width >= 500 ? 3 : 2;
		odet_image_draw_box(&img, r->boxes + 4 * i, col, th, label);
	}
	char op[4200];
	snprintf(op, sizeof op, "%s/%s.jpg", o->out_dir, stem);
	rc = odet_image_write_jpeg(k->ctx, op, &img, 90);
	odet_image_free(&img);
	return rc;
}

/* The pipeline's callback: one image, in input order. */
static odet_status on_image(void *user, const odet_image_result *r)
{
	sink *k = user;
	const detect_opts *o = k->o;
	odet_status rc;
	k->done++;
	if (r->status) {
		fprintf(stderr, "odet: %s\n", r->error ? r->error : odet_status_str(r->status));
		k->n_bad++;
	} else {
		char stem[1024], line[2048], nbuf[32];
		cli_file_stem(r->path, stem, sizeof stem);
		int64_t coco_id = -1;
		if (k->ev && odet_coco_eval_find_image(k->ev, cli_base_name(r->path), &coco_id) != ODET_OK) {
			fprintf(stderr, "odet: %s: not in %s, not evaluated\n", cli_base_name(r->path), o->annotations);
			coco_id = -1;
		}
		if (coco_id >= 0)
			snprintf(stem, sizeof stem, "%lld", (long long)coco_id);
		size_t ll = (size_t)snprintf(line, sizeof line, "%s: ", cli_base_name(r->path));
		for (int i = 0; i < r->count; i++) {
			const float *b = r->boxes + 4 * i;
			int cat = odet_coco_category_id(&k->mi, r->classes[i]);
			fprintf(k->jf, "%s\n{\"image_id\": ", k->first_record ? "" : ",");
			cli_json_image_id(k->jf, stem);
			fprintf(k->jf, ", \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], \"score\": %.5f}", cat,
				b[0], b[1], b[2] - b[0], b[3] - b[1], r->scores[i]);
			k->first_record = 0;
			if (coco_id >= 0 && cat > 0) {
				double xywh[4] = {b[0], b[1], b[2] - b[0], b[3] - b[1]};
				if ((rc = odet_coco_eval_add_detection(k->ev, coco_id, cat, xywh, r->scores[i])))
					return rc;
			}
			if (!o->quiet && ll < sizeof line - 64)
				ll += (size_t)snprintf(line + ll, sizeof line - ll, "%s%s %.2f", i ? ", " : "",
						       class_name(&k->mi, r->classes[i], nbuf, sizeof nbuf), r->scores[i]);
		}
		k->n_dets += r->count;
		if (!o->quiet)
			printf("%s%s\n", line, r->count ? "" : "nothing");
		if (o->draw && (rc = draw_image(k, r, stem))) {
			/* the photo decoded in the pipeline; failing to draw it is an output failure */
			return odet_error(k->ctx, rc == ODET_ERR_BAD_INPUT ? ODET_ERR_IO : rc, "%s",
					  odet_ctx_last_error(k->ctx));
		}
	}
	if (k->show_progress && (now_s() - k->last_progress > 0.5 || k->done == k->total)) {
		progress(k);
		k->last_progress = now_s();
	}
	return ODET_OK;
}

/* --cpu-decode-share: auto (-1) or a share in [0, 1] */
static int parse_share(const char *cmd, const char *opt, char *v, void *ptr)
{
	double d;
	if (!strcmp(v, "auto")) {
		*(float *)ptr = -1.0f;
		return 0;
	}
	if (!cli_double(cmd, opt, v, 0, 1, &d))
		return -1;
	*(float *)ptr = (float)d;
	return 0;
}

/* 0 parsed, 1 --help printed, -1 bad usage (printed) */
static int parse_args(int argc, char **argv, detect_opts *o, const char ***srcs, int *n_src)
{
	static const cli_choice decoders[] = {{"auto", -1}, {"gpu", 1}, {"cpu", 0}, {NULL, 0}};
	o->out_dir = "odet-detect";
	o->score = 0.3f;
	o->draw = 1;
	o->gpu_decode = -1;
	o->bo = odet_build_opts_default();
	o->bo.batch = 0;
	cli_engine_opts_init(&o->eo);
	cli_device_list devices = {o->devices, MAX_DEVICES, &o->n_devices};
	int no_draw = 0;
	cli_parser p;
	cli_parser_init(&p, "detect", "usage: odet detect MODEL SOURCE... [options]\n"
				      "  MODEL             model.onnx, TF.js model.json, or model.plan\n"
				      "  SOURCE            image files (JPEG/PNG), folders, glob patterns, or @LIST (one path a line)\n");
	cli_positionals(&p, &o->model, *srcs, n_src, argc);
	cli_add(&p, (cli_opt){"--out", CLI_STR, &o->out_dir, .arg = "DIR", .help = "annotated images go here (default: odet-detect)"});
	cli_add(&p, (cli_opt){"--json", CLI_STR, &o->json_path, .arg = "FILE",
			      .help = "COCO results file (default: DIR/detections.json)"});
	cli_add(&p, (cli_opt){"--score", CLI_FLOAT, &o->score, 0, 1, .arg = "T", .help = "minimum score to report (default 0.3)"});
	cli_add(&p, (cli_opt){"--annotations", CLI_STR, &o->annotations, .arg = "F",
			      .help = "COCO instances JSON: use its image ids and evaluate the detections"});
	cli_add_common(&p, CLI_OPT_BATCH | CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &o->eo, &o->bo, &o->threads,
		       &o->verbose);
	cli_add(&p, (cli_opt){"--devices", CLI_FN, &devices, .fn = cli_devices, .arg = "L",
			      .help = "GPUs, e.g. 0,1 (repeats allowed: 0,0); default: every visible GPU"});
	cli_add(&p, (cli_opt){"--decode", CLI_ENUM, &o->gpu_decode, .choices = decoders, .arg = "D",
			      .help = "auto (nvJPEG on CUDA when it loads), gpu (required), or cpu"});
	cli_add(&p, (cli_opt){"--read-threads", CLI_INT, &o->read_threads, 0, 256, .arg = "N",
			      .help = "threads reading and CPU-decoding (default: cores, at most 16)"});
	cli_add(&p, (cli_opt){"--slots", CLI_INT, &o->slots, 1, 8, .arg = "N",
			      .help = "batches in flight per device, one thread each (default: 2 CUDA, 1 CPU)"});
	cli_add(&p, (cli_opt){"--cpu-decode-share", CLI_FN, &o->cpu_share, .fn = parse_share, .arg = "F",
			      .help = "share (0..1) of GPU-decodable JPEGs decoded on the CPU beside nvJPEG\n"
				      "(default 0); auto: reading threads ahead of the GPU decode what they can"});
	cli_add(&p, (cli_opt){"--stats", CLI_STR, &o->stats_path, .arg = "FILE",
			      .help = "write the run's figures (img/s, stages) as JSON"});
	cli_add(&p, (cli_opt){"--no-draw", CLI_FLAG, &no_draw, .help = "do not write annotated images"});
	cli_add(&p, (cli_opt){"--quiet", CLI_FLAG, &o->quiet, .help = "no per-image lines"});
	cli_add(&p, (cli_opt){.kind = CLI_TEXT,
			      .help = "exit codes: 0 all images processed, 2 bad input (some images skipped), 1 runtime failure"});
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 1 : -1;
	o->draw = !no_draw;
	return 0;
}

static void write_stats(const detect_opts *o, const odet_pipeline *p, const odet_pipeline_stats *st)
{
	FILE *f = fopen(o->stats_path, "w");
	if (!f) {
		fprintf(stderr, "odet: %s: cannot write: %s\n", o->stats_path, strerror(errno));
		return;
	}
	const odet_engine *e = odet_pipeline_engine(p, 0);
	odet_tensor in;
	const char *name;
	odet_engine_input_info(e, 0, &name, &in);
	fprintf(f, "{\"model\": \"%s\", \"images\": %lld, \"failed\": %lld, \"detections\": %lld, \"batches\": %lld, "
		   "\"seconds\": %.4f, \"images_per_s\": %.1f, \"batch\": %d, \"backend\": \"%s\", \"devices\": [",
		o->model, (long long)st->images, (long long)st->failed, (long long)st->detections,
		(long long)st->batches, st->seconds, st->seconds > 0 ? st->images / st->seconds : 0.0,
		odet_pipeline_batch(p), odet_pipeline_device(p, 0) < 0 ? "cpu" : "cuda");
	for (int i = 0; i < odet_pipeline_num_devices(p); i++)
		fprintf(f, "%s%d", i ? ", " : "", odet_pipeline_device(p, i));
	fprintf(f, "], \"decode\": {\"gpu\": %lld, \"cpu\": %lld, \"nvjpeg\": \"%s\"}, \"stages_s\": {\"read\": %.4f, "
		   "\"cpu_decode\": %.4f, \"stage\": %.4f, \"wait_input\": %.4f, \"wait_device\": %.4f, "
		   "\"device\": %.4f, \"sink\": %.4f, \"decode_submit\": %.4f, \"engine_submit\": %.4f}}\n",
		(long long)st->gpu_decoded, (long long)st->cpu_decoded, odet_pipeline_decoder(p), st->read_s,
		st->cpu_decode_s, st->stage_s, st->wait_input_s, st->wait_device_s, st->device_s, st->sink_s,
		st->decode_submit_s, st->engine_submit_s);
	if (fclose(f) != 0)
		fprintf(stderr, "odet: %s: cannot write: %s\n", o->stats_path, strerror(errno));
}

static odet_status open_pipeline(odet_ctx *ctx, detect_opts *o, odet_pipeline **p)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = o->model;
	po.build = o->bo;
	cli_engine_apply(&o->eo, &po.build);
	po.build.batch = o->bo.batch;
	po.devices = o->n_devices ? o->devices : NULL;
	po.n_devices = o->n_devices;
	if (!o->n_devices && o->eo.device) {
		po.devices = &o->eo.device;
		po.n_devices = 1;
	}
	po.gpu_decode = o->gpu_decode;
	po.read_threads = o->read_threads;
	po.slots = o->slots;
	po.score = o->score;
	po.cpu_decode_share = o->cpu_share;
	return cli_pipeline_create(ctx, &po, p);
}

/* A signal during the run removes the half-written results file (the previous one, if any, is
 * untouched: results are renamed into place only when complete), then ends the process as the
 * signal would. The path is set only while the temporary file exists. */
static const char *volatile tmp_on_signal;

static void remove_tmp_and_die(int sig)
{
	const char *t = tmp_on_signal;
	if (t)
		unlink(t);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_tmp(const char *path)
{
	tmp_on_signal = path;
	void (*h)(int) = path ? remove_tmp_and_die : SIG_DFL;
	signal(SIGINT, h);
	signal(SIGTERM, h);
	signal(SIGHUP, h);
}

int cmd_detect(int argc, char **argv)
{
	detect_opts o;
	memset(&o, 0, sizeof o);
	sink k;
	memset(&k, 0, sizeof k);
	odet_ctx *ctx = NULL;
	odet_pipeline *p = NULL;
	odet_path_list files = {0};
	char json_path[4096], json_tmp[4200];
	int exit_code = 0, n_src = 0;
	odet_status rc;
	const char **srcs = calloc((size_t)argc + 1, sizeof *srcs);
	if (!srcs)
		return 1;
	int pa = parse_args(argc, argv, &o, &srcs, &n_src);
	if (pa) {
		exit_code = pa > 0 ? 0 : 2;
		goto out_free;
	}
	if (cli_ctx((int)o.threads, o.verbose, &ctx)) {
		exit_code = 1;
		goto out_free;
	}
	k.o = &o;
	k.ctx = ctx;
	k.first_record = 1;
	if (o.annotations && (rc = odet_coco_eval_load_gt(ctx, o.annotations, &k.ev))) {
		exit_code = cli_fail(ctx, rc, o.annotations);
		goto out_free;
	}
	if ((rc = odet_sources_expand(ctx, srcs, n_src, &files, &k.n_bad))) {
		exit_code = cli_fail(ctx, rc, "detect");
		goto out_free;
	}
	if (files.n == 0) {
		fprintf(stderr, "odet: detect: no images found\n");
		exit_code = 2;
		goto out_free;
	}
	if ((rc = open_pipeline(ctx, &o, &p)) || (rc = odet_pipeline_model_info(p, &k.mi))) {
		exit_code = cli_error(ctx, rc, o.model);
		goto out_free;
	}
	if ((o.draw || !o.json_path) && mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "odet: %s: cannot create folder: %s\n", o.out_dir, strerror(errno));
		exit_code = 1;
		goto out_free;
	}
	if (o.json_path)
		snprintf(json_path, sizeof json_path, "%s", o.json_path);
	else
		snprintf(json_path, sizeof json_path, "%s/detections.json", o.out_dir);
	snprintf(json_tmp, sizeof json_tmp, "%s.tmp.%ld", json_path, (long)getpid());
	if (!(k.jf = fopen(json_tmp, "w"))) {
		fprintf(stderr, "odet: %s: cannot create: %s\n", json_tmp, strerror(errno));
		exit_code = 1;
		goto out_free;
	}
	guard_tmp(json_tmp);
	fputs("[", k.jf);
	k.total = files.n;
	k.tty = isatty(2);
	k.show_progress = files.n >= 20 || (k.tty && files.n > 1);
	k.t0 = now_s();
	odet_pipeline_stats st;
	rc = odet_pipeline_run(p, (const char *const *)files.paths, files.n, on_image, &k, &st);
	if (rc)
		exit_code = cli_fail(ctx, rc, "detect");
	/* what was delivered is complete records: close the array and keep the file either way */
	fputs("\n]\n", k.jf);
	const bool written = fclose(k.jf) == 0 && rename(json_tmp, json_path) == 0;
	guard_tmp(NULL);
	if (!written) {
		k.jf = NULL;
		fprintf(stderr, "odet: %s: cannot write: %s\n", json_path, strerror(errno));
		unlink(json_tmp);
		exit_code = 1;
		goto out_free;
	}
	k.jf = NULL;
	if (rc)
		goto out_free;
	fprintf(stderr, "odet: %lld images, %lld detections in %.2f s (%.1f img/s); results in %s%s%s\n",
		(long long)st.images, (long long)k.n_dets, st.seconds, st.seconds > 0 ? st.images / st.seconds : 0.0,
		json_path, o.draw ? ", images in " : "", o.draw ? o.out_dir : "");
	if (o.verbose || o.stats_path || files.n >= 256)
		fprintf(stderr,
			"odet: batch %d on %d device(s), decode %s (%lld on the GPU, %lld on the CPU); thread time: read %.2f s, "
			"CPU decode %.2f s, staging %.2f s (nvJPEG calls %.2f s, engine launches %.2f s), waiting for input %.2f s, "
			"waiting for the device %.2f s, output %.2f s; device %.2f s\n",
			odet_pipeline_batch(p), odet_pipeline_num_devices(p), odet_pipeline_decoder(p),
			(long long)st.gpu_decoded, (long long)st.cpu_decoded, st.read_s, st.cpu_decode_s, st.stage_s,
			st.decode_submit_s, st.engine_submit_s, st.wait_input_s, st.wait_device_s, st.sink_s, st.device_s);
	if (o.stats_path)
		write_stats(&o, p, &st);
	if (k.ev) {
		if ((rc = odet_coco_eval_evaluate(k.ev))) {
			exit_code = cli_fail(ctx, rc, "evaluate");
			goto out_free;
		}
		printf("COCO bbox evaluation against %s (scores >= %.2f kept):\n", o.annotations, o.score);
		odet_coco_eval_print_summary(k.ev, stdout);
	}
	if (k.n_bad) {
		fprintf(stderr, "odet: %d input(s) failed and were skipped\n", k.n_bad);
		exit_code = 2;
	}
out_free:
	if (k.jf) {
		fclose(k.jf);
		unlink(json_tmp);
		guard_tmp(NULL);
	}
	odet_coco_eval_destroy(k.ev);
	odet_pipeline_destroy(p);
	odet_path_list_free(&files);
	odet_ctx_destroy(ctx);
	free(srcs);
	return exit_code;
}
