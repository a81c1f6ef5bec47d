/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A shared library with probes for the `usdtkit list` tests: semaphores,
 * a probe with several locations, and assorted argument operands.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#define SEMA(p, n) unsigned short p##_##n##_semaphore __attribute__((section(".probes"), used))

SEMA(listlib, work);
SEMA(listlib, tick);
SEMA(listlib, mixed);

static long counter;

/* inlined into each caller: one probe, several locations */
static inline __attribute__((always_inline)) void tick(int where)
{
	DTRACE_PROBE1(listlib, tick, where);
}

__attribute__((visibility("default"))) long listlib_work(long n, const char *s)
{
	tick(1);
	DTRACE_PROBE2(listlib, work, n, s);
	counter += n;
	return counter;
}

__attribute__((visibility("default"))) void listlib_mixed(signed char c, short h, unsigned u,
							  double d)
{
	tick(2);
	DTRACE_PROBE5(listlib, mixed, c, h, u, counter, d);
	tick(3);
}
