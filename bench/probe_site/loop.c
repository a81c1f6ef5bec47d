// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A loop firing bench:fire(long i, char *s) N times, built three ways by
 * CMakeLists.txt: systemtap's <sys/sdt.h> (LOOP_SYS_SDT), <usdtkit/sdt.h>
 * with USDT_CLASSIC_NOP (1-byte nop), and <usdtkit/sdt.h> by default (the
 * optimizable x86-64 site); LOOP_NO_PROBE builds the bare loop, the
 * baseline that untraced costs are measured against. Prints the thread's
 * CPU time per fire in ns (user + kernel time of this thread, so a busy
 * machine's other work is not counted) and whether the kernel mapped the
 * uprobe trampoline (the probe was optimized).
 * Usage: probe_site_loop N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(LOOP_SYS_SDT)
#include <sys/sdt.h>
#define FIRE(i, s) DTRACE_PROBE2(bench, fire, i, s)
#elif defined(LOOP_NO_PROBE)
#define FIRE(i, s) ((void)(i), (void)(s))
#else
#include <usdtkit/sdt.h>
#define FIRE(i, s) USDT(bench, fire, i, s)
#endif

static int trampoline_mapped(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[uprobes-trampoline]"))
			found = 1;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *s = "a string argument";
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long i = 0; i < n; i++) {
		/* keeps the loop (and i, s in registers) in every build */
		__asm__ __volatile__("" : : "r"(i), "r"(s));
		FIRE(i, s);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	printf("%.3f %d\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n,
	       trampoline_mapped());
	return 0;
}
