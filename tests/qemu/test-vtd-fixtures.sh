#!/bin/sh
# Decoder check without QEMU: every committed tests/fixtures/qemu-vtd-*.elf
# (made by make-fixture-vtd.sh from a real capture) must decode to exactly
# the kernel's truth beside it (qemu-vtd-*.truth).
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
fixtures="$here/../fixtures"
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
[ -n "${IOMMUTOOL:-}" ] || { echo "error: IOMMUTOOL is not set" >&2; exit 1; }
set -- "$fixtures"/qemu-vtd-*.elf
[ -f "$1" ] || { echo "no qemu-vtd fixtures yet"; exit 77; }
"$IOMMUTOOL" dump --help 2>/dev/null | grep -q -- '--iommu' ||
	{ echo "iommutool dump cannot decode VT-d yet"; exit 77; }
tmp=${TS_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp"
fails=0
for elf; do
	truth=${elf%.elf}.truth
	echo "== $(basename "$elf")"
	python3 "$here/compare.py" --iommu vtd --truth "$truth" \
		-- "$IOMMUTOOL" dump --json --pages "$elf" || fails=$((fails + 1))
	# The check must be able to fail: a truth with its last run dropped
	# cannot match.
	sed '$d' "$truth" >"$tmp/short.truth"
	if python3 "$here/compare.py" --iommu vtd --truth "$tmp/short.truth" \
		-- "$IOMMUTOOL" dump --json --pages "$elf" >/dev/null 2>&1; then
		echo "FAIL: a shortened truth still matches $(basename "$elf")"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
