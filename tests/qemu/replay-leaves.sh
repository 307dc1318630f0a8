#!/bin/sh
# Replaying the kernel's own trace gives the kernel's own tables: for one
# QEMU capture (made, or reused, by the IOMMU's capture script), import the
# serial console's ftrace text, replay it with the unit's registers into an
# image (`iommutool replay -o`), and require `iommutool dump --json --pages`
# of that image to hold, per device, exactly the leaves of the captured RAM
# -- same IOVA, physical address, page size, read and write.
#
#   replay-leaves.sh IOMMU VARIANT
#     IOMMU: vtd | amd | smmuv3; VARIANT: a variant of its capture script
#     (vtd.sh, amd.sh, test-smmuv3.sh)
#
# The map records carry the driver's page sizes (map_pages, from the
# pgsize/pgcount kprobe fields) and permissions (the prot field), so the
# replay maps what the driver mapped; replay.map_pages_differ says how many
# maps the engine's own page-size choice would have made otherwise, and
# then a replay with that choice (--pgsize-bitmap) must not match.
# Exit 0 pass, 1 fail, 77 skip (no QEMU or no capture, as the capture
# scripts say).
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"

iommu=${1:-} variant=${2:-}
case "$iommu" in
vtd) script=vtd.sh dump_regs="rtaddr cap ecap" replay_regs="cap ecap"
	bitmap=0x40201000 ;;
amd) script=amd.sh dump_regs="dtbase efr" replay_regs="efr" bitmap= ;;
smmuv3) script=test-smmuv3.sh
	dump_regs="strtab_base strtab_base_cfg idr0 idr1 idr3 idr5 cr0" replay_regs=
	bitmap=0x40201000 ;;
*) echo "usage: replay-leaves.sh vtd|amd|smmuv3 VARIANT" >&2; exit 2 ;;
esac
[ -n "$variant" ] || { echo "usage: replay-leaves.sh vtd|amd|smmuv3 VARIANT" >&2; exit 2; }
[ -n "${IOMMUTOOL:-}" ] || die "IOMMUTOOL is not set (the iommutool binary)"
need_cmd python3

# The capture: booted when missing or made by other harness files, else
# reused; the script checks it against the kernel's truth on the way.
note "capture $iommu-$variant ($script)"
sh "$QEMU_LIB_DIR/$script" "$variant" >"${TS_TMPDIR:-/tmp}/capture.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	tail -n 20 "${TS_TMPDIR:-/tmp}/capture.log"
	[ $rc -eq 77 ] && skip "no $iommu $variant capture: $(tail -n 1 "${TS_TMPDIR:-/tmp}/capture.log")"
	die "$script $variant failed"
fi
cap="$QEMU_CACHE/captures/$iommu-$variant"
[ "$QEMU_KERNEL_SERIES" = 6.1 ] || cap="$cap-$QEMU_KERNEL_SERIES"
# Hold the capture's lock while reading it: a capture script running
# beside this test (another make check) may be rewriting it.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cap.lock"
	flock -w 1800 9 || die "cannot lock $cap.lock"
fi
[ -s "$cap/serial.log" ] && [ -f "$cap/dump.elf" ] && [ -f "$cap/regs.txt" ] ||
	skip "no complete capture in $cap"
sed 's/^/   /' "$cap/timing.txt"
grep -q 'iommutool_map:.* prot=' "$cap/serial.log" ||
	die "the map kprobes of $cap do not fetch prot (an older harness made it; IOMMUTOOL_QEMU_REUSE=0 captures anew)"

tmp=${TS_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp"
status=0
"$IOMMUTOOL" trace import "$cap/serial.log" -o "$tmp/trace.bin" 2>"$tmp/import.log" ||
	{ cat "$tmp/import.log"; die "trace import failed"; }
echo "   $(cat "$tmp/import.log")"
# shellcheck disable=SC2046
"$IOMMUTOOL" replay "$tmp/trace.bin" --iommu "$iommu" $(regs_args "$cap/regs.txt" $replay_regs) \
	--json -o "$tmp/replay.elf" >"$tmp/replay.json" 2>&1 ||
	{ cat "$tmp/replay.json"; die "replay failed"; }
differ=$(python3 - "$tmp/replay.json" <<'PY'
import json, sys
c = json.loads(open(sys.argv[1]).readline())["counters"]
print("   replay: %d records, %d maps with the driver's page sizes, %d replayed so, "
      "%d where the engine's own choice differs" % (c["replay.records"], c["replay.map_pages"],
      c["replay.map_pages_replayed"], c["replay.map_pages_differ"]), file=sys.stderr)
bad = {k: c[k] for k in ("replay.engine_errors", "replay.skipped_no_domain",
                         "replay.skipped_dma_api", "replay.unmapped_differs",
                         "replay.image_devices_skipped") if c[k]}
if not c["replay.map_pages"] or c["replay.map_pages"] != c["replay.map_pages_replayed"]:
    bad["replay.map_pages_replayed"] = c["replay.map_pages_replayed"]
if bad:
    print("   replay: unexpected %s" % bad, file=sys.stderr)
    print(-1)
else:
    print(c["replay.map_pages_differ"])
PY
)
[ "$differ" -ge 0 ] 2>/dev/null || die "the replay did not use the driver's page sizes cleanly"

# shellcheck disable=SC2046
"$IOMMUTOOL" dump --json --pages --iommu "$iommu" $(regs_args "$cap/regs.txt" $dump_regs) \
	"$cap/dump.elf" >"$tmp/kernel.json" || die "dump of the capture failed"
"$IOMMUTOOL" dump --json --pages "$tmp/replay.elf" >"$tmp/replay-leaves.json" ||
	die "dump of the replay's image failed"
note "leaves of the capture vs leaves of the replay"
python3 "$QEMU_LIB_DIR/leafset.py" "$tmp/kernel.json" "$tmp/replay-leaves.json" | sed 's/^/   /'
[ "$(python3 "$QEMU_LIB_DIR/leafset.py" "$tmp/kernel.json" "$tmp/replay-leaves.json" >/dev/null; echo $?)" = 0 ] ||
	status=1

# The comparison must be able to fail: without the capture's last leaf it
# does; and where the engine would split differently, its own choice does.
grep -v '"type":"mapping"' "$tmp/kernel.json" >"$tmp/short.json"
grep '"type":"mapping"' "$tmp/kernel.json" | sed '$d' >>"$tmp/short.json"
if python3 "$QEMU_LIB_DIR/leafset.py" "$tmp/short.json" "$tmp/replay-leaves.json" >/dev/null; then
	echo "FAIL: the capture without its last leaf still matches"
	status=1
fi
if [ "$differ" -gt 0 ] && [ -n "$bitmap" ]; then
	# shellcheck disable=SC2046
	"$IOMMUTOOL" replay "$tmp/trace.bin" --iommu "$iommu" $(regs_args "$cap/regs.txt" $replay_regs) \
		--pgsize-bitmap "$bitmap" -o "$tmp/own.elf" >/dev/null || die "replay (own page sizes) failed"
	"$IOMMUTOOL" dump --json --pages "$tmp/own.elf" >"$tmp/own.json" || die "dump failed"
	if python3 "$QEMU_LIB_DIR/leafset.py" "$tmp/kernel.json" "$tmp/own.json" >/dev/null; then
		echo "FAIL: $differ maps would split differently, yet the engine's own page sizes match"
		status=1
	else
		echo "   with the engine's own page sizes ($bitmap) the leaves differ, as they should"
	fi
fi
[ $status -eq 0 ] && echo "$iommu $variant: the replay's leaves are the kernel's"
exit $status
