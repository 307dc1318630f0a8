#!/bin/sh
# Decoder check without QEMU: every committed tests/fixtures/amd-qemu-*.elf
# (made by make-fixture-amd.sh from a real capture: Linux's own device
# table and v1 tables, NextLevel=7 pages included) must decode to exactly
# the kernel's truth beside it (amd-qemu-*.truth), with no error finding.
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
fixtures="$here/../fixtures"
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
[ -n "${IOMMUTOOL:-}" ] || { echo "error: IOMMUTOOL is not set" >&2; exit 1; }
set -- "$fixtures"/amd-qemu-*.elf
[ -f "$1" ] || { echo "no amd-qemu fixtures yet"; exit 77; }
fails=0
for elf; do
	truth=${elf%.elf}.truth
	echo "== $(basename "$elf")"
	python3 "$here/compare.py" --iommu amd --truth "$truth" \
		-- "$IOMMUTOOL" dump --json --pages "$elf" || fails=$((fails + 1))
done
[ $fails -eq 0 ]
