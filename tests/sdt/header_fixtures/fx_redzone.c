/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A leaf function that keeps values in its red zone across a probe.
 *
 * rz_leaf() is built at -O2: its volatile locals live below %rsp without a
 * frame (the red zone), some of them in the 32 bytes that an optimized
 * uprobe's trampoline call would push into if the site did not lower %rsp
 * first. Two of them are probe arguments, so the compiler writes them as
 * %rsp-relative operands. After the probe the function checks every local;
 * main counts mismatches over N calls, prints them, and says whether the
 * kernel mapped the uprobe trampoline (the probe was optimized).
 *
 * Usage: fx-redzone[-classic] N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usdtkit/sdt.h>

#define RZ_VAL(seed, i) ((seed) * ((i) + 3) + (i))

__attribute__((noinline)) long rz_leaf(long seed)
{
	volatile long v[6];
	long bad = 0;

	v[0] = RZ_VAL(seed, 0);
	v[1] = RZ_VAL(seed, 1);
	v[2] = RZ_VAL(seed, 2);
	v[3] = RZ_VAL(seed, 3);
	v[4] = RZ_VAL(seed, 4);
	v[5] = RZ_VAL(seed, 5);
	/* arg0 = seed, arg1 = seed * 3, arg2 = seed * 8 + 5 */
	USDT(rz, hit, seed, v[0], v[5]);
	bad += v[0] != RZ_VAL(seed, 0);
	bad += v[1] != RZ_VAL(seed, 1);
	bad += v[2] != RZ_VAL(seed, 2);
	bad += v[3] != RZ_VAL(seed, 3);
	bad += v[4] != RZ_VAL(seed, 4);
	bad += v[5] != RZ_VAL(seed, 5);
	return bad;
}

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
	long n = argc > 1 ? atol(argv[1]) : 1000, bad = 0;

	for (long i = 1; i <= n; i++)
		bad += rz_leaf(i);
	printf("calls=%ld bad=%ld trampoline=%d\n", n, bad, trampoline_mapped());
	return bad ? 1 : 0;
}
