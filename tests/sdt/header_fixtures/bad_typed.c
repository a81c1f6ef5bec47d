/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Compile-time checks of the header: built by test_header_notes with
 * -DCASE=N, as C and as C++. CASE 0 is valid and must build warning-free;
 * every other case must fail with the message the test expects.
 */
#include <stddef.h>
#include <stdint.h>

#include <usdtkit/sdt.h>

int fx_bad(uint64_t big, int i, const char *s, double d, long l);

int fx_bad(uint64_t big, int i, const char *s, double d, long l)
{
#if CASE == 0
	USDT_TYPED(bad, ok, USDT_ARG(u64, big, big), USDT_ARG(u8, i, i), USDT_ARG(str, s, s),
		   USDT_ARG(f64, d, d), USDT_ARG(i64, l, l), USDT_ARG(u64, widened, i));
#elif CASE == 1 /* a 64-bit value into u32 would truncate */
	USDT_TYPED(bad, trunc, USDT_ARG(u32, big, big));
#elif CASE == 2 /* a number as a string */
	USDT_TYPED(bad, numstr, USDT_ARG(str, i, i));
#elif CASE == 3 /* a pointer as a number */
	USDT_TYPED(bad, ptrnum, USDT_ARG(u64, s, s));
#elif CASE == 4 /* an integer as f64 */
	USDT_TYPED(bad, intdbl, USDT_ARG(f64, i, i));
#elif CASE == 5 /* long into i32 */
	USDT_TYPED(bad, long32, USDT_ARG(i32, l, l));
#elif CASE == 6 /* unknown type name */
	USDT_TYPED(bad, unknown, USDT_ARG(u65, i, i));
#elif CASE == 7 /* a struct is not a probe argument */
	struct {
		char x[16];
	} st = {{0}};
	USDT(bad, big, st);
#endif
	return (int)big + i + (s != NULL) + (int)d + (int)l;
}
