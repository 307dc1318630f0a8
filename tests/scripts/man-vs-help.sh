#!/bin/sh
# Every command in `iommutool --help` has a man page, and every long option
# in `iommutool CMD --help` appears in that page (as \-\-name).
set -u
man="$SRCDIR/man"
status=0

check_page() { # help-text page
	for opt in $(printf '%s\n' "$1" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		name=${opt#--}
		# man escapes hyphens (\-); compare without the backslashes
		if ! sed 's/\\//g' "$2" | grep -q -- "--$name\\b"; then
			echo "$(basename "$2"): option --$name from --help is not documented"
			status=1
		fi
	done
}

[ -f "$man/iommutool.1" ] || { echo "man/iommutool.1 missing"; exit 1; }
top=$("$IOMMUTOOL" --help) || exit 1
check_page "$top" "$man/iommutool.1"
cmds=$(printf '%s\n' "$top" | sed -n '/^Commands:/,/^$/p' | awk 'NF && !/Commands:/ {print $1}')
[ -n "$cmds" ] || { echo "no commands listed in --help"; exit 1; }
for c in $cmds; do
	page="$man/iommutool-$c.1"
	if [ ! -f "$page" ]; then
		echo "command $c has no man page ($page)"
		status=1
		continue
	fi
	grep -q "iommutool-$c" "$man/iommutool.1" || { echo "iommutool.1 does not mention iommutool-$c"; status=1; }
	help=$("$IOMMUTOOL" "$c" --help) || { echo "iommutool $c --help failed"; status=1; continue; }
	check_page "$help" "$page"
done
[ $status -eq 0 ] && echo "all options documented for: $cmds"
exit $status
