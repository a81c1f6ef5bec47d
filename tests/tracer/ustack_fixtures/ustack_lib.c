// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Shared-library half of the user-stack fixture: a known call chain
 * ustk_lib_a -> ustk_lib_b -> ustk_lib_c -> probe ustk:lib, built with
 * frame pointers, no inlining and no sibling calls, so the kernel's stack
 * walker sees every frame. ustk_lib_c is kept from being a leaf function:
 * gcc omits the frame pointer of leaves even with -fno-omit-frame-pointer,
 * and the probe's caller would be missing.
 */
#include <usdtkit/sdt.h>

#define NOINLINE __attribute__((noinline, visibility("default")))

volatile int ustk_lib_sink;

NOINLINE void ustk_lib_count(void)
{
	ustk_lib_sink++;
}

NOINLINE void ustk_lib_c(int i)
{
	USDT(ustk, lib, i);
	ustk_lib_count();
}

NOINLINE void ustk_lib_b(int i)
{
	ustk_lib_c(i);
	ustk_lib_sink++;
}

NOINLINE void ustk_lib_a(int i)
{
	ustk_lib_b(i);
	ustk_lib_sink++;
}
