#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# --help and the man pages agree: every subcommand that `usdtkit --help`
# lists has a page docs/man/usdtkit-CMD.1.scd whose option entries (lines
# "*-x*, *--long* ..." or "*--long* ...") are exactly the options in the
# option column of `usdtkit CMD --help` (lines "  -x, --long ..." or
# "      --long ..."), short letters included; usdtkit.1 lists exactly the
# commands of `usdtkit --help`. Generic: a new option or command without a
# man entry (or a man entry for a removed one) fails here.
# Usage: man_options.sh USDTKIT MAN_SOURCE_DIR
set -u
BIN=${1:?usage: man_options.sh USDTKIT MAN_SOURCE_DIR}
MAN=${2:?usage: man_options.sh USDTKIT MAN_SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# "-p --pid" or "--args", one option a line, sorted
help_opts() {
	sed -nE 's/^ {1,8}((-[[:alnum:]]), )?(--[[:alnum:]][[:alnum:]-]*).*/\2 \3/p' |
		sed 's/^ //' | sort -u
}
man_opts() {
	sed -nE 's/^\*(-[[:alnum:]])\*, \*(--[[:alnum:]][[:alnum:]-]*)\*.*/\1 \2/p;
		 s/^\*(--[[:alnum:]][[:alnum:]-]*)\*.*/\1/p' "$1" | sort -u
}

"$BIN" --help >"$tmp/top" || { echo "FAIL: usdtkit --help failed"; exit 1; }
sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$tmp/top" | sort >"$tmp/cmds"
[ -s "$tmp/cmds" ] || { echo "FAIL: no commands in usdtkit --help"; exit 1; }
sed -n '/^# COMMANDS/,/^# /s/^\*\([a-z][a-z-]*\)\*$/\1/p' "$MAN/usdtkit.1.scd" | sort >"$tmp/mancmds"
if ! diff -u "$tmp/cmds" "$tmp/mancmds" >"$tmp/d"; then
	echo "FAIL: commands of usdtkit --help (-) and usdtkit.1 (+) differ:"
	cat "$tmp/d"
	status=1
fi

for cmd in $(cat "$tmp/cmds"); do
	page=$MAN/usdtkit-$cmd.1.scd
	if [ ! -f "$page" ]; then
		echo "FAIL: usdtkit $cmd has no man page $page"
		status=1
		continue
	fi
	"$BIN" "$cmd" --help >"$tmp/help" || { echo "FAIL: usdtkit $cmd --help failed"; status=1; continue; }
	help_opts <"$tmp/help" >"$tmp/h"
	man_opts "$page" >"$tmp/m"
	n=$(wc -l <"$tmp/h")
	if [ "$n" -lt 2 ]; then
		echo "FAIL: usdtkit $cmd --help: no option column found"
		status=1
	elif diff -u "$tmp/h" "$tmp/m" >"$tmp/d"; then
		echo "ok: usdtkit $cmd: $n options in --help and usdtkit-$cmd(1)"
	else
		echo "FAIL: options of usdtkit $cmd --help (-) and usdtkit-$cmd(1) (+) differ:"
		cat "$tmp/d"
		status=1
	fi
done
[ $status -eq 0 ] && echo "PASS: --help and the man pages list the same commands and options"
exit $status
