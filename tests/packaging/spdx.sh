#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# One licence, stated the same way everywhere: every tracked source file
# (C, C++, headers, BPF, Python, JavaScript, man sources, completion) has
# an SPDX line, and every SPDX line in the tree names the project's licence,
# the one LICENSE states, as does the npm and Python package metadata; the
# BPF programs' licence string is the GPL-compatible "Dual MIT/GPL". Usage: spdx.sh SOURCE_DIR
set -u
SRC=${1:?usage: spdx.sh SOURCE_DIR}
WANT="MIT OR GPL-2.0-only"
cd "$SRC" || exit 1
command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "SKIP: not a git checkout (the file list is git's)"; exit 77; }
status=0
grep -q "SPDX-License-Identifier: $WANT\$" LICENSE || { echo "FAIL: LICENSE does not state $WANT"; status=1; }
for f in LICENSES/MIT.txt LICENSES/GPL-2.0-only.txt; do
	[ -s "$f" ] || { echo "FAIL: no $f"; status=1; }
done

# every SPDX line, whatever the file
bad=$(git grep -I -n 'SPDX-License-Identifier:' -- . ':!LICENSE' |
	grep -v "SPDX-License-Identifier: $WANT\( \*/\)\?\$" |
	grep -v '^tests/packaging/spdx\.sh:' || true)
if [ -n "$bad" ]; then
	echo "FAIL: SPDX lines that are not '$WANT':"
	echo "$bad"
	status=1
fi
# every source file has one (in its first 5 lines)
missing=$(git ls-files -- '*.c' '*.h' '*.cpp' '*.py' '*.js' '*.scd' '*.bash' | while read -r f; do
	[ -f "$f" ] || continue
	head -n 5 "$f" | grep -q 'SPDX-License-Identifier:' || echo "$f"
done)
if [ -n "$missing" ]; then
	echo "FAIL: source files without an SPDX line:"
	echo "$missing"
	status=1
fi
lic=$(git grep -h 'SEC("license")' -- '*.bpf.c' | sed 's/.*= *"\(.*\)".*/\1/' | sort -u)
[ "$lic" = "Dual MIT/GPL" ] || { echo "FAIL: BPF licence strings: $lic"; status=1; }
# package metadata (npm, Python) names the same licence
meta=$(git grep -n -E '"license": *"|^license *=|^ *"License: ' -- '*package.json' '*pyproject.toml' \
	'bindings/python/_backend/*.py' | grep -vF "$WANT" || true)
if [ -n "$meta" ]; then
	echo "FAIL: package metadata with another licence:"
	echo "$meta"
	status=1
fi
n=$(git grep -l 'SPDX-License-Identifier:' | wc -l)
[ $status -eq 0 ] && echo "PASS: $n files, every SPDX line is $WANT"
exit $status
