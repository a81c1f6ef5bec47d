// SPDX-License-Identifier: MIT OR GPL-2.0-only
//
// C++ fixture for the compile-time header tests: integer, enum class,
// bool, reference, std::string and nullptr arguments; probes in a
// template (one note per instantiation) and in an inline function; a
// semaphore defined inside a namespace and declared at global scope.
#include <cstdint>
#include <cstdio>
#include <string>

#include <usdtkit/sdt.h>

namespace fx
{
USDT_SEMAPHORE(cx, sema);

enum class Level : int8_t { low = -1, high = 2 };

template <typename T> T twice(T v)
{
	USDT(cx, tmpl, v);
	return v * 2;
}

inline int bump(int v)
{
	USDT_TYPED(cx, inl, USDT_ARG(i32, v, v));
	return v + 1;
}
} // namespace fx

USDT_DECLARE_SEMAPHORE(cx, sema);

static volatile long fx_seed = 4;

int main(int argc, char **argv)
{
	std::string s(argv[0]);
	long seed = fx_seed;
	int8_t a = static_cast<int8_t>(-seed);
	uint16_t b = static_cast<uint16_t>(seed + 1000);
	long c = -seed * 3;
	unsigned long long d = static_cast<unsigned long long>(seed) << 40;
	bool on = seed > 2;
	fx::Level lvl = seed > 2 ? fx::Level::low : fx::Level::high;
	const int &ref = argc;
	char buf[8] = "buf";

	USDT(cx, zero);
	USDT(cx, ints, a, b, c, d, on, lvl, ref, buf, s.c_str(), nullptr);
	USDT_TYPED(cx, typed, USDT_ARG(u64, len, s.size()), USDT_ARG(str, path, s.c_str()),
		   USDT_ARG(ptr, none, nullptr), USDT_ARG(u8, on, on), USDT_ARG(i8, lvl, lvl));
	USDT_WITH_SEMAPHORE(cx, sema, s.size(), s.c_str());
	if (USDT_IS_ACTIVE(cx, sema))
		std::puts("active");
	std::printf("%d %ld %d\n", fx::twice(argc), static_cast<long>(fx::twice(seed * 1.5)),
		    fx::bump(argc));
	return 0;
}
