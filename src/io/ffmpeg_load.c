/* ffmpeg_load.c — FFmpeg's libraries loaded with dlopen (ffmpeg_load.h). */
#include "io/ffmpeg_load.h"

#include <dlfcn.h>
#include <stdio.h>
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

void ff_unload(ff_libs *l)
{
	for (int i = 3; i >= 0; i--)
		if (l->dl[i])
			dlclose(l->dl[i]);
	memset(l, 0, sizeof *l);
}

/* Load the libraries and resolve FF_FUNCS; why (n bytes) says what is missing. */
bool ff_load(ff_libs *l, char *why, size_t n)
{
	memset(l, 0, sizeof *l);
	/* avutil first: the others depend on it */
	static const int order[4] = {2, 3, 1, 0};
	for (int k = 0; k < 4; k++) {
		int i = order[k];
		if (!(l->dl[i] = dlopen(ff_sonames[i], RTLD_NOW | RTLD_LOCAL))) {
			const char *e = dlerror();
			snprintf(why, n, "%s", e ? e : ff_sonames[i]);
			ff_unload(l);
			return false;
		}
	}
	for (size_t i = 0; i < sizeof ff_symbols / sizeof ff_symbols[0]; i++) {
		void *p = dlsym(l->dl[ff_symbols[i].lib], ff_symbols[i].name);
		if (!p) {
			snprintf(why, n, "%s has no %s", ff_sonames[ff_symbols[i].lib], ff_symbols[i].name);
			ff_unload(l);
			return false;
		}
		/* POSIX: a function pointer has the representation of the void * dlsym returns */
		memcpy((char *)&l->api + ff_symbols[i].offset, &p, sizeof p);
	}
	return true;
}
