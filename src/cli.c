#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Looks an option up in @argp and its children. */
static const struct argp_option *find_option(const struct argp *argp,
					     const char *name, size_t len, int key)
{
	const struct argp_option *o;
	const struct argp_child *c;

	for (o = argp->options; o && (o->name || o->key || o->doc); o++) {
		if (o->flags & OPTION_DOC)
			continue;
		if (name && o->name && strlen(o->name) == len &&
		    strncmp(o->name, name, len) == 0)
			return o;
		if (!name && key && o->key == key && key < 0x100 &&
		    (o->key > ' ' && o->key < 0x7f))
			return o;
	}
	for (c = argp->children; c && c->argp; c++) {
		o = find_option(c->argp, name, len, key);
		if (o)
			return o;
	}
	return NULL;
}

static bool takes_arg(const struct argp_option *o)
{
	return o->arg && !(o->flags & OPTION_ARG_OPTIONAL);
}

/* getopt accepts unique prefixes of long options; we do not. */
static int prescan(const struct argp *argp, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct argp_option *o;

			if (len == 4 && strncmp(name, "help", 4) == 0)
				continue;
			if (len == 5 && strncmp(name, "usage", 5) == 0)
				continue;
			o = find_option(argp, name, len, 0);
			if (!o) {
				cli_error(argv[0], "unknown option '--%.*s'", (int)len, name);
				return EXIT_USAGE;
			}
			if (eq && !o->arg) {
				cli_error(argv[0], "option '--%s' takes no value", o->name);
				return EXIT_USAGE;
			}
			if (!eq && takes_arg(o)) {
				if (i + 1 >= argc) {
					cli_error(argv[0], "option '--%s' needs a value", o->name);
					return EXIT_USAGE;
				}
				i++;
			}
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			const struct argp_option *o;

			if (*p == '?')
				continue;
			o = find_option(argp, NULL, 0, (unsigned char)*p);
			if (!o) {
				cli_error(argv[0], "unknown option '-%c'", *p);
				return EXIT_USAGE;
			}
			if (o->arg) {
				if (p[1] == '\0' && takes_arg(o)) {
					if (i + 1 >= argc) {
						cli_error(argv[0], "option '-%c' needs a value", *p);
						return EXIT_USAGE;
					}
					i++;
				}
				break;
			}
		}
	}
	return 0;
}

/* argp state for the --help/--usage wrapper around a command's argp. */
struct cli_wrap {
	bool shown;
	char *prog;
	void *input; /* the command's own input */
};

static const struct argp_option help_options[] = {
	{ "help", CLI_KEY_HELP, NULL, 0, "Give this help list", -1 },
	{ "usage", CLI_KEY_USAGE, NULL, 0, "Give a short usage message", -1 },
	{ 0 }
};

static error_t help_parser(int key, char *arg, struct argp_state *state)
{
	struct cli_wrap *w = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = w->input;
		return 0;
	case CLI_KEY_HELP:
		argp_help(state->root_argp, stdout, ARGP_HELP_STD_HELP, w->prog);
		w->shown = true;
		return EINTR;
	case CLI_KEY_USAGE:
		argp_help(state->root_argp, stdout, ARGP_HELP_USAGE, w->prog);
		w->shown = true;
		return EINTR;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

int cli_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	struct argp_child children[] = { { argp, 0, NULL, 0 }, { 0 } };
	struct argp outer = { help_options, help_parser, NULL,
			      argp->doc, children, NULL, NULL };
	struct cli_wrap w = { false, argv[0], input };
	int rc;

	rc = prescan(&outer, argc, argv);
	if (rc)
		return rc;
	/* ARGP_NO_ERRS implies ARGP_NO_EXIT: argp neither prints nor exits,
	 * so every error message below is ours and one line long. */
	rc = argp_parse(&outer, argc, argv, ARGP_NO_HELP | ARGP_NO_ERRS, NULL, &w);
	if (w.shown)
		return 1;
	if (rc) {
		if (rc != CLI_PARSE_FAILED)
			cli_error(argv[0], "invalid arguments (try '%s --help')", argv[0]);
		return EXIT_USAGE;
	}
	return 0;
}
