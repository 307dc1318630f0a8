#!/bin/sh
# Real-kernel acceptance test: VT-d legacy mode with caching-mode=on, lazy
# invalidation, 48-bit 4-level tables, IOVAs at the top (iommu.forcedac=1).
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, vtd.sh).
exec sh "$(dirname "$0")/vtd.sh" caching-mode
