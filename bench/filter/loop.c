// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A loop firing bench:fire(long k, char *func) N times, where k = i % 1000
 * and func is "copyfile" when k == 0, else another name: a filter on
 * either argument (`k == 0`, `func == "copyfile"`) passes 1 hit in 1000.
 * Prints the wall-clock and the CPU time (user + kernel: the uprobe and
 * the BPF program included, waiting for a CPU excluded) per fire in ns.
 * Usage: loop N
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *names[2] = {"copyfile", "read_config_file"};
	struct timespec a, b, ca, cb;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (long i = 0; i < n; i++) {
		long k = i % 1000;
		const char *func = names[k != 0];

		DTRACE_PROBE2(bench, fire, k, func);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f %.2f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n,
	       ((cb.tv_sec - ca.tv_sec) * 1e9 + (cb.tv_nsec - ca.tv_nsec)) / (double)n);
	return 0;
}
