#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# trace --all and stat --all, end to end: processes started after usdtkit
# (found through their exec, not a PID) are counted exactly, traced with
# their own pid, and their stacks symbolized; --all with -p is refused.
set -u
B=${USDTKIT_BUILD_DIR:?}
U=$B/bin/usdtkit
EXE=$B/tests/tracer/ustack_fixtures/ustack_chain
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (CAP_BPF, CAP_PERFMON)"; exit 77; }
T=$(mktemp -d) || exit 1
TR=
trap '[ -n "$TR" ] && kill $TR 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

wait_for() { # FILE TEXT: up to 60 s
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 1200 ] && fail "timed out waiting for '$2' in $1"
		sleep 0.05
	done
}

# fixture COUNT: a new process (not running when usdtkit started) that fires
# ustk:exe COUNT times half a second after its exec; prints its pid
fixture() {
	(sleep 0.5; echo go) | "$EXE" exe "$1" >"$T/fix.out" 2>&1
	awk '/ready/ { print $2 }' "$T/fix.out"
}

# stat --all: exact counts of a process found by its exec
"$U" stat --all ustk:exe -d 60 >"$T/stat.out" 2>"$T/stat.err" &
TR=$!
wait_for "$T/stat.err" attached
fixture 17 >/dev/null
kill -INT $TR; wait $TR || fail "stat --all exited $?"
TR=
grep -q '^ustk:exe  *17$' "$T/stat.out" || fail "stat --all: not 17 hits"

# stat --all --by ustack: the stacks of a process that lives on after it
# fired (a -c command alone is held until its maps are read: docs/stacks.md)
"$U" stat --all ustk:exe --by ustack --folded -d 60 >"$T/folded.out" 2>"$T/folded.err" &
TR=$!
wait_for "$T/folded.err" attached
mkfifo "$T/in" || exit 1
"$EXE" exe 5 <"$T/in" >"$T/fix.out" 2>&1 &
FX=$!
exec 3>"$T/in"
sleep 0.5
echo go >&3
wait_for "$T/fix.out" done
sleep 0.5 # its first stack announced it: its maps are read meanwhile
kill -INT $TR; wait $TR || fail "stat --all --by ustack exited $?"
TR=
exec 3>&-
wait $FX
grep -q 'main;a;b;c 5$' "$T/folded.out" || fail "stat --all --by ustack: no 'main;a;b;c 5'"

# trace --all: each event names the process that fired
"$U" trace --all ustk:exe -d 60 >"$T/trace.out" 2>"$T/trace.err" &
TR=$!
wait_for "$T/trace.err" attached
p1=$(fixture 3)
p2=$(fixture 4)
kill -INT $TR; wait $TR || fail "trace --all exited $?"
TR=
[ "$(grep -c " $p1 $p1 ustack_chain ustk:exe" "$T/trace.out")" = 3 ] || fail "trace --all: not 3 events of $p1"
[ "$(grep -c " $p2 $p2 ustack_chain ustk:exe" "$T/trace.out")" = 4 ] || fail "trace --all: not 4 events of $p2"

"$U" trace --all -p 1 ustk:exe >"$T/u.out" 2>"$T/u.err"
[ $? = 2 ] && grep -q "cannot be combined" "$T/u.err" || fail "--all with -p accepted"
echo "ok: stat --all (counts, stacks) and trace --all on processes started later"
