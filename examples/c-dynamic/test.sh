#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# End-to-end check of example-c-dynamic, run by ctest as examples/c-dynamic:
# while the program runs, readelf reads its provider object through
# /proc/PID/fd/N, and bpftrace attached with -p receives request_start and
# request_done events whose arguments match what the program fired.
# Exit 77 (ctest SKIP) with the reason when a tool or root is missing.
set -u
B=${1:?usage: test.sh PATH-TO-example-c-dynamic}
out=$(mktemp) err=$(mktemp) exerr=$(mktemp)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -f "$out" "$err" "$exerr"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$out"; echo "--- stderr:"; cat "$err" "$exerr"; exit 1; }

"$B" 1000 10 2>"$exerr" &
PID=$!
i=0
until grep -q 'loaded from' "$exerr"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the provider did not load within 10 s"
	kill -0 "$PID" 2>/dev/null || fail "example-c-dynamic exited early"
	sleep 0.1
done
OBJ=$(sed -n 's/.*loaded from \(\/proc\/[0-9]*\/fd\/[0-9]*\).*/\1/p' "$exerr")
[ -n "$OBJ" ] || fail "no object path on stderr"

command -v readelf >/dev/null || { echo "SKIP: readelf not installed"; exit 77; }
readelf -n --wide "$OBJ" > "$out" 2>"$err" || fail "readelf -n $OBJ failed"
grep -q 'Provider: webapp' "$out" || fail "readelf: no webapp provider"
grep -A3 'Name: request_start$' "$out" | grep -q 'Arguments: 8@%rdi 8@%rsi -4@%edx$' ||
	fail "readelf: request_start specs"
grep -A3 'Name: request_done$' "$out" | grep -q 'Arguments: 8@%rdi -4@%esi 8@%rdx 8@%rcx$' ||
	fail "readelf: request_done specs"

command -v bpftrace >/dev/null || { echo "SKIP: bpftrace not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: attaching uprobes needs root"; exit 77; }
timeout 120 bpftrace -p "$PID" -e "
usdt:$OBJ:webapp:request_start { printf(\"start %d %s %d\\n\", arg0, str(arg1), arg2); }
usdt:$OBJ:webapp:request_done { printf(\"done %d %d %d\\n\", arg0, arg1, arg3); }
interval:s:2 { exit(); }" >"$out" 2>"$err"
rc=$?
if ! grep -q '^start ' "$out"; then
	if [ $rc -ne 0 ] && grep -qiE 'permission|not permitted|bpf' "$err"; then
		echo "SKIP: bpftrace cannot attach here:"; cat "$err"; exit 77
	fi
	fail "no request_start event (bpftrace exit $rc)"
fi
# Every event carries what main.c fired for request i.
awk '
BEGIN { p[0] = "/index.html"; p[1] = "/api/users"; p[2] = "/img/logo.png"; p[3] = "/missing" }
$1 == "start" { n++; if ($3 != p[$2 % 4] || $4 != $2 % 64) { print "bad: " $0; bad = 1 } }
$1 == "done" {
	d++; st = ($2 % 4 == 3) ? 404 : 200; by = (st == 200) ? 1024 + $2 : 0
	if ($3 != st || $4 != by) { print "bad: " $0; bad = 1 }
}
END { if (n < 20 || d < 20) { print "too few events: " n " start, " d " done"; bad = 1 } exit bad }
' "$out" || fail "events do not match what the program fired"
echo "PASS: readelf and bpftrace -p see example-c-dynamic's probes and arguments"
