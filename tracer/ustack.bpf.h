/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * BPF side of user stacks (see ustack.h): capture into a ring record for
 * trace, or into a stack map whose id is counted per key for stat.
 *
 * Include after vmlinux.h, <bpf/bpf_helpers.h> and <bpf/bpf_tracing.h>.
 * Works in sleepable (uprobe.s) and non-sleepable programs. The depth is a
 * read-only constant set before load, so bpf_get_stack()'s size is a known
 * constant the verifier of every kernel (6.1 included) accepts; 0 disables
 * capture and the verifier drops the code.
 *
 * Stack map (define USTACK_WITH_STACKMAP before including): only for
 * non-sleepable programs, SEC("uprobe"): every kernel's verifier refuses a
 * BPF_MAP_TYPE_STACK_TRACE map in a sleepable one ("Sleepable programs can
 * only use array, hash, ringbuf and local storage maps"), so stat --by
 * ustack runs a non-sleepable program (fetch.bpf.h's USDT_FETCH_NOSLEEP
 * build). bpf_get_stack() itself works in both: the kernel walks the user
 * stack with page faults disabled either way. User space sets the map's
 * value size (8 * ustack_depth) and
 * max_entries before load (bpf_map__set_value_size, set_max_entries).
 * Without BPF_F_REUSE_STACKID a new stack whose hash bucket holds another
 * stack gets -EEXIST instead of silently replacing it: the count of that
 * stack stays right, and the collision is counted by the caller.
 */
#ifndef USDTKIT_TRACER_USTACK_BPF_H
#define USDTKIT_TRACER_USTACK_BPF_H

#include "ustack.h"

/* Frames to capture; 0: stacks are off. Set by user space before load. */
const volatile __u32 ustack_depth = 0;

#ifdef USTACK_WITH_STACKMAP
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8);
} ustacks SEC(".maps");
#endif

/* The return address at the stack pointer: the caller of a function at its entry. */
static __always_inline __u64 ustack__entry_ret(struct pt_regs *ctx)
{
	__u64 ret = 0;

	if (bpf_probe_read_user(&ret, sizeof(ret), (const void *)PT_REGS_SP(ctx)))
		return 0;
	return ret;
}

/*
 * Fills @rec (USTACK_REC_SIZE(ustack_depth) bytes, e.g. inside a reserved
 * ring record) with the user stack of the current hit. @at_entry: the probe
 * sits on a function's first instruction (see ustack.h).
 */
static __always_inline void ustack__capture(struct pt_regs *ctx, struct ustack_rec *rec,
					    bool at_entry)
{
	__u32 size = ustack_depth * 8;
	long n;

	rec->flags = 0;
	rec->entry_ret = 0;
	if (!ustack_depth || ustack_depth > USTACK_MAX_DEPTH) {
		rec->nframes = 0;
		return;
	}
	n = bpf_get_stack(ctx, rec->ips, size, BPF_F_USER_STACK);
	rec->nframes = n < 0 ? (__s32)n : (__s32)((__u64)n / 8);
	if (at_entry) {
		rec->flags = USTACK_F_ENTRY;
		rec->entry_ret = ustack__entry_ret(ctx);
	}
}

#ifdef USTACK_WITH_STACKMAP
/*
 * Fills @key's stack part (stackid, flags, entry_ret, pid) for the current
 * hit; the caller sets probe_id and counts the key. Returns 0, or the
 * negative errno of bpf_get_stackid() (also left in key->stackid, so a
 * caller may count failed captures under their own key).
 */
static __always_inline long ustack__key(struct pt_regs *ctx, struct ustack_key *key, bool at_entry)
{
	long id;

	key->pid = bpf_get_current_pid_tgid() >> 32;
	key->flags = 0;
	key->entry_ret = 0;
	id = bpf_get_stackid(ctx, &ustacks, BPF_F_USER_STACK);
	key->stackid = (__s32)id;
	if (at_entry) {
		key->flags = USTACK_F_ENTRY;
		key->entry_ret = ustack__entry_ret(ctx);
	}
	return id < 0 ? id : 0;
}
#endif

#endif
