/* `dump --regs` for SMMUv3: every field of smmuv3_regs.def that the
 * snapshot has a register for, with the spec's field names. */
#include "decoders/smmuv3_internal.h"

#include <stdio.h>

struct smmu_values {
	const char *const *names;
	unsigned count;
	bool address;
};

#define VALUES(id, ...)                                                     \
	static const char *const id##_names[] = { __VA_ARGS__ };             \
	static const struct smmu_values id##_table = {                       \
		id##_names, sizeof(id##_names) / sizeof(id##_names[0]), false \
	};
VALUES(ttf, "reserved", "aarch32 lpae", "aarch64", "aarch32 and aarch64")
VALUES(httu, "none", "access flag", "access flag and dirty state", "reserved")
VALUES(ttendian, "mixed", "reserved", "little-endian", "big-endian")
VALUES(stall_model, "stall and terminate", "terminate only", "stall forced", "reserved")
VALUES(term_model, "abort or raz/wi per cd.a", "abort only")
VALUES(st_level, "linear", "linear and 2-level", "reserved", "reserved")
VALUES(oas, "32 bits", "36 bits", "40 bits", "42 bits", "44 bits", "48 bits",
       "52 bits", "reserved")
VALUES(vax, "48-bit va", "52-bit va", "reserved", "reserved")
VALUES(strtab_fmt, "linear", "2-level", "reserved", "reserved")
#undef VALUES

static const struct smmu_values address_table = { NULL, 0, true };

#define SMMU_NO_VALUES          NULL
#define SMMU_ADDRESS            (&address_table)
#define smmu_ttf_values         (&ttf_table)
#define smmu_httu_values        (&httu_table)
#define smmu_ttendian_values    (&ttendian_table)
#define smmu_stall_model_values (&stall_model_table)
#define smmu_term_model_values  (&term_model_table)
#define smmu_st_level_values    (&st_level_table)
#define smmu_oas_values         (&oas_table)
#define smmu_vax_values         (&vax_table)
#define smmu_strtab_fmt_values  (&strtab_fmt_table)

struct smmu_field_desc {
	const char *reg;
	const char *name;
	unsigned hi, lo;
	const struct smmu_values *values;
};

static const struct smmu_field_desc smmu_fields[] = {
#define SMMU_FIELD(reg, name, hi, lo, values) { #reg, #name, hi, lo, values },
#include "decoders/smmuv3_regs.def"
#undef SMMU_FIELD
};

int smmuv3_describe_regs(const struct image_unit *unit,
			 int (*fn)(void *arg, const struct reg_field *f),
			 void *arg)
{
	for (size_t i = 0; i < sizeof(smmu_fields) / sizeof(smmu_fields[0]); i++) {
		const struct smmu_field_desc *d = &smmu_fields[i];
		unsigned width = d->hi - d->lo + 1;
		char addr[24];
		struct reg_field f;
		uint64_t reg;
		int ret;

		if (!image_unit_reg(unit, d->reg, &reg))
			continue;
		f = (struct reg_field){
			.reg = d->reg, .field = d->name, .hi = d->hi, .lo = d->lo,
			.value = (reg >> d->lo) & (width == 64 ? ~0ull : (1ull << width) - 1),
		};
		if (d->values && d->values->address) {
			snprintf(addr, sizeof(addr), "0x%llx",
				 (unsigned long long)(f.value << d->lo));
			f.meaning = addr;
		} else if (d->values && f.value < d->values->count) {
			f.meaning = d->values->names[f.value];
		}
		ret = fn(arg, &f);
		if (ret)
			return ret;
	}
	return 0;
}
