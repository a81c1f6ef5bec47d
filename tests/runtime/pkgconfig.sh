#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# libusdtkit as an outside project sees it: pkg-config finds usdtkit.pc in
# the build tree, a program compiled and linked with its flags alone loads
# a provider, the library exports nothing but the usdt_* API and does not
# depend on libbpf. Usage: pkgconfig.sh BUILD_DIR CC
set -u
BUILD=${1:?usage: pkgconfig.sh BUILD_DIR CC}
CC=${2:-cc}
LIB=$BUILD/lib/libusdtkit.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
export PKG_CONFIG_PATH=$BUILD/lib/pkgconfig
flags=$(pkg-config --cflags --libs usdtkit) || fail "pkg-config does not find usdtkit.pc"
echo "pkg-config: $flags"
echo "$flags" | grep -q -- '-lusdtkit' || fail "no -lusdtkit in the flags"

cat > "$tmp/user.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <usdtkit/provider.h>

int main(void)
{
	enum usdt_type t[] = {USDT_TYPE_STRING};
	struct usdt_provider *p = usdt_provider__new("pcuser", NULL);
	struct usdt_probe *probe = p ? usdt_provider__add_probe(p, "hello", 1, t, NULL) : NULL;

	if (!probe || usdt_provider__load(p)) {
		fprintf(stderr, "provider: %s\n", usdt_strerror(errno));
		return 1;
	}
	usdt_probe__fire(probe, "untraced");
	printf("loaded %s:%s at %p\n", usdt_provider__name(p), usdt_probe__name(probe),
	       usdt_probe__address(probe));
	usdt_provider__free(p);
	return 0;
}
C
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$CC" -std=c11 -Wall -Wextra -Werror -o "$tmp/user" "$tmp/user.c" $flags ||
	fail "cannot build a program with pkg-config's flags"
out=$(LD_LIBRARY_PATH=$BUILD/lib "$tmp/user") || fail "the program failed: $out"
echo "$out"
echo "$out" | grep -q '^loaded pcuser:hello at 0x' || fail "unexpected output"

command -v readelf >/dev/null || { echo "SKIP: readelf not installed"; exit 77; }
readelf -d "$LIB" | grep NEEDED | grep -qi bpf && fail "libusdtkit depends on libbpf"
bad=$(readelf --dyn-syms --wide "$LIB" |
	awk '$5 != "LOCAL" && $7 != "UND" && $8 != "" && $4 == "FUNC" { print $8 }' |
	grep -v '^usdt_' || true)
[ -z "$bad" ] || fail "exported beyond the usdt_* API: $bad"
echo "PASS: pkg-config, link, no libbpf, only usdt_* exported"
