#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# perf on runtime providers (issue 16): every runtime image carries a
# build-id, stable for the same probe set, so perf can cache and trace it.
#
#  1. perf buildid-list reads the same id from two processes that load the
#     same probe set, from a memfd and from the fallback file; a different
#     provider name gives a different id.
#  2. perf's own SDT path on the fallback file: perf buildid-cache --add
#     (which refuses an object without a build-id), perf probe
#     sdt_PROVIDER:tick from the cache, perf record -e sdt_PROVIDER:tick.
#  3. A memfd object: perf probe and perf buildid-cache resolve their path
#     argument with realpath(), and /proc/PID/fd/N resolves to
#     "/memfd:NAME (deleted)", which is not a file: perf itself cannot
#     take a memfd path. The kernel can: a uprobe_events line on
#     /proc/PID/fd/N with the note's offsets (and semaphore), then
#     perf record -e GROUP:tick.
# tracefs is mounted at a private mountpoint in a private mount namespace.
#
#   perf.sh BUILD_DIR
set -u
build=$1
target=$build/tests/runtime/perf-target

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (uprobes)"
command -v perf >/dev/null 2>&1 || skip "perf not installed"
perf version >/dev/null 2>&1 || skip "perf does not run for this kernel"
command -v readelf >/dev/null 2>&1 || skip "readelf not installed"

if [ "${RT_PERF_INNER:-}" != 1 ]; then
	unshare -m --propagation private true 2>/dev/null || skip "no mount namespaces"
	RT_PERF_INNER=1 exec unshare -m --propagation private sh "$0" "$@"
fi

work=$(mktemp -d) || fail "mktemp"
mkdir "$work/tracefs"
mount -t tracefs nodev "$work/tracefs" 2>/dev/null || skip "cannot mount tracefs"
export PERF_BUILDID_DIR=$work/buildid
prov=rtperf_$$
pids=""
events=""
cleanup() {
	for e in $events; do
		echo "-:$e" >>"$work/tracefs/uprobe_events" 2>/dev/null
	done
	perf probe -q -d "sdt_$prov:*" >/dev/null 2>&1
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	wait
	umount "$work/tracefs" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# start NAME PROVIDER MODE: runs perf-target (killed at cleanup); sets $pid $path.
start() {
	"$target" "$2" "$3" 60 </dev/null >"$work/out.$1" &
	pids="$pids $!"
	for _ in $(seq 100); do
		[ -s "$work/out.$1" ] && break
		sleep 0.05
	done
	read -r pid path <"$work/out.$1" || fail "perf-target $2 $3 did not start"
}

build_id() {
	perf buildid-list -i "$1" 2>/dev/null | grep -E '^[0-9a-f]{40}$' ||
		fail "perf buildid-list found no build-id in $1"
}

# --- 1. stable ids ---------------------------------------------------------
start a "$prov" memfd
id_a=$(build_id "$path")
memfd_path=$path
memfd_pid=$pid
start b "$prov" memfd
id_b=$(build_id "$path")
start c "$prov" file
id_c=$(build_id "$path")
file_path=$path
file_pid=$pid
start d "${prov}_other" memfd
id_d=$(build_id "$path")
[ "$id_a" = "$id_b" ] || fail "same probe set, two processes: $id_a vs $id_b"
[ "$id_a" = "$id_c" ] || fail "same probe set, memfd vs file: $id_a vs $id_c"
[ "$id_a" != "$id_d" ] || fail "another provider got the same id $id_a"
readelf -n "$memfd_path" | grep -q "Build ID: $id_a" || fail "readelf disagrees on $id_a"
echo "build-id $id_a in both processes, memfd and file; other provider $id_d"

# count_events DATA EVENT: prints how many samples of EVENT perf recorded.
count_events() {
	perf script -i "$1" 2>/dev/null | grep -c " $2: "
}

# --- 2. perf's own SDT support, fallback file -------------------------------
perf buildid-cache --add "$file_path" >"$work/cache.log" 2>&1 ||
	fail "perf buildid-cache --add $file_path: $(cat "$work/cache.log")"
perf buildid-cache -l 2>/dev/null | grep -q "^$id_a " || fail "the cache does not list $id_a"
perf probe -q "sdt_$prov:tick" >"$work/probe.log" 2>&1 ||
	fail "perf probe sdt_$prov:tick: $(cat "$work/probe.log")"
perf record -q -e "sdt_$prov:tick" -p "$file_pid" -o "$work/sdt.data" -- sleep 0.5 \
	>"$work/rec.log" 2>&1 || fail "perf record -e sdt_$prov:tick: $(cat "$work/rec.log")"
n=$(count_events "$work/sdt.data" "sdt_$prov:tick")
[ "$n" -gt 10 ] || fail "perf record -e sdt_$prov:tick: $n events (expected one a millisecond)"
echo "perf probe + record sdt_$prov:tick (file): $n events"

# --- 3. memfd: the kernel resolves /proc/PID/fd/N -----------------------------
note=$(readelf -n "$memfd_path" | grep -A1 "Name: tick" | grep Location) ||
	fail "no tick note in $memfd_path"
# The image is linked at 0: note addresses are file offsets.
loc=$(echo "$note" | sed -n 's/.*Location: \(0x[0-9a-f]*\),.*/\1/p')
sem=$(echo "$note" | sed -n 's/.*Semaphore: \(0x[0-9a-f]*\).*/\1/p')
ev="rtperf_$$/tick"
echo "p:$ev $memfd_path:$loc($sem) n=%di:u64" >>"$work/tracefs/uprobe_events" ||
	fail "uprobe_events refused $memfd_path:$loc($sem)"
events="$ev"
perf record -q -e "rtperf_$$:tick" -p "$memfd_pid" -o "$work/memfd.data" -- sleep 0.5 \
	>"$work/rec2.log" 2>&1 || fail "perf record -e rtperf_$$:tick: $(cat "$work/rec2.log")"
n=$(count_events "$work/memfd.data" "rtperf_$$:tick")
[ "$n" -gt 10 ] || fail "perf record on the memfd probe: $n events"
echo "perf record on /proc/PID/fd/N (memfd) via uprobe_events: $n events"
exit 0
