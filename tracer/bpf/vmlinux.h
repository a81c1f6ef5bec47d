/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Minimal vmlinux.h: the kernel types and UAPI constants usdtkit's BPF
 * programs use, and nothing else. It replaces the header bpftool dumps from
 * the build machine's /sys/kernel/btf/vmlinux, so the BPF objects build in a
 * chroot or container without kernel BTF and the build does not depend on
 * which kernel the build host runs.
 *
 * Kernel structs carry __attribute__((preserve_access_index)): every field
 * access is a CO-RE relocation that libbpf resolves against the running
 * kernel's BTF at load time, so only the fields a program reads need to be
 * declared, in any order, and their real offsets are found by name. Struct
 * names and field names must be the kernel's.
 *
 * pt_regs is the exception where layout matters: uprobe programs read it as
 * their context, and the verifier allows only constant context offsets.
 * Its layout is the architecture's fixed register frame (the same as
 * user_regs_struct on x86-64, user_pt_regs on arm64), so it is declared in
 * full, in order; user space computes register offsets from that layout
 * (tracer/engine.c).
 *
 * UAPI enums and flags (enum bpf_map_type, BPF_ANY, BPF_RB_*) are stable
 * ABI and are copied with their values from <linux/bpf.h>.
 *
 * To add a type for a new program:
 *   - a kernel struct: declare it below with only the fields you read, the
 *     kernel's field names and C types of the same size, ending in
 *     __attribute__((preserve_access_index)); read it through a BTF pointer
 *     (bpf_get_current_task_btf()) or BPF_CORE_READ(). Nested structs the
 *     program walks need the attribute too. bpftool btf dump file
 *     /sys/kernel/btf/vmlinux format c shows the kernel's definition.
 *   - a UAPI enum or flag: copy it with its explicit value from
 *     <linux/bpf.h>; append new enumerators only at their UAPI value.
 *   - check: configure with -DUSDTKIT_VMLINUX_H=host (header generated from
 *     the host's BTF) and with the default (this file); both must build and
 *     the tracer tests must pass.
 */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#endif

typedef signed char __s8;
typedef unsigned char __u8;
typedef short int __s16;
typedef short unsigned int __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long int __s64;
typedef long long unsigned int __u64;
typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;
typedef __u16 __le16;
typedef __u16 __be16;
typedef __u32 __le32;
typedef __u32 __be32;
typedef __u64 __le64;
typedef __u64 __be64;
typedef __u32 __wsum;
typedef int pid_t;
typedef unsigned long size_t;
typedef long ssize_t;

typedef _Bool bool;
enum {
	false = 0,
	true = 1,
};

#if defined(__TARGET_ARCH_x86)
/* arch/x86/include/asm/ptrace.h, x86-64: the saved register frame */
struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};
#elif defined(__TARGET_ARCH_arm64)
/* arch/arm64/include/uapi/asm/ptrace.h: libbpf's PT_REGS_* read user_pt_regs */
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

/* arch/arm64/include/asm/ptrace.h: the kernel's frame begins with user_pt_regs */
struct pt_regs {
	union {
		struct user_pt_regs user_regs;
		struct {
			u64 regs[31];
			u64 sp;
			u64 pc;
			u64 pstate;
		};
	};
	u64 orig_x0;
};
#else
#error "usdtkit vmlinux.h: add this architecture's pt_regs (see the comment above)"
#endif

/* include/linux/sched.h: fields read by trace.bpf.c */
struct task_struct {
	pid_t pid;
	pid_t tgid;
	char comm[16];
};

/* include/linux/binfmts.h: the executable's name, read by exec_watch.bpf.c */
struct linux_binprm {
	const char *filename;
};

/* include/uapi/linux/bpf.h */
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_CGROUP_ARRAY = 8,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_HASH_OF_MAPS = 13,
	BPF_MAP_TYPE_DEVMAP = 14,
	BPF_MAP_TYPE_SOCKMAP = 15,
	BPF_MAP_TYPE_CPUMAP = 16,
	BPF_MAP_TYPE_XSKMAP = 17,
	BPF_MAP_TYPE_SOCKHASH = 18,
	BPF_MAP_TYPE_CGROUP_STORAGE = 19,
	BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20,
	BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21,
	BPF_MAP_TYPE_QUEUE = 22,
	BPF_MAP_TYPE_STACK = 23,
	BPF_MAP_TYPE_SK_STORAGE = 24,
	BPF_MAP_TYPE_DEVMAP_HASH = 25,
	BPF_MAP_TYPE_STRUCT_OPS = 26,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_INODE_STORAGE = 28,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
	BPF_MAP_TYPE_BLOOM_FILTER = 30,
	BPF_MAP_TYPE_USER_RINGBUF = 31,
};

/* flags of bpf_map_update_elem() */
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_LOCK = 4,
};

/* map_flags of BPF_MAP_CREATE */
enum {
	BPF_F_MMAPABLE = (1U << 10),
};

/* flags of bpf_get_stackid() / bpf_get_stack() */
enum {
	BPF_F_SKIP_FIELD_MASK = 0xffULL,
	BPF_F_USER_STACK = (1ULL << 8),
	BPF_F_FAST_STACK_CMP = (1ULL << 9),
	BPF_F_REUSE_STACKID = (1ULL << 10),
	BPF_F_USER_BUILD_ID = (1ULL << 11),
};

/* flags of bpf_perf_event_output() */
enum {
	BPF_F_INDEX_MASK = 0xffffffffULL,
	BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK,
};

/* flags of bpf_ringbuf_output() / _submit() / _discard() */
enum {
	BPF_RB_NO_WAKEUP = (1ULL << 0),
	BPF_RB_FORCE_WAKEUP = (1ULL << 1),
};

/* what bpf_ringbuf_query() returns */
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
