#!/usr/bin/env bash
# --filter benchmark, one run (see CMakeLists.txt): per-fire cost of bench:fire
# with 1 hit in 1000 passing, filtered in the kernel by `usdtkit stat --filter`,
# next to usdtkit stat's plain count and bpftrace with the same predicates.
# Usage: run_bench.sh USDTKIT LOOP   (as root)
# Environment: FIRES (fires per measurement, default 2000000), REPEAT (default 5):
# the kinds run in alternating rounds (each round runs every kind once, so all
# see the same machine); each figure is the median of REPEAT rounds, the range
# beside it.
set -euo pipefail

USDTKIT=$1 LOOP=$2
FIRES=${FIRES:-2000000}
REPEAT=${REPEAT:-5}
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

# median and range of column COL of the lines on stdin: "MEDIAN MIN-MAX"
stats() { awk -v c="$1" '{ print $c }' | sort -g |
	awk '{ v[NR] = $1 } END { printf "%s %s-%s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

# One measurement of each kind; prints ns/fire on stdout, what was counted in $TMP/$kind.n
untraced() { "$LOOP" "$FIRES"; }
stat_run() { # KIND [STAT OPTIONS...]: counts bench:fire with usdtkit stat
	local kind=$1
	shift
	rm -f "$TMP/stat.err" # not the previous run's "attached"
	"$USDTKIT" stat "$@" "$PROBE" >"$TMP/stat" 2>"$TMP/stat.err" &
	local pid=$!
	wait_for "$TMP/stat.err" "attached"
	"$LOOP" "$FIRES"
	kill -INT $pid; wait $pid || true
	awk '$1 == "bench:fire" { print $2 }' "$TMP/stat" >"$TMP/$kind.n"
}
stat_count() { stat_run stat_count; }
filter_int() { stat_run filter_int --args "$DECL" --filter 'k == 0'; }
filter_str() { stat_run filter_str --args "$DECL" --filter 'func == "copyfile"'; }
bpftrace_run() { # KIND PREDICATE
	rm -f "$TMP/b.out"
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
for k in "${kinds[@]}"; do : >"$TMP/$k.runs"; done
for _ in $(seq "$REPEAT"); do
	for k in "${kinds[@]}"; do "$k" >>"$TMP/$k.runs"; done
done
declare -A cmed crng
for k in "${kinds[@]}"; do
	read -r med[$k] rng[$k] < <(stats 1 <"$TMP/$k.runs")
	read -r cmed[$k] crng[$k] < <(stats 2 <"$TMP/$k.runs")
done
for k in bpftrace_int bpftrace_str; do
	[[ -n ${med[$k]:-} ]] || med[$k]=NA rng[$k]=- cmed[$k]=NA crng[$k]=-
done

ratio() { if [[ $1 == NA || $2 == NA ]]; then echo NA; else printf '%.3f' "$(echo "$1 / $2" | bc -l)"; fi; }
counted() { cat "$TMP/$1.n" 2>/dev/null || echo -; }
echo
echo "--filter benchmark ($(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg))," \
	"bench:fire(long k, char *func), 1 in 1000 passing, $FIRES fires, median of $REPEAT rounds"
echo "(range); ns per fire: wall clock, and CPU time of the firing process (user + kernel:"
echo "the uprobe and BPF program; unaffected by waiting for a CPU on a loaded machine)"
printf '  %-48s %9s %17s %9s %17s  %s\n' "" "wall" "(range)" "cpu" "(range)" "counted"
row() {
	printf '  %-48s %9s %17s %9s %17s  %s\n' "$1" "${med[$2]}" "(${rng[$2]})" "${cmed[$2]}" \
		"(${crng[$2]})" "$(counted "$2")"
}
row "untraced" untraced
row "usdtkit stat (plain count)" stat_count
row "usdtkit stat --filter 'k == 0'" filter_int
row "usdtkit stat --filter 'func == \"copyfile\"'" filter_str
row "bpftrace /arg0 == 0/ count()" bpftrace_int
row "bpftrace /str(uptr(arg1)) == \"copyfile\"/ count()" bpftrace_str
both() { printf '%s wall, %s cpu' "$(ratio "${med[$1]}" "${med[$2]}")" "$(ratio "${cmed[$1]}" "${cmed[$2]}")"; }
printf '  filter int / stat count    = %s (target <= 1.1)\n' "$(both filter_int stat_count)"
printf '  filter str / stat count    = %s (target <= 1.1)\n' "$(both filter_str stat_count)"
printf '  filter int / bpftrace int  = %s (target <= 0.9)\n' "$(both filter_int bpftrace_int)"
printf '  filter str / bpftrace str  = %s (target <= 0.9)\n' "$(both filter_str bpftrace_str)"
