#!/usr/bin/env bash
# End-to-end cost of exporting, for the lead once the CLI options exist:
# per-fire cost of bench/stat's loop while `usdtkit stat` counts it writing
# to /dev/null, with --prometheus (scraped every second) and with
# --latency --otlp (to a receiver that discards), and `usdtkit trace`
# to /dev/null vs --otlp and --perfetto. Target: every ratio <= 1.05.
# Usage: run_e2e.sh USDTKIT LOOP   (as root; LOOP = build/bench/stat/bench_stat_loop)
# Environment: FIRES (default 3000000), REPEAT (default 3).
set -euo pipefail

USDTKIT=$1 LOOP=$2
FIRES=${FIRES:-3000000}
REPEAT=${REPEAT:-3}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
[[ $(id -u) -eq 0 ]] || { echo "run_e2e.sh: needs root (BPF)" >&2; exit 1; }
for opt in "stat --prometheus" "trace --otlp" "trace --perfetto"; do
	# shellcheck disable=SC2086
	"$USDTKIT" ${opt%% *} --help 2>&1 | grep -q -- "${opt#* }" || {
		echo "run_e2e.sh: this usdtkit has no '$opt' yet (the CLI wiring of issue 15)" >&2
		exit 1
	}
done

wait_for() {
	for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timeout waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run CMD ARGS...: the loop's ns/fire while `usdtkit CMD ARGS` runs
run() {
	"$USDTKIT" "$@" >/dev/null 2>"$TMP/err" &
	local pid=$!
	wait_for "$TMP/err" "attached"
	"$LOOP" "$FIRES"
	kill -INT $pid; wait $pid || true
}

# a discarding OTLP receiver and a 1 s scraper
RPORT=$(free_port)
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$RPORT" &
PPORT=$(free_port)
python3 -c '
import sys, time, urllib.request
while True:
    time.sleep(1)
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2).read()
    except OSError:
        pass' "$PPORT" &

P="$LOOP:bench:fire"
for i in $(seq "$REPEAT"); do
	base=$(run stat "$P")
	prom=$(run stat "$P" --prometheus "127.0.0.1:$PPORT")
	tbase=$(run trace "$P")
	totlp=$(run trace "$P" --otlp "http://127.0.0.1:$RPORT")
	tperf=$(run trace "$P" --perfetto "$TMP/t.json")
	r() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
	echo "run $i: stat $base ns/fire, --prometheus $prom ($(r "$prom" "$base")x);" \
		"trace $tbase, --otlp $totlp ($(r "$totlp" "$tbase")x), --perfetto $tperf ($(r "$tperf" "$tbase")x)"
done
