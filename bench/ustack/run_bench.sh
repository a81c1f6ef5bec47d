#!/usr/bin/env bash
# User-stack benchmark (see CMakeLists.txt): ustack_bench's own figures,
# then bpftrace on the same loop. Usage: run_bench.sh USTACK_BENCH (as root)
# Environment: FIRES (fires per measurement, default 1000000), REPEAT (3),
# DEPTH (frames captured, default 16).
set -euo pipefail

BENCH=$1
FIRES=${FIRES:-1000000}
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
"$BENCH" "$FIRES" "$REPEAT" "${DEPTH:-16}"

command -v bpftrace >/dev/null || { echo "bpftrace not found: its rows are skipped" >&2; exit 0; }
wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
# bt SCRIPT: min and max ns/fire of the loop over REPEAT runs under bpftrace SCRIPT
bt() {
	local min='' max='' v
	bpftrace -e "$1" >"$TMP/b.out" 2>"$TMP/b.err" &
	local bpid=$!
	wait_for "$TMP/b.out" "Attaching"
	sleep 1 # "Attaching" comes before the probes are in place
	for _ in $(seq "$REPEAT"); do
		v=$("$BENCH" loop "$FIRES")
		if [[ -z $min ]] || (($(echo "$v < $min" | bc))); then min=$v; fi
		if [[ -z $max ]] || (($(echo "$v > $max" | bc))); then max=$v; fi
	done
	kill -INT $bpid; wait $bpid || true
	echo "$min $max"
}
read -r c0 c1 < <(bt "usdt:$BENCH:ubench:fire { @c = count(); }")
read -r s0 s1 < <(bt "usdt:$BENCH:ubench:fire { @s[ustack(${DEPTH:-16})] = count(); }")
printf '  %-44s %8.1f .. %8.1f ns/fire\n' "bpftrace @c = count()" "$c0" "$c1"
printf '  %-44s %8.1f .. %8.1f ns/fire   x%.2f .. x%.2f\n' "bpftrace @s[ustack(${DEPTH:-16})] = count()" \
	"$s0" "$s1" "$(echo "$s0 / $c1" | bc -l)" "$(echo "$s1 / $c0" | bc -l)"
