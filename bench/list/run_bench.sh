#!/usr/bin/env bash
# Times `usdtkit list -v BIN` against `tplist-bpfcc -l BIN -v` and
# `bpftrace -l 'usdt:BIN:*'` on the same binary, best of N runs each, and
# prints wall times and ratios. Target: usdtkit <= 0.05 x tplist.
#
#   run_bench.sh USDTKIT BIN [RUNS]
set -euo pipefail

USDTKIT=${1:?usage: run_bench.sh USDTKIT BIN [RUNS]}
BIN=${2:?usage: run_bench.sh USDTKIT BIN [RUNS]}
RUNS=${3:-10}

# best_of N CMD...: the fastest wall time of N runs, in microseconds
best_of() {
	local n=$1 best='' t0 t1 us
	shift
	for ((i = 0; i < n; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 || true
		t1=$EPOCHREALTIME
		us=$(((${t1/./} - ${t0/./})))
		if [[ -z $best || $us -lt $best ]]; then best=$us; fi
	done
	echo "$best"
}

ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

locs=$(readelf -n --wide "$BIN" 2>/dev/null | grep -c NT_STAPSDT || true)
probes=$("$USDTKIT" list "$BIN" | wc -l)
printf 'binary: %s\n' "$BIN"
printf '  %s probes, %s locations (readelf); best of %d runs each\n\n' "$probes" "$locs" "$RUNS"

# warm the page cache
cat "$BIN" "$USDTKIT" >/dev/null

t_us=$(best_of "$RUNS" "$USDTKIT" list -v "$BIN")
t_js=$(best_of "$RUNS" "$USDTKIT" list --json "$BIN")
t_def=$(best_of "$RUNS" "$USDTKIT" list "$BIN")
printf '%-40s %10s ms\n' "usdtkit list -v" "$(ms "$t_us")"
printf '%-40s %10s ms\n' "usdtkit list --json" "$(ms "$t_js")"
printf '%-40s %10s ms\n' "usdtkit list" "$(ms "$t_def")"

t_tp='' t_bt=''
if command -v tplist-bpfcc >/dev/null; then
	t_tp=$(best_of "$((RUNS < 5 ? RUNS : 5))" tplist-bpfcc -l "$BIN" -v)
	printf '%-40s %10s ms\n' "tplist-bpfcc -l BIN -v" "$(ms "$t_tp")"
else
	echo "tplist-bpfcc: not installed"
fi
if command -v bpftrace >/dev/null; then
	t_bt=$(best_of "$((RUNS < 5 ? RUNS : 5))" bpftrace -l "usdt:$BIN:*")
	printf '%-40s %10s ms\n' "bpftrace -l 'usdt:BIN:*'" "$(ms "$t_bt")"
else
	echo "bpftrace: not installed"
fi
echo
if [[ -n $t_tp ]]; then
	r=$(ratio "$t_us" "$t_tp")
	printf 'usdtkit list -v / tplist -v:   %s  (target <= 0.05: %s)\n' "$r" \
		"$(awk -v r="$r" 'BEGIN { print (r <= 0.05) ? "met" : "NOT met" }')"
fi
if [[ -n $t_bt ]]; then
	printf 'usdtkit list -v / bpftrace -l: %s\n' "$(ratio "$t_us" "$t_bt")"
fi
