// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Library of the `usdtkit stat` rescan test: stat_fixture dlopen()s it after
 * `usdtkit stat -c` has started, so stat finds statlib:late only by
 * rescanning the process. The probe has a semaphore: the kernel raises it
 * when the uprobe is attached, which tells the fixture it may fire.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short statlib_late_semaphore __attribute__((unused))
__attribute__((section(".probes")));

__attribute__((visibility("default"))) int statlib_attached(void)
{
	return *(volatile unsigned short *)&statlib_late_semaphore != 0;
}

__attribute__((visibility("default"))) void statlib_fire(long v)
{
	STAP_PROBE1(statlib, late, v);
}
