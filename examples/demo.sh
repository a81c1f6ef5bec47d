#!/usr/bin/env bash
# The README's first command ends here: a live demo of both halves.
#  1. list the probes compiled into an example (no process needed);
#  2. start the example under the tracer and stream its probes with
#     decoded, named arguments (strings, doubles, the semaphore-guarded one);
#  3. the same events as JSON lines; a histogram and a latency computed in the
#     kernel; a runtime-defined provider traced by pid.
set -euo pipefail
BUILD=${1:-build}
BIN="$BUILD/bin"
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

say "probes in $BIN/example-c-static (usdtkit list -v)"
"$BIN/usdtkit" list -v "$BIN/example-c-static"

if [[ $(id -u) -ne 0 ]]; then
	echo "demo: tracing needs root (CAP_BPF and CAP_PERFMON); stopping after the listing" >&2
	exit 0
fi

say "live trace: usdtkit trace -c '$BIN/example-c-static 30 20' 'store:*'"
"$BIN/usdtkit" trace -c "$BIN/example-c-static 30 20" 'store:*'

say "JSON lines, first 3 finished requests"
"$BIN/usdtkit" trace -c "$BIN/example-c-static 30 20" --json -n 3 'store:request_done'

say "in-kernel aggregation: usdtkit stat --hist bytes, then request latency matched by id"
"$BIN/usdtkit" stat -c "$BIN/example-c-static 40 10" --hist bytes 'store:request_done'
"$BIN/usdtkit" stat -c "$BIN/example-c-static 40 10" --unit ms --match id \
	--latency store:request_start,store:request_done

say "a provider defined at run time (example-c-dynamic), traced by pid"
"$BIN/example-c-dynamic" 100 50 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 0.5
"$BIN/usdtkit" list -p "$pid" "webapp:*"
"$BIN/usdtkit" trace -p "$pid" -n 5 "webapp:*"
