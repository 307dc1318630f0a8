#!/bin/sh
# The test suite behind `make check`: unit tests, golden CLI cases, script
# tests (man pages vs --help, QEMU captures), then everything again under
# ASan+UBSan in a separate build.  Ends with one line "N passed, N failed".
#
# Environment (set by tests/Makemodule.am):
#   SRCDIR BUILDDIR UNIT_TESTS SANITIZER_CHECK CONFIGURE_ARGS
#   UPDATE_GOLDEN=1 rewrites tests/expected/ from the current output.
#   TESTS=pattern runs only tests whose name contains the pattern.
set -u
SRCDIR=$(cd "${SRCDIR:-.}" && pwd)
BUILDDIR=$(cd "${BUILDDIR:-.}" && pwd)
IOMMUTOOL="$BUILDDIR/iommutool"
export SRCDIR BUILDDIR IOMMUTOOL LC_ALL=C TZ=UTC
TS_TMPROOT="$BUILDDIR/tests/run"
rm -rf "$TS_TMPROOT"
mkdir -p "$TS_TMPROOT"

passed=0 failed=0 skipped=0
failures=""

want() {
	[ -z "${TESTS:-}" ] && return 0
	case "$1" in *"$TESTS"*) return 0 ;; esac
	return 1
}

result() { # name status(0 pass, 77 skip, else fail) [detail]
	case "$2" in
	0) passed=$((passed + 1)); echo "PASS: $1" ;;
	77) skipped=$((skipped + 1)); echo "SKIP: $1${3:+ ($3)}" ;;
	*) failed=$((failed + 1)); failures="$failures $1"; echo "FAIL: $1" ;;
	esac
}

# --- unit tests (cmocka binaries) ---
for t in ${UNIT_TESTS:-}; do
	name="unit/$(basename "$t")"
	want "$name" || continue
	log="$TS_TMPROOT/$(basename "$t").log"
	if "$BUILDDIR/$t" >"$log" 2>&1; then
		result "$name" 0
	else
		rc=$?
		[ $rc -eq 77 ] && { result "$name" 77; continue; }
		sed 's/^/    /' "$log" | tail -n 40
		result "$name" 1
	fi
done

# --- golden CLI cases: tests/ts/<command>/<case> beside
#     tests/expected/<command>/<case> (stdout, "# stderr:" + stderr, "# exit: N") ---
for ts in "$SRCDIR"/tests/ts/*/*; do
	[ -f "$ts" ] || continue
	case "$ts" in *~|*.orig) continue ;; esac
	rel=${ts#"$SRCDIR/tests/ts/"}
	name="golden/$rel"
	want "$name" || continue
	exp="$SRCDIR/tests/expected/$rel"
	TS_TMPDIR="$TS_TMPROOT/$rel.d"
	mkdir -p "$TS_TMPDIR"
	out="$TS_TMPROOT/$rel.out" err="$TS_TMPROOT/$rel.err"
	mkdir -p "$(dirname "$out")"
	(cd "$SRCDIR/tests" && TS_TMPDIR="$TS_TMPDIR" sh "$ts") >"$out" 2>"$err"
	rc=$?
	if [ $rc -eq 77 ]; then result "$name" 77; continue; fi
	got="$TS_TMPROOT/$rel.got"
	{
		cat "$out"
		if [ -s "$err" ]; then echo "# stderr:"; cat "$err"; fi
		echo "# exit: $rc"
	} | sed "s|$TS_TMPDIR|TMPDIR|g; s|$SRCDIR/tests|SRCDIR|g" >"$got"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p "$(dirname "$exp")"
		cp "$got" "$exp"
	fi
	if [ -f "$exp" ] && cmp -s "$exp" "$got"; then
		result "$name" 0
	else
		[ -f "$exp" ] && diff -u "$exp" "$got" | head -n 40 | sed 's/^/    /' \
			|| echo "    missing $exp"
		result "$name" 1
	fi
done

# --- script tests: exit 0 pass, 77 skip, else fail.  The QEMU captures
#     come first: scripts such as trace-qemu-truth.sh reuse them ---
for t in "$SRCDIR"/tests/qemu/test-*.sh "$SRCDIR"/tests/scripts/*.sh; do
	[ -f "$t" ] || continue
	name="script/$(basename "$t" .sh)"
	want "$name" || continue
	log="$TS_TMPROOT/$(basename "$t").log"
	TS_TMPDIR="$TS_TMPROOT/$(basename "$t").d"
	mkdir -p "$TS_TMPDIR"
	TS_TMPDIR="$TS_TMPDIR" sh "$t" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		tail -n 40 "$log" | sed 's/^/    /'
	fi
	result "$name" $rc "$(tail -n 1 "$log" 2>/dev/null)"
done

# --- the whole suite again under ASan+UBSan ---
if [ "${SANITIZER_CHECK:-no}" = yes ]; then
	# A VPATH build from a clean copy of the sources (make distdir), so it
	# works whether the tree itself is configured in place or not.
	sb="$BUILDDIR/san-build"
	log="$TS_TMPROOT/sanitizer.log"
	echo "running the suite again under ASan+UBSan in $sb"
	if { rm -rf "$sb" && mkdir -p "$sb" &&
		make -s -C "$BUILDDIR" distdir distdir="$sb/src" &&
		cd "$sb" && mkdir build && cd build &&
		../src/configure -q --enable-asan --enable-ubsan \
			--disable-sanitizer-check ${CONFIGURE_ARGS:-} &&
		make -s -j"$(nproc 2>/dev/null || echo 2)" &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -s check; } >"$log" 2>&1; then :; fi
	cd "$BUILDDIR"
	grep -E '^(PASS|FAIL|SKIP): ' "$log" | sed 's/^\([A-Z]*\): /\1: asan\//'
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed 's/^\([0-9]*\) passed.*/\1/')
		f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
		s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
		[ "$f" -gt 0 ] && failures="$failures asan/*"
	else
		tail -n 40 "$log" | sed 's/^/    /'
		result "asan/build" 1
	fi
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
