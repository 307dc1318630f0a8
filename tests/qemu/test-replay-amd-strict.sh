#!/bin/sh
# Replay of a real kernel's trace against its tables: AMD-Vi v1 tables,
# strict (NextLevel=7 pages of 8 KiB and more, write-only RX buffers).
# The kernel's ftrace text (kprobes with page sizes and prot) replayed into
# an image must hold exactly the leaves of the captured RAM (replay-leaves.sh).
exec sh "$(dirname "$0")/replay-leaves.sh" amd strict
