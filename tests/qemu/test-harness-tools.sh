#!/bin/sh
# Checks the capture harness's own tools without QEMU: truth.py on a small
# hand-written serial log (per-domain state from kprobes, device attach,
# cross-check against the iommu:map/unmap tracepoints, overrun and missed
# kprobe detection) and compare.py on matching and mismatching dumps.
set -u
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
tmp=${TS_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp"
fails=0
check() { # name expected-status command...
	name=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $name: exit $got, expected $want"
		sed 's/^/    /' "$tmp/err"
		fails=$((fails + 1))
	else
		echo "ok: $name"
	fi
}
same() { # name expected-file actual-file
	if cmp -s "$2" "$3"; then echo "ok: $1"; else
		echo "FAIL: $1"; diff "$2" "$3" | sed 's/^/    /'; fails=$((fails + 1))
	fi
}

# Domain A (0xa0) serves 00:03.0, domain B (0xb0) serves 00:1f.0 and
# 00:1f.2; 00:04.0 attaches to A first and then moves to domain C, which
# is freed.  A maps 3 pages and unmaps the middle one; B maps 2 pages.
kp() { # task event payload
	printf '  %s-1     [000] .....     1.000000: %s: %s\r\n' "$1" "$2" "$3"
}
mklog() { # overrun? missed? tracepoint-unmap-size
	echo "boot noise"
	echo "@@IOMMUTOOL-KPROBES-BEGIN@@"
	echo "p:iommutool/iommutool_map intel_iommu_map_pages dom=\$arg1:x64"
	echo "  iommutool_map      4   $2"
	echo "  iommutool_unmap    1   0"
	echo "@@IOMMUTOOL-KPROBES-END@@"
	echo "@@IOMMUTOOL-TRACE-BEGIN@@"
	echo "# tracer: nop"
	echo "# entries-in-buffer/entries-written: $1   #P:1"
	echo "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION"
	kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xa0 dev="0000:00:03.0"'
	kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xa0 dev="0000:00:04.0"'
	kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xb0 dev="0000:00:1f.0"'
	kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xb0 dev="0000:00:1f.2"'
	kp swapper/0 iommutool_map '(intel_iommu_map_pages+0x0/0xe0) dom=0xb0 iova=0x0 paddr=0x0 pgsize=0x1000 pgcount=0x2'
	kp swapper/0 map 'IOMMU: iova=0x0000000000000000 - 0x0000000000002000 paddr=0x0000000000000000 size=8192'
	kp modprobe iommutool_map '(intel_iommu_map_pages+0x0/0xe0) dom=0xa0 iova=0xffffd000 paddr=0x5000 pgsize=0x1000 pgcount=0x3'
	kp modprobe map 'IOMMU: iova=0x00000000ffffd000 - 0x0000000100000000 paddr=0x0000000000005000 size=12288'
	kp '<idle>' iommutool_unmap '(intel_iommu_unmap_pages+0x0/0x180) dom=0xa0 iova=0xffffe000 pgsize=0x1000 pgcount=0x1'
	kp '<idle>' unmap "IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 size=4096 unmapped_size=$3"
	kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xc0 dev="0000:00:04.0"'
	kp swapper/0 iommutool_map '(intel_iommu_map_pages+0x0/0xe0) dom=0xc0 iova=0xfffff000 paddr=0x9000 pgsize=0x1000 pgcount=0x1'
	kp swapper/0 map 'IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000000009000 size=4096'
	kp swapper/0 iommutool_free '(intel_iommu_domain_free+0x0/0x10) dom=0xc0'
	echo "@@IOMMUTOOL-TRACE-END@@"
	echo "@@IOMMUTOOL-IDLE@@"
}

mklog 14/14 0 4096 >"$tmp/good.log"
cat >"$tmp/good.want" <<'EOF'
0000:00:03.0 0x00000000ffffd000 0x0000000000005000
0000:00:03.0 0x00000000fffff000 0x0000000000007000
0000:00:1f.0 0x0000000000000000 0x0000000000000000
0000:00:1f.0 0x0000000000001000 0x0000000000001000
0000:00:1f.2 0x0000000000000000 0x0000000000000000
0000:00:1f.2 0x0000000000001000 0x0000000000001000
EOF
check "truth: consistent log" 0 python3 "$here/truth.py" "$tmp/good.log" -o "$tmp/good.truth"
same "truth: live pages per device" "$tmp/good.want" "$tmp/good.truth"
check "truth: runs" 0 python3 "$here/truth.py" --runs "$tmp/good.log"
printf '%s\n' "0000:00:03.0 0x00000000ffffd000 0x0000000000005000 1" \
	"0000:00:03.0 0x00000000fffff000 0x0000000000007000 1" \
	"0000:00:1f.0 0x0000000000000000 0x0000000000000000 2" \
	"0000:00:1f.2 0x0000000000000000 0x0000000000000000 2" >"$tmp/runs.want"
same "truth: runs merge contiguous pages" "$tmp/runs.want" "$tmp/out"

mklog 13/14 0 4096 >"$tmp/overrun.log"
check "truth: ring buffer overrun is an error" 1 python3 "$here/truth.py" "$tmp/overrun.log"
mklog 14/14 1 4096 >"$tmp/missed.log"
check "truth: missed kprobe hit is an error" 1 python3 "$here/truth.py" "$tmp/missed.log"
mklog 14/14 0 8192 >"$tmp/disagree.log"
check "truth: tracepoint disagreement is an error" 1 python3 "$here/truth.py" "$tmp/disagree.log"
head -n 12 "$tmp/good.log" >"$tmp/cut.log"
check "truth: unterminated trace is an error" 1 python3 "$here/truth.py" "$tmp/cut.log"

# compare.py: a dump given as JSON Lines by a stand-in command.
rec() { # device iova phys size
	printf '{"type":"mapping","iommu":"vtd","device":"%s","pasid":null,"domain":1,"iova":"%s","phys":"%s","size":%d,"read":true,"write":true,"page_size":4096}\n' "$@"
}
{
	rec 0000:00:03.0 0xffffd000 0x5000 4096
	rec 0000:00:03.0 0xfffff000 0x7000 4096
	rec 0000:00:1f.0 0x0 0x0 8192
	rec 0000:00:1f.2 0x0 0x0 8192
	echo '{"type":"finding","severity":"info","code":"vtd.example"}'
} >"$tmp/match.jsonl"
check "compare: exact match" 0 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/good.truth" -- cat "$tmp/match.jsonl"
check "compare: runs truth" 0 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/runs.want" -- cat "$tmp/match.jsonl"
grep -v 0xfffff000 "$tmp/match.jsonl" >"$tmp/missing.jsonl"
check "compare: missing page" 1 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/good.truth" -- cat "$tmp/missing.jsonl"
{ cat "$tmp/match.jsonl"; rec 0000:00:05.0 0x1000 0x1000 4096; } >"$tmp/extra.jsonl"
check "compare: extra device" 1 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/good.truth" -- cat "$tmp/extra.jsonl"
sed 's/"phys":"0x7000"/"phys":"0x8000"/' "$tmp/match.jsonl" >"$tmp/wrongpa.jsonl"
check "compare: wrong physical page" 1 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/good.truth" -- cat "$tmp/wrongpa.jsonl"
check "compare: other IOMMU's records ignored" 1 \
	python3 "$here/compare.py" --iommu amd --truth "$tmp/good.truth" -- cat "$tmp/match.jsonl"
check "compare: failing command" 1 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/good.truth" -- false

: >"$tmp/empty.truth"
echo '{"type":"finding","severity":"info","code":"vtd.device.passthrough"}' >"$tmp/pt.jsonl"
check "compare: empty truth is an error" 1 \
	python3 "$here/compare.py" --iommu vtd --truth "$tmp/empty.truth" -- cat "$tmp/pt.jsonl"
check "compare: empty truth allowed" 0 python3 "$here/compare.py" --iommu vtd \
	--truth "$tmp/empty.truth" --allow-empty --expect-finding vtd.device.passthrough \
	-- cat "$tmp/pt.jsonl"
check "compare: expected finding missing" 1 python3 "$here/compare.py" --iommu vtd \
	--truth "$tmp/good.truth" --expect-finding vtd.device.passthrough -- cat "$tmp/match.jsonl"
check "compare: mapping where the truth has none" 1 python3 "$here/compare.py" \
	--iommu vtd --truth "$tmp/empty.truth" --allow-empty -- cat "$tmp/match.jsonl"
sed -n '1,/@@IOMMUTOOL-TRACE-BEGIN@@/p' "$tmp/good.log" >"$tmp/nomap.log"
{ echo "# entries-in-buffer/entries-written: 1/1   #P:1"
  kp swapper/0 iommutool_attach '(intel_iommu_attach_device+0x0/0x8c0) dom=0xa0 dev="0000:00:03.0"'
  echo "@@IOMMUTOOL-TRACE-END@@"; } >>"$tmp/nomap.log"
check "truth: no map events is an error" 1 python3 "$here/truth.py" "$tmp/nomap.log"
check "truth: no map events allowed" 0 python3 "$here/truth.py" --allow-empty "$tmp/nomap.log"

[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "harness tools ok"
