#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Every built man page renders with man -l without a warning from groff
# and has the sections a page needs. Usage: man_render.sh PAGE...
set -u
[ $# -gt 0 ] || { echo "SKIP: no man pages built (scdoc not found)"; exit 77; }
command -v man >/dev/null || { echo "SKIP: man not installed (man-db)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for page in "$@"; do
	name=$(basename "$page")
	if ! MANWIDTH=80 man --warnings=all -l "$page" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL: man -l $name failed: $(cat "$tmp/err")"
		status=1
		continue
	fi
	if [ -s "$tmp/err" ]; then
		echo "FAIL: man -l $name warns:"
		cat "$tmp/err"
		status=1
	fi
	for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -q "^$section\$" "$tmp/out" || { echo "FAIL: $name has no $section section"; status=1; }
	done
	title=$(head -n 1 "$tmp/out" | awk '{ print $1 }')
	[ "$title" = "${name%.*}(${name##*.})" ] || { echo "FAIL: $name: title '$title'"; status=1; }
	echo "ok: $name, $(wc -l <"$tmp/out") lines"
done
[ $status -eq 0 ] && echo "PASS: $# man pages render"
exit $status
