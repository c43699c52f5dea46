/* cli_sources.h — the image arguments shared by detect, calibrate, report, submit, worker and
 * video: "MODEL SOURCE..." positionals, --devices lists, file stems and COCO image ids. */
#ifndef ODET_CLI_SOURCES_H
#define ODET_CLI_SOURCES_H

#include "cli_engine.h"

/* A positional argument of "MODEL SOURCE...": the first is the model, the next ones go to
 * srcs (at most cap). 0, or -1 when there are more than cap (message printed). */
int cli_sources_arg(const char *cmd, const char *a, const char **model, const char **srcs, int *n_src, int cap);
/* "0,1,1": GPU indices 0..1023, at most cap of them, at least one. 0, or -1 (message printed). */
int cli_devices(const char *cmd, const char *s, int *devices, int cap, int *n);
/* The file name after the last '/'. */
const char *cli_base_name(const char *path);
/* "dir/000000397133.jpg" -> "000000397133" (the file name without its last extension). */
void cli_file_stem(const char *path, char *stem, size_t n);
/* A COCO results file's image_id of a stem: a number when the stem is all digits (COCO's
 * file names), else the stem as a JSON string. */
void cli_json_image_id(FILE *f, const char *stem);

#endif
