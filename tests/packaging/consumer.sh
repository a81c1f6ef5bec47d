#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# A CMake project outside the tree finds an installed usdtkit with
# find_package(usdtkit CONFIG) (the build installed into a scratch prefix),
# builds against usdtkit::usdtkit and usdtkit::sdt, runs, and has its
# compile-time probe in the file. The version file rejects a newer minor.
# Usage: consumer.sh BUILD_DIR SOURCE_DIR USDTKIT
set -u
BUILD=${1:?usage: consumer.sh BUILD_DIR SOURCE_DIR USDTKIT}
SRC=${2:?}
BIN=${3:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$BUILD" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "cmake --install --prefix failed"; }
cmake -S "$SRC/tests/packaging/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$tmp/cfg.log" 2>&1 ||
	{ cat "$tmp/cfg.log"; fail "the consumer does not configure against the installed prefix"; }
grep -q "usdtkit_DIR:PATH=$tmp/prefix/" "$tmp/build/CMakeCache.txt" ||
	fail "usdtkit was not found in the scratch prefix: $(grep usdtkit_DIR "$tmp/build/CMakeCache.txt")"
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "the consumer does not build"; }
lib=$(find "$tmp/prefix" -name 'libusdtkit.so.0' | head -n 1)
[ -n "$lib" ] || fail "no libusdtkit.so.0 installed"
out=$(LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/build/consumer") || fail "the consumer failed: $out"
echo "$out"
[ "$out" = "loaded consumer:tick, sdt core type u64" ] || fail "unexpected output"
probes=$("$BIN" list "$tmp/build/consumer") || fail "usdtkit list of the consumer failed"
echo "$probes" | grep -q ' consumer:started$' || fail "no consumer:started probe: $probes"

# SameMinorVersion: 0.1 is found, 0.2 is not
mkdir -p "$tmp/v"
cat >"$tmp/v/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(v NONE)
find_package(usdtkit 0.2 CONFIG REQUIRED)
C
cmake -S "$tmp/v" -B "$tmp/vb" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null 2>&1 &&
	fail "find_package(usdtkit 0.2) accepted version $(grep -o 'PACKAGE_VERSION "[^"]*"' "$tmp/prefix"/lib*/cmake/usdtkit/usdtkitConfigVersion.cmake 2>/dev/null)"
echo "PASS: find_package(usdtkit CONFIG), usdtkit::usdtkit and usdtkit::sdt, version check"
