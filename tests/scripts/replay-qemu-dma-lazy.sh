#!/bin/sh
# A real trace with dma:* events (tests/fixtures/qemu-vtd-dma-lazy.bin, from
# Linux 6.12 under QEMU with VT-d; made by tests/qemu/make-fixture-trace.sh)
# replayed under every policy: the counters must say what Linux does
# (formats.md 5.5-5.7).  Strict: one IOTLB sync per unmap and no stale
# window.  Lazy: unmaps go through the flush queue, far fewer (domain-wide)
# invalidations, stale windows up to the 10 ms timeout.  Lazy-single: up to
# 1 s.  Caching mode: strict plus one invalidation per map.  And the
# committed trace is what `trace import` makes of the committed text.
set -u
fixtures="$SRCDIR/tests/fixtures"
bin="$fixtures/qemu-vtd-dma-lazy.bin"
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
[ -f "$bin" ] || { echo "no $bin"; exit 77; }
status=0
regs=$(grep -E '^(cap|ecap)=' "$fixtures/qemu-vtd-dma-lazy.regs" | sed 's/^/--reg /' | tr '\n' ' ')

if command -v xz >/dev/null 2>&1; then
	xz -dc "$fixtures/ftrace/qemu-vtd-dma-lazy-6.12.txt.xz" >"$TS_TMPDIR/t.txt"
	"$IOMMUTOOL" trace import "$TS_TMPDIR/t.txt" -o "$TS_TMPDIR/t.bin" 2>"$TS_TMPDIR/import.log" ||
		{ cat "$TS_TMPDIR/import.log"; status=1; }
	if ! cmp -s "$TS_TMPDIR/t.bin" "$bin"; then
		echo "FAIL: importing the committed text does not give the committed trace"
		status=1
	fi
else
	echo "xz not found: the import of the text is not checked"
fi

# shellcheck disable=SC2086
"$IOMMUTOOL" replay "$bin" --iommu vtd $regs --compare --json >"$TS_TMPDIR/cmp.json" || exit 1
python3 - "$TS_TMPDIR/cmp.json" <<'PY' || status=1
import json, sys

runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[r["policy"]] = r["counters"]
fails = []

def check(what, ok):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        fails.append(what)

s, l, ls, cm = runs["strict"], runs["lazy"], runs["lazy-single"], runs["caching-mode"]
unmaps = s["ops.dma_unmap_page"] + s["ops.dma_unmap_sg"] + s["ops.unmap"]
maps = s["ops.dma_map_page"] + s["ops.dma_map_sg"] + s["ops.map"]
MS = 1000000
for name, c in runs.items():
    check("%s: no refused operation, nothing unmatched, no IOVA reused before its flush" % name,
          c["replay.engine_errors"] == 0 and c["replay.dma_unmatched"] == 0
          and c["stale.reuse_before_flush"] == 0 and c["replay.skipped_no_domain"] == 0)
    check("%s: the same pages mapped and unmapped as strict" % name,
          (c["map.bytes_mapped"], c["map.bytes_unmapped"]) ==
          (s["map.bytes_mapped"], s["map.bytes_unmapped"]))
check("the trace has DMA-API traffic (%d maps, %d unmaps)" % (maps, unmaps),
      maps > 100 and unmaps > 100)
check("strict: one IOTLB sync per unmap (%d)" % s["flush.strict"],
      s["flush.strict"] == unmaps and s["inval.syncs"] == unmaps and s["fq.queued"] == 0)
check("strict: page-selective invalidations only",
      s["inval.vtd_dsi"] == 0 and sum(v for k, v in s.items() if k.startswith("inval.vtd_psi")) == unmaps)
check("strict: no stale window", s["stale.window_ns.max"] == 0)
check("lazy: every unmap through the flush queue (%d)" % l["fq.queued"],
      l["fq.queued"] == unmaps and l["flush.strict"] == 0)
check("lazy: far fewer invalidations than strict (%d vs %d)" % (l["inval.syncs"], s["inval.syncs"]),
      0 < l["inval.syncs"] * 5 < s["inval.syncs"])
check("lazy: flush-queue flushes are domain-selective (DSI %d = syncs)" % l["inval.vtd_dsi"],
      l["inval.vtd_dsi"] == l["inval.syncs"] and l["flush.fq_timeout"] + l["flush.fq_full"] == l["inval.syncs"])
check("lazy: stale windows, none beyond the 10 ms timeout (p50 %.1f ms, max %.1f ms)"
      % (l["stale.window_ns.p50"] / MS, l["stale.window_ns.max"] / MS),
      0 < l["stale.window_ns.p50"] <= l["stale.window_ns.max"] <= 10 * MS)
check("lazy: the queue never held more than its 256 entries (%d)" % l["fq.max_depth"],
      l["fq.max_depth"] < 256)
check("lazy-single: windows up to its 1 s timeout (max %.0f ms), fewer flushes than lazy"
      % (ls["stale.window_ns.max"] / MS),
      l["stale.window_ns.max"] < ls["stale.window_ns.max"] <= 1000 * MS
      and ls["inval.syncs"] <= l["inval.syncs"])
check("caching mode: strict's unmap syncs plus one per map (%d + %d)"
      % (cm["flush.strict"], cm["flush.caching_mode"]),
      cm["flush.strict"] == unmaps and cm["flush.caching_mode"] == maps
      and cm["inval.syncs"] == unmaps + maps)
if fails:
    sys.exit(1)
PY
exit $status
