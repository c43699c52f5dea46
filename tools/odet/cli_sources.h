/* cli_sources.h — the image arguments shared by detect, calibrate, report, submit, worker and
 * video: "MODEL SOURCE..." positionals, --devices lists, file stems and COCO image ids. */
#ifndef ODET_CLI_SOURCES_H
#define ODET_CLI_SOURCES_H

#include "cli_engine.h"

/* --devices "0,1,1": GPU indices 0..1023, at least one, at most cap, into v[0..*n) (a cli_value_fn
 * with ptr a cli_device_list). */
typedef struct cli_device_list {
	int *v, cap, *n;
} cli_device_list;
int cli_devices(const char *cmd, const char *opt, char *s, void *device_list);
/* The file name after the last '/'. */
const char *cli_base_name(const char *path);
/* "dir/000000397133.jpg" -> "000000397133" (the file name without its last extension). */
void cli_file_stem(const char *path, char *stem, size_t n);
/* A COCO results file's image_id of a stem: a number when the stem is all digits (COCO's
 * file names), else the stem as a JSON string. */
void cli_json_image_id(FILE *f, const char *stem);

#endif
