#!/bin/sh
# Real-kernel acceptance test: VT-d legacy mode, lazy invalidation, Linux
# 6.12 with the dma:* tracepoints on too (the capture the replay fixture
# qemu-vtd-dma-lazy.bin comes from, see make-fixture-trace.sh).
# Boots Debian's kernel under QEMU, dumps RAM, checks `iommutool dump`
# against the kernel's own map/unmap trace (see README, vtd.sh).
exec sh "$(dirname "$0")/vtd.sh" dma-lazy
