// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A loop firing bench:fire(long i, char *s) N times; prints the time per
 * fire in ns on stdout. bench/stat runs it untraced, counted by
 * `usdtkit stat` and by bpftrace count().
 * Usage: stat_loop N
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *s = "a string argument";
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		DTRACE_PROBE2(bench, fire, i, s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
