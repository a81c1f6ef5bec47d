#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# What `cmake --install` puts in a DESTDIR, as a distribution's packaging
# would see it: every expected file at its place (CLI, library and its
# SONAME link, headers, sdt core, pkg-config and CMake package files, man
# pages, bash completion, docs and licence, the Python package unless
# PYTHONDIR is -), nothing
# outside the prefix, no installed text file naming the build or source
# tree, and a usdtkit.pc whose paths follow ${prefix}: a program builds
# with pkg-config --define-variable=prefix=DESTDIR/PREFIX.
# Usage: install.sh BUILD_DIR SOURCE_DIR PREFIX LIBDIR MANDIR COMPLETIONDIR PYTHONDIR [MAN]
set -u
BUILD=${1:?usage: install.sh BUILD SRC PREFIX LIBDIR MANDIR COMPLETIONDIR PYTHONDIR [MAN]}
SRC=${2:?}
PREFIX=${3:?}
LIBDIR=${4:?}
MANDIR=${5:?}
COMPDIR=${6:?}
PYDIR=${7:?}
MAN=${8:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
rel() { case $1 in /*) echo "${1#"$PREFIX"/}" ;; *) echo "$1" ;; esac; }

DESTDIR=$tmp/root cmake --install "$BUILD" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "cmake --install failed"; }
root=$tmp/root$PREFIX
[ -d "$root" ] || fail "nothing installed under $PREFIX"
outside=$(cd "$tmp/root" && find . ! -type d | grep -v "^.$PREFIX/" || true)
[ -z "$outside" ] || fail "installed outside the prefix: $outside"

L=$(rel "$LIBDIR")
C=$(rel "$COMPDIR")
P=$(rel "$PYDIR")
M=$(rel "$MANDIR")
expected="bin/usdtkit
$L/libusdtkit.so.0
$L/libusdtkit.so
$L/libusdtkit-sdt.a
$L/pkgconfig/usdtkit.pc
$L/cmake/usdtkit/usdtkitConfig.cmake
$L/cmake/usdtkit/usdtkitConfigVersion.cmake
$L/cmake/usdtkit/usdtkitTargets.cmake
include/usdtkit/provider.h
include/usdtkit/types.h
include/usdtkit/sdt.h
include/usdtkit/stapsdt.h
$C/usdtkit
share/doc/usdtkit/usdtkit-trace.md
share/doc/usdtkit/LICENSE"
if [ "$PYDIR" != - ]; then
	expected="$expected
$P/usdtkit/__init__.py
$P/usdtkit/_lib.py"
fi
if [ "$MAN" = man ]; then
	for p in man1/usdtkit.1 man1/usdtkit-list.1 man1/usdtkit-trace.1 man1/usdtkit-stat.1 \
		man1/usdtkit-flow.1 man1/usdtkit-calls.1 man1/usdtkit-gc.1 man1/usdtkit-objects.1 \
		man1/usdtkit-threads.1 man1/usdtkit-top.1 \
		man3/libusdtkit.3 man3/usdtkit-sdt.3; do
		expected="$expected
$M/$p"
	done
fi
missing=""
for f in $expected; do
	[ -e "$root/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] || { (cd "$root" && find . ! -type d | sort); fail "not installed:$missing"; }
[ -L "$root/$L/libusdtkit.so" ] || fail "libusdtkit.so is not a symlink to the SONAME"
soname=$(readelf -d "$root/$L/libusdtkit.so.0" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libusdtkit.so.0 ] || fail "SONAME is '$soname'"
stale=$(find "$root" -type f ! -name '*.so*' ! -name '*.a' ! -name usdtkit -print0 |
	xargs -0 grep -lF -e "$BUILD" -e "$SRC/" 2>/dev/null | grep -v '\.md$' || true)
[ -z "$stale" ] || fail "installed files name the build or source tree: $stale"

pc=$root/$L/pkgconfig/usdtkit.pc
grep -q '^libdir=${prefix}/' "$pc" || fail "usdtkit.pc: libdir is not relative to \${prefix}: $(grep ^libdir "$pc")"
grep -q '^includedir=${prefix}/' "$pc" || fail "usdtkit.pc: includedir is not relative to \${prefix}"
flags=$(PKG_CONFIG_PATH=$root/$L/pkgconfig pkg-config --define-variable=prefix="$root" \
	--cflags --libs usdtkit) || fail "pkg-config does not read the installed usdtkit.pc"
printf '#include <usdtkit/provider.h>\nint main(void) { return usdt_provider__new(0, 0) != 0; }\n' >"$tmp/u.c"
# shellcheck disable=SC2086 # the flags are words
cc -Wall -Werror -o "$tmp/u" "$tmp/u.c" $flags || fail "cannot build with the DESTDIR's pkg-config flags: $flags"
LD_LIBRARY_PATH=$root/$L "$tmp/u" || fail "the pkg-config program failed"
if [ "$PYDIR" != - ] && command -v python3 >/dev/null; then
	lib=$(cd "$tmp" && env -u USDTKIT_LIBRARY PYTHONPATH=$root/$P LD_LIBRARY_PATH=$root/$L python3 -c \
		'import usdtkit, sys; usdtkit.library_path(); sys.stdout.write(usdtkit.__file__ + " " + [l.split()[-1] for l in open("/proc/self/maps") if "libusdtkit.so" in l][0])') ||
		fail "the installed Python package does not import and load libusdtkit"
	case $lib in
	"$root/$P/usdtkit/__init__.py $root/$L/"*) echo "python: $lib" ;;
	*) fail "python imported or loaded something else: $lib" ;;
	esac
fi
n=$(cd "$root" && find . ! -type d | wc -l)
echo "PASS: $n files installed where expected; usdtkit.pc relative to \${prefix}"
