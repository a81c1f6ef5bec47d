#!/usr/bin/env bash
# Attach and detach time of usdtkit trace and stat, per attach method:
# uprobe_multi links (where the kernel has them) and perf-event uprobes
# (USDTKIT_NO_UPROBE_MULTI=1), on N runtime providers (N objects) and on a
# library with many probes. Attach: from the start of the command to its
# "attached" line; detach: from SIGINT to its exit (what a user waits for
# after Ctrl-C); gone: from SIGINT until the last process of USDTKIT has
# exited (perf-event uprobes are closed by a background process, since the
# kernel tears them down one at a time; the next round starts after it, or
# its attach would wait for that teardown). RUNS rounds each (default 3),
# figures as min..max.
#
#   run_bench.sh USDTKIT PROVIDERS_BIN BIGLIB [N]     (as root)
set -euo pipefail

USDTKIT=${1:?usage: run_bench.sh USDTKIT PROVIDERS_BIN BIGLIB [N]}
PROV=${2:?usage: run_bench.sh USDTKIT PROVIDERS_BIN BIGLIB [N]}
BIGLIB=${3:?usage: run_bench.sh USDTKIT PROVIDERS_BIN BIGLIB [N]}
N=${4:-300}
RUNS=${RUNS:-3}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

[[ $(id -u) -eq 0 ]] || { echo "run_bench.sh: needs root (BPF)" >&2; exit 1; }

ms_now() { echo $((${EPOCHREALTIME/./} / 1000)); }
# wait_for FILE TEXT: until TEXT appears in FILE (120 s at most)
wait_for() {
	for _ in $(seq 12000); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
	echo "run_bench.sh: timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# round METHOD CMD...: one attach/detach round; prints "attach_ms detach_ms gone_ms"
round() {
	local method=$1 t0 t1 t2 t3 pid
	shift
	t0=$(ms_now)
	if [[ $method == perf ]]; then
		USDTKIT_NO_UPROBE_MULTI=1 "$@" >/dev/null 2>"$TMP/err" &
	else
		env -u USDTKIT_NO_UPROBE_MULTI "$@" >/dev/null 2>"$TMP/err" &
	fi
	pid=$!
	wait_for "$TMP/err" "attached"
	t1=$(ms_now)
	sleep 0.5
	kill -INT "$pid"
	wait "$pid" || true
	t2=$(ms_now)
	for _ in $(seq 6000); do pgrep -f "^$USDTKIT " >/dev/null || break; sleep 0.05; done
	t3=$(ms_now)
	grep -q "uprobe_multi links: yes" "$TMP/err" || [[ $method == perf ]] || {
		echo "run_bench.sh: no uprobe_multi on this kernel" >&2
		echo "- - -"
		return
	}
	echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t1))"
}

# series LABEL METHOD CMD...: RUNS rounds, one line of min..max figures
series() {
	local label=$1 method=$2 a d g amin=999999999 amax=0 dmin=999999999 dmax=0 gmin=999999999 gmax=0
	shift 2
	for ((r = 0; r < RUNS; r++)); do
		read -r a d g < <(round "$method" "$@")
		[[ $a == - ]] && { printf '%-44s %-13s (no uprobe_multi here)\n' "$label" "$method"; return; }
		((a < amin)) && amin=$a
		((a > amax)) && amax=$a
		((d < dmin)) && dmin=$d
		((d > dmax)) && dmax=$d
		((g < gmin)) && gmin=$g
		((g > gmax)) && gmax=$g
	done
	printf '%-36s %-13s attach %5s..%-5s detach %5s..%-5s gone %5s..%-5s ms\n' "$label" \
		"$method" "$amin" "$amax" "$dmin" "$dmax" "$gmin" "$gmax"
}

"$PROV" "$N" >"$TMP/prov.out" &
ppid=$!
wait_for "$TMP/prov.out" loaded
big=$("$USDTKIT" list "$BIGLIB" | wc -l)

echo "kernel $(uname -r); $RUNS rounds each, min..max"
for m in uprobe_multi perf; do
	series "trace -p: $N runtime providers" $m "$USDTKIT" trace -v -p "$ppid" 'bp*:hit'
	series "stat -p: $N runtime providers" $m "$USDTKIT" stat -v -p "$ppid" 'bp*:hit'
	series "trace: library with $big probes" $m "$USDTKIT" trace -v "$BIGLIB:big:*"
	series "stat: library with $big probes" $m "$USDTKIT" stat -v "$BIGLIB:big:*"
done
