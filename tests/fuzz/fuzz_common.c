/* fuzz_common.c — helpers of the fuzz harnesses (see fuzz.h). */
#include "fuzz.h"

#include <unistd.h>

static odet_ctx *ctx;
static char dir[256];

static void quiet(void *user, odet_log_level level, const char *msg)
{
	(void)user, (void)level, (void)msg;
}

static void cleanup(void)
{
	char cmd[300];
	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", dir);
	}
	odet_ctx_destroy(ctx);
	ctx = NULL;
}

odet_ctx *fuzz_ctx(void)
{
	if (!ctx) {
		odet_ctx_opts o = odet_ctx_opts_default();
		o.n_threads = 1;
		o.log_level = ODET_LOG_ERROR;
		o.log_fn = quiet;
		o.max_image_pixels = 1 << 22;
		if (odet_ctx_create(&o, &ctx) != ODET_OK)
			abort();
		atexit(cleanup);
	}
	return ctx;
}

const char *fuzz_dir(void)
{
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/odet_fuzz_XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(dir))
			abort();
		fuzz_ctx(); /* registers the cleanup */
	}
	return dir;
}

const char *fuzz_write(const char *name, const void *data, size_t size)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	unlink(path);
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	int ok = size == 0 || fwrite(data, 1, size, f) == size;
	ok &= fclose(f) == 0;
	return ok ? path : NULL;
}

void fuzz_split(const uint8_t *data, size_t size, size_t *n1, const uint8_t **p2, size_t *n2)
{
	const size_t sl = sizeof FUZZ_SPLIT - 1;
	const uint8_t *m = size >= sl ? memmem(data, size, FUZZ_SPLIT, sl) : NULL;
	if (!m) {
		*n1 = size;
		*p2 = data + size;
		*n2 = 0;
		return;
	}
	*n1 = (size_t)(m - data);
	*p2 = m + sl;
	*n2 = size - *n1 - sl;
}

void fuzz_check_status(odet_status rc)
{
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "  status %d %s\n", rc, rc ? odet_ctx_last_error(fuzz_ctx()) : "");
	if (rc != ODET_OK && odet_ctx_last_error(fuzz_ctx())[0] == 0) {
		fprintf(stderr, "fuzz: status %d (%s) without a message\n", rc, odet_status_str(rc));
		abort();
	}
	if (rc != ODET_OK && strchr(odet_ctx_last_error(fuzz_ctx()), '\n')) {
		fprintf(stderr, "fuzz: message spans lines: %s\n", odet_ctx_last_error(fuzz_ctx()));
		abort();
	}
}
