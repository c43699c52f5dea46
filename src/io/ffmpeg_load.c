/* ffmpeg_load.c — FFmpeg's libraries loaded with dlopen, once per context (ffmpeg_load.h). */
#include "io/ffmpeg_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ff_sonames[4] = {
	"libavformat.so." AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR),
	"libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR),
	"libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR),
	"libswscale.so." AV_STRINGIFY(LIBSWSCALE_VERSION_MAJOR),
};

/* FF_FUNCS as a table: library, name, place in ff_api */
static const struct {
	int lib;
	const char *name;
	size_t offset;
} ff_symbols[] = {
#define X(lib, name) {lib, #name, offsetof(ff_api, name)},
	FF_FUNCS(X)
#undef X
};

typedef struct ff_libs {
	void *dl[4];
	ff_api api;
} ff_libs;

static void ff_release(void *handle)
{
	ff_libs *l = handle;
	for (int i = 3; i >= 0; i--)
		if (l->dl[i])
			dlclose(l->dl[i]);
	free(l);
}

/* Load the libraries and resolve FF_FUNCS; NULL with why (n bytes) saying what is missing. */
static void *ff_load(char *why, size_t n)
{
	ff_libs *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	/* avutil first: the others depend on it */
	static const int order[4] = {2, 3, 1, 0};
	for (int k = 0; k < 4; k++) {
		int i = order[k];
		if (!(l->dl[i] = dlopen(ff_sonames[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))) {
			const char *e = dlerror();
			snprintf(why, n, "%s", e ? e : ff_sonames[i]);
			ff_release(l);
			return NULL;
		}
	}
	for (size_t i = 0; i < sizeof ff_symbols / sizeof ff_symbols[0]; i++) {
		void *p = dlsym(l->dl[ff_symbols[i].lib], ff_symbols[i].name);
		if (!p) {
			snprintf(why, n, "%s has no %s", ff_sonames[ff_symbols[i].lib], ff_symbols[i].name);
			ff_release(l);
			return NULL;
		}
		/* POSIX: a function pointer has the representation of the void * dlsym returns */
		memcpy((char *)&l->api + ff_symbols[i].offset, &p, sizeof p);
	}
	return l;
}

const ff_api *ff_get(odet_ctx *ctx, char *why, size_t n)
{
	ff_libs *l = odet_ctx_lib(ctx, ODET_CTX_LIB_FFMPEG, ff_load, ff_release, why, n);
	return l ? &l->api : NULL;
}

bool ff_available(void)
{
	char why[256];
	void *l = ff_load(why, sizeof why);
	if (l)
		ff_release(l);
	return l != NULL;
}
