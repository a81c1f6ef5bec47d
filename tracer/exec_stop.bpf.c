// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Stops the -c command at every exec: a raw tracepoint (no tracefs needed)
 * on sched_process_exec sends SIGSTOP to the process that exec'd, which
 * takes effect on its way back to user space, before the first instruction
 * of the new program. The exec count tells user space that a stop it sees
 * is ours, not one the command received.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "exec_stop.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile __u32 target_tgid = 0;

__u64 execs = 0;

SEC("raw_tp/sched_process_exec")
int exec_stop(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&execs, 1);
	bpf_send_signal(EXEC_STOP_SIGSTOP);
	return 0;
}
