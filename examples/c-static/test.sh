#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# End-to-end check of example-c-static, run by ctest as examples/c-static:
# readelf lists its three probes (the stats probe with a semaphore), and
# bpftrace, starting the program, reads the typed arguments and enables
# the semaphore-guarded probe, whose summary is formatted only then.
# Exit 77 (ctest SKIP) with the reason when a tool or root is missing.
set -u
B=${1:?usage: test.sh PATH-TO-example-c-static}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$out"; echo "--- stderr:"; cat "$err"; exit 1; }

command -v readelf >/dev/null || { echo "SKIP: readelf not installed"; exit 77; }
readelf -n --wide "$B" > "$out" 2>"$err" || fail "readelf -n failed"
for p in request_start request_done stats; do
	grep -q "Name: $p\$" "$out" || fail "readelf does not list store:$p"
done
# The guarded probe names a semaphore, the others none.
sema=$(grep -A3 'Name: stats$' "$out" | sed -n 's/.*Semaphore: \(0x[0-9a-f]*\).*/\1/p')
[ -n "$sema" ] && [ "$sema" != 0x0000000000000000 ] || fail "store:stats has no semaphore"
grep -A3 'Name: request_start$' "$out" | grep -q 'Semaphore: 0x0*$' ||
	fail "store:request_start has a semaphore"
grep -q 'Arguments: 8@.* 8@.* -4@' "$out" || fail "request_start argument specs"

command -v bpftrace >/dev/null || { echo "SKIP: bpftrace not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: attaching uprobes needs root"; exit 77; }
timeout 120 bpftrace -c "$B 20 1" -e "
usdt:$B:store:request_start { printf(\"start %d %s %d\\n\", arg0, str(arg1), arg2); }
usdt:$B:store:stats { printf(\"stats %d %d %s\\n\", arg0, arg1, str(arg2)); }" \
	> "$out" 2>"$err"
rc=$?
if ! grep -q '^start ' "$out"; then
	if grep -qiE 'permission|not permitted|bpf' "$err" && [ $rc -ne 0 ]; then
		echo "SKIP: bpftrace cannot attach here:"; cat "$err"; exit 77
	fi
	fail "no request_start event (bpftrace exit $rc)"
fi
# 20 requests, paths cycling through the program's table; client fd 5..7.
[ "$(grep -c '^start ' "$out")" -eq 20 ] || fail "expected 20 request_start events"
grep -qx 'start 1 /index.html 5' "$out" || fail "request 1"
grep -qx 'start 6 /missing 7' "$out" || fail "request 6"
grep -qx 'start 20 /cart 6' "$out" || fail "request 20"
# The semaphore was raised by the kernel while attached: the summaries exist.
[ "$(grep -c '^stats ' "$out")" -eq 2 ] || fail "expected 2 stats events"
grep -qE '^stats 10 [0-9]+ served=10 errors=[0-9]+ bytes=[0-9]+ slowest=[0-9.]+ms$' "$out" ||
	fail "stats summary after 10 requests"
grep -qE '^stats 20 [0-9]+ served=20 ' "$out" || fail "stats summary after 20 requests"
echo "PASS: readelf and bpftrace see example-c-static's probes and arguments"
