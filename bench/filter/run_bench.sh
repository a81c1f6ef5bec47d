#!/usr/bin/env bash
# --filter benchmark, one run (see CMakeLists.txt): per-fire cost of bench:fire
# with 1 hit in 1000 passing, filtered in the kernel by the filter program, next
# to usdtkit stat's plain count and bpftrace with the same predicates.
# Usage: run_bench.sh USDTKIT FILTER_BENCH LOOP   (as root)
# Environment: FIRES (fires per measurement, default 2000000), REPEAT (default 3):
# each figure is the median of REPEAT runs, the range is printed beside it.
set -euo pipefail

USDTKIT=$1 FB=$2 LOOP=$3
FIRES=${FIRES:-2000000}
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
have_bpftrace=1
command -v bpftrace >/dev/null || { have_bpftrace=0; echo "bpftrace not found: its rows are skipped" >&2; }
DECL='bench:fire=k:i64,func:str'
PROBE="$LOOP:bench:fire"

wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# median and range of the numbers on stdin: "MEDIAN MIN-MAX"
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "%s %s-%s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

# One measurement of each kind; prints ns/fire on stdout, what was counted in $TMP/$kind.n
untraced() { "$LOOP" "$FIRES"; }
stat_count() {
	"$USDTKIT" stat "$PROBE" >"$TMP/stat" 2>"$TMP/stat.err" &
	local pid=$!
	wait_for "$TMP/stat.err" "attached"
	"$LOOP" "$FIRES"
	kill -INT $pid; wait $pid || true
	awk '$1 == "bench:fire" { print $2 }' "$TMP/stat" >"$TMP/stat_count.n"
}
filtered() { # KIND EXPR
	"$FB" "$PROBE" "$DECL" "$2" "$LOOP" "$FIRES" >"$TMP/fb"
	head -1 "$TMP/fb"
	tail -1 "$TMP/fb" | awk '{ print $2 " of " $1 }' >"$TMP/$1.n"
}
filter_int() { filtered filter_int 'k == 0'; }
filter_str() { filtered filter_str 'func == "copyfile"'; }
bpftrace_run() { # KIND PREDICATE
	bpftrace -e "usdt:$LOOP:bench:fire /$2/ { @c = count(); }" >"$TMP/b.out" 2>"$TMP/b.err" &
	local bpid=$!
	wait_for "$TMP/b.out" "Attaching"
	sleep 1 # bpftrace prints "Attaching" before its probes are in place
	"$LOOP" "$FIRES"
	kill -INT $bpid; wait $bpid || true
	grep -o '@c: [0-9]*' "$TMP/b.out" | cut -d' ' -f2 >"$TMP/$1.n"
}
bpftrace_int() { bpftrace_run bpftrace_int 'arg0 == 0'; }
# uptr(): bpftrace reads USDT pointers as kernel addresses unless told
bpftrace_str() { bpftrace_run bpftrace_str 'str(uptr(arg1)) == "copyfile"'; }

kinds=(untraced stat_count filter_int filter_str)
((have_bpftrace)) && kinds+=(bpftrace_int bpftrace_str)
declare -A med rng
for k in "${kinds[@]}"; do
	: >"$TMP/$k.runs"
	for _ in $(seq "$REPEAT"); do "$k" >>"$TMP/$k.runs"; done
	read -r med[$k] rng[$k] < <(stats <"$TMP/$k.runs")
done
for k in bpftrace_int bpftrace_str; do [[ -n ${med[$k]:-} ]] || med[$k]=NA rng[$k]=-; done

ratio() { if [[ $1 == NA || $2 == NA ]]; then echo NA; else printf '%.3f' "$(echo "$1 / $2" | bc -l)"; fi; }
counted() { cat "$TMP/$1.n" 2>/dev/null || echo -; }
echo
echo "--filter benchmark ($(uname -r), $(nproc) CPUs), bench:fire(long k, char *func)," \
	"1 in 1000 passing, $FIRES fires, median of $REPEAT (range)"
row() { printf '  %-44s %10s ns/fire  (%s; counted %s)\n' "$1" "${med[$2]}" "${rng[$2]}" "$(counted "$2")"; }
row "untraced" untraced
row "usdtkit stat (plain count)" stat_count
row "filter program: k == 0" filter_int
row "filter program: func == \"copyfile\"" filter_str
row "bpftrace /arg0 == 0/ count()" bpftrace_int
row "bpftrace /str(uptr(arg1)) == \"copyfile\"/ count()" bpftrace_str
printf '  filter int / stat count    = %s (target <= 1.1)\n' "$(ratio "${med[filter_int]}" "${med[stat_count]}")"
printf '  filter str / stat count    = %s (target <= 1.1)\n' "$(ratio "${med[filter_str]}" "${med[stat_count]}")"
printf '  filter int / bpftrace int  = %s (target <= 0.9)\n' "$(ratio "${med[filter_int]}" "${med[bpftrace_int]}")"
printf '  filter str / bpftrace str  = %s (target <= 0.9)\n' "$(ratio "${med[filter_str]}" "${med[bpftrace_str]}")"
