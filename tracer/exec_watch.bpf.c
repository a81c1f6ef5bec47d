// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * --all: every exec, system-wide, on a ring (target_all.h). A raw
 * tracepoint, so no tracefs is needed; the process is not stopped.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "target_all.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

__u64 lost = 0;

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tp/sched_process_exec")
int exec_watch(__u64 *ctx)
{
	struct linux_binprm *bprm = (void *)ctx[2];
	struct exec_watch_msg *m = bpf_ringbuf_reserve(&execs, sizeof(*m), 0);

	if (!m) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	m->tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_probe_read_kernel_str(m->path, sizeof(m->path), BPF_CORE_READ(bprm, filename)) < 0)
		m->path[0] = 0;
	bpf_ringbuf_submit(m, 0);
	return 0;
}
