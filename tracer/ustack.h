/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * User stacks at a probe, shared by the BPF programs (ustack.bpf.h) and
 * user space (ustack.c, symbolize.c).
 *
 * Two ways to carry a stack out of the kernel:
 *  - trace: the stack itself, in the hit's ring-buffer record
 *    (struct ustack_rec, bpf_get_stack()), so every event has its frames;
 *  - stat: a stack id into a BPF_MAP_TYPE_STACK_TRACE map
 *    (bpf_get_stackid()), the id part of a per-key count (struct
 *    ustack_key), so equal stacks are counted together in the kernel.
 *
 * The kernel's user stack walker starts at the probe's instruction pointer
 * and then follows the frame-pointer chain (%rbp). At a probe on the first
 * instruction of a function (a runtime provider's stub, a function-entry
 * uprobe) the function has not pushed %rbp yet, so the chain starts at the
 * caller's frame and the caller itself is missing (6.12+ kernels add it for
 * functions that begin with push %rbp / endbr64; a stub does not). For such
 * locations the BPF side also reads the return address at the stack
 * pointer (entry_ret), and user space puts it back in as the second frame
 * unless the kernel already did: ustack__merge_entry().
 */
#ifndef USDTKIT_TRACER_USTACK_H
#define USDTKIT_TRACER_USTACK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The kernel's limit (sysctl kernel.perf_event_max_stack, default 127). */
#define USTACK_MAX_DEPTH 127
/* --ustack without a depth: as many frames as bpftrace's ustack. */
#define USTACK_DEFAULT_DEPTH 127

/*
 * In the BPF cookie of a location (above its index): the probe is at a
 * function's entry. The engine sets it (engine__cookie()).
 */
#define USTACK_COOKIE_AT_ENTRY (1ull << 32)

/* Bytes a stack of @depth frames takes in a ring record (struct ustack_rec). */
#define USTACK_REC_SIZE(depth) (16 + 8 * (depth))

/*
 * In a trace ring record. A negative nframes is the errno of
 * bpf_get_stack() (-EFAULT: no user stack, e.g. a kernel thread).
 */
struct ustack_rec {
	__s32 nframes; /* frames in ips[], innermost first, or -errno */
	__u32 flags; /* USTACK_F_* */
	__u64 entry_ret; /* return address at the stack pointer (USTACK_F_ENTRY) */
	__u64 ips[]; /* depth slots, nframes of them valid */
};

enum ustack_flags {
	USTACK_F_ENTRY = 1 << 0, /* the probe is at a function's entry: entry_ret is valid */
	/*
	 * The process was sent SIGSTOP at this hit (the -c command's first
	 * stack): user space reads its mappings, then sends SIGCONT.
	 */
	USTACK_F_HELD = 1 << 1,
};

/* SIGSTOP (19 on x86-64 and aarch64; vmlinux.h has no signal numbers) */
#define USTACK_SIGSTOP 19

/*
 * Key of the per-stack count in stat: one entry per (probe, process,
 * distinct stack). The pid selects the address space user space symbolizes
 * the frames in; stack ids are shared by every process.
 */
struct ustack_key {
	__u32 probe_id;
	__u32 pid; /* tgid */
	__s32 stackid; /* id in the stack map, or -errno of bpf_get_stackid() */
	__u32 flags; /* USTACK_F_* */
	__u64 entry_ret;
};

#endif
