/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Shared by filter_run.bpf.c, test_filter_bpf.c and bench/filter. */
#ifndef USDTKIT_TEST_FILTER_RUN_H
#define USDTKIT_TEST_FILTER_RUN_H

/* Context of the filter_run syscall program: evaluate probe_id's program on in. */
struct filter_run_args {
	struct filter_input in;
	__u32 probe_id;
	__u32 pad;
};

/* filter_count's counters, per location (cookie) * FCOUNT__MAX + which. */
enum fcount_counter {
	FCOUNT_HITS = 0,
	FCOUNT_PASSED,
	FCOUNT_FAULTS,
	FCOUNT__MAX,
};

#endif
