/* cli_opts.h — the one option parser of the odet CLI subcommands: a table of options, each
 * {names, kind, where the value goes, range, help}, read from argv in one loop with one form
 * of error message; `--help` is printed from the same table. */
#ifndef ODET_CLI_OPTS_H
#define ODET_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

typedef enum cli_kind {
	CLI_TEXT,   /* no option: a line of the help between the options */
	CLI_FLAG,   /* no value: *(int *)ptr = set (1 when set is 0) */
	CLI_COUNT,  /* no value: ++*(int *)ptr (-v -v) */
	CLI_INT,    /* int in [min, max] */
	CLI_LONG,   /* long in [min, max] */
	CLI_FLOAT,  /* float in [min, max] */
	CLI_DOUBLE, /* double in [min, max] */
	CLI_STR,    /* const char *: the argument itself */
	CLI_NAME,   /* const char *, not empty */
	CLI_ENUM,   /* int: the value of one of choices' words */
	CLI_FN,     /* fn(cmd, opt, value, ptr) takes the value */
	CLI_LIST,   /* fn once per word up to the next option (at least one) */
} cli_kind;

typedef struct cli_choice {
	const char *word;
	int value;
} cli_choice;

/* fn of CLI_FN / CLI_LIST: 0 taken, -1 refused (message printed). v may be cut in place: a
 * name kept must then point into it (argv lives as long as the command). */
typedef int (*cli_value_fn)(const char *cmd, const char *opt, char *v, void *ptr);

typedef struct cli_opt {
	const char *names;          /* "--batch", or aliases "-o|--output" */
	cli_kind kind;
	void *ptr;
	double min, max;            /* numbers: the accepted range */
	int set;                    /* CLI_FLAG: the value set */
	const cli_choice *choices;  /* CLI_ENUM: ended by {NULL} */
	cli_value_fn fn;            /* CLI_FN, CLI_LIST */
	int *given;                 /* when not NULL: set to 1 when the option is given */
	int required;               /* 1: cli_parse refuses the arguments without it */
	const char *arg;            /* help: the value's name ("N", "HxW") */
	const char *help;           /* help: its text (lines after '\n' are indented); NULL: not listed */
} cli_opt;

#define CLI_MAX_OPTS 64

/* One command's options and positional arguments. Positionals: the first goes to *model (when
 * model is set), the next ones to srcs (at most cap; with srcs NULL a second is refused);
 * need_model / need_srcs: cli_parse refuses the arguments without them. */
typedef struct cli_parser {
	const char *cmd;            /* "build": messages read "odet build: ..." */
	const char *synopsis;       /* help: the usage lines and what the command does */
	cli_opt opt[CLI_MAX_OPTS];
	int n;
	const char **model;
	const char **srcs;
	int *n_src, cap;
	int need_model, need_srcs;
	const char *srcs_name;      /* messages: what srcs are ("IMAGES"; default "SOURCE") */
} cli_parser;

void cli_parser_init(cli_parser *p, const char *cmd, const char *synopsis);
/* The positionals: "MODEL" (srcs NULL), "MODEL SOURCE..." or "SOURCE..." (model NULL); each one
 * set is required (need_model / need_srcs; clear need_srcs after for optional sources). */
void cli_positionals(cli_parser *p, const char **model, const char **srcs, int *n_src, int cap);
/* Append an option (or a CLI_TEXT line) to the table; a full table is a programming error. */
void cli_add(cli_parser *p, cli_opt o);
/* Parse argv[1..argc-1]: 0 parsed; 1 --help/-h printed on stdout (exit 0); 2 bad usage (one
 * line on stderr, with the help when something required is missing; exit 2). An argument
 * starting with '-' is an option, but for "-" alone where the command takes SOURCEs. */
int cli_parse(cli_parser *p, int argc, char **argv);
/* The help: synopsis, then the table's options and text lines. */
void cli_usage(const cli_parser *p, FILE *f);

/* A whole number / number in [min, max]; false (message "odet CMD: OPT expects ...") otherwise. */
bool cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
bool cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out);

#endif
