/* iommutool trace: import ftrace text, show trace.bin, record from tracefs. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trace/import.h"
#include "trace/print.h"
#include "trace/tracefs.h"
#include "trace/trace.h"

/* ---- import ---- */

struct import_args {
	const char *prog;
	const char *input;
	const char *output;
};

static const struct argp_option import_options[] = {
	{ "output", 'o', "FILE", 0, "Write the trace to FILE ('-' for stdout)", 0 },
	{ 0 }
};

static error_t import_parser(int key, char *arg, struct argp_state *state)
{
	struct import_args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		return 0;
	case ARGP_KEY_ARG:
		if (a->input) {
			cli_error(a->prog, "unexpected argument '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		a->input = arg;
		return 0;
	case ARGP_KEY_END:
		if (!a->input) {
			cli_error(a->prog, "no input file given (try '%s --help')", a->prog);
			return CLI_PARSE_FAILED;
		}
		if (!a->output) {
			cli_error(a->prog, "no output given: use -o FILE");
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp import_argp = {
	import_options, import_parser, "FILE",
	"Convert ftrace text (/sys/kernel/tracing/trace, trace_pipe or "
	"`trace-cmd report`) with iommu:*, dma:* and kprobe events into trace.bin.  "
	"FILE '-' reads stdin.",
	NULL, NULL, NULL
};

/* Notes and the summary of an import or a recording, on stderr. */
static void report_import(const char *prog, const struct import_stats *st)
{
	if (st->single_domain)
		fprintf(stderr, "%s: note: no kprobe or dma:* events tell the domains apart: "
			"all iommu map/unmap events were imported into one domain\n", prog);
	if (st->unattributed)
		fprintf(stderr, "%s: note: iommu map/unmap events that no kprobe or dma:* "
			"event matched were left without a domain: %" PRIu64 "\n", prog,
			st->unattributed);
	if (st->device_domains)
		fprintf(stderr, "%s: note: devices without an attach kprobe were each given "
			"a domain of their own: %" PRIu32 "\n", prog, st->device_domains);
	if (st->lost)
		fprintf(stderr, "%s: warning: the tracer lost %" PRIu64 " events: a replay "
			"may not match the kernel's tables\n", prog, st->lost);
	fprintf(stderr, "imported %" PRIu64 " records, skipped %" PRIu64 " unknown lines\n",
		st->records, st->unknown);
}

static int run_import(int argc, char **argv)
{
	struct import_args a = { argv[0], NULL, NULL };
	struct import_stats st;
	struct errbuf err;
	int rc = cli_parse(&import_argp, argc, argv, &a);

	if (rc)
		return rc == 1 ? 0 : rc;
	rc = import_ftrace_file(a.input, a.output, &st, &err);
	if (rc) {
		cli_error(argv[0], "%s", err.msg);
		return EXIT_USAGE;
	}
	report_import(argv[0], &st);
	return 0;
}

/* ---- show ---- */

struct show_args {
	const char *prog;
	const char *input;
	bool json;
};

#define KEY_JSON 0x100

static const struct argp_option show_options[] = {
	{ "json", KEY_JSON, NULL, 0, "One JSON object per record (JSON Lines)", 0 },
	{ 0 }
};

static error_t show_parser(int key, char *arg, struct argp_state *state)
{
	struct show_args *a = state->input;

	switch (key) {
	case KEY_JSON:
		a->json = true;
		return 0;
	case ARGP_KEY_ARG:
		if (a->input) {
			cli_error(a->prog, "unexpected argument '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		a->input = arg;
		return 0;
	case ARGP_KEY_END:
		if (!a->input) {
			cli_error(a->prog, "no trace file given (try '%s --help')", a->prog);
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp show_argp = {
	show_options, show_parser, "FILE",
	"Print the records of a trace.bin file, one per line.  FILE '-' reads stdin.",
	NULL, NULL, NULL
};

static const char *reader_device(const void *ctx, uint32_t id)
{
	return trace_reader_device(ctx, id);
}

static int run_show(int argc, char **argv)
{
	struct show_args a = { argv[0], NULL, false };
	struct trace_reader r;
	struct trace_record rec;
	struct errbuf err;
	int rc = cli_parse(&show_argp, argc, argv, &a);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (trace_reader_open(&r, a.input, &err)) {
		cli_error(argv[0], "%s", err.msg);
		return EXIT_USAGE;
	}
	while ((rc = trace_reader_next(&r, &rec, &err)) == 1) {
		if (trace_print_record(stdout, a.json, &rec, reader_device, &r)) {
			rc = -EIO;
			snprintf(err.msg, sizeof(err.msg), "cannot write the output");
			break;
		}
	}
	trace_reader_release(&r);
	if (fflush(stdout) && rc == 0) {
		rc = -EIO;
		snprintf(err.msg, sizeof(err.msg), "cannot write the output");
	}
	if (rc < 0) {
		cli_error(argv[0], "%s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- record ---- */

struct record_args {
	const char *prog;
	const char *output;
	const char *tracefs;
	uint64_t seconds;
};

#define KEY_SECONDS 0x101
#define KEY_TRACEFS 0x102

static const struct argp_option record_options[] = {
	{ "output", 'o', "FILE", 0, "Write the trace to FILE ('-' for stdout)", 0 },
	{ "seconds", KEY_SECONDS, "N", 0, "Record for N seconds (default 10)", 0 },
	{ "tracefs", KEY_TRACEFS, "DIR", 0,
	  "Use the tracefs mounted at DIR (default /sys/kernel/tracing, then "
	  "/sys/kernel/debug/tracing)", 0 },
	{ 0 }
};

static error_t record_parser(int key, char *arg, struct argp_state *state)
{
	struct record_args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		return 0;
	case KEY_SECONDS:
		if (!cli_parse_u64(arg, &a->seconds) || a->seconds == 0 ||
		    a->seconds > 86400) {
			cli_error(a->prog, "bad --seconds '%s' (1 to 86400)", arg);
			return CLI_PARSE_FAILED;
		}
		return 0;
	case KEY_TRACEFS:
		a->tracefs = arg;
		return 0;
	case ARGP_KEY_ARG:
		cli_error(a->prog, "unexpected argument '%s'", arg);
		return CLI_PARSE_FAILED;
	case ARGP_KEY_END:
		if (!a->output) {
			cli_error(a->prog, "no output given: use -o FILE");
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp record_argp = {
	record_options, record_parser, NULL,
	"Enable the iommu:* and dma:* trace events on a live tracefs, read "
	"trace_pipe for N seconds and write trace.bin (needs root).  Kprobe events "
	"set up beforehand are recorded too when enabled.",
	NULL, NULL, NULL
};

static int run_record(int argc, char **argv)
{
	struct record_args a = { argv[0], NULL, NULL, 10 };
	struct import_stats st;
	struct errbuf err;
	int rc = cli_parse(&record_argp, argc, argv, &a);

	if (rc)
		return rc == 1 ? 0 : rc;
	rc = tracefs_record(a.tracefs, a.output, (unsigned)a.seconds, &st, &err);
	if (rc) {
		cli_error(argv[0], "%s", err.msg);
		return EXIT_USAGE;
	}
	report_import(argv[0], &st);
	return 0;
}

/* ---- dispatch ---- */

static const struct command subcommands[] = {
	{ "import", "Convert ftrace text into trace.bin", run_import },
	{ "show", "Print the records of trace.bin", run_show },
	{ "record", "Record trace.bin from a live tracefs (root)", run_record },
};
#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static int run_trace(int argc, char **argv)
{
	char prog[64];

	if (argc < 2) {
		cli_error(argv[0], "no subcommand given (try '%s --help')", argv[0]);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0) {
		printf("Usage: %s SUBCOMMAND [OPTION...] [ARG...]\n"
		       "Traces of IOMMU and DMA-API operations (man 5 iommutool-trace).\n\n"
		       "Subcommands:\n", argv[0]);
		for (size_t i = 0; i < NR_SUBCOMMANDS; i++)
			printf("  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
		printf("\nRun '%s SUBCOMMAND --help' for its options.\n", argv[0]);
		return 0;
	}
	for (size_t i = 0; i < NR_SUBCOMMANDS; i++) {
		if (strcmp(argv[1], subcommands[i].name) != 0)
			continue;
		snprintf(prog, sizeof(prog), "%s %s", argv[0], subcommands[i].name);
		argv[1] = prog;
		return subcommands[i].run(argc - 1, argv + 1);
	}
	cli_error(argv[0], "unknown subcommand '%s' (try '%s --help')", argv[1], argv[0]);
	return EXIT_USAGE;
}

const struct command cmd_trace = {
	"trace", "Import, show and record traces of IOMMU operations", run_trace
};
