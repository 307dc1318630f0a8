/* AMD-Vi register and DTE fields by the spec's names, with decoded
 * meanings, for `dump --regs` (amd_regs.def and AMD_DTE_FIELDS hold the
 * tables). */
#include "decoders/amd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const struct amd_reg_row amd_reg_rows[] = {
#define AMD_REG_FIELD(reg, name, hi, lo, dec, text) \
	{ #reg, #name, hi, lo, dec, text },
#include "decoders/amd_regs.def"
#undef AMD_REG_FIELD
};
const size_t amd_nr_reg_rows = sizeof(amd_reg_rows) / sizeof(amd_reg_rows[0]);

const struct amd_dte_field amd_dte_fields[AMD_DTE_NR_FIELDS] = {
#define AMD_DTE_ROW(id, name, hi, lo, comment) { name, hi, lo, comment },
	AMD_DTE_FIELDS(AMD_DTE_ROW)
#undef AMD_DTE_ROW
};

const struct amd_finding_info amd_findings[AMD_NR_FINDINGS] = {
#define AMD_FINDING(id, code, sev, text) [AMD_F_##id] = { code, sev, text },
#include "decoders/amd_findings.def"
#undef AMD_FINDING
};

static uint64_t field_of(uint64_t value, unsigned hi, unsigned lo)
{
	return (value & AMD_MASK(hi, lo)) >> lo;
}

const char *amd_reg_meaning(const struct amd_reg_row *row, uint64_t value,
			    char *buf, size_t len)
{
	switch (row->decode) {
	case AMD_DEC_FLAG:
		snprintf(buf, len, "%s%s", value ? "" : "no ", row->text);
		return buf;
	case AMD_DEC_NUM:
		return NULL;
	case AMD_DEC_ADDR:
		snprintf(buf, len, "0x%" PRIx64, value << 12);
		return buf;
	case AMD_DEC_DTSIZE:
		snprintf(buf, len, "%" PRIu64 " KiB, %" PRIu64 " entries",
			 (value + 1) * 4, (value + 1) * 4096 / AMD_DTE_SIZE);
		return buf;
	case AMD_DEC_HATS:
		if (value == AMD_EFR_HATS_RESERVED)
			snprintf(buf, len, "reserved");
		else
			snprintf(buf, len, "%" PRIu64 " levels", 4 + value);
		return buf;
	case AMD_DEC_GATS:
		if (value > 1)
			snprintf(buf, len, "reserved");
		else
			snprintf(buf, len, "%" PRIu64 " levels", 4 + value);
		return buf;
	case AMD_DEC_GLX:
		snprintf(buf, len, "%" PRIu64 " level%s", value + 1,
			 value ? "s" : "");
		return buf;
	case AMD_DEC_PASMAX:
		snprintf(buf, len, "%" PRIu64 "-bit PASIDs", value + 1);
		return buf;
	}
	return NULL;
}

int amd_describe_regs(const struct image_unit *unit,
		      int (*fn)(void *arg, const struct reg_field *f), void *arg)
{
	static const char *const regs[] = { "dtbase", "efr" };
	char meaning[96];

	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		uint64_t value;

		if (!image_unit_reg(unit, regs[r], &value))
			continue;
		for (size_t i = 0; i < amd_nr_reg_rows; i++) {
			const struct amd_reg_row *row = &amd_reg_rows[i];
			struct reg_field f;
			int rc;

			if (strcmp(row->reg, regs[r]) != 0)
				continue;
			f.reg = row->reg;
			f.field = row->name;
			f.hi = row->hi;
			f.lo = row->lo;
			f.value = field_of(value, row->hi, row->lo);
			f.meaning = amd_reg_meaning(row, f.value, meaning,
						    sizeof(meaning));
			rc = fn(arg, &f);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static const char *dte_meaning(enum amd_dte_field_id id, uint64_t value,
			       const uint64_t dte[AMD_DTE_QWORDS], char *buf,
			       size_t len)
{
	static const char *const intctl[] = {
		"target abort", "forward unmapped", "remap", "reserved",
	};
	static const char *const sysmgt[] = {
		"DMA denied", "messages forwarded", "INTx messages forwarded",
		"DMA allowed",
	};
	static const char *const ioctl[] = {
		"port I/O denied", "port I/O forwarded", "port I/O translated",
		"reserved",
	};

	switch (id) {
	case AMD_DTE_MODE:
		if (value == AMD_DTE_MODE_NONE)
			snprintf(buf, len, "no translation");
		else if (value == AMD_DTE_MODE_RESERVED)
			snprintf(buf, len, "reserved");
		else
			snprintf(buf, len, "%" PRIu64 " levels", value);
		return buf;
	case AMD_DTE_PT_ROOT:
		snprintf(buf, len, "0x%" PRIx64, value << 12);
		return buf;
	case AMD_DTE_GCR3_14_12:
	case AMD_DTE_GCR3_30_15:
	case AMD_DTE_GCR3_51_31:
		snprintf(buf, len, "GCR3 table 0x%" PRIx64, amd_dte_gcr3_root(dte));
		return buf;
	case AMD_DTE_GLX:
		snprintf(buf, len, value == 3 ? "reserved" : "%" PRIu64 " GCR3 level%s",
			 value + 1, value ? "s" : "");
		return buf;
	case AMD_DTE_INTTABLEN:
		if (value > AMD_INTTABLEN_MAX)
			snprintf(buf, len, "reserved");
		else
			snprintf(buf, len, "%u entries", 1u << value);
		return buf;
	case AMD_DTE_INT_ROOT:
		snprintf(buf, len, "0x%" PRIx64, value << 6);
		return buf;
	case AMD_DTE_GPT_LEVEL:
		snprintf(buf, len, value > 1 ? "reserved" : "%" PRIu64 " levels",
			 4 + value);
		return buf;
	case AMD_DTE_INTCTL:
		snprintf(buf, len, "%s", intctl[value & 3]);
		return buf;
	case AMD_DTE_SYSMGT:
		snprintf(buf, len, "%s", sysmgt[value & 3]);
		return buf;
	case AMD_DTE_IOCTL:
		snprintf(buf, len, "%s", ioctl[value & 3]);
		return buf;
	default:
		return NULL;
	}
}

int amd_describe_dte(const uint64_t dte[AMD_DTE_QWORDS],
		     int (*fn)(void *arg, const struct reg_field *f), void *arg)
{
	char meaning[96];

	for (unsigned i = 0; i < AMD_DTE_NR_FIELDS; i++) {
		const struct amd_dte_field *d = &amd_dte_fields[i];
		struct reg_field f = {
			.reg = "dte", .field = d->name, .hi = d->hi, .lo = d->lo,
			.value = amd_dte_get(dte, d->hi, d->lo),
		};
		int rc;

		f.meaning = dte_meaning((enum amd_dte_field_id)i, f.value, dte,
					meaning, sizeof(meaning));
		rc = fn(arg, &f);
		if (rc)
			return rc;
	}
	return 0;
}
