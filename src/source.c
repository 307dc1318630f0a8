#include "source.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decoders/iommu.h"

enum {
	OPT_IOMMU = 0x100,
	OPT_REG,
	OPT_BASE,
	OPT_UNIT,
};

static const struct argp_option source_options[] = {
	{ NULL, 0, NULL, 0, "Source of memory and registers:", 1 },
	{ "iommu", OPT_IOMMU, "KIND", 0,
	  "IOMMU type: vtd, amd, smmuv3 or papr (default: from the image note)", 1 },
	{ "reg", OPT_REG, "NAME=VALUE", 0,
	  "Register value as the hardware holds it, e.g. rtaddr=0x7ff0000 (repeatable)", 1 },
	{ "unit", OPT_UNIT, "N", 0,
	  "Only this IOMMU unit of the image; --reg applies to it (default 0)", 1 },
	{ "base", OPT_BASE, "ADDR", 0,
	  "SOURCE is a raw memory file whose first byte is physical address ADDR", 1 },
	{ 0 }
};

static error_t parse_source(int key, char *arg, struct argp_state *state)
{
	struct source_opts *o = state->input;
	uint64_t v;
	char *eq;

	switch (key) {
	case ARGP_KEY_INIT:
		o->prog = state->name;
		return 0;
	case OPT_IOMMU:
		if (iommu_kind_parse(arg) == IOMMU_NONE) {
			cli_error(state->name, "unknown iommu '%s' (vtd, amd, smmuv3, papr)", arg);
			return CLI_PARSE_FAILED;
		}
		o->iommu = arg;
		return 0;
	case OPT_REG: {
		struct source_reg *regs;

		eq = strchr(arg, '=');
		if (!eq || eq == arg) {
			cli_error(state->name, "bad --reg '%s': expected NAME=VALUE", arg);
			return CLI_PARSE_FAILED;
		}
		if (!cli_parse_u64(eq + 1, &v)) {
			cli_error(state->name, "bad --reg '%s': value is not a number", arg);
			return CLI_PARSE_FAILED;
		}
		regs = realloc(o->regs, (o->nr_regs + 1) * sizeof(*regs));
		if (!regs)
			return ENOMEM;
		o->regs = regs;
		*eq = '\0';
		o->regs[o->nr_regs].name = arg;
		o->regs[o->nr_regs].value = v;
		o->nr_regs++;
		return 0;
	}
	case OPT_UNIT:
		if (!cli_parse_u64(arg, &v) || v > 0xffff) {
			cli_error(state->name, "bad --unit '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		o->unit = (uint32_t)v;
		o->unit_set = true;
		return 0;
	case OPT_BASE:
		if (!cli_parse_u64(arg, &v) || (v & 0xfff)) {
			cli_error(state->name, "bad --base '%s': expected a 4 KiB aligned address", arg);
			return CLI_PARSE_FAILED;
		}
		o->base = v;
		o->raw = true;
		return 0;
	case ARGP_KEY_ARG:
		if (o->path) {
			cli_error(state->name, "one SOURCE only (got '%s' and '%s')", o->path, arg);
			return CLI_PARSE_FAILED;
		}
		o->path = arg;
		return 0;
	case ARGP_KEY_END:
		if (!o->path) {
			cli_error(state->name, "no SOURCE given (try '%s --help')", state->name);
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp source_argp = { source_options, parse_source, NULL, NULL, NULL, NULL, NULL };

static bool known_reg(const struct iommu_decoder *dec, const char *name)
{
	for (const char *const *r = dec->reg_names; r && *r; r++)
		if (strcmp(*r, name) == 0)
			return true;
	return false;
}

static int known_regs_list(const struct iommu_decoder *dec, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *const *r = dec->reg_names; r && *r && off < len; r++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					r == dec->reg_names ? "" : ", ", *r);
	return 0;
}

/* ELF machines whose memory can hold each IOMMU's tables. */
static bool machine_fits(enum iommu_kind kind, unsigned machine)
{
	switch (kind) {
	case IOMMU_VTD:
	case IOMMU_AMD:
		return machine == EM_X86_64 || machine == EM_386;
	case IOMMU_SMMUV3:
		return machine == EM_AARCH64 || machine == EM_ARM;
	case IOMMU_PAPR:
		return machine == EM_PPC64 || machine == EM_PPC;
	default:
		return true;
	}
}

int source_open(const struct source_opts *o, struct physmem **mem,
		struct image_info *info, struct errbuf *err)
{
	struct image_unit *u;
	const struct iommu_decoder *dec;
	enum iommu_kind kind = o->iommu ? iommu_kind_parse(o->iommu) : IOMMU_NONE;
	char names[160];
	int rc;

	*mem = NULL;
	image_info_init(info);
	if (o->raw)
		rc = physmem_open_raw(o->path, o->base, mem, err);
	else
		rc = physmem_open_elf(o->path, mem, err);
	if (rc < 0)
		return rc;
	if (!o->raw) {
		rc = image_read_notes(o->path, info, err);
		if (rc < 0)
			goto fail;
	}
	if (info->nr_units == 0 && kind == IOMMU_NONE) {
		rc = err_set(err, -EINVAL, "%s: no IOMMUTOOL note; give --iommu and --reg", o->path);
		goto fail;
	}
	u = image_info_unit(info, o->unit_set ? o->unit : 0, err);
	if (!u) {
		rc = -ENOMEM;
		goto fail;
	}
	if (kind != IOMMU_NONE)
		u->kind = kind;
	if (u->kind == IOMMU_NONE) {
		rc = err_set(err, -EINVAL, "%s: unit %u has no IOMMU type; give --iommu",
			     o->path, u->index);
		goto fail;
	}
	for (size_t i = 0; i < info->nr_units; i++) {
		const struct image_unit *each = &info->units[i];

		if ((*mem)->machine && each->kind != IOMMU_NONE &&
		    !machine_fits(each->kind, (*mem)->machine)) {
			rc = err_set(err, -EINVAL, "%s: an ELF core of machine %u cannot hold %s tables",
				     o->path, (*mem)->machine, iommu_kind_name(each->kind));
			goto fail;
		}
	}
	dec = iommu_decoder_get(u->kind);
	if (!dec) {
		rc = err_set(err, -ENOTSUP, "no decoder for iommu '%s' yet",
			     iommu_kind_name(u->kind));
		goto fail;
	}
	for (size_t i = 0; i < o->nr_regs; i++) {
		if (!known_reg(dec, o->regs[i].name)) {
			known_regs_list(dec, names, sizeof(names));
			rc = err_set(err, -EINVAL, "unknown register '%s' for %s (known: %s)",
				     o->regs[i].name, dec->name, names);
			goto fail;
		}
		rc = image_unit_set_reg(u, o->regs[i].name, o->regs[i].value, err);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	physmem_free(*mem);
	*mem = NULL;
	image_info_release(info);
	return rc;
}

void source_opts_release(struct source_opts *o)
{
	free(o->regs);
	o->regs = NULL;
	o->nr_regs = 0;
}
