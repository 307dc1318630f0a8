/* Shared between the SMMUv3 decoder files (smmuv3.c, smmuv3_regs.c,
 * smmuv3_synth.c); nothing outside decoders/smmuv3* includes it. */
#ifndef IOMMUTOOL_SMMUV3_INTERNAL_H
#define IOMMUTOOL_SMMUV3_INTERNAL_H

#include "decoders/iommu.h"

struct json_object;

int smmuv3_describe_regs(const struct image_unit *unit,
			 int (*fn)(void *arg, const struct reg_field *f),
			 void *arg);
int smmuv3_synth(const struct json_object *spec, struct arena *arena,
		 struct image_unit *unit, struct errbuf *err);

#endif
