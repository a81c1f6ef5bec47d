#!/usr/bin/env bash
# usdtkit developer entry point. On a fresh Debian 12 machine, as root:
#
#   ./build.sh demo   install packages, build, and run the demo
#   ./build.sh test   install packages, build, and run the whole test suite
#
# Both are idempotent: packages already present are not reinstalled and the
# build directories are reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${BUILD:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"

PACKAGES=(
	build-essential cmake pkg-config clang llvm libclang-rt-14-dev clang-format git
	libelf-dev zlib1g-dev libbpf-dev bpftool libffi-dev libcmocka-dev systemtap-sdt-dev
	binutils gdb valgrind bpftrace bpfcc-tools libdw-dev
	python3 python3-pytest python3-pip python3-venv python3-dev
)

log() { printf '==> %s\n' "$*" >&2; }

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if ((${#missing[@]})); then
		log "installing: ${missing[*]}"
		if [[ $(id -u) -ne 0 ]]; then
			echo "build.sh: installing packages needs root (run as root or with sudo)" >&2
			exit 1
		fi
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
	fi
}

# configure DIR [cmake args...]
configure() {
	local dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
}

# Builds quietly: the log is kept in DIR/build.log and shown when the build fails.
build() {
	local dir=$1
	log "building in ${dir#"$ROOT"/}"
	if ! cmake --build "$dir" -j "$JOBS" >"$dir/build.log" 2>&1; then
		tail -n 60 "$dir/build.log" >&2
		echo "build.sh: build failed; full log: $dir/build.log" >&2
		return 1
	fi
}

cmd_build() {
	install_packages
	configure "$BUILD"
	build "$BUILD"
}

cmd_demo() {
	cmd_build
	"$ROOT/examples/demo.sh" "$BUILD"
}

cmd_unit() {
	cmd_build
	log "test suite (build/)"
	(cd "$BUILD" && ctest --output-on-failure -j "$JOBS")
}

cmd_sanitize() {
	install_packages
	log "test suite under ASan+UBSan (build-sanitize/)"
	configure "$ROOT/build-sanitize" -DUSDTKIT_SANITIZE=ON
	build "$ROOT/build-sanitize"
	(cd "$ROOT/build-sanitize" &&
		ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS" -LE nosanitize)
}

cmd_fuzz() {
	install_packages
	log "short fuzz runs (build-fuzz/)"
	configure "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DUSDTKIT_FUZZ=ON -DUSDTKIT_TRACER=OFF
	build "$ROOT/build-fuzz"
	(cd "$ROOT/build-fuzz" && ctest --output-on-failure -L fuzz)
}

# The concurrency test of the runtime (fire racing load/unload) under TSan.
cmd_tsan() {
	install_packages
	log "runtime concurrency under ThreadSanitizer (build-tsan/)"
	configure "$ROOT/build-tsan" -DUSDTKIT_TSAN=ON -DUSDTKIT_TRACER=OFF
	cmake --build "$ROOT/build-tsan" -j "$JOBS" --target test_runtime_threads
	(cd "$ROOT/build-tsan" && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '^runtime/threads$')
}

# Every C source is in the repository's kernel style (.clang-format).
cmd_format() {
	install_packages
	log "clang-format check"
	local bad
	bad=$(cd "$ROOT" && git ls-files '*.c' '*.h' '*.cpp' | while read -r f; do
		[[ -f $f ]] || continue
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
	done)
	if [[ -n $bad ]]; then
		echo "build.sh: not clang-formatted (run clang-format -i):" $bad >&2
		return 1
	fi
}

cmd_test() {
	cmd_format
	cmd_unit
	cmd_sanitize
	cmd_tsan
	cmd_fuzz
	log "all test stages passed"
}

case "${1:-}" in
demo) cmd_demo ;;
test) cmd_test ;;
unit) cmd_unit ;;
sanitize) cmd_sanitize ;;
fuzz) cmd_fuzz ;;
tsan) cmd_tsan ;;
format) cmd_format ;;
build) cmd_build ;;
deps) install_packages ;;
*)
	echo "usage: $0 demo|test|build|deps|format|unit|sanitize|tsan|fuzz" >&2
	exit 2
	;;
esac
