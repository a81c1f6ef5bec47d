#!/usr/bin/env bash
# usdtkit trace vs bpftrace, one run, same loop and probe (see CMakeLists.txt).
# Usage: run_bench.sh USDTKIT LOOP BIGLIB   (as root)
# Environment: FIRES (per-fire runs, default 2000000), LOSS_FIRES (10000000),
# BT_FIRES (bpftrace printf run, 200000), SKIP_BPFTRACE_ATTACH=1 to skip the
# slow bpftrace attach measurement, PIN_CPU=N to run every loop (both tools'
# rounds alike) on CPU N with taskset; the tracers' consumers stay unpinned.
set -euo pipefail

USDTKIT=$1 LOOP=$2 BIGLIB=$3
FIRES=${FIRES:-2000000}
LOSS_FIRES=${LOSS_FIRES:-10000000}
BT_FIRES=${BT_FIRES:-200000}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
have_bpftrace=1
command -v bpftrace >/dev/null || { have_bpftrace=0; echo "bpftrace not found: its columns are skipped" >&2; }

now() { date +%s.%N; }
# wait_for FILE TEXT: until TEXT appears in FILE (60 s at most)
wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# run_loop N: the loop, N fires, pinned to PIN_CPU when set; prints "wall cpu" ns/fire.
run_loop() {
	if [[ -n ${PIN_CPU:-} ]]; then
		taskset -c "$PIN_CPU" "$LOOP" "$@"
	else
		"$LOOP" "$@"
	fi
}

untraced=$(run_loop "$FIRES")

# One round of usdtkit trace: attach, fire, detach. Prints "wall cpu".
usdtkit_round() {
	"$USDTKIT" trace -v "$LOOP:bench:fire" --args 'bench:fire=i:i64,s:str' -o "$TMP/u.out" \
		2>"$TMP/u.err" &
	local upid=$!
	wait_for "$TMP/u.err" "attached"
	run_loop "$FIRES"
	sleep 0.5
	kill -INT $upid
	wait $upid || true
}

# One round of bpftrace count(). Prints "wall cpu".
bt_count_round() {
	bpftrace -e "usdt:$LOOP:bench:fire { @c = count(); }" >"$TMP/c.out" 2>"$TMP/c.err" &
	local bpid=$!
	wait_for "$TMP/c.out" "Attaching"
	sleep 1
	run_loop "$FIRES"
	kill -INT $bpid
	wait $bpid || true
}

# best "w c" "w c" ...: the lowest wall and the lowest cpu figure. A run on a
# shared VM only ever gets slower from interference, so best-of-N is the
# figure that compares the tools rather than the neighbours.
best() { printf '%s\n' "$@" | awk 'NR==1||$1<w{w=$1} NR==1||$2<c{c=$2} END{printf "%.2f %.2f", w, c}'; }

# The two tools the 1.3x target compares run in alternating rounds, so both
# see the same machine; ROUNDS of each (default 3), best of each reported.
ROUNDS=${ROUNDS:-3}
u_runs=() c_runs=()
for ((r = 0; r < ROUNDS; r++)); do
	u_runs+=("$(usdtkit_round)")
	usdtkit_events=$(grep -o '[0-9]* events' "$TMP/u.err" | cut -d' ' -f1)
	usdtkit_lost=$(grep -o '[0-9]* lost' "$TMP/u.err" | cut -d' ' -f1)
	if ((have_bpftrace)); then
		c_runs+=("$(bt_count_round)")
	fi
done
usdtkit_ns=$(best "${u_runs[@]}")
sample=$(head -1 "$TMP/u.out")

bt_printf=NA bt_count=NA
if ((have_bpftrace)); then
	bpftrace -e "usdt:$LOOP:bench:fire { printf(\"%d %s\\n\", arg0, str(arg1)); }" \
		>"$TMP/b.out" 2>"$TMP/b.err" &
	bpid=$!
	wait_for "$TMP/b.out" "Attaching"
	sleep 1
	bt_printf=$(run_loop "$BT_FIRES")
	kill -INT $bpid; wait $bpid || true
	bt_count=$(best "${c_runs[@]}")
fi

# Losses over LOSS_FIRES fires at full speed, events formatted to a file.
"$USDTKIT" trace -v "$LOOP:bench:fire" --args 'bench:fire=i:i64,s:str' -o "$TMP/l.out" \
	2>"$TMP/l.err" &
upid=$!
wait_for "$TMP/l.err" "attached"
loss_ns=$(run_loop "$LOSS_FIRES")
sleep 1
kill -INT $upid; wait $upid || true
loss_events=$(grep -o '[0-9]* events' "$TMP/l.err" | cut -d' ' -f1)
loss_lost=$(grep -o '[0-9]* lost' "$TMP/l.err" | cut -d' ' -f1)
loss_lines=$(wc -l <"$TMP/l.out")
rm -f "$TMP/l.out"

# Attach time to every probe of the big library (no process needs to run).
nprobes=$(readelf -n "$BIGLIB" | grep -c 'Name: probe_')
t0=$(now)
"$USDTKIT" trace -v "$BIGLIB:big:*" -d 0.001 >/dev/null 2>"$TMP/a.err"
t1=$(now)
usdtkit_attach=$(echo "$t1 - $t0" | bc -l)
usdtkit_attach_only=$(grep -o 'attached [0-9]* locations in [0-9.]* ms' "$TMP/a.err")
bt_attach=NA
if ((have_bpftrace)) && [[ -z ${SKIP_BPFTRACE_ATTACH:-} ]]; then
	# bpftrace makes one program per probe and refuses more than 512 by default
	t0=$(now)
	BPFTRACE_MAX_BPF_PROGS=100000 BPFTRACE_MAX_PROBES=100000 timeout 900 \
		bpftrace -e "usdt:$BIGLIB:big:* { @c = count(); } BEGIN { exit(); }" \
		>"$TMP/bt_attach.out" 2>&1 || true
	t1=$(now)
	if grep -q "Attaching" "$TMP/bt_attach.out"; then
		bt_attach=$(echo "$t1 - $t0" | bc -l)
	else
		echo "bpftrace attach run failed:" >&2
		head -5 "$TMP/bt_attach.out" >&2
	fi
fi

ratio() { if [[ $1 == NA || $2 == NA ]]; then echo NA; else printf '%.3f' "$(echo "$1 / $2" | bc -l)"; fi; }
wall() { [[ $1 == NA ]] && echo NA || echo "${1%% *}"; }
cpu() { [[ $1 == NA ]] && echo NA || echo "${1##* }"; }
echo
echo "usdtkit trace benchmark ($(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)${PIN_CPU:+, loop pinned to CPU $PIN_CPU})"
echo "probe bench:fire(long, char *); ns per fire: wall clock, and CPU time of the firing"
echo "process (user + kernel, includes the uprobe and BPF program; unaffected by waiting"
echo "for a CPU on a loaded machine)"
printf '  %-44s %10s %10s\n' "" "wall" "cpu"
printf '  %-44s %10s %10s\n' "untraced" "$(wall "$untraced")" "$(cpu "$untraced")"
printf '  %-44s %10s %10s  (%s events, %s lost)\n' "usdtkit trace (text event with string)" \
	"$(wall "$usdtkit_ns")" "$(cpu "$usdtkit_ns")" "$usdtkit_events" "$usdtkit_lost"
printf '  %-44s %10s %10s\n' "bpftrace printf(\"%d %s\", arg0, str(arg1))" \
	"$(wall "$bt_printf")" "$(cpu "$bt_printf")"
printf '  %-44s %10s %10s\n' "bpftrace @c = count()" "$(wall "$bt_count")" "$(cpu "$bt_count")"
printf '  (best of %s alternating rounds; each round wall/cpu: usdtkit %s; bpftrace count %s)\n' \
	"$ROUNDS" "$(printf '[%s] ' "${u_runs[@]}")" "$(printf '[%s] ' "${c_runs[@]}")"
printf '  usdtkit / bpftrace printf = %s wall, %s cpu (target <= 0.1)\n' \
	"$(ratio "$(wall "$usdtkit_ns")" "$(wall "$bt_printf")")" \
	"$(ratio "$(cpu "$usdtkit_ns")" "$(cpu "$bt_printf")")"
printf '  usdtkit / bpftrace count  = %s wall, %s cpu (target <= 1.3)\n' \
	"$(ratio "$(wall "$usdtkit_ns")" "$(wall "$bt_count")")" \
	"$(ratio "$(cpu "$usdtkit_ns")" "$(cpu "$bt_count")")"
printf '  sample event: %s\n' "$sample"
echo "losses over $LOSS_FIRES fires at full speed: $loss_events events, $loss_lost lost," \
	"$loss_lines lines written, $(wall "$loss_ns") ns/fire wall"
printf '  attach to %s probes of %s:\n' "$nprobes" "$(basename "$BIGLIB")"
printf '    usdtkit  %8.3f s (whole run; %s)\n' "$usdtkit_attach" "$usdtkit_attach_only"
printf '    bpftrace %8s s\n' "$bt_attach"
printf '    usdtkit / bpftrace = %s (target <= 0.02)\n' "$(ratio "$usdtkit_attach" "$bt_attach")"
