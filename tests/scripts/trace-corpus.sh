#!/bin/sh
# The seed corpus of the trace.bin reader (corpus/trace/) is what
# `trace import` makes of tests/fixtures/ftrace/ today, plus damaged files
# made from those; UPDATE_GOLDEN=1 rewrites it.  Every seed is then read by
# `trace show`, which must answer 0 or 2 and never crash.
set -u
fix="$SRCDIR/tests/fixtures/ftrace"
corpus="$SRCDIR/corpus/trace"
tmp="$TS_TMPDIR"
status=0

for txt in "$fix"/*.txt; do
	name=$(basename "$txt" .txt)
	"$IOMMUTOOL" trace import "$txt" -o "$tmp/$name.bin" 2>/dev/null || continue
	[ "$name" = empty ] || head -c 150 "$tmp/$name.bin" > "$tmp/$name-cut.bin"
	if [ "$name" = kprobe ]; then
		# a record size field made huge, a version from the future
		cp "$tmp/$name.bin" "$tmp/$name-size.bin"
		printf '\370\377\377\177' | dd of="$tmp/$name-size.bin" bs=1 seek=36 conv=notrunc 2>/dev/null
		cp "$tmp/$name.bin" "$tmp/$name-version.bin"
		printf '\002' | dd of="$tmp/$name-version.bin" bs=1 seek=8 conv=notrunc 2>/dev/null
	fi
done
for seed in "$tmp"/*.bin; do
	base=$(basename "$seed")
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p "$corpus"
		cp "$seed" "$corpus/$base"
	elif ! cmp -s "$seed" "$corpus/$base"; then
		echo "corpus/trace/$base differs from what import makes now (UPDATE_GOLDEN=1 rewrites it)"
		status=1
	fi
done
n=0
for seed in "$corpus"/*; do
	"$IOMMUTOOL" trace show --json "$seed" >/dev/null 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
		echo "trace show $(basename "$seed"): exit $rc"
		cat "$tmp/err"
		status=1
	fi
done
[ $status -eq 0 ] && echo "$n corpus seeds read"
exit $status
