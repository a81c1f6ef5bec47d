#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Provider load+unload with 100 probes: libusdtkit and libstapsdt side by
# side, in one run, interleaved REPS times (the machine is shared: ranges).
#
#   bench/runtime/run_bench.sh [BUILD_DIR]
#
# libstapsdt (the linux-usdt/libstapsdt repository) is built from source
# with -O2 in a temporary directory, from LIBSTAPSDT_SRC=DIR (a checkout)
# or LIBSTAPSDT_REPO=URL (cloned); without either, or when the build fails,
# the run says "libstapsdt unavailable" and shows libusdtkit alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
REPS="${REPS:-3}"
bench="$BUILD/bin/bench-runtime"
[[ -x $bench ]] || { echo "run_bench.sh: $bench not built" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

peer=""
why=""
if [[ -n ${LIBSTAPSDT_SRC:-} ]]; then
	cp -r "$LIBSTAPSDT_SRC" "$tmp/libstapsdt" || why="cannot copy $LIBSTAPSDT_SRC"
elif [[ -n ${LIBSTAPSDT_REPO:-} ]]; then
	git clone -q --depth 1 "$LIBSTAPSDT_REPO" "$tmp/libstapsdt" 2>/dev/null ||
		why="cannot clone $LIBSTAPSDT_REPO"
else
	why="set LIBSTAPSDT_SRC=DIR or LIBSTAPSDT_REPO=URL"
fi
if [[ -z $why ]]; then
	if make -s -C "$tmp/libstapsdt" clean >/dev/null 2>&1; make -s -C "$tmp/libstapsdt" CFLAGS="-std=gnu11 -O2" out/libstapsdt.a \
		>"$tmp/build.log" 2>&1 &&
		cc -O2 -o "$tmp/load_libstapsdt" "$ROOT/bench/runtime/load_libstapsdt.c" \
			-I"$tmp/libstapsdt/src" "$tmp/libstapsdt/out/libstapsdt.a" -lelf -ldl \
			>>"$tmp/build.log" 2>&1; then
		peer="$tmp/load_libstapsdt"
	else
		why="build failed: $(tail -n 1 "$tmp/build.log")"
	fi
fi

figure() { sed -n "s/^$1 *\([0-9.]*\) ms.*/\1/p"; }
us=()
st=()
usf=()
stf=()
watched=()
uw=()
ua=()
export USDTKIT_BIN="${USDTKIT_BIN:-$BUILD/bin/usdtkit}"
for ((r = 0; r < REPS; r++)); do
	out=$("$bench" --load-only)
	us+=("$(figure 'load+unload, 100 probes' <<<"$out")")
	usf+=("$(figure 'new+add 100+load+free, 100 probes' <<<"$out")")
	w=$(figure 'load+unload, tracer watching (acks at once)' <<<"$out")
	uw+=("$(figure 'load+unload, usdtkit trace -p watching' <<<"$out")")
	ua+=("$(figure 'load+unload, usdtkit trace -p attaching' <<<"$out")")
	[[ -n $w ]] && watched+=("$w")
	if [[ -n $peer ]]; then
		pout=$("$peer")
		st+=("$(figure 'libstapsdt load+unload, 100 probes' <<<"$pout")")
		stf+=("$(figure 'libstapsdt new+add 100+load+free, 100 probes' <<<"$pout")")
	fi
done
"$bench" --load-only | grep -E 'first load|announce check'

range() { printf '%s\n' "$@" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.3f-%.3f", lo, hi}'; }
best() { printf '%s\n' "$@" | sort -n | head -n 1; }
printf '%-44s %s ms (%d runs)\n' "libusdtkit load+unload, 100 probes" "$(range "${us[@]}")" "$REPS"
printf '%-44s %s ms\n' "libusdtkit new+add 100+load+free" "$(range "${usf[@]}")"
if ((${#watched[@]})); then
	printf '%-44s %s ms\n' "libusdtkit, tracer watching (acks at once)" "$(range "${watched[@]}")"
fi
if [[ -n ${uw[0]:-} ]]; then
	printf '%-44s %s ms (not interested: scan, ack)\n' "libusdtkit, usdtkit trace -p watching" "$(range "${uw[@]}")"
	printf '%-44s %s ms (100 uprobes attached per load)\n' "libusdtkit, usdtkit trace -p attaching" "$(range "${ua[@]}")"
fi
if [[ -n $peer ]]; then
	printf '%-44s %s ms (built -O2 from source)\n' "libstapsdt load+unload, 100 probes" \
		"$(range "${st[@]}")"
	printf '%-44s %s ms\n' "libstapsdt new+add 100+load+free" "$(range "${stf[@]}")"
	awk -v u="$(best "${us[@]}")" -v s="$(best "${st[@]}")" \
		'BEGIN { printf "%-44s %.2fx (best against best)\n", "ratio load+unload usdtkit / libstapsdt", u / s }'
	awk -v u="$(best "${usf[@]}")" -v s="$(best "${stf[@]}")" \
		'BEGIN { printf "%-44s %.2fx (best against best)\n", "ratio fresh provider usdtkit / libstapsdt", u / s }'
else
	echo "libstapsdt unavailable ($why)"
fi
