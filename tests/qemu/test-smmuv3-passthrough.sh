#!/bin/sh
# Real-kernel acceptance test: SMMUv3 with iommu.passthrough=1 — every
# stream gets a bypass STE, nothing is mapped, and iommutool must report
# the bypass (smmu.ste.bypass) instead of mappings (see test-smmuv3.sh).
exec sh "$(dirname "$0")/test-smmuv3.sh" passthrough
