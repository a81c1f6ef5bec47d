/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The list benchmark's binary: main() only. The probe sites live in the
 * generated bench_*.c files; they are never called — `list` reads notes,
 * it does not run anything.
 */
#include <stdio.h>

int main(void)
{
	puts("bench-list-probes: a binary with many USDT probe locations");
	return 0;
}
