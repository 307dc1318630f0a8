/* The command table and the argp conventions every subcommand shares:
 * exact option names (no prefix abbreviations), one-line errors on stderr,
 * exit codes 0 ok, 1 findings at or above --fail-on, 2 usage/input error. */
#ifndef IOMMUTOOL_CLI_H
#define IOMMUTOOL_CLI_H

#include <argp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define EXIT_FINDINGS 1
#define EXIT_USAGE 2

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] = "iommutool NAME" */
};

extern const struct command cmd_dump;
extern const struct command cmd_synth;
extern const struct command cmd_extract;
extern const struct command cmd_trace;
extern const struct command cmd_replay;

/* Prints "iommutool[ CMD]: message" on stderr (one line). */
void cli_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses with argp after checking that every option is spelled exactly as
 * declared and has its argument.  --help and --usage are provided here.
 * Returns 0 to go on, 1 when help was printed (exit 0), or EXIT_USAGE
 * after printing the error. */
int cli_parse(const struct argp *argp, int argc, char **argv, void *input);

/* Number parsing for option values: decimal, 0x hex; whole string. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* What a command's argp parser returns after printing its own error with
 * cli_error (bad value, missing argument, ...). */
#define CLI_PARSE_FAILED ECANCELED

/* Option keys that cli_parse handles itself. */
#define CLI_KEY_HELP  0x7f01
#define CLI_KEY_USAGE 0x7f02

#endif
