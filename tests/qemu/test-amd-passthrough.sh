#!/bin/sh
# Real-kernel acceptance test: AMD-Vi with iommu=pt: every device's DTE is
# Mode 0 with IR=IW=1, nothing is mapped, and the decoder must report
# pass-through (amd.device.passthrough) instead of mappings.
exec sh "$(dirname "$0")/amd.sh" passthrough
