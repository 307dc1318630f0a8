#!/bin/sh
# Turns an AMD-Vi capture into a committed fixture that needs no QEMU:
#   tests/fixtures/amd-qemu-NAME.elf    only the pages the decoder reads,
#                                       with the registers in its note
#                                       (`iommutool extract`)
#   tests/fixtures/amd-qemu-NAME.truth  the kernel's truth as runs
#                                       ("DEVICE IOVA PHYS PAGES")
#
#   IOMMUTOOL=path/to/iommutool make-fixture-amd.sh [VARIANT [NAME]]
#     VARIANT  a capture of amd.sh (default strict); captured first when the
#              cache has none
#     NAME     fixture name (default: VARIANT)
#
# The fixture is checked before it is kept: `iommutool dump` of the small
# image must equal the truth, page for page.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"
variant=${1:-strict}
name=${2:-$variant}
fixtures=$(CDPATH= cd -- "$QEMU_LIB_DIR/../fixtures" && pwd)
[ -n "${IOMMUTOOL:-}" ] || die "set IOMMUTOOL to the iommutool binary"
"$IOMMUTOOL" extract --help >/dev/null 2>&1 || die "$IOMMUTOOL has no extract command yet"

cap="$QEMU_CACHE/captures/amd-$variant"
[ "$QEMU_KERNEL_SERIES" = 6.1 ] || cap="$cap-$QEMU_KERNEL_SERIES"
if [ ! -f "$cap/dump.elf" ]; then
	sh "$QEMU_LIB_DIR/amd.sh" --self-check "$variant" || die "capture failed"
fi
elf="$fixtures/amd-qemu-$name.elf"
truth="$fixtures/amd-qemu-$name.truth"
tmp="$elf.tmp"
rm -f "$tmp"
# shellcheck disable=SC2046
"$IOMMUTOOL" extract --iommu amd $(regs_args "$cap/regs.txt" dtbase efr) \
	"$cap/dump.elf" -o "$tmp" || die "extract failed"
python3 "$QEMU_LIB_DIR/truth.py" --runs "$cap/serial.log" -o "$truth.tmp" ||
	die "no usable truth in $cap/serial.log"
python3 "$QEMU_LIB_DIR/compare.py" --iommu amd --truth "$truth.tmp" \
	-- "$IOMMUTOOL" dump --json --pages "$tmp" || die "the extracted image does not match the truth"
mv "$tmp" "$elf"
mv "$truth.tmp" "$truth"
echo "wrote $elf ($(wc -c <"$elf") bytes) and $truth ($(wc -l <"$truth") runs)"
echo "from $(grep '^kernel=' "$cap/timing.txt" | cut -d= -f2) captured in $cap"
