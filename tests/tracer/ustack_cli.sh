#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# trace --ustack and stat --by ustack --folded, end to end: the real usdtkit
# against the ustack_chain fixture (frame pointers, known call chains a ->
# b -> c -> probe) in an executable, a shared library and a runtime
# provider's memfd stub. Frames must be symbolized exactly (symbol and
# object, innermost first), and folded counts must equal the fires.
set -u
B=${USDTKIT_BUILD_DIR:?}
U=$B/bin/usdtkit
F=$B/tests/tracer/ustack_fixtures
EXE=$F/ustack_chain
LIB=$F/libustack_lib.so
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (CAP_BPF, CAP_PERFMON)"; exit 77; }
"$U" stat /dev/null:x:y -d 1ms >/dev/null 2>&1
T=$(mktemp -d) || exit 1
FIX=
trap 'exec 3>&- 2>/dev/null; [ -n "$FIX" ] && kill $FIX 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.out "$T"/*.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

# wait_for FILE TEXT: up to 60 s (a loaded CI machine)
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 1200 ] && fail "timed out waiting for '$2' in $1"
		sleep 0.05
	done
}

# start MODE COUNT: the fixture, stdin on fd 3, PID in $FPID. The last
# run's fix.out goes first: its "ready OLDPID" would be read before the
# background shell truncates the file, and name a process that is gone.
start() {
	rm -f "$T/in" "$T/fix.out" && mkfifo "$T/in" || exit 1
	"$EXE" "$1" "$2" <"$T/in" >"$T/fix.out" 2>&1 &
	FIX=$!
	exec 3>"$T/in"
	wait_for "$T/fix.out" ready
	FPID=$(awk '/ready/ {print $2}' "$T/fix.out")
}

stop() {
	exec 3>&-
	wait $FIX
	FIX=
}

# frames of the text output's first event: "symbol object-basename" per line
text_frames() {
	awk 'NR > 1 && /^        / { if (++n > 4 + extra) exit; s = $1; sub(/\+[0-9]+$/, "", s);
	     o = $0; sub(/^[^(]*\(/, "", o); sub(/\)$/, "", o); n2 = split(o, p, "/");
	     print s, p[n2] } NR > 1 && !/^        / { exit }' extra="$2" "$1"
}

# run_trace MODE PROBE EXPECTED(lines "symbol object")
run_trace() {
	mode=$1 probe=$2 want=$3
	start "$mode" 3
	rm -f "$T/trace.out" "$T/trace.err" # a stale "attached" would send go too soon
	"$U" trace -p "$FPID" "$probe" --ustack -n 3 -d 60 3>&- >"$T/trace.out" 2>"$T/trace.err" &
	TR=$!
	wait_for "$T/trace.err" attached
	echo go >&3
	wait $TR || fail "$mode: trace exited $?"
	stop
	[ "$(grep -c "$probe" "$T/trace.out")" = 3 ] || fail "$mode: not 3 events"
	got=$(text_frames "$T/trace.out" 0)
	[ "$got" = "$want" ] || fail "$mode text: frames
$got
want
$want"
	grep -q '^        [a-z_]*+[0-9][0-9]* (/' "$T/trace.out" || fail "$mode: no symbol+offset (object)"

	start "$mode" 2
	rm -f "$T/json.out" "$T/json.err"
	"$U" trace -p "$FPID" "$probe" --ustack=16 --json -n 2 -d 60 3>&- >"$T/json.out" 2>"$T/json.err" &
	TR=$!
	wait_for "$T/json.err" attached
	echo go >&3
	wait $TR || fail "$mode: trace --json exited $?"
	stop
	got=$(python3 -c '
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if "\"event\"" in l]
assert len(evs) == 2, len(evs)
for e in evs:
    fr = e["ustack"]
    for f in fr:
        assert set(f) >= {"addr", "symbol", "offset", "object"}, f
        assert f["addr"].startswith("0x") and isinstance(f["offset"], int), f
print("\n".join("%s %s" % (f["symbol"], os.path.basename(f["object"])) for f in evs[0]["ustack"][:4]))
' "$T/json.out") || fail "$mode: bad JSON"
	[ "$got" = "$want" ] || fail "$mode json: frames
$got
want
$want"
}

exe=$(basename "$EXE") lib=$(basename "$LIB")
run_trace exe ustk:exe "c $exe
b $exe
a $exe
main $exe"
run_trace lib ustk:lib "ustk_lib_c $lib
ustk_lib_b $lib
ustk_lib_a $lib
main $exe"
run_trace rt ustk_rt:hit "hit memfd:ustk_rt (deleted)
c $exe
b $exe
a $exe"

# stat --by ustack --folded: one stack, as many hits as fires
for spec in "lib ustk:lib 7 main;ustk_lib_a;ustk_lib_b;ustk_lib_c" "rt ustk_rt:hit 5 main;a;b;c;hit" \
	"exe ustk:exe 9 main;a;b;c"; do
	set -- $spec
	start "$1" "$3"
	rm -f "$T/stat.out" "$T/stat.err"
	"$U" stat -p "$FPID" "$2" --by ustack --folded 3>&- >"$T/stat.out" 2>"$T/stat.err" &
	ST=$!
	wait_for "$T/stat.err" attached
	echo go >&3
	wait_for "$T/fix.out" done
	stop
	wait $ST || fail "$1: stat exited $?"
	[ "$(wc -l <"$T/stat.out")" = 1 ] || fail "$1: not one folded stack"
	grep -q "^\(.*;\)\?$4 $3\$" "$T/stat.out" || fail "$1: folded line is not '...$4 $3'"
done
# A -c command that fires and exits at once (stdin: "go", then EOF): its
# maps must be read while it runs, so its stacks still symbolize after it
# is gone (not "[unknown]" addresses).
for spec in "lib ustk:lib 6 main;ustk_lib_a;ustk_lib_b;ustk_lib_c" "exe ustk:exe 4 main;a;b;c"; do
	set -- $spec
	rm -f "$T/c.out" "$T/c.err"
	echo go | "$U" stat -c "$EXE $1 $3" "$2" --by ustack --folded -d 60 >"$T/c.out" 2>"$T/c.err" ||
		fail "-c $1: stat exited $?"
	grep -q "^\(.*;\)\?$4 $3\$" "$T/c.out" || fail "-c $1: no folded line '...$4 $3'"
	rm -f "$T/ct.out" "$T/ct.err"
	echo go | "$U" trace -c "$EXE $1 $3" "$2" --ustack -d 60 >"$T/ct.out" 2>"$T/ct.err" ||
		fail "-c $1: trace exited $?"
	[ "$(grep -c "^[0-9:.]* .* $2" "$T/ct.out")" = "$3" ] || fail "-c $1: trace: not $3 events"
	got=$(grep -v '^ready\|^done' "$T/ct.out" | text_frames /dev/stdin 0 | tr '\n' ' ')
	want=$(echo "$4" | tr ';' '\n' | tac | sed 's/$/ x/' | tr '\n' ' ')
	[ "$(echo "$got" | awk '{ for (i = 1; i <= NF; i += 2) printf "%s x ", $i }')" = "$want" ] ||
		fail "-c $1: trace frames '$got', want the symbols of '$4'"
done
# what --by ustack cannot serve is refused, not ignored
"$U" stat -c "$EXE exe 1" ustk:exe --by ustack --filter 'arg0 > 0' >"$T/u.out" 2>"$T/u.err" </dev/null
[ $? = 2 ] && grep -q "filter does not apply to --by ustack" "$T/u.err" || fail "--by ustack --filter accepted"
"$U" stat -c "$EXE exe 1" ustk:exe --by ustack --prometheus-textfile "$T/u.prom" >"$T/u.out" 2>"$T/u.err" </dev/null
[ $? = 2 ] && grep -q "exports no stacks" "$T/u.err" || fail "--by ustack with an exporter accepted"
echo "ok: trace --ustack (text, JSON) and stat --by ustack --folded in exe, lib, rt"
