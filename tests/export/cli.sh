#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# The exporters through the real CLI (issue 15), against real peers:
#   prometheus  a Prometheus server scrapes `usdtkit stat --prometheus`
#               while the stat fixture fires; PromQL returns the exact hit
#               count; promtool lints the live endpoint; a 404 off /metrics
#   textfile    `stat --prometheus-textfile`: exact counts, promtool
#   otlp        the OTLP receiver decodes (opentelemetry-proto schema)
#               `trace --otlp` (31 log records, typed arguments) and
#               `stat --latency --otlp` (10 spans, 5 short and 5 long)
#   perfetto    `trace --perfetto` (31 instant events) and `stat --latency
#               --perfetto` (20 complete events: 10 ~2 ms, 10 ~20 ms)
# The counts are the stat fixture's (tests/tracer/stat_fixtures).
# Usage: cli.sh GROUP; skips (77) without root/BPF or the peer programs.
set -euo pipefail

GROUP=${1:?group}
B=${USDTKIT_BUILD_DIR:?}
S=${USDTKIT_SOURCE_DIR:?}
U=$B/bin/usdtkit
F=$B/tests/tracer/stat_fixtures/stat_fixture
PY=/usr/bin/python3 # Debian's: python3-protobuf is installed for it
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "needs root (BPF)"
"$U" stat -d 0.1 "$F:stat:value" >/dev/null 2>"$TMP/probe" ||
	{ grep -q "not permitted" "$TMP/probe" && skip "BPF not permitted"; cat "$TMP/probe"; fail "stat does not run"; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # FILE PATTERN: bounded (30 s)
	for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	cat "$1" >&2 || true
	fail "timeout waiting for '$2' in $1"
}
http_get() { # URL: the body; fails on a non-2xx status
	"$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}
http_status() { # URL: the status code
	"$PY" -c '
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$1"
}

group_prometheus() {
	command -v prometheus >/dev/null && command -v promtool >/dev/null ||
		skip "the prometheus package (prometheus, promtool) is not installed"
	local port pport val="" fx=$TMP/fixture
	port=$(free_port)
	# PATH:PROBE: every process running the fixture, for as long as stat runs;
	# a copy of our own, so the fixture runs of tests in parallel are not counted
	cp "$F" "$fx"
	"$U" stat "$fx:stat:*" -d 120 --prometheus "127.0.0.1:$port" >"$TMP/stat.out" 2>"$TMP/stat.err" &
	PIDS+=($!)
	wait_for "$TMP/stat.err" attached
	"$fx" dist
	"$fx" dist
	pport=$(free_port)
	cat >"$TMP/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: usdtkit
		    static_configs:
		      - targets: ['127.0.0.1:$port']
	EOF
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
		--web.listen-address="127.0.0.1:$pport" >"$TMP/prometheus.log" 2>&1 &
	PIDS+=($!)
	# bounded: 60 tries of 0.5 s; the fixture fired stat:value 2 x 31 times
	for _ in $(seq 60); do
		sleep 0.5
		val=$(http_get "http://127.0.0.1:$pport/api/v1/query?query=usdtkit_probe_hits_total%7Bprovider%3D%22stat%22%2Cprobe%3D%22value%22%7D" 2>/dev/null |
			"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null) || true
		[[ -n $val ]] && break
	done
	[[ $val == 62 ]] || { tail -5 "$TMP/prometheus.log"; fail "PromQL stat:value hits: '$val', want 62"; }
	val=$(http_get "http://127.0.0.1:$pport/api/v1/query?query=sum(usdtkit_probe_hits_total)" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
	# value 31 + size 5 + named 9 + other 10, twice
	[[ $val == 110 ]] || fail "PromQL sum of hits: '$val', want 110"
	http_get "http://127.0.0.1:$port/metrics" >"$TMP/live.prom"
	promtool check metrics <"$TMP/live.prom" || fail "promtool rejects the live /metrics"
	grep -q '^usdtkit_dropped_total{reason="fault"} 0$' "$TMP/live.prom" || fail "no dropped counters"
	grep -q '^process_resident_memory_bytes ' "$TMP/live.prom" || fail "no process metrics"
	[[ $(http_status "http://127.0.0.1:$port/other") == 404 ]] || fail "/other is not 404"
	echo "ok: PromQL 62 and 110, promtool clean"
}

group_textfile() {
	command -v promtool >/dev/null || skip "promtool (prometheus package) is not installed"
	"$U" stat -c "$F dist" 'stat:value' --hist arg0 --prometheus-textfile "$TMP/u.prom" >/dev/null 2>"$TMP/err" ||
		{ cat "$TMP/err"; fail "stat --hist --prometheus-textfile"; }
	grep -q '^usdtkit_probe_hits_total{provider="stat",probe="value"} 31$' "$TMP/u.prom" || fail "hits"
	# VALUES of the fixture: -5 x2, 0, 1 x2, 2 x3, 3 x4 -> le 3 holds 12
	grep -q '^usdtkit_probe_argument_bucket{provider="stat",probe="value",le="3"} 12$' "$TMP/u.prom" ||
		fail "log2 bucket le=3"
	grep -q '^usdtkit_probe_argument_count{provider="stat",probe="value"} 31$' "$TMP/u.prom" || fail "_count"
	promtool check metrics <"$TMP/u.prom" || fail "promtool rejects the textfile"
	ls -a "$TMP" | grep -q '^\.u\.prom\.' && fail "a temporary file was left behind"
	# --by with a bound: 3 names, 2 keys kept, the third counted as keys_full
	"$U" stat -c "$F dist" 'stat:named' --args 'stat:named=s:str,n:i64' --by s --max-keys 2 \
		--prometheus-textfile "$TMP/k.prom" >/dev/null 2>&1 || fail "stat --by --max-keys"
	[[ $(grep -c '^usdtkit_probe_hits_total{.*key=' "$TMP/k.prom") == 2 ]] || fail "want 2 keyed series"
	grep -q '^usdtkit_dropped_total{reason="keys_full"} [1-9]' "$TMP/k.prom" || fail "keys_full not counted"
	echo "ok: textfile"
}

start_receiver() {
	local proto=${USDTKIT_OTLP_PROTO_DIR:-$S/build-deps/otlp-proto/package/build/protos}
	[[ -f $proto/opentelemetry/proto/logs/v1/logs.proto ]] ||
		skip "no opentelemetry-proto schema at $proto (./build.sh fetches one with npm)"
	command -v protoc >/dev/null || skip "protoc (protobuf-compiler) is not installed"
	"$PY" "$S/tests/export/otlp_receiver.py" --port-file "$TMP/port" --out "$TMP/otlp.out" \
		--proto-dir "$proto" --max-seconds 90 &
	PIDS+=($!)
	wait_for "$TMP/port" .
	RPORT=$(cat "$TMP/port")
}

group_otlp() {
	local n
	start_receiver
	"$U" trace -c "$F dist" 'stat:value' -o /dev/null --otlp "http://127.0.0.1:$RPORT" 2>"$TMP/err" ||
		{ cat "$TMP/err"; fail "trace --otlp"; }
	grep -q "otlp: 31 log records sent, 0 not delivered, 0 dropped" "$TMP/err" || { cat "$TMP/err"; fail "trace's summary"; }
	grep -q '^error' "$TMP/otlp.out" && { cat "$TMP/otlp.out"; fail "the receiver rejected a request"; }
	n=$(grep -c '^log .*usdt.provider=string:stat usdt.probe=string:value' "$TMP/otlp.out" || true)
	[[ $n == 31 ]] || fail "log records: $n, want 31"
	n=$(grep -c '^log .*process.pid=int:[0-9].*host.name=string:.* usdt.arg.arg0=int:1000$' "$TMP/otlp.out" || true)
	[[ $n == 7 ]] || fail "records with arg0=1000 (typed int): $n, want 7"
	"$U" stat -c "$F latency-match" --latency stat:req_start,stat:req_done --match arg0 \
		--otlp "http://127.0.0.1:$RPORT" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "stat --otlp"; }
	grep -q "otlp: 10 spans sent, 0 not delivered, 0 dropped" "$TMP/err" || { cat "$TMP/err"; fail "stat's summary"; }
	grep -q '^error' "$TMP/otlp.out" && { cat "$TMP/otlp.out"; fail "the receiver rejected a request"; }
	# start(a) start(b) 2 ms done(b) 18 ms done(a), 5 times: 5 spans >= 18 ms, 5 below
	"$PY" - "$TMP/otlp.out" <<-'EOF' || fail "spans"
		import re, sys
		spans = [l for l in open(sys.argv[1]) if l.startswith("span ")]
		assert len(spans) == 10, len(spans)
		d = []
		for l in spans:
		    m = re.search(r"name=stat:req_start\.\.stat:req_done start=(\d+) end=(\d+) .* usdt.key=string:\d+", l)
		    assert m, l
		    d.append((int(m.group(2)) - int(m.group(1))) / 1e6)
		assert sum(x >= 18 for x in d) == 5 and sum(1.5 <= x < 18 for x in d) == 5, d
	EOF
	echo "ok: 31 log records, 10 spans, decoded with the OTLP schema"
}

group_perfetto() {
	local out
	"$U" trace -c "$F dist" 'stat:value' -o /dev/null --perfetto "$TMP/t.json" 2>"$TMP/err" ||
		{ cat "$TMP/err"; fail "trace --perfetto"; }
	out=$("$PY" "$S/tests/export/check_chrome_trace.py" "$TMP/t.json") || fail "$out"
	[[ $(head -1 <<<"$out") == "M=2 i=31 X=0" ]] || fail "trace: $out"
	"$U" stat -c "$F latency-tid" --latency stat:req_start,stat:req_done --perfetto "$TMP/l.json" \
		>/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "stat --perfetto"; }
	out=$("$PY" "$S/tests/export/check_chrome_trace.py" "$TMP/l.json") || fail "$out"
	# one process, two threads, 5 x 2 ms and 5 x 20 ms each: dur in us
	[[ $(head -1 <<<"$out") == "M=3 i=0 X=20" ]] || fail "stat: $out"
	"$PY" -c '
import sys
d = [float(x) for x in sys.argv[1].split()[1:]]
assert sum(2000 <= x < 18000 for x in d) == 10 and sum(x >= 20000 for x in d) == 10, d' \
		"$(tail -1 <<<"$out")" || fail "durations: $out"
	echo "ok: $out" | head -1
}

"group_$GROUP"
