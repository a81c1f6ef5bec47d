#!/usr/bin/env bash
# The compile-time probe site, one run (see CMakeLists.txt): the same loop as
# sys/sdt.h, <usdtkit/sdt.h> classic and <usdtkit/sdt.h> optimizable, each
# untraced, counted by `usdtkit stat` and by bpftrace count(), ROUNDS rounds
# with the forms alternating inside each round; prints every round, then
# min / median / max per cell and the optimizable / sys/sdt.h ratios.
# Usage: run_bench.sh USDTKIT LOOPDIR   (as root)
# Environment: FIRES (traced fires per measurement, default 1000000),
# UNTRACED_FIRES (default 300000000), ROUNDS (default 3).
set -euo pipefail

USDTKIT=$1 DIR=$2
FIRES=${FIRES:-1000000}
UNTRACED_FIRES=${UNTRACED_FIRES:-300000000}
ROUNDS=${ROUNDS:-3}
FORMS=(sys classic opt)
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
have_bpftrace=1
command -v bpftrace >/dev/null || { have_bpftrace=0; echo "bpftrace not found: its rows are skipped" >&2; }

# wait_for FILE TEXT: until TEXT appears in FILE (60 s at most)
wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# check_hits FORM TRACER GOT: every fire counted, or the figure means nothing
check_hits() {
	[[ $3 == "$FIRES" ]] || { echo "run_bench.sh: $2 counted '$3' of $FIRES fires of $1" >&2; exit 1; }
}

# stat_run FORM: "ns tramp" while `usdtkit stat` counts the loop's probe
stat_run() {
	local loop=$DIR/probe_site_loop_$1 out=$TMP/stat.$1
	"$USDTKIT" stat "$loop:bench:fire" >"$out" 2>"$out.err" &
	local pid=$!
	wait_for "$out.err" "attached"
	"$loop" "$FIRES"
	kill -INT $pid; wait $pid || true
	check_hits "$1" "usdtkit stat" "$(awk '$1 == "bench:fire" { print $2 }' "$out")"
}

# bpftrace_run FORM: "ns tramp" while bpftrace counts the loop's probe
bpftrace_run() {
	local loop=$DIR/probe_site_loop_$1 out=$TMP/bt.$1
	bpftrace -e "usdt:$loop:bench:fire { @c = count(); }" >"$out" 2>&1 &
	local pid=$!
	wait_for "$out" "Attaching"
	sleep 1 # bpftrace prints "Attaching" before its probes are in place
	"$loop" "$FIRES"
	kill -INT $pid; wait $pid || true
	check_hits "$1" "bpftrace" "$(grep -o '@c: [0-9]*' "$out" | cut -d' ' -f2)"
}

# One file per cell (FORM.TRACER), one figure per round; the trampoline flag too.
base=()
for ((r = 1; r <= ROUNDS; r++)); do
	read -r ns _ < <("$DIR/probe_site_loop_none" "$UNTRACED_FIRES")
	base+=("$ns")
	echo "$ns" >>"$TMP/none.untraced"
	for f in "${FORMS[@]}"; do
		read -r ns _ < <("$DIR/probe_site_loop_$f" "$UNTRACED_FIRES")
		echo "$ns" >>"$TMP/$f.untraced"
		# not in a subshell: a failed hit count stops the whole run
		stat_run "$f" >"$TMP/res"
		read -r ns tr <"$TMP/res"
		echo "$ns" >>"$TMP/$f.stat"; echo "$tr" >>"$TMP/$f.tramp"
		if ((have_bpftrace)); then
			bpftrace_run "$f" >"$TMP/res"
			read -r ns tr <"$TMP/res"
			echo "$ns" >>"$TMP/$f.bpftrace"; echo "$tr" >>"$TMP/$f.tramp"
		fi
	done
	printf 'round %d:' "$r" >&2
	for f in "${FORMS[@]}"; do
		printf ' %s %s/%s/%s' "$f" "$(tail -1 "$TMP/$f.untraced")" "$(tail -1 "$TMP/$f.stat")" \
			"$( ((have_bpftrace)) && tail -1 "$TMP/$f.bpftrace" || echo NA)" >&2
	done
	echo >&2
done

# stats FILE: "min median max" of the figures in FILE
stats() {
	[[ -s $1 ]] || { echo "NA NA NA"; return; }
	sort -g "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%.3f %.3f %.3f\n", v[1], m, v[NR] }'
}
median() { stats "$1" | cut -d' ' -f2; }
ratio() { if [[ $1 == NA || $2 == NA ]]; then echo NA; else printf '%.3f' "$(echo "$1 / $2" | bc -l)"; fi; }
# untraced cost of a form: its loop's median minus the bare loop's median
over() { if [[ $1 == NA ]]; then echo NA; else printf '%+.3f' "$(echo "$1 - $2" | bc -l)"; fi; }

declare -A names=([sys]="sys/sdt.h (1-byte nop)" [classic]="usdtkit sdt.h classic" [opt]="usdtkit sdt.h optimizable")
echo
echo "probe site benchmark ($(uname -r), $(nproc) CPUs), bench:fire(long, char *), $ROUNDS rounds,"
echo "$FIRES traced / $UNTRACED_FIRES untraced fires; thread CPU ns per fire, min / median / max"
printf '  %-28s %-26s %-26s %-26s %s\n' "" "untraced" "usdtkit stat count" "bpftrace count()" "trampoline"
read -r bmin bmed bmax < <(stats "$TMP/none.untraced")
printf '  %-28s %-26s\n' "bare loop (no probe)" "$bmin / $bmed / $bmax"
for f in "${FORMS[@]}"; do
	read -r umin umed umax < <(stats "$TMP/$f.untraced")
	read -r smin smed smax < <(stats "$TMP/$f.stat")
	read -r tmin tmed tmax < <(stats "$TMP/$f.bpftrace")
	printf '  %-28s %-26s %-26s %-26s %s\n' "${names[$f]}" "$umin / $umed / $umax" \
		"$smin / $smed / $smax" "$tmin / $tmed / $tmax" \
		"$(sort -u "$TMP/$f.tramp" | tr '\n' ' ')"
done
echo "  untraced cost over the bare loop (medians): sys $(over "$(median "$TMP/sys.untraced")" "$bmed")," \
	"classic $(over "$(median "$TMP/classic.untraced")" "$bmed")," \
	"optimizable $(over "$(median "$TMP/opt.untraced")" "$bmed") ns (target <= 0.5)"
for t in stat bpftrace; do
	printf '  optimizable / sys/sdt.h under %-9s = %s (medians; target <= 0.65), classic / sys/sdt.h = %s\n' \
		"$t" "$(ratio "$(median "$TMP/opt.$t")" "$(median "$TMP/sys.$t")")" \
		"$(ratio "$(median "$TMP/classic.$t")" "$(median "$TMP/sys.$t")")"
done
