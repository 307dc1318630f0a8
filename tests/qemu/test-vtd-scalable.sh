#!/bin/sh
# Real-kernel acceptance test: VT-d scalable mode (PASID table, second-level
# PGTT=2), strict, 48-bit 4-level tables.
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, vtd.sh).
exec sh "$(dirname "$0")/vtd.sh" scalable
