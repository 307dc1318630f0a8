#!/bin/sh
# Real-kernel acceptance test: VT-d legacy mode, strict invalidation
# (iommu.strict=1), 39-bit 3-level tables.
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, vtd.sh).
exec sh "$(dirname "$0")/vtd.sh" legacy-strict
