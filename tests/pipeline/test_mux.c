/*
 * test_mux.c — the stream muxer (src/pipeline/mux.c) on synthetic sources: every frame comes
 * out once, in order per source, in batches of at most B; ended sources leave batches smaller;
 * a source failing at open or mid-stream is marked failed and the others complete; a partial
 * batch goes out after the timeout and a stalled source does not hold the others (time bounds
 * with a margin for a loaded machine, still below what waiting would take); realtime
 * pacing follows the pts and drops what a slow consumer does not take; max_frames.
 */
#include "pipeline/mux.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct syn {
	int n;              /* frames */
	double fps;
	int fail_open;      /* 1: open fails */
	int fail_at;        /* read fails at this frame (-1: never) */
	int delay_ms;       /* before each frame */
	int first_delay_ms; /* before the first frame */
	int i;
} syn;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static odet_status syn_open(void *self, odet_ctx *ctx, int *w, int *h, double *fps, char codec[32])
{
	syn *s = self;
	if (s->fail_open)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "synthetic: cannot open");
	*w = 4;
	*h = 2;
	*fps = s->fps;
	strcpy(codec, "synthetic");
	return ODET_OK;
}

static odet_status syn_read(void *self, io_image *img, double *pts, bool *eof)
{
	syn *s = self;
	*eof = false;
	if (s->i == s->fail_at)
		return ODET_ERR_BAD_INPUT;
	if (s->i >= s->n) {
		*eof = true;
		return ODET_OK;
	}
	if (s->i == 0 && s->first_delay_ms)
		sleep_ms(s->first_delay_ms);
	if (s->delay_ms)
		sleep_ms(s->delay_ms);
	img->w = 4;
	img->h = 2;
	img->rgb = calloc(24, 1);
	img->rgb[0] = (uint8_t)s->i;
	*pts = s->i / s->fps;
	s->i++;
	return ODET_OK;
}

static int64_t syn_corrupt(void *self)
{
	return 0;
}

static const char *syn_end(void *self)
{
	return "";
}

static void syn_close(void *self)
{
}

typedef struct got {
	int64_t frames[8];        /* per source */
	int64_t next[8];          /* next expected index */
	int in_order, max_batch, batches, small_batches;
	double last_take[8];      /* when a source's last frame was taken */
	double max_wait;          /* longest wait of a frame in the queue */
} got;

/* Run the muxer over sources with one consumer (sleeping consume_ms per batch). */
static void run(odet_ctx *ctx, syn *src, int n, mx_opts mo, int consume_ms, got *g, mx **keep)
{
	const char *names[8] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
	mx_reader rd[8];
	for (int i = 0; i < n; i++)
		rd[i] = (mx_reader){syn_open, syn_read, syn_corrupt, syn_end, syn_close, &src[i], NULL};
	memset(g, 0, sizeof *g);
	g->in_order = 1;
	mx *m;
	CHECK(mx_start(ctx, &mo, names, rd, n, &m) == ODET_OK);
	mx_frame fr[64];
	int64_t expect_seq = 0;
	for (;;) {
		int nb;
		int64_t seq;
		mx_next_batch(m, fr, &nb, &seq);
		if (!nb)
			break;
		double now = odet_now_s();
		CHECK(seq == expect_seq++);
		CHECK(nb <= mo.batch);
		g->batches++;
		g->small_batches += nb < mo.batch;
		if (nb > g->max_batch)
			g->max_batch = nb;
		for (int i = 0; i < nb; i++) {
			int s = fr[i].source;
			g->in_order &= fr[i].index == g->next[s] || (mo.realtime && fr[i].index > g->next[s]);
			g->in_order &= fr[i].img.rgb && fr[i].img.rgb[0] == (uint8_t)fr[i].index;
			g->next[s] = fr[i].index + 1;
			g->frames[s]++;
			g->last_take[s] = now;
			if (now - fr[i].t_ready > g->max_wait)
				g->max_wait = now - fr[i].t_ready;
			io_image_free(&fr[i].img);
		}
		if (consume_ms)
			sleep_ms(consume_ms);
	}
	*keep = m;
}

int main(void)
{
	odet_ctx *ctx;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	got g;
	mx *m;

	/* three sources, one ending early: every frame once, in order; batches fill from the others */
	syn a[3] = {{.n = 10, .fps = 30, .fail_at = -1}, {.n = 20, .fps = 30, .fail_at = -1}, {.n = 5, .fps = 30, .fail_at = -1}};
	run(ctx, a, 3, (mx_opts){.batch = 4, .queue_frames = 3, .timeout_s = 0.5}, 0, &g, &m);
	CHECK(g.frames[0] == 10 && g.frames[1] == 20 && g.frames[2] == 5);
	CHECK(g.in_order);
	CHECK(g.max_batch == 4);
	for (int i = 0; i < 3; i++)
		CHECK(m->src[i].status == ODET_OK && m->src[i].ended && m->src[i].decoded == a[i].n && !m->src[i].dropped);
	mx_destroy(m);

	/* a source that cannot be opened and one failing at frame 3: reported; the others complete */
	syn b[3] = {{.n = 8, .fps = 25, .fail_at = -1}, {.n = 8, .fps = 25, .fail_open = 1, .fail_at = -1},
		    {.n = 8, .fps = 25, .fail_at = 3}};
	run(ctx, b, 3, (mx_opts){.batch = 2, .queue_frames = 2, .timeout_s = 0.05}, 0, &g, &m);
	CHECK(g.frames[0] == 8 && g.frames[1] == 0 && g.frames[2] == 3 && g.in_order);
	CHECK(m->src[0].status == ODET_OK);
	CHECK(m->src[1].status == ODET_ERR_BAD_INPUT && strstr(m->src[1].msg, "cannot open"));
	CHECK(m->src[2].status == ODET_ERR_BAD_INPUT && m->src[2].decoded == 3);
	mx_destroy(m);

	/* a slow source (a frame every 100 ms), batch 4, timeout 20 ms: frames go out alone, none
	 * waits much longer than the timeout */
	syn c[1] = {{.n = 5, .fps = 10, .fail_at = -1, .delay_ms = 100}};
	run(ctx, c, 1, (mx_opts){.batch = 4, .queue_frames = 8, .timeout_s = 0.02}, 0, &g, &m);
	CHECK(g.frames[0] == 5 && g.in_order);
	CHECK_MSG(g.small_batches >= 4, "%d of %d batches partial", g.small_batches, g.batches);
	/* waiting for a full batch would take >= 0.3 s (three more frames); the margin is for load */
	CHECK_MSG(g.max_wait < 0.25, "a frame waited %.3f s (timeout 0.02)", g.max_wait);
	mx_destroy(m);

	/* a stalled source (first frame after 600 ms) does not hold a live one back */
	syn d[2] = {{.n = 12, .fps = 30, .fail_at = -1}, {.n = 1, .fps = 30, .fail_at = -1, .first_delay_ms = 600}};
	double t0 = odet_now_s();
	run(ctx, d, 2, (mx_opts){.batch = 4, .queue_frames = 4, .timeout_s = 0.03}, 0, &g, &m);
	CHECK(g.frames[0] == 12 && g.frames[1] == 1 && g.in_order);
	CHECK_MSG(g.last_take[0] - t0 < 0.55, "the live source finished %.3f s after the start", g.last_take[0] - t0);
	CHECK(g.last_take[1] - t0 >= 0.59);
	mx_destroy(m);

	/* realtime: 10 frames at 50 fps take >= 9 frame intervals; max_frames stops a source */
	syn e[2] = {{.n = 10, .fps = 50, .fail_at = -1}, {.n = 100, .fps = 50, .fail_at = -1}};
	t0 = odet_now_s();
	run(ctx, e, 2, (mx_opts){.batch = 2, .queue_frames = 8, .timeout_s = 0.005, .realtime = true, .max_frames = 10},
	    0, &g, &m);
	double el = odet_now_s() - t0;
	CHECK(g.frames[0] == 10 && g.frames[1] == 10 && g.in_order);
	CHECK_MSG(el >= 0.175, "realtime run took %.3f s, less than 9 frame intervals", el);
	CHECK(m->src[1].decoded == 10);
	mx_destroy(m);

	/* realtime with a consumer slower than the source: the full queue drops its oldest frames */
	syn f[1] = {{.n = 30, .fps = 100, .fail_at = -1}};
	run(ctx, f, 1, (mx_opts){.batch = 1, .queue_frames = 2, .timeout_s = 0, .realtime = true}, 40, &g, &m);
	CHECK_MSG(m->src[0].dropped > 0, "nothing dropped");
	CHECK(g.frames[0] + m->src[0].dropped == 30 && m->src[0].decoded == 30);
	CHECK(g.in_order);
	mx_destroy(m);

	/* bad options */
	mx_reader rd = {syn_open, syn_read, syn_corrupt, syn_end, syn_close, &a[0], NULL};
	const char *nm = "x";
	CHECK(mx_start(ctx, &(mx_opts){.batch = 0, .queue_frames = 1}, &nm, &rd, 1, &m) == ODET_ERR_INVALID_ARG);
	CHECK(mx_start(ctx, &(mx_opts){.batch = 1, .queue_frames = 0}, &nm, &rd, 1, &m) == ODET_ERR_INVALID_ARG);
	odet_ctx_destroy(ctx);
	return test_summary("mux");
}
