/* test_serve.c — the Redis queue's parts that need no server: URLs (rd_parse_url), results as
 * JSON (worker.c writes them with sv_buf, submit.c parses them with sv_result_parse), and
 * the library's refusal of bad options and unreachable servers. */
#include "serve/serve.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static void test_urls(odet_ctx *ctx)
{
	rd_url u;
	CHECK(rd_parse_url(ctx, "redis://127.0.0.1:6380", &u) == ODET_OK && !strcmp(u.host, "127.0.0.1") &&
	      u.port == 6380 && u.db == 0 && !u.password[0]);
	CHECK(rd_parse_url(ctx, "redis://localhost", &u) == ODET_OK && u.port == 6379 && !strcmp(u.host, "localhost"));
	CHECK(rd_parse_url(ctx, "redis://:s3cret@h:1/3", &u) == ODET_OK && !strcmp(u.password, "s3cret") &&
	      !strcmp(u.host, "h") && u.port == 1 && u.db == 3);
	CHECK(rd_parse_url(ctx, "redis://user:pw@h/odet:frames", &u) == ODET_OK && !strcmp(u.password, "pw") &&
	      !strcmp(u.stream, "odet:frames") && u.db == 0);
	const char *bad[] = {"", "http://h", "redis://", "redis://:6379", "redis://h:0", "redis://h:70000",
			     "redis://h:12x", "redis://h:-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_MSG(rd_parse_url(ctx, bad[i], &u) == ODET_ERR_INVALID_ARG, "%s", bad[i]);
	CHECK(rd_parse_url(ctx, NULL, &u) == ODET_ERR_INVALID_ARG);
}

static void test_results(odet_ctx *ctx)
{
	sv_buf b = {0};
	const char id[] = "job \"1\"\\\n\x01";
	sv_buf_printf(&b, "{\"id\":");
	sv_buf_json_str(&b, id, strlen(id));
	sv_buf_printf(&b, ",\"ok\":true,\"width\":640,\"height\":480,\"detections\":[");
	for (int i = 0; i < 300; i++)
		sv_buf_printf(&b, "%s[%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d]", i ? "," : "", 1.25f * i, 0.1f * i, 2.0f + i,
			      3.5f + i, 0.999f - 0.001f * (float)i, i % 80, 1 + i % 90);
	sv_buf_printf(&b, "]}");
	CHECK(!b.failed);
	sv_result r;
	CHECK(sv_result_parse(ctx, b.p, b.n, &r) == ODET_OK);
	CHECK(r.status == ODET_OK && r.width == 640 && r.height == 480 && r.count == 300);
	int exact = 1;
	for (int i = 0; i < r.count; i++)
		exact &= r.boxes[4 * i] == 1.25f * i && r.boxes[4 * i + 1] == 0.1f * i && r.boxes[4 * i + 3] == 3.5f + i &&
			 r.scores[i] == 0.999f - 0.001f * (float)i && r.classes[i] == i % 80 && r.cats[i] == 1 + i % 90;
	CHECK_MSG(exact, "floats survive the JSON round trip bit for bit");
	sv_result_free(&r);
	sv_buf_free(&b);

	const char fail[] = "{\"id\":\"x\",\"ok\":false,\"status\":\"bad input\",\"error\":\"x: not a JPEG\"}";
	CHECK(sv_result_parse(ctx, fail, strlen(fail), &r) == ODET_OK && r.status == ODET_ERR_BAD_INPUT &&
	      r.error && !strcmp(r.error, "x: not a JPEG") && r.count == 0);
	sv_result_free(&r);
	const char empty[] = "{\"ok\":true,\"width\":1,\"height\":1,\"detections\":[]}";
	CHECK(sv_result_parse(ctx, empty, strlen(empty), &r) == ODET_OK && r.count == 0);
	sv_result_free(&r);
	const char *bad[] = {"", "[]", "{\"ok\":true", "{\"detections\":[]}", "{\"ok\":true,\"detections\":[[1,2,3]]}",
			     "{\"ok\":true,\"detections\":[[1,2,3,4,5,6,7,8]]}", "{\"ok\":true,\"detections\":{}}",
			     "{\"ok\":true,\"detections\":[[1,2,3,4,5,6,\"7\"]]}", "{\"ok\":true} x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_MSG(sv_result_parse(ctx, bad[i], strlen(bad[i]), &r) == ODET_ERR_BAD_INPUT, "%s", bad[i]);
		CHECK(r.count == 0 && !r.boxes && !r.error);
	}
	/* found while writing fuzz_queue_result (tests/fuzz/regress/queue_result): a second
	 * "detections" list was appended past the arrays the first one sized (heap overflow), and
	 * numbers out of int range were converted to int (undefined behaviour) */
	sv_buf twice = {0};
	sv_buf_printf(&twice, "{\"ok\":true");
	for (int l = 0; l < 2; l++) {
		sv_buf_printf(&twice, ",\"detections\":[");
		for (int i = 0; i < 12; i++)
			sv_buf_printf(&twice, "%s[1,2,3,4,0.5,%d,1]", i ? "," : "", i);
		sv_buf_printf(&twice, "]");
	}
	sv_buf_printf(&twice, "}");
	CHECK(sv_result_parse(ctx, twice.p, twice.n, &r) == ODET_ERR_BAD_INPUT && r.count == 0 && !r.boxes);
	CHECK_MSG(strstr(odet_ctx_last_error(ctx), "\"detections\" given twice"), "%s", odet_ctx_last_error(ctx));
	sv_buf_free(&twice);
	const char *range[] = {"{\"ok\":true,\"width\":1e30}", "{\"ok\":true,\"height\":-1}",
			       "{\"ok\":true,\"width\":2.5}", "{\"ok\":true,\"height\":2147483648}",
			       "{\"ok\":true,\"detections\":[[1,2,3,4,5,3e9,7]]}",
			       "{\"ok\":true,\"detections\":[[1,2,3,4,5,6,-1e300]]}",
			       "{\"ok\":true,\"detections\":[[1,2,3,4,5,6.5,7]]}"};
	for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
		CHECK_MSG(sv_result_parse(ctx, range[i], strlen(range[i]), &r) == ODET_ERR_BAD_INPUT, "%s", range[i]);
		CHECK(r.count == 0 && !r.boxes);
	}
	const char edge[] = "{\"ok\":true,\"width\":2147483647,\"height\":0,"
			    "\"detections\":[[1,2,3,4,5,-2147483648,2147483647]]}";
	CHECK(sv_result_parse(ctx, edge, strlen(edge), &r) == ODET_OK && r.width == INT32_MAX && r.height == 0 &&
	      r.count == 1 && r.classes[0] == INT32_MIN && r.cats[0] == INT32_MAX);
	sv_result_free(&r);
	CHECK(sv_status_from_name("I/O error") == ODET_ERR_IO || strcmp(odet_status_str(ODET_ERR_IO), "I/O error"));
	CHECK(sv_status_from_name("no such status") == ODET_ERR_INTERNAL);
}

/* Refusals before any server is needed, and a closed port (nothing listens on port 1). */
static void test_refusals(odet_ctx *ctx)
{
	odet_submit_opts so = odet_submit_opts_default();
	const char *src[] = {"x.jpg"};
	so.max_in_flight = 0;
	CHECK(odet_submit_run(ctx, &so, src, 1, NULL, NULL, NULL) == ODET_ERR_INVALID_ARG);
	so = odet_submit_opts_default();
	so.queue.url = "redis://127.0.0.1:1";
	odet_status rc = odet_submit_run(ctx, &so, src, 1, NULL, NULL, NULL);
	if (odet_queue_available()) {
		CHECK_MSG(rc == ODET_ERR_IO && strstr(odet_ctx_last_error(ctx), "cannot connect to Redis at 127.0.0.1:1"),
			  "%s", odet_ctx_last_error(ctx));
	} else {
		CHECK_MSG(rc == ODET_ERR_UNSUPPORTED && strstr(odet_ctx_last_error(ctx), "cannot use Redis"), "%s",
			  odet_ctx_last_error(ctx));
	}
	so.queue.url = "redis//127.0.0.1";
	CHECK(odet_submit_run(ctx, &so, src, 1, NULL, NULL, NULL) == ODET_ERR_INVALID_ARG);
	so.queue.url = "redis://127.0.0.1:1";
	so.queue.stream = "";
	CHECK(odet_submit_run(ctx, &so, src, 1, NULL, NULL, NULL) == ODET_ERR_INVALID_ARG);
	odet_worker_opts wo = odet_worker_opts_default();
	CHECK(wo.max_attempts == 3 && wo.visibility_ms == 30000 && wo.batch_timeout_ms == 20);
	CHECK(odet_worker_run(NULL, &wo, NULL) == ODET_ERR_INVALID_ARG);
}

int main(void)
{
	odet_ctx_opts co = odet_ctx_opts_default();
	co.log_level = ODET_LOG_ERROR;
	odet_ctx *ctx;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	test_urls(ctx);
	test_results(ctx);
	test_refusals(ctx);
	odet_ctx_destroy(ctx);
	return test_summary("serve");
}
