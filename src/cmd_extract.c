/* iommutool extract: keep only the IOMMU tables of a dump.  Decodes SOURCE
 * like `dump` while recording every page the decoders read, then writes an
 * image of just those pages plus the register snapshot, so a 256 MiB guest
 * dump becomes a fixture of a few hundred KiB that dumps identically. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "decoders/iommu.h"
#include "dump/dump.h"
#include "dump/recorder.h"
#include "source.h"

enum { OPT_OUTPUT = 'o' };

struct extract_opts {
	struct source_opts src; /* first: argp child input */
	const char *output;
};

static const struct argp_option extract_options[] = {
	{ "output", OPT_OUTPUT, "FILE", 0, "Write the image to FILE (required)", 2 },
	{ 0 }
};

static const struct argp_child extract_children[] = {
	{ &source_argp, 0, NULL, 1 },
	{ 0 }
};

static error_t parse_extract(int key, char *arg, struct argp_state *state)
{
	struct extract_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->src;
		return 0;
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case ARGP_KEY_END:
		if (!o->output) {
			cli_error(state->name, "no output file given (-o FILE)");
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp extract_argp = {
	extract_options, parse_extract, "SOURCE",
	"Write an ELF image holding only the pages the decoder reads from SOURCE "
	"(root, context, device/stream tables, PASID and page tables) and the "
	"register snapshot as an IOMMUTOOL note.  `iommutool dump` prints the same "
	"mappings and findings for the image as for SOURCE.",
	extract_children, NULL, NULL
};

/* Mappings and findings are not printed; the walk only has to happen. */
static int discard_mapping(struct sink *s, const struct mapping *m)
{
	(void)s;
	(void)m;
	return 0;
}

static int discard_finding(struct sink *s, const struct finding *f)
{
	(void)s;
	(void)f;
	return 0;
}

static int run_extract(int argc, char **argv)
{
	struct extract_opts o = { 0 };
	struct physmem *mem = NULL, *rec = NULL, *subset = NULL;
	struct sink discard = { .mapping = discard_mapping, .finding = discard_finding };
	struct image_info info;
	struct dump_stats stats = { 0 };
	struct errbuf err = { "" };
	unsigned machine = 0;
	int rc;

	rc = cli_parse(&extract_argp, argc, argv, &o);
	if (rc) {
		source_opts_release(&o.src);
		return rc == 1 ? 0 : rc;
	}
	rc = source_open(&o.src, &mem, &info, &err);
	if (rc < 0) {
		cli_error(argv[0], "%s", err.msg);
		source_opts_release(&o.src);
		return EXIT_USAGE;
	}
	rc = recorder_new(mem, &rec, &err);
	for (size_t i = 0; rc == 0 && i < info.nr_units; i++) {
		const struct image_unit *u = &info.units[i];
		struct dump_params p = {
			.mem = rec, .unit = u,
			.limits = { PT_DEFAULT_MAX_TABLES, PT_DEFAULT_MAX_ENTRIES },
			.out = &discard,
		};
		const struct iommu_decoder *dec = iommu_decoder_get(u->kind);

		if (o.src.unit_set && u->index != o.src.unit)
			continue;
		if (dec)
			machine = dec->elf_machine;
		rc = dump_unit(&p, &stats, &err);
		if (rc < 0)
			err_prefix(&err, rc, "%s", o.src.path);
	}
	if (rc == 0)
		rc = recorder_subset(rec, &subset, &err);
	if (rc == 0)
		rc = image_write(o.output, subset, &info, machine, &err);
	if (rc == 0)
		printf("%s: %" PRIu64 " pages of tables, %" PRIu64 " translation contexts, %"
		       PRIu64 " leaves\n", o.output, recorder_pages(rec),
		       stats.attachments, stats.leaves);
	else
		cli_error(argv[0], "%s", err.msg);
	physmem_free(subset);
	physmem_free(rec);
	physmem_free(mem);
	image_info_release(&info);
	source_opts_release(&o.src);
	return rc < 0 ? EXIT_USAGE : 0;
}

const struct command cmd_extract = {
	"extract", "Write an image holding only the IOMMU tables of a dump", run_extract
};
