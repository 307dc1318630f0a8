/* VT-d register fields by the spec's names, with decoded meanings, for
 * `dump --regs` (vtd_regs.def holds the table). */
#include "decoders/vtd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const struct vtd_reg_row vtd_reg_rows[] = {
#define VTD_REG_FIELD(reg, name, hi, lo, dec, text) \
	{ #reg, #name, hi, lo, dec, text },
#include "decoders/vtd_regs.def"
#undef VTD_REG_FIELD
};
const size_t vtd_nr_reg_rows = sizeof(vtd_reg_rows) / sizeof(vtd_reg_rows[0]);

/* Appends the names of the set bits of @bits to @buf ("39-bit,48-bit"). */
static const char *bit_list(uint64_t bits, const char *const *names,
			    unsigned nr, const char *none, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < nr && used < len; i++) {
		if (!(bits & (1ull << i)))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", names[i]);
	}
	for (unsigned i = nr; i < 64 && used < len; i++)
		if (bits & (1ull << i))
			used += (size_t)snprintf(buf + used, len - used,
						 "%sbit %u", used ? "," : "", i);
	if (!buf[0])
		snprintf(buf, len, "%s", none);
	return buf;
}

const char *vtd_reg_meaning(const struct vtd_reg_row *row, uint64_t value,
			    char *buf, size_t len)
{
	static const char *const sagaw[] = {
		"30-bit", "39-bit", "48-bit", "57-bit", "64-bit",
	};
	static const char *const sllps[] = {
		"2 MiB", "1 GiB", "512 GiB", "1 TiB",
	};
	static const char *const ttm[] = {
		"legacy", "scalable", "reserved", "abort-DMA",
	};

	switch (row->decode) {
	case VTD_DEC_FLAG:
		snprintf(buf, len, "%s%s", value ? "" : "no ", row->text);
		return buf;
	case VTD_DEC_RAW:
		snprintf(buf, len, "%" PRIu64, value);
		return buf;
	case VTD_DEC_ND:
		if (value > 6)
			snprintf(buf, len, "reserved");
		else
			snprintf(buf, len, "%" PRIu64 " domains",
				 vtd_nd_domains((unsigned)value));
		return buf;
	case VTD_DEC_SAGAW:
		return bit_list(value, sagaw, 5, "none", buf, len);
	case VTD_DEC_WIDTH:
		snprintf(buf, len, "%" PRIu64 " bits", value + 1);
		return buf;
	case VTD_DEC_OFF16:
		snprintf(buf, len, "offset 0x%" PRIx64, value * 16);
		return buf;
	case VTD_DEC_SLLPS:
		return bit_list(value, sllps, 4, "4 KiB only", buf, len);
	case VTD_DEC_COUNT1:
		snprintf(buf, len, "%" PRIu64 " %s", value + 1, row->text);
		return buf;
	case VTD_DEC_MAMV:
		snprintf(buf, len, "2^%" PRIu64 " pages", value);
		return buf;
	case VTD_DEC_TTM:
		snprintf(buf, len, "%s", ttm[value & 3]);
		return buf;
	case VTD_DEC_ADDR:
		snprintf(buf, len, "0x%" PRIx64, value << VTD_PAGE_SHIFT);
		return buf;
	}
	return NULL;
}

int vtd_describe_regs(const struct image_unit *unit,
		      int (*fn)(void *arg, const struct reg_field *f), void *arg)
{
	static const char *const regs[] = { "cap", "ecap", "rtaddr" };
	char meaning[96];

	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		uint64_t value;

		if (!image_unit_reg(unit, regs[r], &value))
			continue;
		for (size_t i = 0; i < vtd_nr_reg_rows; i++) {
			const struct vtd_reg_row *row = &vtd_reg_rows[i];
			struct reg_field f;
			int rc;

			if (strcmp(row->reg, regs[r]) != 0)
				continue;
			f.reg = row->reg;
			f.field = row->name;
			f.hi = row->hi;
			f.lo = row->lo;
			f.value = vtd_bits(value, row->hi, row->lo);
			f.meaning = vtd_reg_meaning(row, f.value, meaning,
						    sizeof(meaning));
			rc = fn(arg, &f);
			if (rc)
				return rc;
		}
	}
	return 0;
}
