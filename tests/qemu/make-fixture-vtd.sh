#!/bin/sh
# Turns a VT-d capture into a committed fixture that needs no QEMU:
#   tests/fixtures/qemu-vtd-NAME.elf    only the pages the decoder reads,
#                                       with the registers in its note
#                                       (`iommutool extract`)
#   tests/fixtures/qemu-vtd-NAME.truth  the kernel's truth as runs
#                                       ("DEVICE IOVA PHYS PAGES")
#
#   IOMMUTOOL=path/to/iommutool make-fixture-vtd.sh [VARIANT [NAME]]
#     VARIANT  a capture of vtd.sh (default legacy-strict); captured first
#              when the cache has none
#     NAME     fixture name (default: legacy for legacy-strict, else VARIANT)
#
# The fixture is checked before it is kept: `iommutool dump` of the small
# image must equal the truth, page for page.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"
variant=${1:-legacy-strict}
case "$variant" in legacy-strict) def=legacy ;; *) def=$variant ;; esac
name=${2:-$def}
fixtures=$(CDPATH= cd -- "$QEMU_LIB_DIR/../fixtures" && pwd)
[ -n "${IOMMUTOOL:-}" ] || die "set IOMMUTOOL to the iommutool binary"
"$IOMMUTOOL" extract --help >/dev/null 2>&1 || die "$IOMMUTOOL has no extract command yet"

cap="$QEMU_CACHE/captures/vtd-$variant"
if [ ! -f "$cap/dump.elf" ]; then
	sh "$QEMU_LIB_DIR/vtd.sh" --self-check "$variant" || die "capture failed"
fi
elf="$fixtures/qemu-vtd-$name.elf"
truth="$fixtures/qemu-vtd-$name.truth"
tmp="$elf.tmp"
rm -f "$tmp"
# shellcheck disable=SC2046
"$IOMMUTOOL" extract --iommu vtd $(regs_args "$cap/regs.txt" rtaddr cap ecap) \
	"$cap/dump.elf" -o "$tmp" || die "extract failed"
{
	echo "# The kernel's live IOVA pages per device (DEVICE IOVA PHYS PAGES),"
	echo "# from tests/qemu/make-fixture-vtd.sh $variant $name: vtd.sh capture"
	echo "# $(grep '^kernel=' "$cap/timing.txt"), $(head -n 1 "$cap/qemu-version.txt" 2>/dev/null)"
	echo "# registers: $(tr '\n' ' ' <"$cap/regs.txt" | sed 's/ $//')"
	python3 "$QEMU_LIB_DIR/truth.py" --runs "$cap/serial.log" ||
		die "no usable truth in $cap/serial.log"
} >"$truth.tmp"
python3 "$QEMU_LIB_DIR/compare.py" --iommu vtd --truth "$truth.tmp" \
	-- "$IOMMUTOOL" dump --json --pages "$tmp" || die "the extracted image does not match the truth"
mv "$tmp" "$elf"
mv "$truth.tmp" "$truth"
echo "wrote $elf ($(wc -c <"$elf") bytes) and $truth ($(wc -l <"$truth") runs)"
echo "from $(grep '^kernel=' "$cap/timing.txt" | cut -d= -f2) captured in $cap"
