/* cli_sources.c — image arguments of the CLI subcommands (cli_sources.h). */
#include "cli_sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_devices(const char *cmd, const char *opt, char *s, void *device_list)
{
	const cli_device_list *d = device_list;
	*d->n = 0;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 0 || v > 1023 || *d->n == d->cap || (*end && *end != ','))
			break;
		d->v[(*d->n)++] = (int)v;
		s = *end ? end + 1 : end;
	}
	if (*s || !*d->n) {
		fprintf(stderr, "odet %s: %s expects GPU indices such as 0,1 (at most %d)\n", cmd, opt, d->cap);
		return -1;
	}
	return 0;
}

const char *cli_base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

void cli_file_stem(const char *path, char *stem, size_t n)
{
	snprintf(stem, n, "%s", cli_base_name(path));
	char *dot = strrchr(stem, '.');
	if (dot && dot != stem)
		*dot = 0;
}

void cli_json_image_id(FILE *f, const char *stem)
{
	int numeric = *stem != 0;
	for (const char *c = stem; *c; c++)
		numeric &= (*c >= '0' && *c <= '9');
	if (numeric && strlen(stem) < 18) {
		fprintf(f, "%lld", atoll(stem));
		return;
	}
	fputc('"', f);
	for (const char *c = stem; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		if ((unsigned char)*c >= 0x20)
			fputc(*c, f);
	}
	fputc('"', f);
}
