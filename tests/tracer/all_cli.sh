#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# trace --all and stat --all, end to end: processes started after usdtkit
# (found through their exec, not a PID) are counted exactly, traced with
# their own pid, and their stacks symbolized; --all with -p is refused.
# Each fixture fires only once usdtkit -v said it attached its process
# (an emulated kernel takes seconds), so the counts are exact.
set -u
B=${USDTKIT_BUILD_DIR:?}
U=$B/bin/usdtkit
EXE=$B/tests/tracer/ustack_fixtures/ustack_chain
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (CAP_BPF, CAP_PERFMON)"; exit 77; }
T=$(mktemp -d) || exit 1
# a private copy (its own inode): other tests run the fixture in parallel,
# and --all would see their processes and find the file attached already
cp "$EXE" "$T/ustk_all" || exit 1
EXE=$T/ustk_all
TR= FX=
trap 'exec 3>&- 2>/dev/null; [ -n "$TR" ] && kill $TR 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.out "$T"/*.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

wait_for() { # FILE TEXT: up to 120 s
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 2400 ] && fail "timed out waiting for '$2' in $1"
		sleep 0.05
	done
}

# tracer LOG CMD...: usdtkit in the background, ready once it said "attached"
tracer() {
	log=$1
	shift
	rm -f "$T/$log.out" "$T/$log.err"
	"$U" "$@" -v -d 120 >"$T/$log.out" 2>"$T/$log.err" &
	TR=$!
	wait_for "$T/$log.err" attached
}

# fire LOG COUNT [known]: a new process firing ustk:exe COUNT times once
# usdtkit attached it (known: its executable is attached already, so it is
# traced from its exec on); it lives on (stdin open) until stop_fixture.
# PID in $FPID.
fire() {
	rm -f "$T/in" "$T/fix.out" && mkfifo "$T/in" || exit 1
	"$EXE" exe "$2" <"$T/in" >"$T/fix.out" 2>&1 &
	FX=$!
	exec 3>"$T/in"
	wait_for "$T/fix.out" ready
	FPID=$(awk '/ready/ { print $2 }' "$T/fix.out")
	[ "${3:-}" = known ] || wait_for "$T/$1.err" "process $FPID: "
	echo go >&3
	wait_for "$T/fix.out" done
}

stop_fixture() {
	exec 3>&-
	wait $FX
}

stop_tracer() {
	sleep 0.3 # the last hits' records reach the consumer
	kill -INT $TR
	wait $TR || fail "$1 exited $?"
	TR=
}

# stat --all: exact counts of a process found by its exec
tracer stat stat --all ustk:exe --by pid
fire stat 17
stop_fixture
stop_tracer "stat --all"
# by pid: other tests' processes may fire the same probe meanwhile
grep -q "^  $FPID  *17\$" "$T/stat.out" || fail "stat --all: not 17 hits of $FPID"

# stat --all --by ustack: its stacks, symbolized (it lives on after firing:
# only a -c command is held until its maps are read, docs/stacks.md)
tracer folded stat --all ustk:exe --by ustack
fire folded 5
stop_tracer "stat --all --by ustack"
stop_fixture
# this process's stack (text: per process), innermost first
got=$(awk -v p="pid $FPID: 5" '$0 ~ p { on = 1; next } on && /^$/ { exit }
	on { s = $1; sub(/\+[0-9]+$/, "", s); printf "%s ", s }' "$T/folded.out")
case "$got" in "c b a main "*) ;; *) fail "stat --all --by ustack: $FPID's stack is '$got'" ;; esac

# trace --all: each event names the process that fired
tracer trace trace --all ustk:exe
fire trace 3
p1=$FPID
stop_fixture
fire trace 4 known
p2=$FPID
stop_fixture
stop_tracer "trace --all"
[ "$(grep -c " $p1 $p1 ustk_all ustk:exe" "$T/trace.out")" = 3 ] || fail "trace --all: not 3 events of $p1"
[ "$(grep -c " $p2 $p2 ustk_all ustk:exe" "$T/trace.out")" = 4 ] || fail "trace --all: not 4 events of $p2"

"$U" trace --all -p 1 ustk:exe >"$T/u.out" 2>"$T/u.err"
[ $? = 2 ] && grep -q "cannot be combined" "$T/u.err" || fail "--all with -p accepted"
echo "ok: stat --all (counts, stacks) and trace --all on processes started later"
