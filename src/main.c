/* iommutool: IOMMU page-table inspector, replayer and fuzzer. */

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Only commands that work are listed. */
static const struct command *const commands[] = {
	&cmd_dump,
	&cmd_extract,
	&cmd_synth,
	&cmd_trace,
	&cmd_replay,

};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: iommutool COMMAND [OPTION...] [ARG...]\n"
		   "Inspect, validate, build and replay IOMMU translation tables.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nOptions:\n"
		   "  -?, --help     Give this help list\n"
		   "  -V, --version  Print program version\n\n"
		   "Run 'iommutool COMMAND --help' for the options of a command.\n"
		   "Exit status: 0 ok, 1 findings at or above --fail-on, 2 usage or input error.\n");
}

int main(int argc, char **argv)
{
	char prog[64];

	if (argc < 2) {
		cli_error("iommutool", "no command given (try 'iommutool --help')");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("iommutool %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i]->name) != 0)
			continue;
		snprintf(prog, sizeof(prog), "iommutool %s", commands[i]->name);
		argv[1] = prog;
		return commands[i]->run(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-')
		cli_error("iommutool", "unknown option '%s' (try 'iommutool --help')", argv[1]);
	else
		cli_error("iommutool", "unknown command '%s' (try 'iommutool --help')", argv[1]);
	return EXIT_USAGE;
}
