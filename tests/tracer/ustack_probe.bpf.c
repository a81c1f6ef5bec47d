// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The user-stack tests' BPF side, built only from tracer/ustack.bpf.h the
 * way trace.bpf.c and stat.bpf.c use it: "record" captures the stack into
 * a ring record (as trace does; a sleepable and a non-sleepable copy, since
 * trace runs sleepable and stat's plain counter does not), "count" counts
 * hits per distinct stack in a stack map (as stat --by ustack; stack maps
 * are refused in sleepable programs). The cookie
 * says whether the probe is at a function's entry.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define USTACK_WITH_STACKMAP
#include "../../tracer/ustack.bpf.h"
#include "ustack_probe.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ustack_key);
	__type(value, __u64);
} counts SEC(".maps");

__u64 lost, failed, hits;

static __always_inline int record(struct pt_regs *ctx, __u32 sleepable)
{
	struct ustack_probe_rec *r;

	r = bpf_ringbuf_reserve(&rb, 8 + USTACK_REC_SIZE(ustack_depth), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	r->pid = bpf_get_current_pid_tgid() >> 32;
	r->sleepable = sleepable;
	ustack__capture(ctx, &r->stack, bpf_get_attach_cookie(ctx) & USTACK_PROBE_AT_ENTRY);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("uprobe.s")
int record_s(struct pt_regs *ctx)
{
	return record(ctx, 1);
}

SEC("uprobe")
int record_ns(struct pt_regs *ctx)
{
	return record(ctx, 0);
}

/* Non-sleepable: the verifier refuses stack maps in sleepable programs. */
SEC("uprobe")
int count(struct pt_regs *ctx)
{
	struct ustack_key key = {};
	__u64 one = 1, *c;

	__sync_fetch_and_add(&hits, 1);
	if (ustack__key(ctx, &key, bpf_get_attach_cookie(ctx) & USTACK_PROBE_AT_ENTRY))
		__sync_fetch_and_add(&failed, 1);
	c = bpf_map_lookup_elem(&counts, &key);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		c = bpf_map_lookup_elem(&counts, &key);
		if (c)
			__sync_fetch_and_add(c, 1);
	}
	return 0;
}
