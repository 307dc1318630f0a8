#!/bin/sh
# SMMUv3 decoder check without QEMU: every committed
# tests/fixtures/smmuv3-qemu-*.elf (made by `test-smmuv3.sh
# --make-fixture` from a real capture) must decode to exactly the kernel's
# truth beside it (.truth); passthrough fixtures map nothing and must
# report smmu.ste.bypass.
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
fixtures="$here/../fixtures"
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
[ -n "${IOMMUTOOL:-}" ] || { echo "error: IOMMUTOOL is not set" >&2; exit 1; }
set -- "$fixtures"/smmuv3-qemu-*.elf
[ -f "$1" ] || { echo "no smmuv3-qemu fixtures"; exit 77; }
fails=0
for elf; do
	truth=${elf%.elf}.truth
	extra=
	case "$elf" in *-passthrough.elf) extra="--allow-empty --expect-finding smmu.ste.bypass" ;; esac
	echo "== $(basename "$elf")"
	# shellcheck disable=SC2086
	python3 "$here/compare.py" --iommu smmuv3 --truth "$truth" $extra \
		-- "$IOMMUTOOL" dump --json --pages "$elf" || fails=$((fails + 1))
done
[ $fails -eq 0 ]
