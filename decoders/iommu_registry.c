/* The context decoders, indexed by enum iommu_kind. */
#include "decoders/iommu.h"

#include <stddef.h>

static const struct iommu_decoder *const decoders[IOMMU_KIND_MAX] = {
	[IOMMU_VTD] = &vtd_decoder,
	[IOMMU_AMD] = &amd_decoder,
	[IOMMU_SMMUV3] = &smmuv3_decoder,
	[IOMMU_PAPR] = NULL,    /* &papr_decoder */
};

const struct iommu_decoder *iommu_decoder_get(enum iommu_kind kind)
{
	if ((unsigned)kind >= IOMMU_KIND_MAX)
		return NULL;
	return decoders[kind];
}
