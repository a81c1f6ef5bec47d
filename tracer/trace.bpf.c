// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit trace: one sleepable uprobe program attached to every selected
 * probe location. The BPF cookie of each attachment indexes "locs", which
 * holds the location's compiled argument fetches (fetch.h); the program
 * evaluates them, copies strings, and submits one fixed-size record to the
 * ring buffer. Wakeups are suppressed unless the ring is filling, so a hit
 * costs a reserve, the fetches and a submit; user space polls on a short
 * timer. Records that do not fit are counted, never dropped silently.
 *
 * Measured on a 2-vCPU VM, kernel 6.18, uprobe_multi links: a non-sleepable
 * SEC("uprobe") build of this program costs ~110 ns more per hit than the
 * sleepable one even when every string is resident, and each string in a
 * page the process never touched then fails (three failing faults, ~2 us),
 * so there is no non-sleepable fast path. Smaller records (-s 24 instead
 * of 64) and bouncing strings through the stack measured no difference.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace.h"
#include "fetch.bpf.h"
#include "ustack.bpf.h"
#include "filter.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load; constants for the verifier. */
const volatile __u32 event_size = sizeof(struct trace_record);
const volatile __u32 str_size = 0;
/*
 * (nslots - 1) * str_size: the offset of the last string slot, -1 without
 * slots. A slot's offset is checked against it rather than the slot index
 * against nslots: 6.1's verifier forgets the bounds of a product of two
 * registers (slot * str_size), so only a comparison after the multiplication
 * bounds the pointer. It is the same one comparison per string as before.
 */
const volatile __s64 str_last = -1;
const volatile __u32 max_args = FETCH_MAX_ARGS;
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile __u32 layout_id = 0; /* which layout's geometry the records have */
/* --ustack (ustack_depth > 0): offset of the struct ustack_rec after the strings */
const volatile __u32 stack_off = 0;
/*
 * --ustack with -c: the command (set by user space) is stopped at its first
 * stack until user space has read its mappings (USTACK_F_HELD), so that a
 * command exiting right after it fired still symbolizes. Not atomic: two
 * threads may both hold, and each record is continued.
 */
__u32 ustack_hold_tgid = 0;
__u32 ustack_held = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

#ifdef USDT_FETCH_NOSLEEP
SEC("uprobe")
#else
SEC("uprobe.s")
#endif
int usdt_trace(struct pt_regs *ctx)
{
	__u32 idx = bpf_get_attach_cookie(ctx);
	const struct usdt_loc_spec *loc;
	struct trace_record *e;
	struct task_struct *task;
	const __u64 *comm;
	char *str;
	__u64 ip, v;
	__u32 i, n, off, err_mask = 0, trunc_mask = 0;
	long r;

	loc = bpf_map_lookup_elem(&locs, &idx);
	if (!loc) {
		count(TRACE_CNT_NOLOC);
		return 0;
	}
	/* --filter: a dropped hit reserves nothing (constant pass without one) */
	if (filter__hit(ctx, loc) != FILTER_PASS)
		return 0;
	e = bpf_ringbuf_reserve(&events, event_size, 0);
	if (!e) {
		count(TRACE_CNT_LOST);
		return 0;
	}
	/*
	 * pid, tid and comm straight from the task: plain loads instead of
	 * bpf_get_current_pid_tgid() and bpf_get_current_comm() (whose strscpy
	 * alone measured ~60 ns a hit on this VM). comm is NUL-padded by the
	 * kernel; user space stops at the NUL anyway.
	 */
	task = bpf_get_current_task_btf();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = task->tgid;
	e->tid = task->pid;
	e->loc = idx;
	e->kind = TRACE_EV_HIT | layout_id << 8;
	comm = (const __u64 *)task->comm;
	((__u64 *)e->comm)[0] = comm[0];
	((__u64 *)e->comm)[1] = comm[1];
	ip = usdt_fetch__probe_ip(ctx);
	n = loc->nargs;
	if (n > max_args)
		n = max_args;
	e->nargs = n;
	str = (char *)e->args + max_args * sizeof(__u64);
	for (i = 0; i < FETCH_MAX_ARGS; i++) {
		const struct usdt_fetch *f = &loc->args[i];

		if (i >= n || i >= max_args)
			break;
		if (usdt_fetch__arg(ctx, f, ip, &v))
			err_mask |= 1u << i;
		e->args[i] = v;
		if (!(f->flags & FETCH_STR))
			continue;
		off = f->str_slot * str_size;
		if ((__s64)off > str_last)
			continue;
		r = usdt_fetch__str(str + off, str_size, v);
		if (r < 0)
			err_mask |= 1u << i;
		else if (r > 0)
			trunc_mask |= 1u << i;
	}
	e->err_mask = err_mask;
	e->trunc_mask = trunc_mask;
	/* the stack works in this sleepable program too: only stack maps need a non-sleepable one */
	if (ustack_depth) {
		struct ustack_rec *rec = (void *)e + stack_off;

		ustack__capture(ctx, rec, bpf_get_attach_cookie(ctx) & USTACK_COOKIE_AT_ENTRY);
		if (e->pid == ustack_hold_tgid && !ustack_held) {
			ustack_held = 1;
			rec->flags |= USTACK_F_HELD;
			/* pending before user space can see the record and continue it */
			bpf_send_signal(USTACK_SIGSTOP);
		}
	}
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
	return 0;
}
