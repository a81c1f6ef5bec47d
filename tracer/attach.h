/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Attaching one BPF program to many uprobe locations, and detaching them
 * again quickly, with the two mechanisms kernels offer:
 *  - uprobe_multi links (kernel 6.6+): one link per object and syscall;
 *  - perf-event uprobes (every kernel): one perf event and link per
 *    location.
 * Every location carries its index as BPF cookie and its semaphore's file
 * offset as ref_ctr_offset, so the kernel raises semaphores while attached.
 *
 * Closing either kind waits for an RCU grace period inside the kernel, one
 * after the other when done from one thread: hundreds of links would take
 * many seconds. attach_set__close() closes them from many threads so the
 * waits overlap.
 */
#ifndef USDTKIT_TRACER_ATTACH_H
#define USDTKIT_TRACER_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;

/* Everything attached so far: link fds (uprobe_multi) and perf-event links. */
struct attach_set {
	int *fds;
	size_t nfds, cap_fds;
	struct bpf_link **links;
	size_t nlinks, cap_links;
};

/*
 * One uprobe_multi link of @prog_fd on @path for @cnt locations (@ref_ctr
 * may be NULL: no semaphores), filtered to @pid (<= 0: every process).
 * Returns 0 and keeps the link in @set, or a negative errno.
 */
int attach_set__multi(struct attach_set *set, int prog_fd, const char *path,
		      const uint64_t *offsets, const uint64_t *ref_ctr, const uint64_t *cookies,
		      size_t cnt, pid_t pid);
/* One perf-event uprobe. 0 or a negative errno. */
int attach_set__perf(struct attach_set *set, struct bpf_program *prog, const char *path,
		     uint64_t offset, uint64_t ref_ctr, uint64_t cookie, pid_t pid);
/* Detaches everything, in parallel. */
void attach_set__close(struct attach_set *set);
void attach_set__free(struct attach_set *set);

#endif
