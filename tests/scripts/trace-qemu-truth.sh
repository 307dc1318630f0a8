#!/bin/sh
# Real kernels: the ftrace text of every QEMU capture (tests/qemu, cached
# in $IOMMUTOOL_QEMU_CACHE) imports with no unknown line, and the pages
# the trace leaves mapped per device (kprobe-attributed domains, attach
# records) are exactly the capture's truth.txt.  VT-d and AMD traces then
# replay with the unit's registers without an operation the model refuses and with
# every unmap size the kernel reported, and the image of the tables the
# replay leaves (-o) dumps to the truth again (not for traces with dma:*
# records, whose DMA-API calls the model's own DMA layer replays at IOVAs
# of its choosing).  Skipped without captures.
set -u
cache=${IOMMUTOOL_QEMU_CACHE:-$HOME/.cache/iommutool-qemu}
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
n=0 status=0
for cap in "$cache"/captures/*/; do
	[ -s "$cap/serial.log" ] && [ -f "$cap/truth.txt" ] || continue
	name=$(basename "$cap")
	# A copy taken under the capture's lock: a QEMU test running beside
	# this one may be booting that variant again and rewriting its files.
	snap="$TS_TMPDIR/$name.cap"
	mkdir -p "$snap"
	if command -v flock >/dev/null 2>&1; then
		flock -w 1800 "${cap%/}.lock" cp "$cap/serial.log" "$cap/truth.txt" "$snap/"
	else
		cp "$cap/serial.log" "$cap/truth.txt" "$snap/"
	fi
	[ -f "$cap/regs.txt" ] && cp "$cap/regs.txt" "$snap/"
	cap=$snap
	awk '/@@IOMMUTOOL-TRACE-BEGIN@@/{f=1;next}/@@IOMMUTOOL-TRACE-END@@/{f=0}f' \
		"$cap/serial.log" > "$TS_TMPDIR/$name.txt"
	[ -s "$TS_TMPDIR/$name.txt" ] || continue
	if ! "$IOMMUTOOL" trace import "$TS_TMPDIR/$name.txt" -o "$TS_TMPDIR/$name.bin" \
			2> "$TS_TMPDIR/$name.err"; then
		echo "$name: import failed: $(cat "$TS_TMPDIR/$name.err")"
		status=1
		continue
	fi
	if ! grep -q "skipped 0 unknown lines" "$TS_TMPDIR/$name.err"; then
		echo "$name: $(tail -n 1 "$TS_TMPDIR/$name.err")"
		status=1
	fi
	"$IOMMUTOOL" trace show --json "$TS_TMPDIR/$name.bin" > "$TS_TMPDIR/$name.json" || status=1
	python3 - "$TS_TMPDIR/$name.json" "$cap/truth.txt" "$name" <<'PY' || status=1
import collections, json, sys
truth = set()
for line in open(sys.argv[2]):
    p = line.split()
    if len(p) < 3:
        continue
    runs = int(p[3]) if len(p) > 3 else 1
    for k in range(runs):
        truth.add((p[0], int(p[1], 16) + 4096 * k, int(p[2], 16) + 4096 * k))
pages = collections.defaultdict(dict)
dev_dom = {}
for rec in map(json.loads, open(sys.argv[1])):
    t = rec["type"]
    if t == "attach":
        dev_dom[rec["dev"]] = rec.get("domain")
    elif t == "map":
        iova, pa = int(rec["iova"], 16), int(rec["paddr"], 16)
        for k in range(rec["size"] // 4096):
            pages[rec.get("domain")][iova + 4096 * k] = pa + 4096 * k
    elif t == "unmap":
        n = rec["unmapped"] if rec["unmapped"] is not None else rec["size"]
        for k in range(n // 4096):
            pages[rec.get("domain")].pop(int(rec["iova"], 16) + 4096 * k, None)
mine = {(dev, iova, pa) for dev, d in dev_dom.items() for iova, pa in pages[d].items()}
if mine != truth:
    print("%s: %d pages in the truth, %d from the trace, %d missing, %d extra"
          % (sys.argv[3], len(truth), len(mine), len(truth - mine), len(mine - truth)))
    sys.exit(1)
PY
	case $name in
	vtd-* | amd-*)
		iommu=${name%%-*}
		regs=$(grep -E '^(cap|ecap|efr)=' "$cap/regs.txt" 2>/dev/null | sed 's/^/--reg /' | tr '\n' ' ')
		# shellcheck disable=SC2086
		if ! "$IOMMUTOOL" replay "$TS_TMPDIR/$name.bin" --iommu "$iommu" $regs --json --check -o "$TS_TMPDIR/$name.elf" \
				> "$TS_TMPDIR/$name.replay" 2>&1; then
			echo "$name: replay failed: $(cat "$TS_TMPDIR/$name.replay")"
			status=1
		else
			python3 - "$TS_TMPDIR/$name.replay" "$name" <<'PY' || status=1
import json, sys
c = json.loads(open(sys.argv[1]).readline())["counters"]
bad = {k: c[k] for k in ("replay.engine_errors", "replay.unmapped_differs",
                         "replay.skipped_no_domain", "check.mismatches") if c.get(k)}
if bad:
    print("%s: replay: %s (replayed %d)" % (sys.argv[2], bad, c["replay.replayed"]))
    sys.exit(1)
PY
			# with dma:* events the DMA layer of the model chose its own
			# IOVAs: the image is not the kernel's tables
			if grep -q '"replay.skipped_dma_api":0,' "$TS_TMPDIR/$name.replay" &&
				! python3 "$SRCDIR/tests/qemu/compare.py" --iommu "$iommu" --truth "$cap/truth.txt" \
					--allow-empty -- "$IOMMUTOOL" dump --json --pages "$TS_TMPDIR/$name.elf" \
					> "$TS_TMPDIR/$name.compare" 2>&1; then
				echo "$name: the replay's image does not dump to the truth:"
				tail -n 5 "$TS_TMPDIR/$name.compare"
				status=1
			fi
		fi
		;;
	esac
	n=$((n + 1))
done
[ $n -eq 0 ] && { echo "no QEMU captures in $cache"; exit 77; }
[ $status -eq 0 ] && echo "$n captures: traces agree with the kernel's truth"
exit $status
