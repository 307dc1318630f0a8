/* The AMD-Vi decoder's pieces: context decoder (amd.c), register and DTE
 * descriptions (amd_regs.c), synthetic tables (amd_synth.c). */
#ifndef IOMMUTOOL_AMD_H
#define IOMMUTOOL_AMD_H

#include <stddef.h>

#include "decoders/iommu.h"
#include "decoders/amd_defs.h"

/* Finding codes, from amd_findings.def. */
enum amd_finding_id {
#define AMD_FINDING(id, code, sev, text) AMD_F_##id,
#include "decoders/amd_findings.def"
#undef AMD_FINDING
	AMD_NR_FINDINGS
};

struct amd_finding_info {
	const char *code;
	enum severity severity;
	const char *text;
};
extern const struct amd_finding_info amd_findings[AMD_NR_FINDINGS];

/* How a register field's value reads. */
enum amd_reg_decode {
	AMD_DEC_FLAG,   /* support bit */
	AMD_DEC_NUM,    /* plain number, no decoded form */
	AMD_DEC_ADDR,   /* 4 KiB frame number */
	AMD_DEC_DTSIZE, /* (Size + 1) × 4 KiB */
	AMD_DEC_HATS,   /* 4 + HATS host levels, 11b reserved */
	AMD_DEC_GATS,   /* 4 + GATS guest levels, 1xb reserved */
	AMD_DEC_GLX,    /* GLX + 1 GCR3 levels */
	AMD_DEC_PASMAX, /* PASMax + 1 PASID bits */
};

/* Register fields, from amd_regs.def. */
struct amd_reg_row {
	const char *reg;   /* "efr" */
	const char *name;  /* "HATS" */
	unsigned hi, lo;
	enum amd_reg_decode decode;
	const char *text;
};
extern const struct amd_reg_row amd_reg_rows[];
extern const size_t amd_nr_reg_rows;

/* DTE fields, from AMD_DTE_FIELDS in amd_defs.h. */
extern const struct amd_dte_field amd_dte_fields[AMD_DTE_NR_FIELDS];

/* Formats the decoded meaning of @value of @row into @buf; returns @buf,
 * or NULL when the field has no decoded form. */
const char *amd_reg_meaning(const struct amd_reg_row *row, uint64_t value,
			    char *buf, size_t len);

int amd_describe_regs(const struct image_unit *unit,
		      int (*fn)(void *arg, const struct reg_field *f), void *arg);
/* Calls @fn for every field of a DTE (reg "dte", bits absolute 255..0),
 * with decoded meanings for Mode, IntCtl, SysMgt, IoCtl, addresses. */
int amd_describe_dte(const uint64_t dte[AMD_DTE_QWORDS],
		     int (*fn)(void *arg, const struct reg_field *f), void *arg);

int amd_synth(const struct json_object *spec, struct arena *arena,
	      struct image_unit *unit, struct errbuf *err);

/* Host levels EFR.HATS allows (4..6); 0 when HATS is 11b (reserved). */
static inline unsigned amd_efr_max_mode(uint64_t efr)
{
	unsigned hats = (unsigned)(efr >> AMD_EFR_HATS_SHIFT) & AMD_EFR_HATS_MASK;

	return hats == AMD_EFR_HATS_RESERVED ? 0 : 4 + hats;
}

/* Device table bytes the Device Table Base Address register describes. */
static inline uint64_t amd_dtbase_bytes(uint64_t dtbase)
{
	return ((dtbase & AMD_DTBASE_SIZE) + 1) * 4096;
}

#endif
