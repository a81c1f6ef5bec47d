/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Shared by ustack_probe.bpf.c and test_ustack.c. */
#ifndef USDTKIT_TEST_USTACK_PROBE_H
#define USDTKIT_TEST_USTACK_PROBE_H

#include "../../tracer/ustack.h"

/* BPF cookie of an attachment: the probe sits on a function's entry. */
#define USTACK_PROBE_AT_ENTRY 1ull

/* One ring record: the hit's process, then its stack (USTACK_REC_SIZE(depth) bytes). */
struct ustack_probe_rec {
	__u32 pid;
	__u32 sleepable; /* which program captured it */
	struct ustack_rec stack;
};

#endif
