#!/bin/sh
# Turns the VT-d dma-lazy capture (Linux 6.12 with the dma:* tracepoints,
# lazy invalidation; see vtd.sh) into committed trace fixtures that need no
# QEMU:
#   tests/fixtures/ftrace/qemu-vtd-dma-lazy-6.12.txt.xz
#       the kernel's ftrace text as the guest printed it (the lines between
#       the trace markers of serial.log), xz -9
#   tests/fixtures/qemu-vtd-dma-lazy.bin
#       `iommutool trace import` of that text
#   tests/fixtures/qemu-vtd-dma-lazy.regs
#       where it came from, and the unit's registers (cap=, ecap=) that
#       `iommutool replay --reg` wants
#
#   IOMMUTOOL=path/to/iommutool make-fixture-trace.sh
#
# The capture is made first when the cache has none.  The trace is checked
# before it is kept: every map and unmap attributed, no record the model
# refuses in a replay.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"
fixtures=$(CDPATH= cd -- "$QEMU_LIB_DIR/../fixtures" && pwd)
[ -n "${IOMMUTOOL:-}" ] || die "set IOMMUTOOL to the iommutool binary"
need_cmd xz python3

cap="$QEMU_CACHE/captures/vtd-dma-lazy-6.12"
if [ ! -f "$cap/serial.log" ]; then
	sh "$QEMU_LIB_DIR/vtd.sh" --self-check dma-lazy || die "capture failed"
fi
name=qemu-vtd-dma-lazy
txt="$fixtures/ftrace/$name-6.12.txt"
awk '/@@IOMMUTOOL-TRACE-BEGIN@@/{f=1;next}/@@IOMMUTOOL-TRACE-END@@/{f=0}f' \
	"$cap/serial.log" | tr -d '\r' >"$txt.tmp"
[ -s "$txt.tmp" ] || die "no trace between the markers of $cap/serial.log"
"$IOMMUTOOL" trace import "$txt.tmp" -o "$fixtures/$name.bin.tmp" 2>"$txt.log" ||
	{ cat "$txt.log"; die "import failed"; }
grep -q 'skipped 0 unknown lines' "$txt.log" || { cat "$txt.log"; die "the import skipped lines"; }
# shellcheck disable=SC2046
"$IOMMUTOOL" replay "$fixtures/$name.bin.tmp" --iommu vtd $(regs_args "$cap/regs.txt" cap ecap) \
	--json >"$txt.replay" || die "replay failed"
python3 - "$txt.replay" <<'PY' || die "the trace does not replay cleanly"
import json, sys
c = json.loads(open(sys.argv[1]).readline())["counters"]
bad = {k: c[k] for k in ("replay.engine_errors", "replay.skipped_no_domain",
                         "replay.dma_unmatched", "replay.lost_events") if c[k]}
if bad or not c["ops.dma_map_page"] or not c["ops.dma_unmap_page"]:
    sys.exit("replay: %s" % bad)
PY
xz -9 -c "$txt.tmp" >"$txt.xz"
mv "$fixtures/$name.bin.tmp" "$fixtures/$name.bin"
{
	echo "# $name.bin: \`iommutool trace import\` of ftrace/$name-6.12.txt.xz, made"
	echo "# by tests/qemu/make-fixture-trace.sh from the vtd.sh dma-lazy capture:"
	echo "# $(grep '^kernel=' "$cap/timing.txt"), $(head -n 1 "$cap/qemu-version.txt" 2>/dev/null)"
	echo "# q35 + intel-iommu (39-bit), intel_iommu=on,sm_off iommu.strict=0,"
	echo "# virtio-blk, NVMe and e1000e; iommu:map/unmap, dma:* and kprobe events."
	echo "# The unit's registers:"
	grep -E '^(cap|ecap)=' "$cap/regs.txt"
} >"$fixtures/$name.regs"
rm -f "$txt.tmp" "$txt.log" "$txt.replay"
echo "wrote $txt.xz ($(wc -c <"$txt.xz") bytes), $fixtures/$name.bin ($(wc -c <"$fixtures/$name.bin") bytes)"
echo "and $fixtures/$name.regs from $(grep '^kernel=' "$cap/timing.txt" | cut -d= -f2)"
