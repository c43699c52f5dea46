/*
 * main.c — odet-fcw, a forward-collision warning on a video, built on odet.h only:
 *
 *   video --odet_video_run (decode, detect, track)--> per frame: the selected classes -->
 *   logic.c (ground position, distance, closing speed, TTC, zone, level) --> JSON lines (one
 *   per object and frame), annotated output (render.c: JPEG frames and/or a video through
 *   odet_video_writer), and a summary (stderr and JSON).
 *
 * Exit codes: 0 ok; 2 bad input or usage (calibration refused, video unreadable); 1 runtime
 * failure or interrupted (what was written stays written: the JSON lines are complete lines).
 */
#include <odet.h>

#include "calib.h"
#include "logic.h"
#include "render.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_CLASSES 128

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

typedef struct fcw_cli {
	const char *model, *video, *calib_path, *out_dir, *events_path, *summary_path, *classes, *speed_csv, *head;
	double ego_speed, score;
	long long max_frames;
	int batch, threads, save_video, frames_every, check_only, quiet;
	odet_backend_kind backend;
	odet_precision precision;
} fcw_cli;

typedef struct track_sum {
	int32_t id;
	int frames;
	double min_dist, min_ttc;
	fcw_level max_level;
	int warnings;            /* entries into warning */
} track_sum;

typedef struct fcw_app {
	const fcw_cli *o;
	odet_ctx *ctx;
	odet_model_info mi;
	fcw_calib calib;
	fcw_speed speed;
	fcw_state *state;
	fcw_view *view;
	bool want[MAX_CLASSES];
	FILE *ev;
	odet_video_writer *writer;
	int render;                  /* frames or video wanted */
	uint8_t *canvas;
	float *boxes;
	int32_t *ids;
	const char **names;
	fcw_obj *objs;
	int cap;
	int64_t frames, objects, level_frames[3], horizon, warnings_entered, size_mismatch;
	int64_t frames_saved;
	int width, height, failed_sources, write_errors;
	double render_s;
	track_sum *ts;
	int n_ts, cap_ts;
	char frames_dir[4200];
} fcw_app;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: odet-fcw MODEL VIDEO --calib FILE [options]\n"
		   "       odet-fcw --calib FILE --check        (fit the calibration, print residuals)\n"
		   "  --calib FILE         camera calibration, zone and levels (apps/fcw/README.md)\n"
		   "  --out DIR            output folder (default: fcw-out)\n"
		   "  --events FILE        JSON lines, one per object and frame (default: DIR/events.jsonl)\n"
		   "  --summary FILE       summary JSON (default: DIR/summary.json)\n"
		   "  --classes LIST       COCO names (default: person,bicycle,car,motorcycle,bus,truck)\n"
		   "  --ego-speed V        ego speed in m/s (default 0: standing or unknown)\n"
		   "  --ego-speed-csv F    ego speed over time: lines 'time_s,speed_mps'\n"
		   "  --save-video         annotated video DIR/fcw.mp4 (frame + bird's-eye panel)\n"
		   "  --save-frames N      every Nth annotated frame as DIR/frames/NNNNNN.jpg\n"
		   "  --score T            minimum detection score (default 0.3)\n"
		   "  --max-frames N       frames to read (default: all)\n"
		   "  --batch N            frames per batch (default 1)\n"
		   "  --backend B          cpu, cuda or auto (default auto)\n"
		   "  --precision P        fp32 (default) or fp16\n"
		   "  --head SPEC          detection head preset or config\n"
		   "  --threads N          CPU threads (default: all cores)\n"
		   "  --quiet              no summary on stderr\n"
		   "exit codes: 0 ok, 2 bad input or usage, 1 runtime failure or interrupted\n");
}

static int num_arg(const char *opt, const char *v, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || *end || errno || !(d >= min && d <= max)) {
		fprintf(stderr, "odet-fcw: %s expects a number in %g..%g, not '%s'\n", opt, min, max, v);
		return -1;
	}
	*out = d;
	return 0;
}

/* 0 ok, 1 help printed, 2 usage error printed */
static int parse(int argc, char **argv, fcw_cli *o)
{
	memset(o, 0, sizeof *o);
	o->out_dir = "fcw-out";
	o->classes = "person,bicycle,car,motorcycle,bus,truck";
	o->score = 0.3;
	o->backend = ODET_BACKEND_AUTO;
	const char *pos[2] = {NULL, NULL};
	int np = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		double d = 0;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--check") || !strcmp(a, "--save-video") || !strcmp(a, "--quiet")) {
			if (a[2] == 'c')
				o->check_only = 1;
			else if (a[2] == 's')
				o->save_video = 1;
			else
				o->quiet = 1;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			if (i + 1 >= argc) {
				fprintf(stderr, "odet-fcw: %s needs a value\n", a);
				return 2;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--calib"))
				o->calib_path = v;
			else if (!strcmp(a, "--out"))
				o->out_dir = v;
			else if (!strcmp(a, "--events"))
				o->events_path = v;
			else if (!strcmp(a, "--summary"))
				o->summary_path = v;
			else if (!strcmp(a, "--classes"))
				o->classes = v;
			else if (!strcmp(a, "--ego-speed-csv"))
				o->speed_csv = v;
			else if (!strcmp(a, "--head"))
				o->head = v;
			else if (!strcmp(a, "--ego-speed")) {
				if (num_arg(a, v, 0, 200, &o->ego_speed))
					return 2;
			} else if (!strcmp(a, "--score")) {
				if (num_arg(a, v, 0, 1, &o->score))
					return 2;
			} else if (!strcmp(a, "--save-frames") || !strcmp(a, "--max-frames") || !strcmp(a, "--batch") ||
				   !strcmp(a, "--threads")) {
				if (num_arg(a, v, a[2] == 's' || a[2] == 'b' ? 1 : 0, 2e9, &d) || d != floor(d)) {
					if (d != floor(d))
						fprintf(stderr, "odet-fcw: %s expects a whole number\n", a);
					return 2;
				}
				if (a[2] == 's')
					o->frames_every = (int)d;
				else if (a[2] == 'm')
					o->max_frames = (long long)d;
				else if (a[2] == 'b')
					o->batch = d > 4096 ? 4096 : (int)d;
				else
					o->threads = d > 256 ? 256 : (int)d;
			} else if (!strcmp(a, "--backend")) {
				if (!strcmp(v, "cpu"))
					o->backend = ODET_BACKEND_CPU;
				else if (!strcmp(v, "cuda"))
					o->backend = ODET_BACKEND_CUDA;
				else if (!strcmp(v, "auto"))
					o->backend = ODET_BACKEND_AUTO;
				else {
					fprintf(stderr, "odet-fcw: --backend expects cpu, cuda or auto\n");
					return 2;
				}
			} else if (!strcmp(a, "--precision")) {
				if (!strcmp(v, "fp32"))
					o->precision = ODET_PRECISION_FP32;
				else if (!strcmp(v, "fp16"))
					o->precision = ODET_PRECISION_FP16;
				else {
					fprintf(stderr, "odet-fcw: --precision expects fp32 or fp16\n");
					return 2;
				}
			} else {
				fprintf(stderr, "odet-fcw: unknown option %s\n", a);
				return 2;
			}
			continue;
		}
		if (np == 2) {
			fprintf(stderr, "odet-fcw: one video at a time (extra argument '%s')\n", a);
			return 2;
		}
		pos[np++] = a;
	}
	o->model = pos[0];
	o->video = pos[1];
	if (!o->calib_path || (!o->check_only && np != 2)) {
		usage(stderr);
		return 2;
	}
	if (o->speed_csv && o->ego_speed > 0) {
		fprintf(stderr, "odet-fcw: give --ego-speed or --ego-speed-csv, not both\n");
		return 2;
	}
	return 0;
}

/* Which model classes to keep, by COCO name; -1 (message printed) for an unknown name. */
static int select_classes(fcw_app *a)
{
	char list[1024];
	snprintf(list, sizeof list, "%s", a->o->classes);
	int nc = a->mi.num_classes < MAX_CLASSES ? a->mi.num_classes : MAX_CLASSES;
	char *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int c = 0; c < nc; c++) {
			const char *n = odet_coco_class_name(&a->mi, c);
			if (n && !strcmp(n, t)) {
				a->want[c] = true;
				found = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "odet-fcw: --classes: '%s' is not a class of this model\n", t);
			return -1;
		}
	}
	return 0;
}

static void json_num(FILE *f, const char *key, double v, const char *fmt)
{
	fprintf(f, ", \"%s\": ", key);
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fputs("null", f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

static track_sum *track_sum_get(fcw_app *a, int32_t id)
{
	for (int i = 0; i < a->n_ts; i++)
		if (a->ts[i].id == id)
			return &a->ts[i];
	if (a->n_ts == a->cap_ts) {
		int cap = a->cap_ts ? 2 * a->cap_ts : 64;
		track_sum *n = realloc(a->ts, (size_t)cap * sizeof *n);
		if (!n)
			return NULL;
		a->ts = n;
		a->cap_ts = cap;
	}
	a->ts[a->n_ts] = (track_sum){.id = id, .min_dist = INFINITY, .min_ttc = INFINITY};
	return &a->ts[a->n_ts++];
}

static int grow(fcw_app *a, int n)
{
	if (n <= a->cap)
		return 0;
	int cap = n + 16;
	float *b = realloc(a->boxes, (size_t)cap * 4 * sizeof *b);
	if (b)
		a->boxes = b;
	int32_t *ids = realloc(a->ids, (size_t)cap * sizeof *ids);
	if (ids)
		a->ids = ids;
	const char **nm = realloc(a->names, (size_t)cap * sizeof *nm);
	if (nm)
		a->names = nm;
	fcw_obj *o = realloc(a->objs, (size_t)cap * sizeof *o);
	if (o)
		a->objs = o;
	if (!b || !ids || !nm || !o)
		return -1;
	a->cap = cap;
	return 0;
}

static odet_status save_render(fcw_app *a, const odet_frame_result *r, const fcw_obj *objs, int n, double ego)
{
	double t0 = now_s();
	if (!a->view) {
		if (!(a->view = fcw_view_create(&a->calib, r->width, r->height)) ||
		    !(a->canvas = malloc((size_t)fcw_view_width(a->view) * r->height * 3)))
			return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "odet-fcw: no memory for the annotated frames");
	}
	rs_img out = {fcw_view_width(a->view), r->height, a->canvas};
	fcw_render_in in = {.rgb = r->rgb, .boxes = a->boxes, .names = a->names, .objs = objs, .n = n,
			    .frame = r->frame, .pts = r->pts, .ego_speed = ego};
	fcw_render(a->view, &in, &out);
	odet_image img = {.width = out.w, .height = out.h, .rgb = out.rgb};
	odet_status rc = ODET_OK;
	if (a->o->save_video) {
		char path[4200];
		snprintf(path, sizeof path, "%s/fcw.mp4", a->o->out_dir);
		if (!a->writer &&
		    (rc = odet_video_writer_open(a->ctx, path, out.w, out.h, r->fps > 0 ? r->fps : 25, &a->writer)))
			return rc;
		if ((rc = odet_video_writer_write(a->writer, &img)))
			return rc;
	}
	if (a->o->frames_every && r->frame % a->o->frames_every == 0) {
		char path[4300];
		snprintf(path, sizeof path, "%s/%06lld.jpg", a->frames_dir, (long long)r->frame);
		if ((rc = odet_image_write_jpeg(a->ctx, path, &img, 85)))
			return rc;
		a->frames_saved++;
	}
	a->render_s += now_s() - t0;
	return rc;
}

static odet_status on_frame(void *user, const odet_frame_result *r)
{
	fcw_app *a = user;
	if (interrupted)
		return odet_error(a->ctx, ODET_ERR_IO, "interrupted");
	if (a->calib.image_w && (r->width != a->calib.image_w || r->height != a->calib.image_h) && !a->size_mismatch++)
		fprintf(stderr, "odet-fcw: warning: the video is %dx%d, the calibration was made for %dx%d\n", r->width,
			r->height, a->calib.image_w, a->calib.image_h);
	a->width = r->width, a->height = r->height;
	if (grow(a, r->count))
		return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "odet-fcw: out of memory");
	int n = 0;
	for (int i = 0; i < r->count; i++) {
		int c = r->classes[i];
		if (c < 0 || c >= MAX_CLASSES || !a->want[c])
			continue;
		memcpy(a->boxes + 4 * n, r->boxes + 4 * i, 4 * sizeof(float));
		a->ids[n] = r->tracks ? r->tracks[i].id : -1;
		a->names[n] = odet_coco_class_name(&a->mi, c);
		n++;
	}
	double ego = fcw_speed_at(&a->speed, r->pts);
	if (fcw_frame(a->state, r->pts, ego, a->boxes, a->ids, n, a->objs))
		return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "odet-fcw: out of memory");
	a->frames++;
	FILE *f = a->ev;
	for (int i = 0; i < n; i++) {
		const fcw_obj *o = &a->objs[i];
		const float *b = a->boxes + 4 * i;
		fprintf(f, "{\"frame\": %lld, \"pts\": %.6f, \"track\": %d, \"label\": \"%s\", \"box\": [%.9g, %.9g, %.9g, %.9g]",
			(long long)r->frame, r->pts, o->track, a->names[i] ? a->names[i] : "?", b[0], b[1], b[2], b[3]);
		fprintf(f, ", \"level\": \"%s\", \"changed\": %s, \"ground\": %s", fcw_level_name(o->level),
			o->changed ? "true" : "false", o->ground ? "true" : "false");
		json_num(f, "distance", o->dist, "%.6f");
		json_num(f, "lateral", o->lateral, "%.6f");
		json_num(f, "ttc", o->ttc, "%.6f");
		json_num(f, "closing", o->closing, "%.6f");
		json_num(f, "x", o->X, "%.6f");
		json_num(f, "y", o->Y, "%.6f");
		fprintf(f, ", \"in_zone\": %s, \"ego_speed\": %.4f}\n", o->in_zone ? "true" : "false", ego);
		a->objects++;
		a->level_frames[o->level]++;
		a->horizon += !o->ground;
		if (o->changed && o->level == FCW_WARNING)
			a->warnings_entered++;
		if (o->track >= 0) {
			track_sum *t = track_sum_get(a, o->track);
			if (!t)
				return odet_error(a->ctx, ODET_ERR_NO_MEMORY, "odet-fcw: out of memory");
			t->frames++;
			if (o->ground && o->dist < t->min_dist)
				t->min_dist = o->dist;
			if (o->ttc < t->min_ttc)
				t->min_ttc = o->ttc;
			if (o->level > t->max_level)
				t->max_level = o->level;
			t->warnings += o->changed && o->level == FCW_WARNING;
		}
	}
	if (ferror(f))
		return odet_error(a->ctx, ODET_ERR_IO, "odet-fcw: writing the events failed");
	if (a->render && r->rgb) {
		odet_status rc = save_render(a, r, a->objs, n, ego);
		if (rc) {
			a->write_errors++;
			return rc;
		}
	}
	return ODET_OK;
}

static void on_source(void *user, const odet_source_report *r)
{
	fcw_app *a = user;
	if (r->status) {
		a->failed_sources++;
		const char *m = r->message && *r->message ? r->message : odet_status_str(r->status);
		size_t nl = strlen(r->name);
		if (!strncmp(m, r->name, nl) && m[nl] == ':')
			fprintf(stderr, "odet-fcw: %s\n", m);
		else
			fprintf(stderr, "odet-fcw: %s: %s\n", r->name, m);
	} else if (r->message && *r->message) {
		fprintf(stderr, "odet-fcw: %s: %s\n", r->name, r->message);
	}
}

static void write_summary(fcw_app *a, FILE *f, const odet_video_stats *st)
{
	const fcw_calib *c = &a->calib;
	double s = st->seconds > 0 ? st->seconds : 1e-9;
	fputs("{\"video\": ", f);
	json_string(f, a->o->video);
	fprintf(f, ", \"width\": %d, \"height\": %d, \"frames\": %lld, \"objects\": %lld, ", a->width, a->height, (long long)a->frames, (long long)a->objects);
	fprintf(f, "\"object_frames\": {\"clear\": %lld, \"caution\": %lld, \"warning\": %lld}, \"above_horizon\": %lld, ",
		(long long)a->level_frames[0], (long long)a->level_frames[1], (long long)a->level_frames[2],
		(long long)a->horizon);
	fprintf(f, "\"warnings\": %lld, \"tracks\": %d, \"seconds\": %.3f, \"frames_per_s\": %.2f, \"render_s\": %.3f, "
		   "\"frames_saved\": %lld,\n",
		(long long)a->warnings_entered, a->n_ts, st->seconds, a->frames / s, a->render_s, (long long)a->frames_saved);
	fprintf(f, " \"H\": [%.17g, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g, %.17g],\n", c->H[0], c->H[1], c->H[2],
		c->H[3], c->H[4], c->H[5], c->H[6], c->H[7], c->H[8]);
	if (c->zone.kind == FCW_ZONE_CORRIDOR)
		fprintf(f, " \"zone\": {\"corridor\": [%.17g, %.17g, %.17g]},\n", c->zone.width, c->zone.near, c->zone.far);
	else {
		fprintf(f, " \"zone\": {\"polygon\": [");
		for (int i = 0; i < c->zone.n; i++)
			fprintf(f, "%s[%.17g, %.17g]", i ? ", " : "", c->zone.poly[i].x, c->zone.poly[i].y);
		fprintf(f, "]},\n");
	}
	const fcw_params *p = &c->params;
	fprintf(f, " \"params\": {\"ttc_warning\": %.17g, \"ttc_clear\": %.17g, \"hold\": %.17g, \"zone_margin\": %.17g, "
		   "\"window\": %.17g, \"min_closing\": %.17g, \"max_range\": %.17g, \"max_gap\": %.17g},\n",
		p->ttc_warning, p->ttc_clear, p->hold_s, p->zone_margin, p->window_s, p->min_closing, p->max_range, p->max_gap);
	fprintf(f, " \"residuals\": {\"rms_m\": %.6g, \"max_m\": %.6g, \"rms_px\": %.6g, \"max_px\": %.6g},\n", c->rms_m,
		c->max_m, c->rms_px, c->max_px);
	fprintf(f, " \"per_track\": [");
	for (int i = 0; i < a->n_ts; i++) {
		const track_sum *t = &a->ts[i];
		fprintf(f, "%s\n  {\"track\": %d, \"frames\": %d, \"max_level\": \"%s\", \"warnings\": %d", i ? "," : "", t->id,
			t->frames, fcw_level_name(t->max_level), t->warnings);
		json_num(f, "min_distance", t->min_dist, "%.3f");
		json_num(f, "min_ttc", t->min_ttc, "%.3f");
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}

static int save_summary(fcw_app *a, const char *path, const odet_video_stats *st)
{
	char tmp[4300];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	write_summary(a, f, st);
	if (fclose(f) || rename(tmp, path)) {
		remove(tmp);
		return -1;
	}
	return 0;
}

static odet_status open_pipeline(odet_ctx *ctx, const fcw_cli *o, odet_pipeline **p)
{
	odet_pipeline_opts po = odet_pipeline_opts_default();
	po.model = o->model;
	po.score = (float)o->score;
	po.build.backend = o->backend;
	po.build.precision = o->precision;
	po.build.head = o->head;
	po.build.batch = o->batch;
	po.gpu_decode = 0;
	odet_status rc = odet_pipeline_create(ctx, &po, p);
	if (rc == ODET_ERR_DEVICE && o->backend == ODET_BACKEND_AUTO) {
		fprintf(stderr, "odet-fcw: %s; running on the CPU\n", odet_ctx_last_error(ctx));
		po.build.backend = ODET_BACKEND_CPU;
		rc = odet_pipeline_create(ctx, &po, p);
	}
	return rc;
}

int main(int argc, char **argv)
{
	fcw_cli o;
	int pr = parse(argc, argv, &o);
	if (pr)
		return pr == 1 ? 0 : 2;
	fcw_app a = {.o = &o};
	char err[1024], ev_path[4200], sum_path[4200];
	if (fcw_calib_load(o.calib_path, &a.calib, err, sizeof err)) {
		fprintf(stderr, "odet-fcw: %s\n", err);
		return 2;
	}
	if (o.check_only || !o.quiet)
		fcw_calib_print(&a.calib, o.check_only ? stdout : stderr);
	if (o.check_only)
		return 0;
	a.speed.constant = o.ego_speed;
	if (o.speed_csv && fcw_speed_load_csv(o.speed_csv, &a.speed, err, sizeof err)) {
		fprintf(stderr, "odet-fcw: %s\n", err);
		return 2;
	}
	int exit_code = 1;
	odet_pipeline *p = NULL;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = o.threads;
	co.log_level = ODET_LOG_WARN;
	odet_status rc = odet_ctx_create(&co, &a.ctx);
	if (rc) {
		fprintf(stderr, "odet-fcw: cannot create a context: %s\n", odet_status_str(rc));
		goto out;
	}
	if (!odet_video_available()) {
		fprintf(stderr, "odet-fcw: this odet was built without FFmpeg: no video input\n");
		exit_code = 2;
		goto out;
	}
	if (mkdir(o.out_dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "odet-fcw: cannot create %s: %s\n", o.out_dir, strerror(errno));
		goto out;
	}
	a.render = o.save_video || o.frames_every;
	if (o.frames_every) {
		snprintf(a.frames_dir, sizeof a.frames_dir, "%s/frames", o.out_dir);
		if (mkdir(a.frames_dir, 0777) && errno != EEXIST) {
			fprintf(stderr, "odet-fcw: cannot create %s: %s\n", a.frames_dir, strerror(errno));
			goto out;
		}
	}
	if ((rc = open_pipeline(a.ctx, &o, &p))) {
		const char *msg = odet_ctx_last_error(a.ctx);
		fprintf(stderr, "odet-fcw: %s: %s\n", o.model, *msg ? msg : odet_status_str(rc));
		exit_code = odet_status_exit_code(rc);
		goto out;
	}
	odet_pipeline_model_info(p, &a.mi);
	if (select_classes(&a)) {
		exit_code = 2;
		goto out;
	}
	if (!(a.state = fcw_state_create(&a.calib)))
		goto out;
	snprintf(ev_path, sizeof ev_path, "%s/events.jsonl", o.out_dir);
	snprintf(sum_path, sizeof sum_path, "%s/summary.json", o.out_dir);
	const char *events = o.events_path ? o.events_path : ev_path, *summary = o.summary_path ? o.summary_path : sum_path;
	if (!(a.ev = fopen(events, "w"))) {
		fprintf(stderr, "odet-fcw: cannot write %s: %s\n", events, strerror(errno));
		goto out;
	}
	odet_video_opts vo = odet_video_opts_default();
	vo.max_frames = o.max_frames;
	vo.keep_frames = a.render;
	struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	odet_video_stats st = {0};
	rc = odet_video_run(p, (const char *const[]){o.video}, 1, &vo, on_frame, on_source, &a, &st);
	sigaction(SIGINT, &old_sa, NULL);
	int werr = fclose(a.ev) != 0;
	a.ev = NULL;
	if (a.writer) {
		odet_status wrc = odet_video_writer_close(a.writer);
		a.writer = NULL;
		if (wrc && !rc)
			rc = wrc;
	}
	if (werr)
		fprintf(stderr, "odet-fcw: writing %s failed\n", events);
	if (save_summary(&a, summary, &st)) {
		fprintf(stderr, "odet-fcw: writing %s failed\n", summary);
		werr = 1;
	}
	if (!o.quiet) {
		fprintf(stderr, "odet-fcw: %lld frames, %lld objects (%lld clear, %lld caution, %lld warning object-frames, "
				"%lld above the horizon), %d tracks, %lld warnings, in %.2f s: %.1f frames/s (render %.2f s)\n",
			(long long)a.frames, (long long)a.objects, (long long)a.level_frames[0], (long long)a.level_frames[1],
			(long long)a.level_frames[2], (long long)a.horizon, a.n_ts, (long long)a.warnings_entered, st.seconds,
			st.seconds > 0 ? a.frames / st.seconds : 0.0, a.render_s);
		for (int i = 0; i < a.n_ts; i++)
			if (a.ts[i].max_level == FCW_WARNING)
				fprintf(stderr, "odet-fcw:   track %d: warning, closest %.1f m, TTC down to %.1f s\n", a.ts[i].id,
					a.ts[i].min_dist, a.ts[i].min_ttc);
		fprintf(stderr, "odet-fcw: %s, %s%s%s\n", events, summary, o.save_video ? ", " : "",
			o.save_video ? "fcw.mp4" : "");
	}
	if (interrupted) {
		fprintf(stderr, "odet-fcw: interrupted; %s holds the frames delivered so far\n", events);
		exit_code = 1;
	} else if (rc) {
		const char *msg = odet_ctx_last_error(a.ctx);
		fprintf(stderr, "odet-fcw: %s\n", *msg ? msg : odet_status_str(rc));
		exit_code = odet_status_exit_code(rc);
	} else {
		exit_code = a.failed_sources ? 2 : werr ? 1 : 0;
	}
out:
	if (a.ev)
		fclose(a.ev);
	if (a.writer)
		odet_video_writer_close(a.writer);
	fcw_view_destroy(a.view);
	fcw_state_destroy(a.state);
	fcw_speed_free(&a.speed);
	free(a.canvas);
	free(a.boxes);
	free(a.ids);
	free(a.names);
	free(a.objs);
	free(a.ts);
	odet_pipeline_destroy(p);
	odet_ctx_destroy(a.ctx);
	return exit_code;
}
