#!/usr/bin/env bash
# Overhead of `usdtkit flow` on a call-heavy CPython 3.11 loop, one run:
# the loop untraced, under `usdtkit flow` (output to /dev/null) and under
# bpftrace printing the same calls and returns from the same probes
# (function__entry/return, and python:line, whose semaphore makes 3.11 fire
# function__entry at all). ROUNDS rounds, the three alternating; prints
# every figure (ns per call, measured by the loop itself), then
# min/median/max and the ratios to untraced and usdtkit/bpftrace.
# Usage: run_bench.sh USDTKIT LOOP.PY   (as root)
# Environment: CALLS (default 200000), ROUNDS (default 3), PYTHON (/usr/bin/python3.11).
set -euo pipefail

USDTKIT=$1 LOOP=$2
CALLS=${CALLS:-200000}
ROUNDS=${ROUNDS:-3}
PY=${PYTHON:-/usr/bin/python3.11}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }
[[ -x $PY ]] || { echo "run_bench.sh: $PY not found" >&2; exit 1; }
have_bt=1
command -v bpftrace >/dev/null || { have_bt=0; echo "bpftrace not found: its column is skipped" >&2; }

ns() { grep -o 'ns_per_call=[0-9.]*' "$1" | cut -d= -f2; }

bt_prog="usdt:$PY:python:function__entry { printf(\"-> %s\\n\", str(arg1)); }
usdt:$PY:python:function__return { printf(\"<- %s\\n\", str(arg1)); }
usdt:$PY:python:line { }"

cells=(untraced usdtkit)
((have_bt)) && cells+=(bpftrace)
for ((r = 1; r <= ROUNDS; r++)); do
	"$PY" "$LOOP" "$CALLS" >"$TMP/out"
	ns "$TMP/out" >>"$TMP/untraced"
	"$USDTKIT" flow -c "$PY $LOOP $CALLS" -M f -o "$TMP/flow" 2>"$TMP/flow.err" >"$TMP/out"
	ns "$TMP/out" >>"$TMP/usdtkit"
	n=$(grep -c -- '-> f' "$TMP/flow" || true)
	[[ $n == "$CALLS" ]] || { echo "usdtkit flow saw $n of $CALLS calls" >&2; exit 1; }
	if ((have_bt)); then
		bpftrace -e "$bt_prog" -c "$PY $LOOP $CALLS" >"$TMP/bt" 2>&1
		ns "$TMP/bt" >>"$TMP/bpftrace"
	fi
	printf 'round %d:' "$r"
	for c in "${cells[@]}"; do printf ' %s=%s' "$c" "$(tail -1 "$TMP/$c")"; done
	echo
done

med() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
echo "ns per call (min median max), $CALLS calls, $ROUNDS rounds:"
for c in "${cells[@]}"; do printf '  %-9s %s\n' "$c" "$(med "$TMP/$c")"; done
u=$(med "$TMP/untraced" | cut -d' ' -f2)
k=$(med "$TMP/usdtkit" | cut -d' ' -f2)
awk -v u="$u" -v k="$k" 'BEGIN { printf "ratio usdtkit flow / untraced (medians): %.1f\n", k / u }'
if ((have_bt)); then
	b=$(med "$TMP/bpftrace" | cut -d' ' -f2)
	awk -v u="$u" -v b="$b" -v k="$k" 'BEGIN {
		printf "ratio bpftrace / untraced (medians): %.1f\n", b / u
		printf "ratio usdtkit flow / bpftrace (medians): %.2f\n", k / b }'
fi
