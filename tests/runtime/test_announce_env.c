/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The announce wait bound (announce.c, compiled in: its helpers are hidden
 * in libusdtkit): USDTKIT_LOAD_WAIT_MS parsing and how the opts value, the
 * environment and the default combine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "internal.h"

static void test_parse_ms(void **state)
{
	assert_int_equal(usdt_announce__parse_ms("100"), 100);
	assert_int_equal(usdt_announce__parse_ms("0"), 0);
	assert_int_equal(usdt_announce__parse_ms("60000"), 60000);
	assert_int_equal(usdt_announce__parse_ms("60001"), -1);
	assert_int_equal(usdt_announce__parse_ms("-1"), -1);
	assert_int_equal(usdt_announce__parse_ms("12ms"), -1);
	assert_int_equal(usdt_announce__parse_ms(""), -1);
	assert_int_equal(usdt_announce__parse_ms(NULL), -1);
	assert_int_equal(usdt_announce__parse_ms("99999999999999999999"), -1);
}

static void test_wait_ms(void **state)
{
	unsetenv("USDTKIT_LOAD_WAIT_MS");
	assert_int_equal(usdt_announce__wait_ms(0), USDT_LOAD_WAIT_MS_DEFAULT);
	assert_int_equal(usdt_announce__wait_ms(250), 250);
	assert_int_equal(usdt_announce__wait_ms(-1), 0);
	assert_int_equal(usdt_announce__wait_ms(1000000), 60000);
	setenv("USDTKIT_LOAD_WAIT_MS", "7", 1);
	assert_int_equal(usdt_announce__wait_ms(0), 7);
	assert_int_equal(usdt_announce__wait_ms(250), 250); /* the opts field wins */
	setenv("USDTKIT_LOAD_WAIT_MS", "0", 1);
	assert_int_equal(usdt_announce__wait_ms(0), 0);
	setenv("USDTKIT_LOAD_WAIT_MS", "soon", 1);
	assert_int_equal(usdt_announce__wait_ms(0), USDT_LOAD_WAIT_MS_DEFAULT);
	unsetenv("USDTKIT_LOAD_WAIT_MS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ms),
		cmocka_unit_test(test_wait_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
