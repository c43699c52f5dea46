/*
 * test_faults.c — injected faults (issue 18): the context's allocation and file wrappers
 * fail at their N-th call (odet_ctx_fail_at, no global state), for N = 1, 2, ... over the
 * whole flow: ONNX load, head attach + engine build, plan save over an existing plan, plan
 * load, exec create and a detection run. Each failure must be a clean status with a one-line
 * message, the plan on disk must stay the previous one (atomic writes), and the same flow
 * with no fault must then succeed in the same process. Run under valgrind / ASan for leaks.
 * usage: test_faults MODEL.onnx HEAD [--stride K]   (gen_tiny_ssd.py's model, ssd300-nvidia)
 */
#include "core/core.h"
#include "odet.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static odet_ctx *ctx;
static const char *model, *head;
static char plan[512];

/* The whole flow; returns the first failing status (the step in *step). */
static odet_status flow(const char **step)
{
	odet_graph *g = NULL;
	odet_engine *e = NULL, *e2 = NULL;
	odet_exec *x = NULL;
	odet_detections d = {0};
	float *px = NULL;
	odet_status rc;
	*step = "load";
	if ((rc = odet_graph_load(ctx, model, &g)))
		goto out;
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.head = head;
	*step = "build";
	if ((rc = odet_engine_build(ctx, g, &o, &e)))
		goto out;
	*step = "save";
	if ((rc = odet_engine_save(e, plan)))
		goto out;
	*step = "plan load";
	if ((rc = odet_engine_load(ctx, plan, 0, &e2)))
		goto out;
	*step = "exec";
	if ((rc = odet_exec_create(e2, &x)))
		goto out;
	odet_tensor in;
	if ((rc = odet_engine_input_info(e2, 0, NULL, &in)))
		goto out;
	int64_t n = odet_tensor_numel(&in);
	px = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		px[i] = (float)((i * 37) % 255) / 255.0f;
	in.data = px;
	if ((rc = odet_detections_alloc((int)in.dims[0], 100, &d)))
		goto out;
	*step = "run";
	rc = odet_exec_run(x, &in, &d);
out:
	odet_detections_free(&d);
	free(px);
	odet_exec_destroy(x);
	odet_engine_destroy(e2);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test_faults MODEL.onnx HEAD [--stride K]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	model = argv[1];
	head = argv[2];
	int stride = argc > 4 && !strcmp(argv[3], "--stride") ? atoi(argv[4]) : 1;
	odet_ctx_opts co = odet_ctx_opts_default();
	co.n_threads = 1; /* one thread: the same calls in the same order every time */
	co.log_level = ODET_LOG_ERROR;
	co.log_fn = NULL;
	if (odet_ctx_create(&co, &ctx))
		return 1;
	const char *tmp = getenv("TMPDIR");
	snprintf(plan, sizeof plan, "%s/odet_faults_%ld.plan", tmp && *tmp ? tmp : "/tmp", (long)getpid());

	/* the flow without faults: it works, and how many counted calls it makes */
	const char *step;
	odet_ctx_fail_at(ctx, 0);
	odet_status rc = flow(&step);
	CHECK_MSG(rc == ODET_OK, "fault-free flow failed at %s: %s", step, odet_ctx_last_error(ctx));
	int64_t calls = odet_ctx_fault_calls(ctx);
	size_t good_n = 0;
	void *good = test_read_file(plan, &good_n);
	CHECK(good && good_n > 0);
	printf("fault-free flow: %lld counted calls (allocations, file opens/reads/writes)\n", (long long)calls);

	int failed_clean = 0, bad = 0, by_step[6] = {0};
	static const char *const steps[6] = {"load", "build", "save", "plan load", "exec", "run"};
	for (int64_t k = 1; k <= calls && rc == ODET_OK; k += stride) {
		odet_ctx_fail_at(ctx, k);
		odet_status f = flow(&step);
		const char *msg = odet_ctx_last_error(ctx);
		if (f == ODET_OK) {
			/* a counted call whose failure is absorbed (an optional cache, a retry) */
		} else if (f == ODET_ERR_NO_MEMORY || f == ODET_ERR_IO) {
			failed_clean++;
			for (int s = 0; s < 6; s++)
				by_step[s] += !strcmp(step, steps[s]);
			if (!msg[0] || strchr(msg, '\n')) {
				bad++;
				printf("fault %lld at %s: status %d, message '%s'\n", (long long)k, step, f, msg);
			}
		} else {
			bad++;
			if (bad < 10)
				printf("fault %lld at %s: status %d (%s), expected out of memory or I/O: %s\n", (long long)k,
				       step, f, odet_status_str(f), msg);
		}
		/* the plan on disk is the previous one, whole */
		size_t n = 0;
		void *now = test_read_file(plan, &n);
		if (!now || n != good_n || memcmp(now, good, n)) {
			bad++;
			printf("fault %lld at %s: the plan file changed\n", (long long)k, step);
		}
		free(now);
		/* the next call succeeds */
		odet_ctx_fail_at(ctx, 0);
		rc = flow(&step);
		CHECK_MSG(rc == ODET_OK, "after fault %lld: flow failed at %s: %s", (long long)k, step,
			  odet_ctx_last_error(ctx));
	}
	printf("%d injected faults failed cleanly (load %d, build %d, save %d, plan load %d, exec %d, run %d)\n",
	       failed_clean, by_step[0], by_step[1], by_step[2], by_step[3], by_step[4], by_step[5]);
	CHECK_MSG(bad == 0, "%d injected faults not handled cleanly", bad);
	/* every step has counted calls; a strided run may step over a step's few */
	CHECK(failed_clean > 0 && (stride > 1 || (by_step[0] > 0 && by_step[1] > 0 && by_step[2] > 0 && by_step[3] > 0)));
	/* the fault has to be an atomic write's too: no temporary left behind */
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls %s.tmp.* >/dev/null 2>&1", plan);
	CHECK_MSG(system(cmd) != 0, "a temporary plan file was left behind");
	unlink(plan);
	free(good);
	odet_ctx_destroy(ctx);
	return test_summary("faults");
}
