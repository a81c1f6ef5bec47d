// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Programs of the user-stack benchmark: "record" is a trace-like hit (a
 * ring record, sleepable as trace's program) with or without the stack
 * (ustack_depth 0 or N, a load-time constant); "count" adds one per hit
 * (stat's plain counter) and "count_stack" one per (pid, stack id) (stat
 * --by ustack), both non-sleepable.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define USTACK_WITH_STACKMAP
#include "../../tracer/ustack.bpf.h"
#include "ustack_bench.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 26);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ustack_key);
	__type(value, __u64);
} counts SEC(".maps");

__u64 hits, lost;

SEC("uprobe.s")
int record(struct pt_regs *ctx)
{
	struct bench_rec *r;
	__u64 id;

	r = bpf_ringbuf_reserve(&rb, 16 + USTACK_REC_SIZE(ustack_depth), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	id = bpf_get_current_pid_tgid();
	r->ts_ns = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	ustack__capture(ctx, &r->stack, false);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("uprobe")
int count(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("uprobe")
int count_stack(struct pt_regs *ctx)
{
	struct ustack_key key = {};
	__u64 one = 1, *c;

	ustack__key(ctx, &key, false);
	c = bpf_map_lookup_elem(&counts, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}
