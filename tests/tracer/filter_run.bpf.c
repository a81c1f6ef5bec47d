// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The --filter interpreter (tracer/filter.bpf.h) in two programs:
 *
 * filter_run: a syscall program test_filter_bpf.c runs with
 * BPF_PROG_TEST_RUN on chosen inputs (string arguments are addresses in
 * the test process), so the kernel's verdict can be compared with the
 * reference evaluator's on thousands of compiled programs.
 *
 * filter_count: a sleepable uprobe program that fetches the values the
 * location's probe filter needs (fetch.bpf.h), evaluates the filter and
 * counts hits, passes and faults per location, so the test can tell a
 * pass from a fault (usdtkit stat's stat_args runs filter__hit() alike). Loading it is
 * part of the test, so the verifier of each kernel the suite runs on sees
 * the interpreter in a real uprobe program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "../../tracer/fetch.bpf.h"
#include "../../tracer/filter.bpf.h"
#include "filter_run.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("syscall")
int filter_run_test(struct filter_run_args *a)
{
	struct filter_input in;

	__builtin_memcpy(&in, &a->in, sizeof(in));
	return filter__check(a->probe_id, &in);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FCOUNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} fcounts SEC(".maps");

static __always_inline void fcount(__u32 loc, __u32 which)
{
	__u32 k = loc * FCOUNT__MAX + which;
	__u64 *c = bpf_map_lookup_elem(&fcounts, &k);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("uprobe.s")
int filter_count(struct pt_regs *ctx)
{
	__u32 idx = bpf_get_attach_cookie(ctx);
	const struct usdt_loc_spec *loc;
	int verdict;

	fcount(idx, FCOUNT_HITS);
	loc = bpf_map_lookup_elem(&locs, &idx);
	if (!loc)
		return 0;
	/* what trace.bpf.c and stat.bpf.c run before recording a hit */
	verdict = filter__hit(ctx, loc);
	if (verdict == FILTER_PASS)
		fcount(idx, FCOUNT_PASSED);
	else if (verdict == FILTER_FAULT)
		fcount(idx, FCOUNT_FAULTS);
	return 0;
}
