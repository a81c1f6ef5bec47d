#!/usr/bin/env bash
# usdtkit stat vs bpftrace count(), one run, same loop and probe (see CMakeLists.txt).
# Usage: run_bench.sh USDTKIT LOOP   (as root)
# Environment: FIRES (fires per measurement, default 3000000).
set -euo pipefail

USDTKIT=$1 LOOP=$2
FIRES=${FIRES:-3000000}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
have_bpftrace=1
command -v bpftrace >/dev/null || { have_bpftrace=0; echo "bpftrace not found: its row is skipped" >&2; }

# wait_for FILE TEXT: until TEXT appears in FILE (60 s at most)
wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# usdtkit_run OUT ARGS...: per-fire cost of the loop while `usdtkit stat ARGS` runs
# (usdtkit attaches through uprobe_multi links where the kernel has them;
# USDTKIT_NO_UPROBE_MULTI=1 forces perf-event uprobes, as bpftrace uses);
# the summary it prints goes to OUT.
usdtkit_run() {
	local out=$1; shift
	"$USDTKIT" stat "$@" >"$out" 2>"$out.err" &
	local pid=$!
	wait_for "$out.err" "attached"
	"$LOOP" "$FIRES"
	kill -INT $pid; wait $pid || true
}

untraced=$("$LOOP" "$FIRES")
count_ns=$(usdtkit_run "$TMP/count" "$LOOP:bench:fire")
count_hits=$(awk '$1 == "bench:fire" { print $2 }' "$TMP/count")
perf_ns=$(USDTKIT_NO_UPROBE_MULTI=1 usdtkit_run "$TMP/perf" "$LOOP:bench:fire")
perf_hits=$(awk '$1 == "bench:fire" { print $2 }' "$TMP/perf")
hist_ns=$(usdtkit_run "$TMP/hist" "$LOOP:bench:fire" --hist arg0)
hist_hits=$(grep -o '([0-9]* hits)' "$TMP/hist" | tr -dc 0-9)

bt_count=NA bt_hits=NA
if ((have_bpftrace)); then
	bpftrace -e "usdt:$LOOP:bench:fire { @c = count(); }" >"$TMP/b.out" 2>"$TMP/b.err" &
	bpid=$!
	wait_for "$TMP/b.out" "Attaching"
	sleep 1 # bpftrace prints "Attaching" before its probes are in place
	bt_count=$("$LOOP" "$FIRES")
	kill -INT $bpid; wait $bpid || true
	bt_hits=$(grep -o '@c: [0-9]*' "$TMP/b.out" | cut -d' ' -f2)
fi

ratio() { if [[ $1 == NA || $2 == NA ]]; then echo NA; else printf '%.3f' "$(echo "$1 / $2" | bc -l)"; fi; }
echo
echo "usdtkit stat benchmark ($(uname -r), $(nproc) CPUs), probe bench:fire(long, char *), $FIRES fires"
printf '  %-40s %10s ns/fire\n' "untraced" "$untraced"
printf '  %-40s %10s ns/fire  (%s counted)\n' "usdtkit stat (count)" "$count_ns" "$count_hits"
printf '  %-40s %10s ns/fire  (%s counted)\n' "usdtkit stat (count, perf-event uprobes)" \
	"$perf_ns" "$perf_hits"
printf '  %-40s %10s ns/fire  (%s counted)\n' "usdtkit stat --hist arg0" "$hist_ns" "$hist_hits"
printf '  %-40s %10s ns/fire  (%s counted)\n' "bpftrace @c = count()" "$bt_count" "$bt_hits"
printf '  usdtkit count / bpftrace count = %s (target <= 1.0)\n' "$(ratio "$count_ns" "$bt_count")"
printf '  usdtkit count (perf-event) / bpftrace count = %s\n' "$(ratio "$perf_ns" "$bt_count")"
printf '  usdtkit hist  / bpftrace count = %s\n' "$(ratio "$hist_ns" "$bt_count")"
