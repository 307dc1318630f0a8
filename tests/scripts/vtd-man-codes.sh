#!/bin/sh
# Every VT-d finding code in decoders/vtd_findings.def is documented in the
# INTEL VT-D section of iommutool-dump(1), and the section documents no code
# the decoder does not have.
set -u
SRCDIR=${SRCDIR:-.}
def="$SRCDIR/decoders/vtd_findings.def"
man="$SRCDIR/man/iommutool-dump.1"
[ -f "$def" ] && [ -f "$man" ] || { echo "missing $def or $man"; exit 1; }

codes=$(sed -n 's/^VTD_FINDING([A-Z_0-9]*, "\([^"]*\)".*/\1/p' "$def" | sort)
[ -n "$codes" ] || { echo "no codes found in $def"; exit 1; }
documented=$(sed -n '/^\.\\" BEGIN vtd$/,/^\.\\" END vtd$/p' "$man" |
	sed -n 's/^\.B \(vtd\.[a-z0-9.\\-]*\)$/\1/p' | sed 's/\\-/-/g' | sort -u)

status=0
for c in $codes; do
	echo "$documented" | grep -qx "$c" || { echo "undocumented: $c"; status=1; }
done
for c in $documented; do
	echo "$codes" | grep -qx "$c" || { echo "documented but not a code: $c"; status=1; }
done
[ $status -eq 0 ] && echo "$(echo "$codes" | wc -l) codes documented"
exit $status
