// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A loop firing bench:fire(long i, char *s) N times; prints the wall-clock
 * and the CPU time (user + kernel, which includes the uprobe's cost) per
 * fire in ns on stdout. CPU time is the figure to compare on a loaded
 * machine: it does not count time spent waiting for a CPU. bench/trace runs it untraced and traced by usdtkit and bpftrace.
 * Usage: trace_loop N [DELAY_US]   (DELAY_US: sleep between fires)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long delay = argc > 2 ? atol(argv[2]) : 0;
	const char *s = "a string argument";
	struct timespec a, b, ca, cb;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (long i = 0; i < n; i++) {
		DTRACE_PROBE2(bench, fire, i, s);
		if (delay)
			usleep(delay);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f %.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n,
	       ((cb.tv_sec - ca.tv_sec) * 1e9 + (cb.tv_nsec - ca.tv_nsec)) / (double)n);
	return 0;
}
