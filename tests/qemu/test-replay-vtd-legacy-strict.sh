#!/bin/sh
# Replay of a real kernel's trace against its tables: VT-d legacy mode,
# strict, 39-bit 3-level tables (the ISA bridge's 16 MiB identity map in 4
# KiB pages).
# The kernel's ftrace text (kprobes with page sizes and prot) replayed into
# an image must hold exactly the leaves of the captured RAM (replay-leaves.sh).
exec sh "$(dirname "$0")/replay-leaves.sh" vtd legacy-strict
