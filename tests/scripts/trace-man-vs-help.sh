#!/bin/sh
# Every long option of `iommutool trace SUBCOMMAND --help` appears in
# man/iommutool-trace.1, and every record type name in iommutool-trace.5.
set -u
page="$SRCDIR/man/iommutool-trace.1"
page5="$SRCDIR/man/iommutool-trace.5"
status=0
for sub in import show record; do
	help=$("$IOMMUTOOL" trace "$sub" --help) || { echo "trace $sub --help failed"; exit 1; }
	grep -q "^\\.B iommutool trace $sub" "$page" || { echo "trace $sub missing from SYNOPSIS"; status=1; }
	for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		name=${opt#--}
		if ! grep -q -- "\\\\-\\\\-$name\\b" "$page"; then
			echo "iommutool-trace.1: option --$name of trace $sub is not documented"
			status=1
		fi
	done
done
for type in map unmap map_sg unmap_sg dma_map dma_unmap dma_alloc dma_free dma_sync \
	iova_alloc iova_link iova_sync iova_unlink iova_free attach detach iotlb_sync \
	access group lost domain_free device domain; do
	grep -q "^\\.SS \".*[0-9)] $type\\b" "$page5" || { echo "iommutool-trace.5: no section for $type"; status=1; }
done
[ $status -eq 0 ] && echo "trace options and record types documented"
exit $status
