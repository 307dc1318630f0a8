/* Shared between the SMMUv3 decoder files (smmuv3.c, smmuv3_regs.c,
 * smmuv3_synth.c); nothing outside decoders/smmuv3* includes it. */
#ifndef IOMMUTOOL_SMMUV3_INTERNAL_H
#define IOMMUTOOL_SMMUV3_INTERNAL_H

#include "decoders/iommu.h"

struct json_object;

/* The decoder's finding codes (smmuv3_findings.def), for tests and docs. */
struct smmuv3_finding {
	const char *code;
	enum severity severity;
	const char *what;
};
extern const struct smmuv3_finding smmuv3_findings[];
extern const size_t smmuv3_nr_findings;

int smmuv3_describe_regs(const struct image_unit *unit,
			 int (*fn)(void *arg, const struct reg_field *f),
			 void *arg);
int smmuv3_synth(const struct json_object *spec, struct arena *arena,
		 struct image_unit *unit, struct errbuf *err);

#endif
