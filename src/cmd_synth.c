/* iommutool synth: a JSON spec of devices and mappings → an ELF image whose
 * tables the decoders (and the hardware) read back as specified. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decoders/iommu.h"
#include "mem/arena.h"

/* Table pages are allocated from here unless the spec says otherwise. */
#define SYNTH_DEFAULT_BASE  0x10000000ull /* 256 MiB */
#define SYNTH_DEFAULT_LIMIT 0x40000000ull /* 1 GiB of table pages at most */
/* A spec larger than this is not a spec. */
#define SYNTH_MAX_SPEC (64u << 20)

enum { OPT_OUTPUT = 'o' };

struct synth_opts {
	const char *spec;
	const char *output;
};

static const struct argp_option synth_options[] = {
	{ "output", OPT_OUTPUT, "FILE", 0, "Write the image to FILE (required)", 0 },
	{ 0 }
};

static error_t parse_synth(int key, char *arg, struct argp_state *state)
{
	struct synth_opts *o = state->input;

	switch (key) {
	case OPT_OUTPUT:
		o->output = arg;
		return 0;
	case ARGP_KEY_ARG:
		if (o->spec) {
			cli_error(state->name, "one SPEC only (got '%s' and '%s')", o->spec, arg);
			return CLI_PARSE_FAILED;
		}
		o->spec = arg;
		return 0;
	case ARGP_KEY_END:
		if (!o->spec) {
			cli_error(state->name, "no SPEC given (try '%s --help')", state->name);
			return CLI_PARSE_FAILED;
		}
		if (!o->output) {
			cli_error(state->name, "no output file given (-o FILE)");
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp synth_argp = {
	synth_options, parse_synth, "SPEC.json",
	"Build IOMMU translation tables from a JSON spec and write them as an ELF "
	"core image with an IOMMUTOOL note (see iommutool-synth(1) for the spec "
	"and iommutool-image(5) for the image).",
	NULL, NULL, NULL
};

/* Reads and parses the spec; errors name the file and the line/column. */
static int load_spec(const char *path, struct json_object **out, struct errbuf *err)
{
	struct json_tokener *tok;
	struct json_object *obj;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (!f)
		return err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		size_t n;

		if (len == cap) {
			char *b;

			if (cap >= SYNTH_MAX_SPEC) {
				rc = err_set(err, -EFBIG, "%s: spec larger than %u bytes", path,
					     SYNTH_MAX_SPEC);
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			b = realloc(buf, cap);
			if (!b) {
				rc = err_set(err, -ENOMEM, "out of memory reading %s", path);
				goto out;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = err_set(err, -EIO, "cannot read %s", path);
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		rc = err_set(err, -ENOMEM, "out of memory parsing %s", path);
		goto out;
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!obj || json_tokener_get_parse_end(tok) < len) {
		size_t off = json_tokener_get_parse_end(tok), line = 1;
		enum json_tokener_error e = json_tokener_get_error(tok);

		for (size_t i = 0; i < off && i < len; i++)
			line += buf[i] == '\n';
		if (obj && e == json_tokener_success) {
			/* trailing data after the top-level value */
			while (off < len && strchr(" \t\r\n", buf[off]))
				off++;
			if (off == len)
				goto parsed;
			json_object_put(obj);
			rc = err_set(err, -EINVAL, "%s:%zu: trailing data after the spec", path, line);
		} else {
			json_object_put(obj);
			rc = err_set(err, -EINVAL, "%s:%zu: %s", path, line,
				     e == json_tokener_continue ? "unexpected end of file"
								 : json_tokener_error_desc(e));
		}
		json_tokener_free(tok);
		goto out;
	}
parsed:
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		rc = err_set(err, -EINVAL, "%s: the spec must be a JSON object", path);
		goto out;
	}
	*out = obj;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* A spec is one unit object, or {"units": [unit, ...]}. */
static int synth_units(struct json_object *spec, struct arena *arena,
		       struct image_info *info, unsigned *machine, struct errbuf *err)
{
	struct json_object *units = NULL;
	size_t n = 1;

	if (json_object_object_get_ex(spec, "units", &units)) {
		if (!json_object_is_type(units, json_type_array) ||
		    json_object_array_length(units) == 0)
			return err_set(err, -EINVAL, "units: expected a non-empty array");
		n = json_object_array_length(units);
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *u = units ? json_object_array_get_idx(units, i) : spec;
		struct json_object *kind_obj;
		const struct iommu_decoder *dec;
		struct image_unit *unit;
		enum iommu_kind kind;
		int rc;

		if (!json_object_is_type(u, json_type_object))
			return err_set(err, -EINVAL, "units[%zu]: expected an object", i);
		if (!json_object_object_get_ex(u, "iommu", &kind_obj) ||
		    !json_object_is_type(kind_obj, json_type_string))
			return err_set(err, -EINVAL, "%s: missing \"iommu\" (vtd, amd, smmuv3, papr)",
				       units ? "units[]" : "spec");
		kind = iommu_kind_parse(json_object_get_string(kind_obj));
		dec = iommu_decoder_get(kind);
		if (kind == IOMMU_NONE)
			return err_set(err, -EINVAL, "iommu: unknown type \"%s\"",
				       json_object_get_string(kind_obj));
		if (!dec || !dec->synth)
			return err_set(err, -ENOTSUP, "iommu: no encoder for \"%s\" yet",
				       json_object_get_string(kind_obj));
		unit = image_info_unit(info, (uint32_t)i, err);
		if (!unit)
			return -ENOMEM;
		unit->kind = kind;
		rc = dec->synth(u, arena, unit, err);
		if (rc < 0)
			return units ? err_prefix(err, rc, "units[%zu]", i) : rc;
		*machine = dec->elf_machine;
	}
	return 0;
}

static int run_synth(int argc, char **argv)
{
	struct synth_opts o = { 0 };
	struct json_object *spec = NULL;
	struct errbuf err = { "" };
	struct image_info info;
	struct physmem *view = NULL;
	struct arena *arena;
	unsigned machine = 0;
	int rc;

	rc = cli_parse(&synth_argp, argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	rc = load_spec(o.spec, &spec, &err);
	if (rc < 0) {
		cli_error(argv[0], "%s", err.msg);
		return EXIT_USAGE;
	}
	image_info_init(&info);
	info.from_note = true;
	arena = arena_new(SYNTH_DEFAULT_BASE, SYNTH_DEFAULT_LIMIT);
	if (!arena) {
		rc = err_set(&err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = synth_units(spec, arena, &info, &machine, &err);
	if (rc < 0) {
		err_prefix(&err, rc, "%s", o.spec);
		goto out;
	}
	rc = arena_physmem(arena, &view, &err);
	if (rc < 0)
		goto out;
	rc = image_write(o.output, view, &info, machine, &err);
out:
	if (rc < 0)
		cli_error(argv[0], "%s", err.msg);
	physmem_free(view);
	arena_free(arena);
	image_info_release(&info);
	json_object_put(spec);
	return rc < 0 ? EXIT_USAGE : 0;
}

const struct command cmd_synth = {
	"synth", "Build tables from a JSON spec into an ELF image", run_synth
};
