/* cli_opts.c — the table-driven option parser of the CLI subcommands (cli_opts.h). */
#include "cli_opts.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLI_HELP_COL 20 /* where an option's help text starts */

bool cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "odet %s: %s expects an integer in %ld..%ld, got '%s'\n", cmd, opt, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

bool cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr, "odet %s: %s expects a number in %g..%g, got '%s'\n", cmd, opt, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

void cli_parser_init(cli_parser *p, const char *cmd, const char *synopsis)
{
	memset(p, 0, sizeof *p);
	p->cmd = cmd;
	p->synopsis = synopsis;
}

void cli_positionals(cli_parser *p, const char **model, const char **srcs, int *n_src, int cap)
{
	p->model = model;
	p->need_model = model != NULL;
	p->srcs = srcs;
	p->n_src = n_src;
	p->cap = cap;
	p->need_srcs = srcs != NULL;
}

void cli_add(cli_parser *p, cli_opt o)
{
	assert(p->n < CLI_MAX_OPTS);
	p->opt[p->n++] = o;
}

/* Whether a is one of names' '|'-separated aliases. */
static bool has_name(const char *names, const char *a)
{
	size_t n = strlen(a);
	for (const char *s = names; s && *s;) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		if (len == n && !memcmp(s, a, n))
			return true;
		s = bar ? bar + 1 : NULL;
	}
	return false;
}

/* "-" alone is a SOURCE where the command takes sources, else an unknown option */
static bool is_option(const cli_parser *p, const char *a)
{
	return a[0] == '-' && (a[1] || !p->srcs);
}

static int take_enum(const cli_parser *p, const cli_opt *o, const char *a, const char *v)
{
	for (const cli_choice *c = o->choices; c->word; c++)
		if (!strcmp(c->word, v)) {
			*(int *)o->ptr = c->value;
			return 0;
		}
	fprintf(stderr, "odet %s: %s expects ", p->cmd, a);
	for (const cli_choice *c = o->choices; c->word; c++)
		fprintf(stderr, "%s%s", c == o->choices ? "" : c[1].word ? ", " : " or ", c->word);
	fprintf(stderr, ", got '%s'\n", v);
	return -1;
}

/* The option o given as argv[*i] (its value(s) consumed): 0 taken, -1 refused (printed). */
static int take(const cli_parser *p, const cli_opt *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	long l;
	double d;
	if (o->kind == CLI_FLAG) {
		*(int *)o->ptr = o->set ? o->set : 1;
		return 0;
	}
	if (o->kind == CLI_COUNT) {
		++*(int *)o->ptr;
		return 0;
	}
	if (o->kind == CLI_LIST) {
		int words = 0;
		for (; *i + 1 < argc && argv[*i + 1][0] != '-'; words++) /* up to the next option or "-" */
			if (o->fn(p->cmd, a, argv[++*i], o->ptr))
				return -1;
		if (!words)
			fprintf(stderr, "odet %s: %s needs at least one value\n", p->cmd, a);
		return words ? 0 : -1;
	}
	if (*i + 1 >= argc) {
		fprintf(stderr, "odet %s: %s needs an argument\n", p->cmd, a);
		return -1;
	}
	char *v = argv[++*i];
	switch (o->kind) {
	case CLI_INT:
	case CLI_LONG:
		if (!cli_int(p->cmd, a, v, (long)o->min, (long)o->max, &l))
			return -1;
		if (o->kind == CLI_INT)
			*(int *)o->ptr = (int)l;
		else
			*(long *)o->ptr = l;
		return 0;
	case CLI_FLOAT:
	case CLI_DOUBLE:
		if (!cli_double(p->cmd, a, v, o->min, o->max, &d))
			return -1;
		if (o->kind == CLI_FLOAT)
			*(float *)o->ptr = (float)d;
		else
			*(double *)o->ptr = d;
		return 0;
	case CLI_NAME:
		if (!*v) {
			fprintf(stderr, "odet %s: %s must not be empty\n", p->cmd, a);
			return -1;
		}
		*(const char **)o->ptr = v;
		return 0;
	case CLI_STR:
		*(const char **)o->ptr = v;
		return 0;
	case CLI_ENUM:
		return take_enum(p, o, a, v);
	case CLI_FN:
		return o->fn(p->cmd, a, v, o->ptr);
	default:
		return -1;
	}
}

/* A positional argument: 0 taken, -1 refused (printed). */
static int positional(const cli_parser *p, const char *a)
{
	if (p->model && !*p->model) {
		*p->model = a;
		return 0;
	}
	if (!p->srcs) {
		fprintf(stderr, "odet %s: unexpected argument '%s'%s\n", p->cmd, a, p->model ? " (one model only)" : "");
		return -1;
	}
	if (*p->n_src >= p->cap) {
		fprintf(stderr, "odet %s: too many arguments (at most %d; use a folder or @LIST)\n", p->cmd, p->cap);
		return -1;
	}
	p->srcs[(*p->n_src)++] = a;
	return 0;
}

/* After the arguments: 0, or 2 when a required argument is missing (message and help printed). */
static int missing(const cli_parser *p, const char *given)
{
	const char *what = NULL;
	if (p->need_model && !*p->model)
		what = "MODEL";
	else if (p->need_srcs && !*p->n_src)
		what = p->srcs_name ? p->srcs_name : "SOURCE";
	for (int k = 0; k < p->n && !what; k++)
		if (p->opt[k].required && !given[k]) {
			const char *bar = strrchr(p->opt[k].names, '|'); /* the long name */
			what = bar ? bar + 1 : p->opt[k].names;
		}
	if (!what)
		return 0;
	fprintf(stderr, "odet %s: %s is required\n", p->cmd, what);
	cli_usage(p, stderr);
	return 2;
}

int cli_parse(cli_parser *p, int argc, char **argv)
{
	char given[CLI_MAX_OPTS] = {0};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_usage(p, stdout);
			return 1;
		}
		if (!is_option(p, a)) {
			if (positional(p, a))
				return 2;
			continue;
		}
		const cli_opt *o = NULL;
		for (int k = 0; k < p->n && !o; k++)
			if (p->opt[k].kind != CLI_TEXT && has_name(p->opt[k].names, a))
				o = &p->opt[k];
		if (!o) {
			fprintf(stderr, "odet %s: unknown option '%s' ('odet %s --help' lists them)\n", p->cmd, a, p->cmd);
			return 2;
		}
		if (take(p, o, argc, argv, &i))
			return 2;
		if (o->given)
			*o->given = 1;
		if (o->required)
			given[o - p->opt] = 1;
	}
	return missing(p, given);
}

void cli_usage(const cli_parser *p, FILE *f)
{
	fputs(p->synopsis, f);
	for (int k = 0; k < p->n; k++) {
		const cli_opt *o = &p->opt[k];
		if (o->kind == CLI_TEXT) {
			fprintf(f, "%s\n", o->help);
			continue;
		}
		if (!o->help)
			continue;
		/* "  -o, --output PATH" */
		int col = fprintf(f, "  ");
		for (const char *s = o->names; *s; s++)
			col += *s == '|' ? fprintf(f, ", ") : (fputc(*s, f), 1);
		if (o->arg)
			col += fprintf(f, " %s", o->arg);
		col += fprintf(f, "%*s", col < CLI_HELP_COL - 1 ? CLI_HELP_COL - col : 2, "");
		for (const char *s = o->help; *s; s++) {
			fputc(*s, f);
			if (*s == '\n')
				fprintf(f, "%*s", CLI_HELP_COL, "");
		}
		fputc('\n', f);
	}
}
