// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Unit tests of stat's bucket math (tracer/hist.h), the same functions the
 * BPF program runs: log2, linear (the full int64 range included) and
 * latency buckets, and the bounds user space prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hist.h"

static void test_log2(void **state)
{
	assert_int_equal(hist_log2_bucket((uint64_t)-5, true), 0);
	assert_int_equal(hist_log2_bucket((uint64_t)-5, false), 2 + 63);
	assert_int_equal(hist_log2_bucket(0, true), 1);
	assert_int_equal(hist_log2_bucket(1, false), 2);
	assert_int_equal(hist_log2_bucket(2, false), 3);
	assert_int_equal(hist_log2_bucket(3, false), 3);
	assert_int_equal(hist_log2_bucket(1024, false), 12);
	assert_int_equal(hist_log2_bucket(UINT64_MAX, false), HIST_LOG2_BUCKETS - 1);
	for (unsigned int k = 0; k < 64; k++) {
		assert_int_equal(hist_log2_bucket(1ull << k, false), 2 + k);
		if (k)
			assert_int_equal(hist_log2_bucket((1ull << k) - 1, false), 1 + k);
	}
}

static void test_linear(void **state)
{
	uint32_t n = hist_linear_count(0, 100, 10);

	assert_int_equal(n, 12);
	assert_int_equal(hist_linear_bucket((uint64_t)-1, true, 0, 100, 10, n), 0);
	assert_int_equal(hist_linear_bucket(0, true, 0, 100, 10, n), 1);
	assert_int_equal(hist_linear_bucket(9, true, 0, 100, 10, n), 1);
	assert_int_equal(hist_linear_bucket(10, true, 0, 100, 10, n), 2);
	assert_int_equal(hist_linear_bucket(99, true, 0, 100, 10, n), 10);
	assert_int_equal(hist_linear_bucket(100, true, 0, 100, 10, n), 11);
	assert_int_equal(hist_linear_bucket((uint64_t)-1, false, 0, 100, 10, n), 11);
	assert_int_equal(hist_linear_lo(0, 10, 3), 20);
	assert_int_equal(hist_linear_hi(0, 100, 10, 3), 30);
	/* a last step cut short by MAX */
	n = hist_linear_count(0, 95, 10);
	assert_int_equal(n, 12);
	assert_int_equal(hist_linear_hi(0, 95, 10, 10), 95);

	/* limits */
	assert_int_equal(hist_linear_count(0, 1001, 1), 0);
	assert_int_equal(hist_linear_count(0, 1000, 1), 1002);
	assert_int_equal(hist_linear_count(5, 5, 1), 0);
	assert_int_equal(hist_linear_count(0, 10, 0), 0);

	/* the full int64 range: no overflow, every value lands in a step */
	n = hist_linear_count(INT64_MIN, INT64_MAX, INT64_MAX / 4);
	assert_true(n >= 3 && n <= 12);
	assert_int_equal(hist_linear_bucket((uint64_t)INT64_MIN, true, INT64_MIN, INT64_MAX,
					    INT64_MAX / 4, n),
			 1);
	assert_int_equal(
		hist_linear_bucket(0, true, INT64_MIN, INT64_MAX, INT64_MAX / 4, n),
		1 + (uint32_t)(((uint64_t)0 - (uint64_t)INT64_MIN) / (uint64_t)(INT64_MAX / 4)));
	assert_int_equal(
		hist_linear_bucket(INT64_MAX - 1, true, INT64_MIN, INT64_MAX, INT64_MAX / 4, n),
		n - 2);
	assert_int_equal(hist_linear_lo(INT64_MIN, INT64_MAX / 4, 1), INT64_MIN);
	assert_int_equal(hist_linear_hi(INT64_MIN, INT64_MAX, INT64_MAX / 4, n - 2), INT64_MAX);
	for (uint32_t b = 1; b + 1 < n; b++)
		assert_true(hist_linear_lo(INT64_MIN, INT64_MAX / 4, b) <
			    hist_linear_hi(INT64_MIN, INT64_MAX, INT64_MAX / 4, b));
}

static void test_latency(void **state)
{
	double lo, hi;

	for (uint64_t d = 0; d < HIST_LAT_SUB; d++)
		assert_int_equal(hist_lat_bucket(d), d); /* exact below HIST_LAT_SUB */
	/* every value falls inside its bucket's bounds, within 1/8 */
	for (uint64_t d = 1; d < (1ull << 40); d = d * 3 + 1) {
		uint32_t b = hist_lat_bucket(d);

		assert_true(b < HIST_LAT_BUCKETS);
		hist_lat_bounds(b, &lo, &hi);
		assert_true(lo <= (double)d && (double)d < hi);
		assert_true(hi - lo <= lo / HIST_LAT_SUB + 1);
		assert_int_equal(hist_lat_row(b), hist_log2_bucket(d, false));
	}
	assert_true(hist_lat_bucket(UINT64_MAX) < HIST_LAT_BUCKETS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2),
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
