#!/bin/sh
# Replay of a real kernel's trace against its tables: Arm SMMUv3 stage-1
# LPAE tables, strict (the MSI doorbell page included).
# The kernel's ftrace text (kprobes with page sizes and prot) replayed into
# an image must hold exactly the leaves of the captured RAM (replay-leaves.sh).
exec sh "$(dirname "$0")/replay-leaves.sh" smmuv3 strict
