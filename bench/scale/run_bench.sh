#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Scale of the tracer with the number of probes (issue 12), one run:
# whole `usdtkit list`, `usdtkit trace -d 1` and `usdtkit stat -d 1` runs over
# binaries with 10 000, 40 000 and 100 000 probes (wall and CPU seconds, and
# CPU per probe: linear means a flat column), beside `bpftrace -l` on the
# 10 000-probe file (on 100 000 it takes minutes: BPFTRACE_FULL=1 runs it).
#
#   bench/scale/run_bench.sh BUILD/bin/usdtkit [WORKDIR]
set -euo pipefail
usdtkit=${1:?usage: run_bench.sh USDTKIT [WORKDIR]}
work=${2:-$(mktemp -d /tmp/usdtkit-scale-XXXXXX)}
mkdir -p "$work"
here=$(cd "$(dirname "$0")" && pwd)
sizes=(10000 40000 100000)

for n in "${sizes[@]}"; do
	if [[ ! -x $work/scale$n ]]; then
		python3 "$here/gen_scale.py" "$n" "$work/scale$n.S"
		cc -o "$work/scale$n" "$work/scale$n.S"
	fi
done

# seconds wall, seconds CPU (user + sys) of one command
measure() {
	/usr/bin/time -o "$work/time.txt" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
	awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time.txt"
}

printf '%-8s %-22s %8s %8s %12s\n' probes command wall_s cpu_s cpu_us/probe
for n in "${sizes[@]}"; do
	f=$work/scale$n
	for cmd in list trace stat; do
		case $cmd in
		list) args=(list "$f") ;;
		*) args=("$cmd" -d 1 "$f:scale:*") ;;
		esac
		read -r wall cpu < <(measure "$usdtkit" "${args[@]}")
		printf '%-8s %-22s %8s %8s %12.2f\n' "$n" "usdtkit $cmd" "$wall" "$cpu" \
			"$(awk -v c="$cpu" -v n="$n" 'BEGIN { print c * 1e6 / n }')"
	done
done
if command -v bpftrace >/dev/null; then
	for n in "${sizes[@]}"; do
		[[ $n == 10000 || ${BPFTRACE_FULL:-0} == 1 ]] || continue
		read -r wall cpu < <(measure bpftrace -l "usdt:$work/scale$n:*")
		read -r uwall _ < <(measure "$usdtkit" list "$work/scale$n")
		printf '%-8s %-22s %8s %8s   usdtkit list / bpftrace -l = %s\n' "$n" "bpftrace -l" \
			"$wall" "$cpu" "$(awk -v a="$uwall" -v b="$wall" 'BEGIN { printf "%.4f", a / b }')"
	done
else
	echo "bpftrace not installed: no peer figure"
fi
