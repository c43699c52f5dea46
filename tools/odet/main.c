/* main.c — the odet CLI: a table of subcommands, each in cmd_<name>.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *help;
} commands[] = {
#define X(name, help) {#name, cmd_##name, help},
	CLI_COMMANDS(X)
#undef X
};

static void usage(FILE *f)
{
	fprintf(f, "usage: odet <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].fn)
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'odet <command> --help' describes a command.\n"
		   "exit codes: 0 success, 1 runtime failure, 2 bad input or usage\n");
}

int cli_fail(odet_ctx *ctx, odet_status s, const char *what)
{
	const char *msg = ctx ? odet_ctx_last_error(ctx) : "";
	if (msg && *msg)
		fprintf(stderr, "odet: %s: %s\n", what, msg);
	else
		fprintf(stderr, "odet: %s: %s\n", what, odet_status_str(s));
	return odet_status_exit_code(s);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("odet %d.%d.%d\n", ODET_VERSION_MAJOR, ODET_VERSION_MINOR, ODET_VERSION_PATCH);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].fn && !strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "odet: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
