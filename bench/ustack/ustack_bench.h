/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Shared by ustack_bench.bpf.c and ustack_bench.c. */
#ifndef USDTKIT_BENCH_USTACK_H
#define USDTKIT_BENCH_USTACK_H

#include "../../tracer/ustack.h"

/* A trace-like ring record: a header, then the stack (depth 0: none). */
struct bench_rec {
	__u64 ts_ns;
	__u32 pid, tid;
	struct ustack_rec stack;
};

#endif
