#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Untraced probe.fire() in Python and Node.js against a do-nothing function
# call, in one run. Usage: run_bench.sh BUILD_DIR [SOURCE_DIR]
set -eu
BUILD=${1:?usage: run_bench.sh BUILD_DIR [SOURCE_DIR]}
# Absolute: node's require() reads a relative path as a package name.
BUILD=$(cd "$BUILD" && pwd)
SRC=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
export USDTKIT_LIBRARY="$BUILD/lib/libusdtkit.so"
export USDTKIT_NODE_ADDON="$BUILD/lib/usdtkit.node"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
echo "== Python"
PYTHONPATH="$SRC/bindings/python" "$PY" "$SRC/bench/bindings/bench_python.py" --cli "$BUILD/bin/usdtkit"
echo
echo "== Node.js"
if command -v node >/dev/null && [ -f "$USDTKIT_NODE_ADDON" ]; then
	node "$SRC/bench/bindings/bench_node.js" --cli "$BUILD/bin/usdtkit"
else
	echo "skipped: node or $USDTKIT_NODE_ADDON missing"
fi
