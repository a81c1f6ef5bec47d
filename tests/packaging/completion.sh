#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# The bash completion loads in a non-interactive bash (with and without the
# bash-completion package's helpers) and completes a subcommand, options of
# a subcommand read from its --help, PIDs after -p and probe names from the
# file on the line. Usage: completion.sh COMPLETION_SCRIPT USDTKIT EXAMPLE
set -u
SCRIPT=${1:?usage: completion.sh SCRIPT USDTKIT EXAMPLE}
BIN=${2:?}
EXAMPLE=${3:?}
status=0

# expect LINE WORD...: completing LINE offers every WORD
run() {
	bash --norc --noprofile -c '
		[ "$1" = with ] && [ -r /usr/share/bash-completion/bash_completion ] &&
			. /usr/share/bash-completion/bash_completion
		. "$2" || exit 3
		complete -p usdtkit >/dev/null || exit 4
		COMP_LINE=$3 COMP_POINT=${#3} COMP_WORDBREAKS=$COMP_WORDBREAKS
		_usdtkit
		printf "%s\n" "${COMPREPLY[@]}"' bash "$1" "$SCRIPT" "$2"
}
expect() {
	local mode=$1 line=$2 out w
	shift 2
	out=$(run "$mode" "$line") || { echo "FAIL: [$line]: the script did not load or register"; status=1; return; }
	for w in "$@"; do
		if ! printf '%s\n' "$out" | grep -qxF -- "$w"; then
			echo "FAIL: [$line] ($mode bash-completion) offers no '$w': $(echo $out)"
			status=1
			return
		fi
	done
	echo "ok: [$line] -> $(echo $out | cut -c1-100)"
}

for mode in with without; do
	expect $mode "$BIN tr" trace
	expect $mode "$BIN " list trace stat
	expect $mode "$BIN trace --str" --string-size
	expect $mode "$BIN stat --la" --latency
	expect $mode "$BIN list -" -p --pid --json
done
expect without "$BIN trace -p " "$$"
expect without "$BIN list $EXAMPLE st" store:request_start store:stats
# bash splits at ':': only the part after the last colon is offered
expect without "$BIN trace $EXAMPLE:store:request_s" request_start
[ $status -eq 0 ] && echo "PASS: completion of subcommands, options, PIDs and probes"
exit $status
