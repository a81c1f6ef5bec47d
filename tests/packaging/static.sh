#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# -DUSDTKIT_STATIC_TRACER=ON: the usdtkit command as one static file. This
# build's own usdtkit when it was configured so, else a scratch build of the
# command alone with the option. ldd calls it "not a dynamic executable", it
# lists probes in a chroot that holds nothing but it and the example (no
# ld.so, no libc, libbpf, libelf or zlib), and it traces the example.
# Usage: static.sh BUILD_DIR SOURCE_DIR EXAMPLE STATIC(ON|OFF) CC
set -u
BUILD=${1:?usage: static.sh BUILD_DIR SOURCE_DIR EXAMPLE STATIC CC}
SRC=${2:?}
EXAMPLE=${3:?}
STATIC=${4:?}
CC=${5:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

if [ "$STATIC" = ON ]; then
	bin=$BUILD/bin/usdtkit
else
	sb=$BUILD/packaging-static
	cmake -S "$SRC" -B "$sb" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
		-DUSDTKIT_STATIC_TRACER=ON -DUSDTKIT_TESTS=OFF -DUSDTKIT_MANPAGES=OFF \
		-DUSDTKIT_INSTALL_PYTHON=OFF >"$tmp/cfg.log" 2>&1 ||
		{ cat "$tmp/cfg.log"; fail "configure with USDTKIT_STATIC_TRACER=ON failed"; }
	cmake --build "$sb" --target usdtkit_cli -j 2 >"$tmp/build.log" 2>&1 ||
		{ tail -n 40 "$tmp/build.log"; fail "the static tracer does not build"; }
	bin=$sb/bin/usdtkit
fi
[ -x "$bin" ] || fail "no $bin"
out=$(ldd "$bin" 2>&1)
echo "ldd: $out"
echo "$out" | grep -q "not a dynamic executable" || fail "$bin is dynamically linked"
readelf -l "$bin" | grep -q INTERP && fail "$bin has a program interpreter"
strip -o "$tmp/stripped" "$bin" || fail "strip failed"
echo "size: $(wc -c <"$bin") bytes, stripped $(wc -c <"$tmp/stripped") bytes"

want=$("$BUILD/bin/usdtkit" list "$EXAMPLE" | awk '{ print $2 }')
[ -n "$want" ] || fail "the dynamic usdtkit lists no probes in $EXAMPLE"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: chroot and tracing need root (CAP_SYS_CHROOT, CAP_BPF, CAP_PERFMON)"
	exit 77
fi
mkdir -p "$tmp/root"
cp "$tmp/stripped" "$tmp/root/usdtkit"
cp "$EXAMPLE" "$tmp/root/example"
got=$(chroot "$tmp/root" /usdtkit list /example 2>&1) || fail "usdtkit list in an empty chroot failed: $got"
[ "$(echo "$got" | awk '{ print $2 }')" = "$want" ] ||
	fail "in the chroot: '$got', expected the probes '$want'"
echo "chroot list: $(echo "$got" | wc -l) probes"

out=$(timeout 60 "$tmp/stripped" trace -n 4 -c "$EXAMPLE 40 10" 'store:request_*' 2>"$tmp/err")
rc=$?
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "static usdtkit trace exited $rc"; }
echo "$out"
# the example's own output shares stdout: count the event lines
n=$(echo "$out" | grep -c 'store:request_start id=[0-9]* path="')
[ "$(echo "$out" | grep -c ' store:request_')" -eq 4 ] && [ "$n" -ge 1 ] || fail "expected 4 decoded events"
echo "PASS: static usdtkit: not dynamic, runs alone in a chroot, traces $EXAMPLE"
