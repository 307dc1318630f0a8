#!/bin/sh
# Real-kernel acceptance test: AMD-Vi, lazy invalidation through the flush queue (iommu.strict=0),
# v1 host tables as Linux 6.1 builds them (NextLevel=7 pages included).
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, amd.sh).
exec sh "$(dirname "$0")/amd.sh" lazy
