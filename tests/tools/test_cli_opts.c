/* test_cli_opts.c — the CLI's table-driven option parser (tools/odet/cli_opts.c): every kind of
 * option, ranges and their messages, aliases, lists, positionals, required arguments, --help. */
#include "cli_opts.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[4096]; /* what the last parse wrote on stderr */

typedef struct vals {
	int flag, count, i, e, given_i, n_words;
	long l;
	float f;
	double d;
	const char *s, *name, *model, *srcs[4], *words[4];
	int n_src;
} vals;

static int add_word(const char *cmd, const char *opt, char *v, void *ptr)
{
	vals *x = ptr;
	(void)cmd;
	if (!strcmp(v, "bad")) {
		fprintf(stderr, "odet t: %s refuses 'bad'\n", opt);
		return -1;
	}
	if (x->n_words == 4)
		return -1;
	x->words[x->n_words++] = v;
	return 0;
}

static const cli_choice colours[] = {{"red", 1}, {"green", 2}, {"auto", -1}, {NULL, 0}};

static void table(cli_parser *p, vals *x, int srcs)
{
	memset(x, 0, sizeof *x);
	x->e = 7;
	cli_parser_init(p, "t", "usage: odet t MODEL [options]\n");
	cli_positionals(p, &x->model, srcs ? x->srcs : NULL, &x->n_src, 4);
	CHECK(p->need_model && p->need_srcs == srcs);
	p->need_model = p->need_srcs = 0; /* the cases below ask for them */
	cli_add(p, (cli_opt){"-f|--flag", CLI_FLAG, &x->flag, .help = "a flag"});
	cli_add(p, (cli_opt){"--minus", CLI_FLAG, &x->flag, .set = -1});
	cli_add(p, (cli_opt){"-v", CLI_COUNT, &x->count, .help = "more"});
	cli_add(p, (cli_opt){"--int", CLI_INT, &x->i, 1, 8, .given = &x->given_i, .arg = "N", .help = "1..8\nsecond line"});
	cli_add(p, (cli_opt){"--long", CLI_LONG, &x->l, -5, 1L << 40, .arg = "N"});
	cli_add(p, (cli_opt){"--float", CLI_FLOAT, &x->f, 0, 1, .arg = "T"});
	cli_add(p, (cli_opt){"--double", CLI_DOUBLE, &x->d, 0.001, 10, .arg = "S"});
	cli_add(p, (cli_opt){"--str", CLI_STR, &x->s, .arg = "S"});
	cli_add(p, (cli_opt){"--name", CLI_NAME, &x->name, .arg = "N"});
	cli_add(p, (cli_opt){"--colour", CLI_ENUM, &x->e, .choices = colours, .arg = "C"});
	cli_add(p, (cli_opt){"--word", CLI_FN, x, .fn = add_word, .arg = "W"});
	cli_add(p, (cli_opt){"--words", CLI_LIST, x, .fn = add_word, .arg = "W...", .help = "words"});
	cli_add(p, (cli_opt){.kind = CLI_TEXT, .help = "a text line"});
}

/* Parse the words of a command line (after the command), stderr into err. */
static int run(cli_parser *p, const char *line)
{
	static char buf[1024];
	char *argv[32] = {"t"};
	int argc = 1;
	snprintf(buf, sizeof buf, "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = strcmp(t, "''") ? t : (char *)""; /* '' : an empty argument */
	fflush(stderr);
	FILE *f = tmpfile();
	int saved = dup(2);
	dup2(fileno(f), 2);
	int r = cli_parse(p, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(err, 1, sizeof err - 1, f);
	err[n] = 0;
	fclose(f);
	return r;
}

static void test_values(void)
{
	cli_parser p;
	vals x;
	table(&p, &x, 0);
	CHECK(run(&p, "m.onnx -f -v -v --int 8 --long -5 --float 0.25 --double 10 --str '' --name n --colour auto") == 0);
	CHECK(x.flag == 1 && x.count == 2 && x.i == 8 && x.given_i == 1 && x.l == -5 && x.f == 0.25f && x.d == 10);
	CHECK(x.s && !*x.s && !strcmp(x.name, "n") && x.e == -1 && !strcmp(x.model, "m.onnx") && !*err);
	table(&p, &x, 0);
	CHECK(run(&p, "--long 1099511627776 --flag --minus m") == 0);
	CHECK(x.l == 1L << 40 && x.flag == -1 && x.given_i == 0 && x.e == 7 && !strcmp(x.model, "m"));
	table(&p, &x, 0);
	CHECK(run(&p, "--word a --words b c --int 2 --words d") == 0);
	CHECK(x.n_words == 4 && !strcmp(x.words[0], "a") && !strcmp(x.words[2], "c") && !strcmp(x.words[3], "d"));
	CHECK(x.i == 2 && x.model == NULL);
	table(&p, &x, 0);
	CHECK(run(&p, "m --words a - b") == 2 && strstr(err, "unknown option '-'")); /* no sources: "-" is no argument */
	table(&p, &x, 1);
	CHECK(run(&p, "m --words a - b") == 0 && x.n_words == 1 && x.n_src == 2 && !strcmp(x.srcs[0], "-"));
}

static void test_refused(void)
{
	static const struct {
		const char *line, *says;
	} bad[] = {
		{"--int 0", "odet t: --int expects an integer in 1..8, got '0'\n"},
		{"--int 9", "expects an integer in 1..8"},
		{"--int 2x", "got '2x'"},
		{"--int ''", "got ''"},
		{"--long 1099511627777", "expects an integer"},
		{"--float 1.5", "odet t: --float expects a number in 0..1, got '1.5'\n"},
		{"--float nan", "expects a number"},
		{"--double 0", "expects a number in 0.001..10"},
		{"--name ''", "odet t: --name must not be empty\n"},
		{"--colour blue", "odet t: --colour expects red, green or auto, got 'blue'\n"},
		{"--word bad", "refuses 'bad'"},
		{"--words", "odet t: --words needs at least one value\n"},
		{"--words -f", "needs at least one value"},
		{"--words a bad", "refuses 'bad'"},
		{"--int", "odet t: --int needs an argument\n"},
		{"m --bogus", "odet t: unknown option '--bogus' ('odet t --help' lists them)\n"},
		{"-x", "unknown option '-x'"},
		{"m m2", "odet t: unexpected argument 'm2' (one model only)\n"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		cli_parser p;
		vals x;
		table(&p, &x, 0);
		int r = run(&p, bad[k].line);
		CHECK_MSG(r == 2 && strstr(err, bad[k].says) && !strchr(err, '\n')[1], "'%s': %d, said '%s'", bad[k].line, r,
			  err);
	}
}

static void test_positionals(void)
{
	cli_parser p;
	vals x;
	table(&p, &x, 1);
	CHECK(run(&p, "m a --int 1 b") == 0 && x.n_src == 2 && !strcmp(x.srcs[1], "b"));
	table(&p, &x, 1);
	CHECK(run(&p, "m a b c d e") == 2 && strstr(err, "too many arguments (at most 4"));
	table(&p, &x, 1);
	p.need_model = 1;
	p.need_srcs = 1;
	CHECK(run(&p, "") == 2 && !strncmp(err, "odet t: MODEL is required\nusage: odet t", 38));
	table(&p, &x, 1);
	p.need_srcs = 1;
	p.srcs_name = "IMAGES";
	CHECK(run(&p, "m") == 2 && !strncmp(err, "odet t: IMAGES is required\n", 27));
	table(&p, &x, 1);
	p.opt[0].required = 1;
	CHECK(run(&p, "m a") == 2 && !strncmp(err, "odet t: --flag is required\n", 27));
	CHECK(run(&p, "m a -f") == 0);
	/* without a model slot: everything goes to srcs */
	table(&p, &x, 1);
	p.model = NULL;
	CHECK(run(&p, "a b") == 0 && x.n_src == 2 && !x.model);
	/* without either: no positional at all */
	table(&p, &x, 0);
	p.model = NULL;
	CHECK(run(&p, "a") == 2 && !strcmp(err, "odet t: unexpected argument 'a'\n"));
}

static void test_help(void)
{
	cli_parser p;
	vals x;
	table(&p, &x, 0);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cli_usage(&p, f);
	fclose(f);
	CHECK(!strncmp(buf, "usage: odet t MODEL [options]\n  -f, --flag        a flag\n", 56));
	CHECK(strstr(buf, "\n  --int N           1..8\n                    second line\n"));
	CHECK(strstr(buf, "\n  --words W...      words\na text line\n"));
	CHECK(!strstr(buf, "--minus") && !strstr(buf, "--long")); /* no help text: not listed */
	free(buf);
	table(&p, &x, 0);
	CHECK(run(&p, "--int 0 --help") == 2); /* an error before --help is the answer */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	int r = run(&p, "m -h --bogus"); /* the help, on stdout */
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	CHECK(r == 1 && !*err);
}

int main(void)
{
	test_values();
	test_refused();
	test_positionals();
	test_help();
	return test_summary("cli_opts");
}
