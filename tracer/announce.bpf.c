// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit:provider_load in libusdtkit (announce.h): forwards each
 * announcement to user space, which attaches the new provider and acks.
 * Reads three register or memory arguments, writes no user memory
 * (the ack is user space's), so it is not sleepable.
 */
#define USDT_FETCH_NOSLEEP
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "announce.h"
#include "fetch.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* argument numbers of usdtkit:provider_load (docs/runtime-announce.md) */
#define ARG_RECORD 0
#define ARG_TOKEN 3
#define ARG_FD 4

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} announces SEC(".maps");

__u64 lost = 0;

SEC("uprobe")
int usdt_announce(struct pt_regs *ctx)
{
	__u32 idx = bpf_get_attach_cookie(ctx);
	const struct usdt_loc_spec *loc = bpf_map_lookup_elem(&locs, &idx);
	struct announce_msg m = {};
	__u64 ip, v;

	if (!loc || loc->nargs <= ARG_FD)
		return 0;
	ip = usdt_fetch__probe_ip(ctx);
	if (usdt_fetch__arg(ctx, &loc->args[ARG_RECORD], ip, &m.record) ||
	    usdt_fetch__arg(ctx, &loc->args[ARG_TOKEN], ip, &m.token) ||
	    usdt_fetch__arg(ctx, &loc->args[ARG_FD], ip, &v))
		return 0; /* unreadable: the load's wait ends by its bound */
	m.fd = (__s32)v;
	m.tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_ringbuf_output(&announces, &m, sizeof(m), BPF_RB_FORCE_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
	return 0;
}
