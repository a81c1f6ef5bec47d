/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Which nop to put at a probe point.
 *
 * An int3-based uprobe costs a trap per hit. x86-64 kernels with optimized
 * uprobes (6.18+) rewrite a uprobe that sits on a 5-byte nop into a call
 * to a trampoline that enters the kernel through the uprobe() syscall,
 * which is cheaper than the trap; the rewrite is only safe where the red
 * zone is dead, true at the entry of our stubs. Other kernels simply trap
 * on whichever nop is there, so a multi-byte nop costs nothing where it is
 * not optimized, but a 1-byte nop is the conservative form when we cannot
 * tell at all.
 *
 * Detection must be cheap: it runs in every process that creates a
 * provider, including short-lived Python and Node programs. So the kernel
 * release is asked first (one uname(), microseconds): every x86-64 kernel
 * from 6.18 on has the optimizer, and that answer needs nothing more.
 * Only an older or unparsable release pays for the expensive signal, the
 * function that performs the rewrite, arch_uprobe_optimize, in
 * /proc/kallsyms (names are visible to every user even when addresses are
 * hidden): that is how a distribution backport is recognised. Generating
 * /proc/kallsyms costs the kernel 6-16 ms here, which is why it is not
 * the first question. The scan stops at the first module symbol: the
 * function lives in the core kernel image, whose symbols come first. The
 * uprobe() syscall itself cannot be probed: called from outside the
 * trampoline it raises SIGILL.
 *
 * A kernel that optimizes the newer 10-byte form shows no marker we could
 * rely on yet, so that form is only used when asked for (opts or
 * USDTKIT_PROBE_NOP=10); the 5-byte nop still traps correctly there.
 *
 * Detection runs once per process; its result is cached.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "internal.h"

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static int detected_nop = USDT_NOP_1;

int usdt_env_probe_nop(void)
{
	const char *s = getenv("USDTKIT_PROBE_NOP");

	if (!s)
		return 0;
	if (!strcmp(s, "1"))
		return USDT_NOP_1;
	if (!strcmp(s, "5"))
		return USDT_NOP_5;
	if (!strcmp(s, "10"))
		return USDT_NOP_10;
	return 0; /* "auto" or anything else: detect */
}

#if defined(__x86_64__)
/* 1: the kernel optimizes nop5 uprobes, 0: it does not, -1: cannot tell. */
static int kallsyms_says(void)
{
	char line[512];
	FILE *f = fopen("/proc/kallsyms", "re");
	int found = 0, any = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *name = strrchr(line, ' ');

		/* "addr t name\t[module]": core kernel symbols are all behind us. */
		if (strchr(line, '\t'))
			break;
		any = 1;
		if (name && !strcmp(name + 1, "arch_uprobe_optimize\n")) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return any ? found : -1;
}
#endif

int usdt_detect__release_optimizes(const char *release)
{
	int major = 0, minor = 0;

	if (!release || sscanf(release, "%d.%d", &major, &minor) != 2 || major < 0 || minor < 0)
		return -1;
	return major > 6 || (major == 6 && minor >= 18);
}

static void detect(void)
{
#if defined(__x86_64__)
	struct utsname u;
	int r = uname(&u) ? -1 : usdt_detect__release_optimizes(u.release);

	/* Older or unknown releases: only a backport would optimize; look for it. */
	if (r <= 0) {
		int k = kallsyms_says();

		if (k >= 0)
			r = k;
	}
	detected_nop = r > 0 ? USDT_NOP_5 : USDT_NOP_1;
#else
	/*
	 * Elsewhere there is one probe instruction. aarch64: a uprobe is
	 * always a BRK; the kernel simulates a plain nop under it (arch.c).
	 */
	detected_nop = USDT_NOP_1;
#endif
}

int usdt_detect_probe_nop(void)
{
	pthread_once(&detect_once, detect);
	return detected_nop;
}
