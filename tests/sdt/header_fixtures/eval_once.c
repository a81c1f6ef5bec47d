/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Built and run by test_header_notes as C and as C++: a probe evaluates
 * each argument exactly once (size and sign come from unevaluated
 * contexts), and a semaphore probe not traced evaluates none. Exit 0
 * when that holds.
 */
#include <stdio.h>

#include <usdtkit/sdt.h>

USDT_SEMAPHORE(once, guarded);

static int calls;

static int count_call(void)
{
	return ++calls;
}

int main(void)
{
	int i = 0;

	USDT(once, plain, i++, count_call());
	USDT_TYPED(once, typed, USDT_ARG(i32, i, i++), USDT_ARG(i32, c, count_call()));
	USDT_WITH_SEMAPHORE(once, guarded, count_call());
	USDT_TYPED_WITH_SEMAPHORE(once, guarded, USDT_ARG(i32, c, count_call()));
	printf("increments %d, calls %d\n", i, calls);
	return i == 2 && calls == 2 ? 0 : 1;
}
