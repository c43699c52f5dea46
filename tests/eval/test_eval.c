/* test_eval.c — COCO evaluation: hand-computed cases for each rule of pycocotools' COCOeval
 * (the expected figures are worked out in the comments), bad input naming the record and
 * field, and the streaming JSON reader (numbers exact, tokens across the window edge, depth). */
#include "core/core.h"
#include "eval/json.h"
#include "test.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static odet_ctx *ctx;

/* 1/(1+spacing(1)): pycocotools' precision for tp = 1, fp = 0 */
#define ONE_MINUS (1.0 - DBL_EPSILON)

static const char *CATS1 = "\"categories\": [{\"id\": 1, \"name\": \"a\"}]";

/* Evaluate gt + dt (JSON texts); stats copied to out; returns the status. */
static odet_status run(const char *gt, const char *dt, double out[ODET_COCO_NUM_STATS], odet_coco_eval **keep)
{
	odet_coco_eval *e = NULL;
	odet_status rc = odet_coco_eval_load_gt_mem(ctx, "gt.json", gt, strlen(gt), &e);
	if (!rc)
		rc = odet_coco_eval_load_results_mem(e, "dt.json", dt, strlen(dt));
	if (!rc)
		rc = odet_coco_eval_evaluate(e);
	if (!rc)
		memcpy(out, odet_coco_eval_stats(e), ODET_COCO_NUM_STATS * sizeof *out);
	if (keep && !rc)
		*keep = e;
	else
		odet_coco_eval_destroy(e);
	return rc;
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-12;
}

#define CHECK_STAT(s, i, v) CHECK_MSG(near((s)[i], (v)), "stat %d = %.17g, expected %.17g", (i), (s)[i], (double)(v))

static char gtbuf[4096], dtbuf[16384];

static void test_basic(void)
{
	double s[ODET_COCO_NUM_STATS];
	/* one exact detection of one small box: precision 1/(1+eps) everywhere; medium and
	 * large have no ground truth -> -1 */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100, \"iscrowd\": 0}], %s}", CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.9}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AP50, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_APS, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_APM, -1);
	CHECK_STAT(s, ODET_COCO_APL, -1);
	CHECK_STAT(s, ODET_COCO_AR1, 1);
	CHECK_STAT(s, ODET_COCO_ARS, 1);
	CHECK_STAT(s, ODET_COCO_ARM, -1);

	/* an FP scoring above the TP: tp [0 1], fp [1 1] -> pr [0 .5] -> envelope .5 -> AP .5;
	 * AR1 counts only the FP -> 0 */
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [50, 50, 10, 10], \"score\": 0.9},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.8}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0.5);
	CHECK_STAT(s, ODET_COCO_AR1, 0);
	CHECK_STAT(s, ODET_COCO_AR10, 1);

	/* IoU exactly 0.8 (80/100) matches at 0.50..0.80 (7 of 10 thresholds; >= is inclusive) */
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 8], \"score\": 0.9}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0.7 * ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AP75, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AR100, 0.7);
	/* the detection (area 80) is small: unmatched at 0.85+ it stays a FP there */
	CHECK_STAT(s, ODET_COCO_ARS, 0.7);

	/* no detections at all: AP 0 and AR 0 where ground truth exists */
	CHECK(run(gtbuf, "[]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0);
	CHECK_STAT(s, ODET_COCO_AR100, 0);
	CHECK_STAT(s, ODET_COCO_APL, -1);
}

static void test_crowd_and_ignore(void)
{
	double s[ODET_COCO_NUM_STATS];
	/* crowd region [0,0,100,100] and one regular box. d1, d2 lie inside the crowd (IoU =
	 * intersection / detection area = 1): both match it, it is never consumed, both ignored.
	 * d3 hits the regular box: tp [0 0 1] -> AP = 1/(1+eps). If the crowd were consumed, d2
	 * would be a FP ranked above the TP and AP would be 0.5. */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": ["
		 "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 100, 100], \"area\": 10000, \"iscrowd\": 1},"
		 "{\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"bbox\": [200, 200, 10, 10], \"area\": 100, \"iscrowd\": 0}], %s}",
		 CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 20, 20], \"score\": 0.9},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [20, 20, 20, 20], \"score\": 0.8},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [200, 200, 10, 10], \"score\": 0.7}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AR100, 1);
	/* half inside the crowd: intersection / det area = 0.5 -> ignored at 0.50 only, a FP
	 * (above the TP) at the 9 other thresholds: AP = (1 + 9 * 0.5) / 10 */
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [50, 0, 100, 100], \"score\": 0.9},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [200, 200, 10, 10], \"score\": 0.7}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, (ONE_MINUS + 9 * 0.5) / 10);
	CHECK_STAT(s, ODET_COCO_AP50, ONE_MINUS);

	/* a regular box [0,0,10,10] inside the crowd region, a detection [0,0,10,12]: IoU 100/120
	 * with the box, 1 with the crowd. Up to 0.80 it matches the regular box and stops before
	 * the (ignored, sorted last) crowd region: TP; at 0.85..0.95 only the crowd matches:
	 * ignored, and the box is missed -> AP = 7/10 * 1/(1+eps), AR = 0.7 */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": ["
		 "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 100, 100], \"area\": 10000, \"iscrowd\": 1},"
		 "{\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100, \"iscrowd\": 0}], %s}",
		 CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 12], \"score\": 0.9}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0.7 * ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AR100, 0.7);

	/* 'ignore': 1 without iscrowd is overridden (ignore := iscrowd): the box counts, so no
	 * detections give AP 0 (not -1) */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100, \"iscrowd\": 0, \"ignore\": 1}], %s}", CATS1);
	CHECK(run(gtbuf, "[]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0);
	/* only a crowd box: nothing to find -> -1 everywhere */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100, \"iscrowd\": 1}], %s}", CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.9}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, -1);
	CHECK_STAT(s, ODET_COCO_AR1, -1);
}

static void test_area_ranges(void)
{
	double s[ODET_COCO_NUM_STATS];
	/* boxes of area field 100 (small), 1024 (small AND medium: bounds inclusive; bbox area
	 * 2000 is not what counts) and 20000 (large), each hit exactly (scores .9 .8 .7), and a
	 * FP of area 1600 scoring .95.
	 * all: tp 0 1 2 3, fp 1 1 1 1 -> pr 0 1/2 2/3 3/4 -> envelope 3/4 -> AP .75
	 * small: the FP (1600 > 1024, unmatched) and d3 (matched to an out-of-range box) are
	 *   ignored -> tp 0 1 2 2 -> pr 0 1/(1+eps) 2/(2+eps) = 1 -> envelope 1; medium: the FP counts, d1/d3 ignored -> AP .5
	 * large: only d3 counts -> 1/(1+eps); AR1: each image's top detection is the FP -> 0 */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": ["
		 "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100},"
		 "{\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"bbox\": [100, 0, 40, 50], \"area\": 1024},"
		 "{\"id\": 3, \"image_id\": 1, \"category_id\": 1, \"bbox\": [300, 0, 100, 200], \"area\": 20000}], %s}", CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [500, 300, 40, 40], \"score\": 0.95},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.9},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [100, 0, 40, 50], \"score\": 0.8},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [300, 0, 100, 200], \"score\": 0.7}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0.75);
	CHECK_STAT(s, ODET_COCO_APS, 1);
	CHECK_STAT(s, ODET_COCO_APM, 0.5);
	CHECK_STAT(s, ODET_COCO_APL, ONE_MINUS);
	CHECK_STAT(s, ODET_COCO_AR1, 0);
	CHECK_STAT(s, ODET_COCO_AR10, 1);
	CHECK_STAT(s, ODET_COCO_ARS, 1);
	CHECK_STAT(s, ODET_COCO_ARM, 1);
	CHECK_STAT(s, ODET_COCO_ARL, 1);
}

static void test_max_dets_and_ties(void)
{
	double s[ODET_COCO_NUM_STATS];
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}, {\"id\": 2}], \"annotations\": ["
		 "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100},"
		 "{\"id\": 2, \"image_id\": 2, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}], %s}", CATS1);
	/* image 1: n FPs scoring above the TP. n = 99: the TP is the 100th -> kept; AR10 0,
	 * AR100 .5 (1 of 2 boxes), AP: rc reaches .5 at the 100th detection with pr 1/100. */
	for (int n = 99; n <= 100; n++) {
		size_t o = 0;
		o += (size_t)snprintf(dtbuf + o, sizeof dtbuf - o, "[");
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(dtbuf + o, sizeof dtbuf - o,
					      "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [300, 300, 10, 10], \"score\": %.3f}, ",
					      0.5 + i * 0.001);
		snprintf(dtbuf + o, sizeof dtbuf - o,
			 "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.1}]");
		CHECK(run(gtbuf, dtbuf, s, NULL) == 0);
		CHECK_STAT(s, ODET_COCO_AR10, 0);
		/* n = 100: the TP is the 101st and is cut by maxDets */
		CHECK_STAT(s, ODET_COCO_AR100, n == 99 ? 0.5 : 0);
		CHECK_STAT(s, ODET_COCO_AP, n == 99 ? 51 * (1.0 / 100) / 101 : 0);
	}
	/* equal scores keep file order (stable sort): FP then TP -> AP .5 ... */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}], %s}", CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [50, 50, 10, 10], \"score\": 0.5},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.5}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 0.5);
	/* ... TP then FP -> pr [1 .5] -> envelope keeps 1 -> AP 1/(1+eps) */
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.5},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [50, 50, 10, 10], \"score\": 0.5}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, ONE_MINUS);
	/* across images, equal scores are ordered by image id, not file order: image 1's TP
	 * before image 2's FP: rc [.5 .5], pr [1 .5] -> thresholds 0..0.5 (51 of 101) get 1/(1+eps) */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 2}, {\"id\": 1}], \"annotations\": ["
		 "{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100},"
		 "{\"id\": 2, \"image_id\": 2, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}], %s}", CATS1);
	CHECK(run(gtbuf, "[{\"image_id\": 2, \"category_id\": 1, \"bbox\": [50, 50, 10, 10], \"score\": 0.5},"
			 " {\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.5}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 51 * ONE_MINUS / 101);
	/* an image without detections: the same numbers (its box is missed) */
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.5}]", s, NULL) == 0);
	CHECK_STAT(s, ODET_COCO_AP, 51 * ONE_MINUS / 101);
	CHECK_STAT(s, ODET_COCO_AR100, 0.5);
}

static void test_categories(void)
{
	double s[ODET_COCO_NUM_STATS];
	odet_coco_eval *e = NULL;
	/* category 2 has no ground truth: its FP does not count (-1 excluded from the mean);
	 * category 7 is unknown: never evaluated, counted */
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1, \"file_name\": \"a/b/x.jpg\"}, {\"file_name\": "
		 "\"a_long_file_name_of_more_than_32_characters.jpg\", \"id\": 9}], \"annotations\": [{\"id\": 1,"
		 " \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}], \"categories\": ["
		 "{\"id\": 2, \"name\": \"two\"}, {\"id\": 1, \"name\": \"one\"}]}");
	CHECK(run(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.5},"
			 " {\"image_id\": 1, \"category_id\": 2, \"bbox\": [0, 0, 10, 10], \"score\": 0.9},"
			 " {\"image_id\": 1, \"category_id\": 7, \"bbox\": [0, 0, 10, 10], \"score\": 0.9}]", s, &e) == 0);
	CHECK_STAT(s, ODET_COCO_AP, ONE_MINUS);
	if (!e)
		return;
	CHECK(odet_coco_eval_num_categories(e) == 2);
	CHECK(odet_coco_eval_category_id(e, 0) == 1 && !strcmp(odet_coco_eval_category_name(e, 1), "two"));
	CHECK(near(odet_coco_eval_class_ap(e, 0, 0), ONE_MINUS));
	CHECK(odet_coco_eval_class_ap(e, 1, 0) == -1);
	CHECK(odet_coco_eval_num_unknown_category(e) == 1);
	CHECK(odet_coco_eval_num_detections(e) == 3);
	int64_t id = 0;
	CHECK(odet_coco_eval_find_image(e, "a/b/x.jpg", &id) == 0 && id == 1);
	CHECK(odet_coco_eval_find_image(e, "/data/val/x.jpg", &id) == 0 && id == 1);
	CHECK(odet_coco_eval_find_image(e, "y.jpg", &id) == ODET_ERR_BAD_INPUT);
	CHECK(odet_coco_eval_find_image(e, "a_long_file_name_of_more_than_32_characters.jpg", &id) == 0 && id == 9);
	/* detections from memory: a second exact detection of the same box (lower score) is a
	 * FP after the TP: AP stays 1/(1+eps); an unknown image id is refused */
	double bb[4] = {0, 0, 10, 10};
	CHECK(odet_coco_eval_add_detection(e, 1, 1, bb, 0.4) == 0);
	CHECK(odet_coco_eval_add_detection(e, 5, 1, bb, 0.4) == ODET_ERR_BAD_INPUT);
	bb[2] = -1;
	CHECK(odet_coco_eval_add_detection(e, 1, 1, bb, 0.4) == ODET_ERR_BAD_INPUT);
	CHECK(odet_coco_eval_evaluate(e) == 0);
	CHECK(near(odet_coco_eval_stats(e)[ODET_COCO_AP], ONE_MINUS));
	char path[] = "/tmp/odet_eval_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		CHECK(odet_coco_eval_write_json(e, path) == 0);
		FILE *f = fopen(path, "r");
		char txt[2048] = "";
		if (f) {
			size_t n = fread(txt, 1, sizeof txt - 1, f);
			txt[n] = 0;
			fclose(f);
		}
		CHECK(strstr(txt, "\"AP\": 0.99999999999999") != NULL);
		CHECK(strstr(txt, "\"name\": \"two\", \"AP\": -1") != NULL);
		unlink(path);
	}
	odet_coco_eval_destroy(e);
}

/* bad input: status, and words expected in the one-line message */
static void expect_bad(const char *gt, const char *dt, odet_status want, const char *w1, const char *w2)
{
	double s[ODET_COCO_NUM_STATS];
	odet_status rc = run(gt, dt, s, NULL);
	const char *msg = odet_ctx_last_error(ctx);
	CHECK_MSG(rc == want, "status %d, expected %d (%s)", rc, want, msg);
	CHECK_MSG(strstr(msg, w1) && (!w2 || strstr(msg, w2)), "message '%s' lacks '%s' / '%s'", msg, w1,
		  w2 ? w2 : "");
	CHECK(!strchr(msg, '\n'));
}

static void test_bad_input(void)
{
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}], %s}", CATS1);
	const char *ok = "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}";
	char dt[512];
	expect_bad(gtbuf, "{\"image_id\": 1}", ODET_ERR_BAD_INPUT, "dt.json", "found an object");
	snprintf(dt, sizeof dt, "[%s, {\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1]}]", ok);
	expect_bad(gtbuf, dt, ODET_ERR_BAD_INPUT, "results record 1", "missing field 'score'");
	snprintf(dt, sizeof dt, "[%s, %s, {\"image_id\": 1, \"category_id\": 1, \"bbox\": [NaN, 0, 1, 1], \"score\": 1}]", ok, ok);
	expect_bad(gtbuf, dt, ODET_ERR_BAD_INPUT, "results record 2, field 'bbox'", "NaN");
	snprintf(dt, sizeof dt, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, -2], \"score\": 1}]");
	expect_bad(gtbuf, dt, ODET_ERR_BAD_INPUT, "results record 0, field 'bbox'", "negative size");
	expect_bad(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1], \"score\": 1}]",
		   ODET_ERR_BAD_INPUT, "field 'bbox'", "3 numbers");
	expect_bad(gtbuf, "[{\"image_id\": 77, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 1}]",
		   ODET_ERR_BAD_INPUT, "results record 0, field 'image_id'", "77 is not in");
	expect_bad(gtbuf, "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": Infinity}]",
		   ODET_ERR_BAD_INPUT, "field 'score'", "finite");
	expect_bad(gtbuf, "[{\"image_id\": 1.5, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 1}]",
		   ODET_ERR_BAD_INPUT, "field 'image_id'", "integer");
	/* malformed JSON */
	expect_bad(gtbuf, "[{\"image_id\": 1,", ODET_ERR_BAD_INPUT, "malformed JSON", "end of file");
	expect_bad(gtbuf, "[{\"image_id\": 01}]", ODET_ERR_BAD_INPUT, "results record 0", "invalid number");
	expect_bad(gtbuf, "[{\"image_id\" 1}]", ODET_ERR_BAD_INPUT, "malformed JSON", "':'");
	expect_bad(gtbuf, "[] x", ODET_ERR_BAD_INPUT, "malformed JSON", "after the top-level");
	expect_bad(gtbuf, "[{\"a\\q\": 1}]", ODET_ERR_BAD_INPUT, "malformed JSON", "escape");
	expect_bad(gtbuf, "[{\"a\": \"x\ty\"}]", ODET_ERR_BAD_INPUT, "malformed JSON", "control character");
	expect_bad(gtbuf, "[{\"a\": [1, 2,]}]", ODET_ERR_BAD_INPUT, "malformed JSON", "unexpected character ']'");
	/* nesting beyond max_json_depth */
	char deep[300] = "[{\"a\": ";
	memset(deep + 7, '[', 200);
	deep[207] = 0;
	expect_bad(gtbuf, deep, ODET_ERR_LIMIT, "nesting deeper than 64", NULL);
	/* ground truth problems */
	expect_bad("[]", "[]", ODET_ERR_BAD_INPUT, "gt.json", "must be a JSON object");
	expect_bad("{\"images\": [], \"annotations\": []}", "[]", ODET_ERR_BAD_INPUT, "gt.json", "missing top-level 'categories'");
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}], \"annotations\": [{\"id\": 1, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100}, {\"id\": 2, \"image_id\": 1,"
		 " \"category_id\": 1, \"bbox\": [0, 0, 10, 10]}], %s}", CATS1);
	expect_bad(gtbuf, "[]", ODET_ERR_BAD_INPUT, "annotations record 1", "missing field 'area'");
	snprintf(gtbuf, sizeof gtbuf, "{\"images\": [{\"id\": 1}, {\"file_name\": \"x\"}], \"annotations\": [], %s}", CATS1);
	expect_bad(gtbuf, "[]", ODET_ERR_BAD_INPUT, "images record 1", "missing field 'id'");
}

/* The reader: numbers equal strtod's bit for bit, streamed across the 1 MiB window. */
static void test_json_reader(void)
{
	char path[] = "/tmp/odet_json_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	const int n = 200000;
	double *want = malloc((size_t)n * sizeof *want);
	char (*txt)[40] = malloc((size_t)n * sizeof *txt);
	uint64_t x = 88172645463325252ull;
	fprintf(f, "{\"long\": \"");
	for (int i = 0; i < 300000; i++)
		fputs("ab\\n\\u00e9\\ud83d\\ude00", f);
	fprintf(f, "\", \"nums\": [");
	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		static const char *const fmts[] = {"%.17g", "%.6f", "%.3e", "%.0f", "%.20g", "%.2f"};
		double v = (double)(x >> 11) / (double)(1ull << 53) * pow(10, (int)(x % 30) - 15);
		if (x % 7 == 0)
			v = -v;
		snprintf(txt[i], sizeof txt[i], fmts[x % 6], v);
		want[i] = strtod(txt[i], NULL);
		fprintf(f, "%s%s", i ? ", " : "", txt[i]);
	}
	fprintf(f, ", -0, 9007199254740993, -9223372036854775808, 1e400]}");
	fclose(f);

	json_reader r;
	json_tok tok;
	int bad = 0, i = 0;
	CHECK(json_open_file(&r, ctx, path) == 0);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_OBJECT);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_KEY && !strcmp(r.str, "long"));
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_STRING && r.str_len == 300000 * 9);
	CHECK(!memcmp(r.str, "ab\n\xc3\xa9\xf0\x9f\x98\x80", 9));
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_KEY && !strcmp(r.str, "nums"));
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_ARRAY);
	for (i = 0; i < n; i++) {
		if (json_next(&r, &tok) || tok != JSON_NUMBER)
			break;
		if (memcmp(&r.num, &want[i], sizeof r.num) != 0 && bad++ < 5)
			fprintf(stderr, "%s -> %.17g, strtod %.17g\n", txt[i], r.num, want[i]);
	}
	CHECK_MSG(i == n && bad == 0, "%d of %d numbers read, %d differ from strtod", i, n, bad);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_NUMBER && r.num == 0 && signbit(r.num) && r.num_is_int);
	CHECK(json_next(&r, &tok) == 0 && r.num_is_int && r.num_int == 9007199254740993ll && r.num == 9007199254740992.0);
	CHECK(json_next(&r, &tok) == 0 && r.num_is_int && r.num_int == INT64_MIN);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_NUMBER && isinf(r.num));
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_ARRAY_END);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_OBJECT_END);
	CHECK(json_next(&r, &tok) == 0 && tok == JSON_EOF);
	json_close(&r);
	unlink(path);
	free(want);
	free(txt);
}

int main(void)
{
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 2;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	test_basic();
	test_crowd_and_ignore();
	test_area_ranges();
	test_max_dets_and_ties();
	test_categories();
	test_bad_input();
	test_json_reader();
	odet_ctx_destroy(ctx);
	return test_summary("eval");
}
