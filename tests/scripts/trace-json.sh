#!/bin/sh
# `trace show --json` prints one valid JSON object per line for every
# fixture, each with "type" and "time_ns", and as many lines as text mode.
set -u
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
status=0
for txt in "$SRCDIR"/tests/fixtures/ftrace/*.txt; do
	name=$(basename "$txt" .txt)
	"$IOMMUTOOL" trace import "$txt" -o "$TS_TMPDIR/$name.bin" 2>/dev/null || continue
	"$IOMMUTOOL" trace show --json "$TS_TMPDIR/$name.bin" > "$TS_TMPDIR/$name.json" || status=1
	"$IOMMUTOOL" trace show "$TS_TMPDIR/$name.bin" > "$TS_TMPDIR/$name.txt" || status=1
	python3 - "$TS_TMPDIR/$name.json" "$TS_TMPDIR/$name.txt" <<'PY' || { echo "$name: bad JSON"; status=1; }
import json, sys
lines = open(sys.argv[1]).read().splitlines()
text = open(sys.argv[2]).read().splitlines()
assert len(lines) == len(text), (len(lines), len(text))
for l in lines:
    o = json.loads(l)
    assert isinstance(o, dict) and "type" in o and isinstance(o["time_ns"], int), l
PY
done
[ $status -eq 0 ] && echo "JSON of every fixture is valid"
exit $status
