/* iommutool dump: decode and validate the translation tables of a dump. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decoders/iommu.h"
#include "dump/dump.h"
#include "out/print.h"
#include "source.h"

enum {
	OPT_DEVICE = 0x200,
	OPT_PASID,
	OPT_PAGES,
	OPT_JSON,
	OPT_BY_DOMAIN,
	OPT_REGS,
	OPT_FAIL_ON,
	OPT_MAX_TABLES,
	OPT_MAX_ENTRIES,
};

struct dump_opts {
	struct source_opts src;   /* first: argp child input */
	struct dev_ref *devices;  /* owned */
	size_t nr_devices;
	int64_t pasid;
	bool pasid_set;
	bool pages, json, by_domain, regs;
	int fail_on;              /* severity, or 3 = never */
	struct pt_limits limits;
};

static const struct argp_option dump_options[] = {
	{ NULL, 0, NULL, 0, "Selection and output:", 2 },
	{ "device", OPT_DEVICE, "BDF", 0,
	  "Only this device, as [dddd:]bb:dd.f (repeatable)", 2 },
	{ "pasid", OPT_PASID, "N", 0, "Only this PASID / substream id", 2 },
	{ "pages", OPT_PAGES, NULL, 0, "One line per leaf instead of coalesced ranges", 2 },
	{ "json", OPT_JSON, NULL, 0, "JSON Lines: mapping and finding records", 2 },
	{ "by-domain", OPT_BY_DOMAIN, NULL, 0,
	  "Print each domain once (for its first device) instead of per device", 2 },
	{ "regs", OPT_REGS, NULL, 0, "Also print the register snapshot decoded by field", 2 },
	{ "fail-on", OPT_FAIL_ON, "SEVERITY", 0,
	  "Exit 1 when a finding is at least SEVERITY: info, warning, error or never (default error)", 2 },
	{ "max-tables", OPT_MAX_TABLES, "N", 0, "Table pages one walk may visit (default 4194304)", 2 },
	{ "max-entries", OPT_MAX_ENTRIES, "N", 0, "Non-empty entries one walk may read", 2 },
	{ 0 }
};

static const struct argp_child dump_children[] = {
	{ &source_argp, 0, NULL, 1 },
	{ 0 }
};

static error_t parse_dump(int key, char *arg, struct argp_state *state)
{
	struct dump_opts *o = state->input;
	uint64_t v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->src;
		return 0;
	case OPT_DEVICE: {
		struct dev_ref d, *devs;

		if (!dev_ref_parse_bdf(arg, &d)) {
			cli_error(state->name, "bad --device '%s': expected [dddd:]bb:dd.f", arg);
			return CLI_PARSE_FAILED;
		}
		devs = realloc(o->devices, (o->nr_devices + 1) * sizeof(*devs));
		if (!devs)
			return ENOMEM;
		o->devices = devs;
		o->devices[o->nr_devices++] = d;
		return 0;
	}
	case OPT_PASID:
		if (!cli_parse_u64(arg, &v) || v >= (1u << 20)) {
			cli_error(state->name, "bad --pasid '%s': expected 0..1048575", arg);
			return CLI_PARSE_FAILED;
		}
		o->pasid = (int64_t)v;
		o->pasid_set = true;
		return 0;
	case OPT_PAGES: o->pages = true; return 0;
	case OPT_JSON: o->json = true; return 0;
	case OPT_BY_DOMAIN: o->by_domain = true; return 0;
	case OPT_REGS: o->regs = true; return 0;
	case OPT_FAIL_ON:
		if (strcmp(arg, "never") == 0) {
			o->fail_on = 3;
			return 0;
		}
		o->fail_on = severity_parse(arg);
		if (o->fail_on < 0) {
			cli_error(state->name, "bad --fail-on '%s': info, warning, error or never", arg);
			return CLI_PARSE_FAILED;
		}
		return 0;
	case OPT_MAX_TABLES:
	case OPT_MAX_ENTRIES:
		if (!cli_parse_u64(arg, &v) || v == 0) {
			cli_error(state->name, "bad limit '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		if (key == OPT_MAX_TABLES)
			o->limits.max_tables = v;
		else
			o->limits.max_entries = v;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp dump_argp = {
	dump_options, parse_dump, "SOURCE",
	"Decode and validate the IOMMU translation tables in SOURCE, an ELF core "
	"file (QEMU dump-guest-memory, kdump vmcore, an image written by "
	"iommutool) or a raw memory file (--base), and print the mappings per "
	"device and PASID, and the findings.",
	dump_children, NULL, NULL
};

struct regs_print {
	FILE *out;
	bool json;
	uint32_t unit;
	const char *last_reg;
};

static int print_reg_field(void *arg, const struct reg_field *f)
{
	struct regs_print *rp = arg;
	char bits[16];

	if (rp->json) {
		fprintf(rp->out, "{\"type\":\"register\",\"unit\":%u,\"reg\":\"%s\",\"field\":\"%s\","
			"\"hi\":%u,\"lo\":%u,\"value\":\"0x%" PRIx64 "\",\"meaning\":",
			rp->unit, f->reg, f->field, f->hi, f->lo, f->value);
		if (f->meaning)
			fprintf(rp->out, "\"%s\"}\n", f->meaning);
		else
			fputs("null}\n", rp->out);
		return 0;
	}
	if (!rp->last_reg || strcmp(rp->last_reg, f->reg) != 0) {
		fprintf(rp->out, "  %s:\n", f->reg);
		rp->last_reg = f->reg;
	}
	if (f->hi == f->lo)
		snprintf(bits, sizeof(bits), "[%u]", f->hi);
	else
		snprintf(bits, sizeof(bits), "[%u:%u]", f->hi, f->lo);
	fprintf(rp->out, "    %-10s %-7s 0x%-10" PRIx64 "%s\n", f->field, bits, f->value,
		f->meaning ? f->meaning : "");
	return 0;
}

static int print_regs(const struct image_unit *u, bool json)
{
	const struct iommu_decoder *dec = iommu_decoder_get(u->kind);
	struct regs_print rp = { stdout, json, u->index, NULL };

	if (!json)
		printf("unit %u (%s) registers:\n", u->index, iommu_kind_name(u->kind));
	if (!dec || !dec->describe_regs)
		return 0;
	return dec->describe_regs(u, print_reg_field, &rp);
}

static int run_dump(int argc, char **argv)
{
	struct dump_opts o = { .pasid = PASID_NONE, .fail_on = SEV_ERROR,
			       .limits = { PT_DEFAULT_MAX_TABLES, PT_DEFAULT_MAX_ENTRIES } };
	struct physmem *mem = NULL;
	struct image_info info;
	struct printer pr;
	struct errbuf err = { "" };
	struct dump_stats stats = { 0 };
	struct dump_filter filter;
	int rc, status = 0;

	rc = cli_parse(&dump_argp, argc, argv, &o);
	if (rc) {
		free(o.devices);
		source_opts_release(&o.src);
		return rc == 1 ? 0 : rc;
	}
	filter = (struct dump_filter){ o.devices, o.nr_devices, o.pasid, o.pasid_set };
	rc = source_open(&o.src, &mem, &info, &err);
	if (rc < 0) {
		cli_error(argv[0], "%s", err.msg);
		free(o.devices);
		source_opts_release(&o.src);
		return EXIT_USAGE;
	}
	printer_init(&pr, stdout, o.json, o.pages);
	for (size_t i = 0; i < info.nr_units; i++) {
		const struct image_unit *u = &info.units[i];
		struct dump_params p = {
			.mem = mem, .unit = u, .filter = &filter, .limits = o.limits,
			.by_domain = o.by_domain, .out = &pr.sink,
		};

		if (o.src.unit_set && u->index != o.src.unit)
			continue;
		if (o.regs)
			print_regs(u, o.json);
		rc = dump_unit(&p, &stats, &err);
		if (rc < 0) {
			fflush(stdout); /* records already printed stay; no summary */
			cli_error(argv[0], "%s: %s", o.src.path, err.msg);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (printer_finish(&pr) < 0) {
		cli_error(argv[0], "cannot write output");
		status = EXIT_USAGE;
		goto out;
	}
	if (pr.worst >= o.fail_on)
		status = EXIT_FINDINGS;
out:
	printer_release(&pr);
	physmem_free(mem);
	image_info_release(&info);
	free(o.devices);
	source_opts_release(&o.src);
	return status;
}

const struct command cmd_dump = {
	"dump", "Decode and validate the IOMMU tables of a dump or image", run_dump
};
