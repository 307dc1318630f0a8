#!/bin/sh
# Replay of a real kernel's trace against its tables: VT-d scalable mode
# (PASID table, second level), strict, 48-bit 4-level tables.
# The kernel's ftrace text (kprobes with page sizes and prot) replayed into
# an image must hold exactly the leaves of the captured RAM (replay-leaves.sh).
exec sh "$(dirname "$0")/replay-leaves.sh" vtd scalable
