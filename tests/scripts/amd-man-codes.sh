#!/bin/sh
# Every finding code of the AMD-Vi decoder (decoders/amd_findings.def) is
# documented in the AMD-VI section of iommutool-dump(1), and the section
# names no code the decoder does not have.
set -u
SRCDIR=${SRCDIR:-.}
def="$SRCDIR/decoders/amd_findings.def"
man="$SRCDIR/man/iommutool-dump.1"
[ -f "$def" ] && [ -f "$man" ] || { echo "missing $def or $man"; exit 1; }

section=$(sed -n '/^\.\\" BEGIN amd$/,/^\.\\" END amd$/p' "$man" | sed 's/\\-/-/g')
codes=$(sed -n 's/^AMD_FINDING([A-Z0-9_]*, "\([^"]*\)".*/\1/p' "$def")
[ -n "$codes" ] || { echo "no codes found in $def"; exit 1; }

rc=0
for c in $codes; do
	printf '%s\n' "$section" | grep -qx "\.B $c" || {
		echo "undocumented finding code: $c"; rc=1; }
done
# amd.pte.* come from the page-table walker, not from the decoder
for c in $(printf '%s\n' "$section" | sed -n 's/^\.B \(amd\.[a-z0-9.-]*\)$/\1/p' |
	   grep -v '^amd\.pte'); do
	printf '%s\n' "$codes" | grep -qx "$c" || {
		echo "man page documents an unknown code: $c"; rc=1; }
done
exit $rc
