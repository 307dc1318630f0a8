/* The VT-d decoder's pieces: context decoder (vtd.c), register
 * descriptions (vtd_regs.c), synthetic tables (vtd_synth.c). */
#ifndef IOMMUTOOL_VTD_H
#define IOMMUTOOL_VTD_H

#include <stdbool.h>
#include <stddef.h>

#include "decoders/iommu.h"
#include "decoders/vtd_defs.h"

/* Finding codes, from vtd_findings.def. */
enum vtd_finding_id {
#define VTD_FINDING(id, code, sev, text) VTD_F_##id,
#include "decoders/vtd_findings.def"
#undef VTD_FINDING
	VTD_NR_FINDINGS
};

struct vtd_finding_info {
	const char *code;
	enum severity severity;
	const char *text;
};
extern const struct vtd_finding_info vtd_findings[VTD_NR_FINDINGS];

/* Register fields, from vtd_regs.def. */
struct vtd_reg_row {
	const char *reg;   /* "cap" */
	const char *name;  /* "SAGAW" */
	unsigned hi, lo;
	enum vtd_reg_decode decode;
	const char *text;
};
extern const struct vtd_reg_row vtd_reg_rows[];
extern const size_t vtd_nr_reg_rows;

/* Formats the decoded meaning of @value of @row into @buf; returns @buf,
 * or NULL when the field has no decoded form. */
const char *vtd_reg_meaning(const struct vtd_reg_row *row, uint64_t value,
			    char *buf, size_t len);

int vtd_describe_regs(const struct image_unit *unit,
		      int (*fn)(void *arg, const struct reg_field *f), void *arg);
int vtd_synth(const struct json_object *spec, struct arena *arena,
	      struct image_unit *unit, struct errbuf *err);

/* pt_cfg flags of the second-level ("vtd-ss") and first-level ("x86-64")
 * codecs for a unit with @cap/@ecap: decoder and synth share them. */
uint64_t vtd_sl_flags(uint64_t cap, uint64_t ecap, bool slee);
uint64_t vtd_fl_flags(uint64_t cap, bool nxe);

/* Output width handed to the codecs: HAW, at most 52 (x86 MAXPHYADDR). */
static inline unsigned vtd_oas(unsigned haw)
{
	return haw > 52 ? 52 : haw;
}

/* What decode assumes for a missing CAP/ECAP: everything supported, so
 * no check fires that the snapshot cannot back. */
#define VTD_PERMISSIVE_HAW 64

#endif
