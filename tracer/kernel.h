/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Kernel and libbpf interfaces newer than Debian 12's headers (linux-libc-dev
 * 6.1, libbpf 1.1.2), in one place: the numbers are the kernel's UAPI and
 * never change, so declaring them here lets one binary use them where the
 * running kernel has them and fall back where it does not.
 */
#ifndef USDTKIT_TRACER_KERNEL_H
#define USDTKIT_TRACER_KERNEL_H

#include <linux/types.h>

#define KERNEL_BPF_LINK_CREATE 28 /* enum bpf_cmd */
#define KERNEL_BPF_TRACE_UPROBE_MULTI 48 /* enum bpf_attach_type, kernel 6.6+ */

/* union bpf_attr for BPF_LINK_CREATE of a uprobe_multi link (kernel 6.6+). */
struct kernel_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 uflags;
	__u32 pid;
	__u32 pad;
};

#endif
