/*
 * video.c — odet_video_run: video sources (io_video, FFmpeg on the CPU) → stream muxer
 * (mux.c) → the pipeline's slots (every slot of every device takes the next batch: the same
 * letterbox + engine + head as images, boxes mapped back to the frame's pixels) → delivery in
 * batch order (so each source's frames arrive in order) → tracker per source → callback.
 */
#include "pipeline/mux.h"
#include "pipeline/pipeline.h"
#include "io/video.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct vd_reader {
	const char *path;
	io_video *v;
	/* NVDEC (odet_video_opts.decode = 1): the decoder lives until every frame it lent is back,
	 * so it is closed by odet_video_run at the end, not by the source thread */
	bool nvdec, nvdec_auto; /* nvdec_auto: chosen by decode = -1 (a fallback is only info) */
	int device, max_frames;
	io_nvdec *dec;
} vd_reader;

static odet_status vd_open(void *self, odet_ctx *ctx, int *w, int *h, double *fps, char codec[32])
{
	vd_reader *r = self;
	io_video_info info;
	odet_status rc = ODET_ERR_UNSUPPORTED;
	if (r->nvdec) {
		rc = io_nvdec_open(ctx, r->path, r->device, r->max_frames, &r->dec, &info);
		if (rc == ODET_ERR_UNSUPPORTED) /* not H.264/HEVC 8-bit 4:2:0, or no NVDEC: the CPU decodes it */
			odet_log(ctx, r->nvdec_auto ? ODET_LOG_INFO : ODET_LOG_WARN, "%s: decoded on the CPU: %s", r->path,
				 odet_ctx_last_error(ctx));
		else if (rc)
			return rc;
	}
	if (rc && (rc = io_video_open(ctx, r->path, &r->v, &info)))
		return rc;
	*w = info.w;
	*h = info.h;
	*fps = info.fps;
	memcpy(codec, info.codec, 32);
	return ODET_OK;
}

static odet_status vd_read_frame(void *self, mx_frame *f, bool *eof)
{
	vd_reader *r = self;
	if (!r->dec)
		return io_video_read(r->v, &f->img, &f->pts, eof);
	odet_status rc = io_nvdec_read(r->dec, &f->nv, &f->pts, eof);
	if (!rc && !*eof)
		f->nv_dec = r->dec;
	return rc;
}

static int64_t vd_corrupt(void *self)
{
	vd_reader *r = self;
	return r->dec ? io_nvdec_corrupt(r->dec) : io_video_corrupt(r->v);
}

static const char *vd_end_message(void *self)
{
	vd_reader *r = self;
	return r->dec ? "" : io_video_end_message(r->v);
}

static void vd_close(void *self)
{
	vd_reader *r = self;
	io_video_close(r->v);
	r->v = NULL;
}

typedef struct vd_run {
	odet_pipeline *p;
	mx *m;
	const odet_video_opts *o;
	odet_frame_fn fn;
	void *user;
	odet_tracker **trk;       /* per source */
	int64_t *delivered;       /* per source: frames handed to the callback */
	int64_t *failed;          /* per source: frames the slot could not run */
	pthread_mutex_t mu;       /* delivery order, stop */
	pthread_cond_t cv;
	int64_t next_deliver;
	odet_status stop;
	char stop_msg[1024];
	odet_track_info *tinfo;   /* delivery's scratch */
	int tinfo_cap;
	double *lat;              /* latencies of delivered frames */
	int64_t n_lat, lat_cap;
	odet_video_stats st;
} vd_run;

typedef struct vd_slot {
	vd_run *r;
	pl_device *d;
	pl_slot *s;
	mx_frame *frames;
	pl_item *items;
	pl_item **item_ptr;
	double wait_s, device_s;
} vd_slot;

static void set_stop(vd_run *r, odet_status rc, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->stop) {
		r->stop = rc;
		snprintf(r->stop_msg, sizeof r->stop_msg, "%s", msg && *msg ? msg : odet_status_str(rc));
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	mx_stop(r->m);
}

/* One frame to the tracker and the callback (delivery is serialized). */
static odet_status deliver_frame(vd_run *r, const mx_frame *f, const pl_item *it, const odet_image_result *ir,
				 int device)
{
	odet_frame_result fr = {
		.source = f->source, .name = r->m->src[f->source].name, .frame = f->index, .pts = f->pts,
		.width = f->img.w ? f->img.w : it->w, .height = f->img.h ? f->img.h : it->h, .device = device,
		.fps = r->m->src[f->source].fps,
	};
	if (ir) {
		fr.count = ir->count;
		fr.boxes = ir->boxes;
		fr.scores = ir->scores;
		fr.classes = ir->classes;
	}
	if (r->o->track && r->trk[f->source]) {
		if (fr.count > r->tinfo_cap) {
			odet_track_info *t = realloc(r->tinfo, sizeof *t * (size_t)fr.count);
			if (!t)
				return odet_error(r->p->ctx, ODET_ERR_NO_MEMORY, "out of memory for tracks");
			r->tinfo = t;
			r->tinfo_cap = fr.count;
		}
		odet_status rc = odet_tracker_update(r->trk[f->source], f->pts, fr.boxes, fr.classes, fr.count, r->tinfo);
		if (rc)
			return rc;
		fr.tracks = r->tinfo;
	}
	if (r->o->keep_frames && it->img.rgb)
		fr.rgb = it->img.rgb;
	fr.latency_s = odet_now_s() - f->t_ready;
	if (r->n_lat == r->lat_cap) {
		int64_t cap = r->lat_cap ? 2 * r->lat_cap : 4096;
		double *l = realloc(r->lat, sizeof *l * (size_t)cap);
		if (!l)
			return odet_error(r->p->ctx, ODET_ERR_NO_MEMORY, "out of memory for latencies");
		r->lat = l;
		r->lat_cap = cap;
	}
	r->lat[r->n_lat++] = fr.latency_s;
	r->st.detections += fr.count;
	return r->fn ? r->fn(r->user, &fr) : ODET_OK;
}

/* Deliver batch seq once every earlier batch is delivered. */
static void deliver(vd_run *r, vd_slot *vs, int n, int64_t seq, const pl_result *res)
{
	double t0 = odet_now_s();
	pthread_mutex_lock(&r->mu);
	while (!r->stop && r->next_deliver != seq)
		pthread_cond_wait(&r->cv, &r->mu);
	bool stopped = r->stop != ODET_OK;
	pthread_mutex_unlock(&r->mu);
	vs->wait_s += odet_now_s() - t0;
	if (stopped)
		return;
	t0 = odet_now_s();
	odet_status rc = ODET_OK;
	for (int i = 0; i < n && !rc; i++) {
		const odet_image_result *ir = res ? &res->r[i] : NULL;
		if (ir && ir->status) {
			r->failed[vs->frames[i].source]++;
			odet_log(r->p->ctx, ODET_LOG_WARN, "%s: frame %lld: %s", r->m->src[vs->frames[i].source].name,
				 (long long)vs->frames[i].index, ir->error ? ir->error : odet_status_str(ir->status));
			continue;
		}
		r->delivered[vs->frames[i].source]++;
		rc = deliver_frame(r, &vs->frames[i], &vs->items[i], ir, vs->d->device);
	}
	r->st.batches++;
	r->st.sink_s += odet_now_s() - t0;
	if (rc) {
		set_stop(r, rc, odet_ctx_last_error(r->p->ctx));
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->next_deliver = seq + 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static odet_status slot_loop(vd_slot *vs)
{
	vd_run *r = vs->r;
	pl_device *d = vs->d;
	pl_slot *s = vs->s;
	const odet_backend *be = d->e->be;
	odet_status rc;
	if (be->set_device && (rc = be->set_device(d->ctx, d->device)))
		return rc;
	for (;;) {
		int n = 0;
		int64_t seq = 0;
		double t0 = odet_now_s();
		mx_next_batch(r->m, vs->frames, &n, &seq);
		vs->wait_s += odet_now_s() - t0;
		if (!n)
			return ODET_OK;
		for (int i = 0; i < n; i++) {
			mx_frame *f = &vs->frames[i];
			pl_item *it = &vs->items[i];
			pl_item_clear(it);
			it->index = f->index;
			it->path = r->m->src[f->source].name;
			it->img = f->img; /* moved: the item owns the pixels now */
			it->w = f->nv_dec ? f->nv.w : f->img.w;
			it->h = f->nv_dec ? f->nv.h : f->img.h;
			it->nv = f->nv_dec ? &f->nv : NULL; /* lent: the frame gives it back after delivery */
			it->keep_img = r->o->keep_frames;
			f->img = (io_image){0};
			vs->item_ptr[i] = it;
		}
		pl_result res = {0};
		if (!r->o->no_infer) {
			t0 = odet_now_s();
			if ((rc = pl_slot_enqueue(d, s, vs->item_ptr, n, seq)) || (rc = pl_slot_finish(d, s, &res)))
				return rc;
			vs->device_s += odet_now_s() - t0;
		}
		deliver(r, vs, n, seq, r->o->no_infer ? NULL : &res);
		pl_result_free(&res);
		for (int i = 0; i < n; i++) {
			pl_item_clear(&vs->items[i]);
			mx_frame_free(&vs->frames[i]); /* an NVDEC buffer back to its decoder */
		}
		pthread_mutex_lock(&r->mu);
		bool stop = r->stop != ODET_OK;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return ODET_OK;
	}
}

static void *slot_main(void *arg)
{
	vd_slot *vs = arg;
	odet_status rc = slot_loop(vs);
	if (rc) {
		pl_device *d = vs->d;
		char msg[1100];
		if (d->device >= 0)
			snprintf(msg, sizeof msg, "device %d: %s", d->device, odet_ctx_last_error(d->ctx));
		else
			snprintf(msg, sizeof msg, "%s", odet_ctx_last_error(d->ctx));
		set_stop(vs->r, rc, msg);
		if (vs->s->busy) {
			d->e->be->stream_sync(d->ctx, vs->s->x->stream);
			vs->s->busy = false;
		}
	}
	return NULL;
}

odet_video_opts odet_video_opts_default(void)
{
	return (odet_video_opts){.batch_timeout_ms = 40, .track = 1, .tracker = odet_tracker_opts_default(), .decode = -1};
}

int odet_video_available(void)
{
	return io_video_available();
}

/* Two batches' worth of frames over all sources (decoded frames are big: 6 MB at 1080p), at
 * least 4 a source. */
static int default_queue(int B, int n)
{
	int q = (2 * B + n - 1) / n + 2;
	return q < 4 ? 4 : q > 4096 ? 4096 : q;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report_sources(vd_run *r, odet_source_fn ev, void *user)
{
	mx *m = r->m;
	for (int i = 0; i < m->n; i++) {
		const mx_source *s = &m->src[i];
		odet_source_report sr = {
			.source = i, .name = s->name, .status = s->status, .message = s->msg, .width = s->w,
			.height = s->h, .fps = s->fps, .codec = s->codec, .decoded = s->decoded,
			.inferred = r->o->no_infer ? 0 : r->delivered[i],
			/* dropped by a full realtime queue, failed on the device, or never delivered (a stop) */
			.dropped = s->decoded - r->delivered[i], .corrupt = s->corrupt,
		};
		r->st.decoded += sr.decoded;
		r->st.inferred += sr.inferred;
		r->st.dropped += sr.dropped;
		r->st.corrupt += sr.corrupt;
		r->st.decode_s += s->decode_s;
		r->st.failed_sources += s->status != ODET_OK;
		if (ev)
			ev(user, &sr);
	}
}

odet_status odet_video_run(odet_pipeline *p, const char *const *sources, int n, const odet_video_opts *opts,
			   odet_frame_fn fn, odet_source_fn ev, void *user, odet_video_stats *stats)
{
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (!p || !sources || n < 1 || n > 4096)
		return p ? odet_error(p->ctx, ODET_ERR_INVALID_ARG, "%d sources (a run takes 1..4096)", n)
			 : ODET_ERR_INVALID_ARG;
	odet_ctx *ctx = p->ctx;
	odet_video_opts o = opts ? *opts : odet_video_opts_default();
	if (o.batch_timeout_ms < 0 || o.queue_frames < 0 || o.queue_frames > 4096 || o.max_frames < 0 || o.decode < -1 ||
	    o.decode > 1)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "video: batch_timeout_ms >= 0, queue_frames 0..4096, max_frames >= 0, decode -1, 0 or 1");
	/* NVDEC frames stay on their GPU: one CUDA device, and no host copy of the frame */
	const bool nv_can = p->n_dev == 1 && p->dev[0].e->be->kind == ODET_BACKEND_CUDA && !o.keep_frames;
	if (o.decode == 1 && !nv_can)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "NVDEC decode needs a CUDA pipeline on one GPU and no kept frames (%s)",
				  p->dev[0].e->be->kind != ODET_BACKEND_CUDA ? "this pipeline runs on the CPU"
				  : p->n_dev != 1 ? "this pipeline has several GPUs" : "keep_frames is set");
	double t_start = odet_now_s();
	vd_run r;
	memset(&r, 0, sizeof r);
	r.p = p;
	r.o = &o;
	r.fn = fn;
	r.user = user;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	int B = p->batch, n_slots = 0;
	for (int i = 0; i < p->n_dev; i++)
		n_slots += p->dev[i].n_slots;
	vd_reader *vr = odet_calloc(ctx, (size_t)n, sizeof *vr);
	mx_reader *rd = odet_calloc(ctx, (size_t)n, sizeof *rd);
	vd_slot *vs = odet_calloc(ctx, (size_t)n_slots, sizeof *vs);
	r.trk = odet_calloc(ctx, (size_t)n, sizeof *r.trk);
	r.delivered = odet_calloc(ctx, (size_t)n, sizeof *r.delivered);
	r.failed = odet_calloc(ctx, (size_t)n, sizeof *r.failed);
	odet_status rc = ODET_ERR_NO_MEMORY;
	if (!vr || !rd || !vs || !r.trk || !r.delivered || !r.failed)
		goto out_free;
	const int mo_queue = o.queue_frames ? o.queue_frames : default_queue(B, n);
	for (int i = 0; i < n; i++) {
		vr[i].path = sources[i];
		vr[i].nvdec = o.decode == 1 || (o.decode == -1 && nv_can);
		vr[i].nvdec_auto = o.decode == -1;
		vr[i].device = p->dev[0].device;
		vr[i].max_frames = mo_queue + B * n_slots + 2; /* queued + in the slots' batches */
		rd[i] = (mx_reader){.open = vd_open, .corrupt = vd_corrupt, .end_message = vd_end_message,
				    .close = vd_close, .self = &vr[i], .read_frame = vd_read_frame};
		if (o.track && (rc = odet_tracker_create(ctx, &o.tracker, &r.trk[i])))
			goto out_free;
	}
	int q = 0;
	for (int i = 0; i < p->n_dev; i++)
		for (int k = 0; k < p->dev[i].n_slots; k++, q++) {
			vs[q] = (vd_slot){.r = &r, .d = &p->dev[i], .s = &p->dev[i].slots[k]};
			vs[q].frames = odet_calloc(ctx, (size_t)B, sizeof *vs[q].frames);
			vs[q].items = odet_calloc(ctx, (size_t)B, sizeof *vs[q].items);
			vs[q].item_ptr = odet_calloc(ctx, (size_t)B, sizeof *vs[q].item_ptr);
			if (!vs[q].frames || !vs[q].items || !vs[q].item_ptr) {
				rc = ODET_ERR_NO_MEMORY;
				goto out_free;
			}
		}
	mx_opts mo = {.batch = B, .timeout_s = o.batch_timeout_ms * 1e-3, .realtime = o.realtime != 0,
		      .max_frames = o.max_frames,
		      .queue_frames = mo_queue};
	if ((rc = mx_start(ctx, &mo, sources, rd, n, &r.m)))
		goto out_free;
	pthread_t *th = odet_calloc(ctx, (size_t)n_slots, sizeof *th);
	bool *started = odet_calloc(ctx, (size_t)n_slots, sizeof *started);
	if (!th || !started) {
		set_stop(&r, ODET_ERR_NO_MEMORY, "out of memory");
	} else {
		for (int i = 0; i < n_slots; i++) {
			if (pthread_create(&th[i], NULL, slot_main, &vs[i]) != 0) {
				set_stop(&r, ODET_ERR_INTERNAL, "cannot start a device thread");
				break;
			}
			started[i] = true;
		}
		for (int i = 0; i < n_slots; i++)
			if (started[i])
				pthread_join(th[i], NULL);
	}
	free(th);
	free(started);
	mx_stop(r.m);
	for (int i = 0; i < n; i++)
		if (r.m->src[i].started) {
			pthread_join(r.m->src[i].thread, NULL);
			r.m->src[i].started = false;
		}
	report_sources(&r, ev, user);
	rc = r.stop;
	if (rc)
		odet_error(ctx, rc, "%s", r.stop_msg);
out_free:
	for (int i = 0; vs && i < n_slots; i++) {
		r.st.wait_s += vs[i].wait_s;
		r.st.device_s += vs[i].device_s;
		for (int k = 0; vs[i].frames && k < B; k++)
			mx_frame_free(&vs[i].frames[k]);
		for (int k = 0; vs[i].items && k < B; k++)
			pl_item_clear(&vs[i].items[k]);
		free(vs[i].frames);
		free(vs[i].items);
		free(vs[i].item_ptr);
	}
	mx_destroy(r.m);
	for (int i = 0; vr && i < n; i++) /* every frame is back: the decoders can go */
		io_nvdec_close(vr[i].dec);
	for (int i = 0; r.trk && i < n; i++)
		odet_tracker_destroy(r.trk[i]);
	if (r.n_lat) {
		qsort(r.lat, (size_t)r.n_lat, sizeof *r.lat, cmp_double);
		r.st.latency_p50_s = r.lat[(r.n_lat - 1) / 2];
		r.st.latency_p99_s = r.lat[(int64_t)floor(0.99 * (double)(r.n_lat - 1))];
	}
	r.st.n_sources = n;
	r.st.seconds = odet_now_s() - t_start;
	if (stats)
		*stats = r.st;
	free(r.lat);
	free(r.tinfo);
	free(r.trk);
	free(r.delivered);
	free(r.failed);
	free(vr);
	free(rd);
	free(vs);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return rc;
}
