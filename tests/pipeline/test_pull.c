/*
 * test_pull.c — odet_pipeline_run_pull on the CPU backend (gen_tiny_ssd.py's convolution-free
 * SSD with the ssd300-nvidia head, engine batch 4, darknet's photos held in memory):
 *   1. a scripted source (inputs, FLUSHes mid-batch, on a batch boundary and twice in a row,
 *      sleeps, END mid-batch) gets every result once, in pull order, equal to
 *      odet_pipeline_run_inputs over the same inputs (bad bytes among them failed by name), in
 *      the batches its FLUSHes and END make;
 *   2. FLUSH runs the open batch at once: the source waits after a FLUSH until the flushed
 *      inputs' results are back (5 s at most), while a wait without a FLUSH times out (1 s);
 *   3. END at once: no result, OK;
 *   4. the source's error stops the run and is returned with its message, results so far in
 *      order; the result callback's error too; the pipeline runs again afterwards;
 *   5. bad input: an input with neither bytes nor a name, an unknown answer, a NULL source.
 * usage: test_pull TINY_SSD.onnx SAMPLES_DIR
 */
#include "odet.h"
#include "pipeline_test.h"
#include "test.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IN 64
#define MAX_DET 64

typedef struct dets {
	odet_status status;
	int n;
	char name[64];
	int32_t cls[MAX_DET];
	float box[MAX_DET][4], score[MAX_DET];
} dets;

/* A step of a scripted source: 'i' the next input, 'f' FLUSH, 'w' / 'W' wait (5 s / 1 s at
 * most) until every input so far has its result, 's' sleep 20 ms, 'e' END, 'x' an error, '0'
 * an input with neither bytes nor a name, '?' an unknown answer. */
typedef struct source {
	const char *script;
	const odet_image_input *in;
	int n_in;
	int step, next_in;
	int flush_timeouts;
	odet_ctx *ctx;
	/* results */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t delivered;          /* next index expected */
	int order_errors;
	int stop_at;                /* the result callback fails at this index (-1: never) */
	dets got[MAX_IN];
} source;

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static odet_status next(void *user, odet_image_input *in, odet_pull *what)
{
	source *s = user;
	for (;;) {
		char c = s->script[s->step];
		if (c)
			s->step++;
		switch (c) {
		case 'i':
			*in = s->in[s->next_in++ % s->n_in];
			*what = ODET_PULL_INPUT;
			return ODET_OK;
		case 'f':
			*what = ODET_PULL_FLUSH;
			return ODET_OK;
		case 'w': /* wait (5 s, 'W' 1 s, at most) for every input so far to have its result */
		case 'W': {
			struct timespec dl;
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += c == 'w' ? 5 : 1;
			pthread_mutex_lock(&s->mu);
			int rc = 0;
			while (s->delivered < s->next_in && rc == 0)
				rc = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
			s->flush_timeouts += rc != 0;
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		case 's':
			sleep_ms(20);
			continue;
		case 'x':
			return odet_error(s->ctx, ODET_ERR_IO, "scripted source failure at step %d", s->step - 1);
		case '0':
			memset(in, 0, sizeof *in);
			*what = ODET_PULL_INPUT;
			return ODET_OK;
		case '?':
			*what = (odet_pull)7;
			return ODET_OK;
		default: /* 'e', or the script's end */
			*what = ODET_PULL_END;
			return ODET_OK;
		}
	}
}

static odet_status collect(void *user, const odet_image_result *r)
{
	source *s = user;
	pthread_mutex_lock(&s->mu);
	if (r->index != s->delivered)
		s->order_errors++;
	s->delivered = r->index + 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (r->index == s->stop_at)
		return odet_error(s->ctx, ODET_ERR_INTERNAL, "result callback stops at %lld", (long long)r->index);
	if (r->index < 0 || r->index >= MAX_IN)
		return ODET_OK;
	dets *d = &s->got[r->index];
	d->status = r->status;
	snprintf(d->name, sizeof d->name, "%s", r->path ? r->path : "");
	d->n = r->count < MAX_DET ? r->count : MAX_DET;
	for (int k = 0; k < d->n; k++) {
		d->cls[k] = r->classes[k];
		d->score[k] = r->scores[k];
		memcpy(d->box[k], r->boxes + 4 * k, sizeof d->box[k]);
	}
	return ODET_OK;
}

static void source_init(source *s, odet_ctx *ctx, const char *script, const odet_image_input *in, int n_in)
{
	memset(s, 0, sizeof *s);
	s->script = script;
	s->in = in;
	s->n_in = n_in;
	s->ctx = ctx;
	s->stop_at = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
}

static void source_free(source *s)
{
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}

static bool same_dets(const dets *a, const dets *b)
{
	if (a->status != b->status || a->n != b->n || strcmp(a->name, b->name))
		return false;
	for (int k = 0; k < a->n; k++)
		if (a->cls[k] != b->cls[k] || fabsf(a->score[k] - b->score[k]) > 1e-5f ||
		    fabsf(a->box[k][0] - b->box[k][0]) > 1e-3f || fabsf(a->box[k][3] - b->box[k][3]) > 1e-3f)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s TINY_SSD.onnx SAMPLES_DIR\n", argv[0]);
		return 2;
	}
	/* the inputs: the photos in memory, and two bad ones (not an image; a cut JPEG) */
	odet_image_input in[PT_N_PHOTOS + 2];
	char names[PT_N_PHOTOS + 2][32];
	void *bytes[PT_N_PHOTOS + 2] = {0};
	int n_in = 0;
	for (int i = 0; i < PT_N_PHOTOS; i++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/%s.jpg", argv[2], pt_photos[i]);
		size_t sz;
		bytes[n_in] = test_read_file(path, &sz);
		CHECK_MSG(bytes[n_in] != NULL, "%s", path);
		snprintf(names[n_in], sizeof names[n_in], "%s", pt_photos[i]);
		in[n_in] = (odet_image_input){.name = names[n_in], .data = bytes[n_in], .size = sz};
		n_in++;
	}
	static const char text[] = "this is not an image\n";
	snprintf(names[n_in], sizeof names[n_in], "notes");
	in[n_in++] = (odet_image_input){.name = names[n_in - 1], .data = text, .size = sizeof text - 1};
	snprintf(names[n_in], sizeof names[n_in], "cut");
	in[n_in] = (odet_image_input){.name = names[n_in], .data = bytes[0], .size = in[0].size / 3};
	n_in++;
	/* the script's inputs take in[] in turn: 'i' number k is in[k % n_in] */
	enum { N_ORDER = 24 };
	odet_image_input order[N_ORDER];
	for (int k = 0; k < N_ORDER; k++)
		order[k] = in[k % n_in];

	odet_ctx *ctx = pt_ctx();
	CHECK(ctx != NULL);
	odet_pipeline_opts po = pt_cpu_opts(argv[1], "ssd300-nvidia", 4);
	odet_pipeline *p = NULL;
	odet_status rc = odet_pipeline_create(ctx, &po, &p);
	CHECK_MSG(rc == ODET_OK, "create: %s", odet_ctx_last_error(ctx));
	if (rc)
		return test_summary("pull");

	/* the reference: run_inputs over the same inputs */
	source ref;
	source_init(&ref, ctx, "", in, n_in);
	rc = odet_pipeline_run_inputs(p, order, N_ORDER, collect, &ref, NULL);
	CHECK_MSG(rc == ODET_OK && ref.delivered == N_ORDER && !ref.order_errors, "run_inputs: %s",
		  odet_ctx_last_error(ctx));
	int found = 0;
	for (int k = 0; k < N_ORDER; k++)
		found += ref.got[k].n;
	CHECK_MSG(found > 0, "no detections at all");
	CHECK(ref.got[6].status == ODET_ERR_BAD_INPUT && ref.got[7].status != ODET_OK);

	/* 1. FLUSH after 3 (batch of 3), 5 inputs (4 + 1) and FLUSH twice, a sleep, 4 (a full batch)
	 * and FLUSH on the boundary (no batch), 8 with a sleep inside (4 + 4), 3 and END (3):
	 * 23 inputs in 7 batches */
	static const char script[] = "iiif" "iiiiiff" "s" "iiiif" "iisiiiiii" "iiie";
	int n_script = 0;
	for (const char *c = script; *c; c++)
		n_script += *c == 'i';
	source s;
	source_init(&s, ctx, script, in, n_in);
	odet_pipeline_stats st;
	rc = odet_pipeline_run_pull(p, next, collect, &s, &st);
	CHECK_MSG(rc == ODET_OK, "run_pull: %s", odet_ctx_last_error(ctx));
	CHECK_MSG(s.delivered == n_script && !s.order_errors, "%lld results of %d, %d out of order",
		  (long long)s.delivered, n_script, s.order_errors);
	int same = 0;
	for (int k = 0; k < n_script; k++)
		same += same_dets(&s.got[k], &ref.got[k]);
	CHECK_MSG(same == n_script, "%d of %d results equal run_inputs'", same, n_script);
	CHECK_MSG(st.batches == 7, "%lld batches, 7 expected", (long long)st.batches);
	CHECK_MSG(st.images + st.failed == n_script && st.failed == 5, "images %lld failed %lld",
		  (long long)st.images, (long long)st.failed);
	CHECK(strstr(s.got[6].name, "notes") && s.got[6].status == ODET_ERR_BAD_INPUT);
	source_free(&s);

	/* 2. FLUSH runs the open batch at once: 'w' waits (5 s at most) for every result so far */
	source_init(&s, ctx, "iifw" "iiiiiiW" "ifw" "e", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, &st);
	CHECK_MSG(rc == ODET_OK && s.delivered == 9 && !s.order_errors, "flush run: %s", odet_ctx_last_error(ctx));
	/* the second wait comes after 6 inputs, 2 of them in an open batch without a FLUSH: it
	 * must time out (a batch does not run before it is full or flushed); the others must not */
	CHECK_MSG(s.flush_timeouts == 1, "%d waits timed out (1 expected: the unflushed one)", s.flush_timeouts);
	CHECK_MSG(st.batches == 3, "%lld batches, 3 expected", (long long)st.batches);
	source_free(&s);

	/* 3. END at once */
	source_init(&s, ctx, "e", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, &st);
	CHECK(rc == ODET_OK && s.delivered == 0 && st.batches == 0 && st.images == 0);
	source_free(&s);

	/* 4. the source's error: returned with its message; what came before it in order */
	source_init(&s, ctx, "iiiiiix", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, NULL);
	CHECK_MSG(rc == ODET_ERR_IO && strstr(odet_ctx_last_error(ctx), "scripted source failure at step 6"),
		  "source error: %d %s", rc, odet_ctx_last_error(ctx));
	CHECK(!s.order_errors && s.delivered <= 6);
	source_free(&s);
	/* the result callback's error */
	source_init(&s, ctx, "iiiiiiiiiiiie", in, n_in);
	s.stop_at = 5;
	rc = odet_pipeline_run_pull(p, next, collect, &s, NULL);
	CHECK_MSG(rc == ODET_ERR_INTERNAL && strstr(odet_ctx_last_error(ctx), "result callback stops at 5"),
		  "result callback error: %d %s", rc, odet_ctx_last_error(ctx));
	CHECK(s.delivered == 6 && !s.order_errors);
	source_free(&s);
	/* and the pipeline runs again */
	source_init(&s, ctx, "iiiiie", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, NULL);
	CHECK(rc == ODET_OK && s.delivered == 5 && same_dets(&s.got[4], &ref.got[4]));
	source_free(&s);

	/* 5. bad input */
	source_init(&s, ctx, "ii0ie", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, NULL);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && strstr(odet_ctx_last_error(ctx), "pulled input 2: neither bytes nor a path"),
		  "empty input: %d %s", rc, odet_ctx_last_error(ctx));
	source_free(&s);
	source_init(&s, ctx, "i?e", in, n_in);
	rc = odet_pipeline_run_pull(p, next, collect, &s, NULL);
	CHECK_MSG(rc == ODET_ERR_INVALID_ARG && strstr(odet_ctx_last_error(ctx), "answered 7"), "unknown answer: %d %s",
		  rc, odet_ctx_last_error(ctx));
	source_free(&s);
	CHECK(odet_pipeline_run_pull(p, NULL, collect, NULL, NULL) == ODET_ERR_INVALID_ARG);
	CHECK(odet_pipeline_run_pull(NULL, next, collect, NULL, NULL) == ODET_ERR_INVALID_ARG);

	source_free(&ref);
	odet_pipeline_destroy(p);
	odet_ctx_destroy(ctx);
	for (int i = 0; i < PT_N_PHOTOS; i++)
		free(bytes[i]);
	return test_summary("pull");
}
