#!/bin/sh
# Real-kernel acceptance test: VT-d legacy mode with iommu=pt: every device
# in the identity domain (context TT=2), nothing mapped; the dump must show
# no mapping and report pass-through.
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, vtd.sh).
exec sh "$(dirname "$0")/vtd.sh" passthrough
