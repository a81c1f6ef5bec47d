/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * --all: every process, now and later. The session scans each process's
 * objects once at the start; the engine attaches without a pid filter, so
 * an object's uprobes are in every process that maps it, now or later.
 * What is new after that is learnt from events, not found by polling alone:
 *
 *  - exec: a raw tracepoint on sched_process_exec (exec_watch.bpf.c, no
 *    tracefs needed) puts each exec'd process on a ring with the name of
 *    its executable; the executable is scanned at once (even when the
 *    process has exited since: the next run of it is traced from its first
 *    instruction), the process too, and again a little later, after its
 *    loader has mapped the libraries. A program that fires in its first
 *    milliseconds, from an object no earlier process mapped, can lose
 *    those first fires;
 *  - runtime providers: the load announcement (announce.h), watched in
 *    every process;
 *  - everything else (a dlopen of an object no process mapped before): a
 *    sweep of /proc every TARGET_ALL_SWEEP_MS.
 */
#ifndef USDTKIT_TRACER_TARGET_ALL_H
#define USDTKIT_TRACER_TARGET_ALL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EXEC_WATCH_PATH 256

/* A process that exec'd, as exec_watch.bpf.c reports it. */
struct exec_watch_msg {
	__u32 tgid;
	char path[EXEC_WATCH_PATH]; /* the name given to execve(), maybe relative */
};

#ifndef __VMLINUX_H__
#include <stdint.h>
#include <sys/types.h>

#define TARGET_ALL_SWEEP_MS 2000
/* after an exec: rescans at these delays (the loader, then early dlopens) */
#define TARGET_ALL_RESCAN_MS \
	{                    \
		20, 200      \
	}

struct target_all;

/*
 * Called per process to scan, with its executable's absolute path when an
 * exec reported it (else NULL); returns new locations or a negative errno.
 */
typedef int (*target_all_fn)(void *ctx, pid_t pid, const char *exe);

/* Loads the exec watch. 0 or a negative errno. */
int target_all__new(struct target_all **out);
void target_all__free(struct target_all *t);
/* The exec ring's fd (epoll-able). */
int target_all__ring_fd(const struct target_all *t);
/*
 * Calls @fn for every process now (not usdtkit itself); `list --all` walks
 * with it too. Returns the sum of
 * what @fn returned for the processes it could read, or a negative errno
 * when /proc cannot be read; *@skipped counts the others.
 */
int target_all__each(target_all_fn fn, void *ctx, size_t *skipped);
/*
 * Without waiting: calls @fn for processes that exec'd since the last
 * call, for those due for a rescan, and for all of them when a sweep is
 * due. Returns the sum of @fn's results (new locations).
 */
int target_all__poll(struct target_all *t, target_all_fn fn, void *ctx);
#endif

#endif
