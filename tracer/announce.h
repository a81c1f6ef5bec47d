/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The tracer's half of the runtime providers' load announcement
 * (docs/runtime-announce.md; runtime/announce.c is the library's half).
 *
 * libusdtkit fires usdtkit:provider_load inside usdt_provider__load(),
 * before it returns, and waits (bounded, 100 ms by default) until a tracer
 * writes the announcement's token back. A session with a target (-p, -c)
 * attaches announce.bpf.c to that probe in every copy of libusdtkit the
 * target maps; the program forwards {tgid, record address, token, fd} on
 * a ring. The session then scans the new object (/proc/TGID/fd/FD),
 * attaches its probes and acks, so not one fire after load returns is
 * missed, where a rescan of /proc/PID/maps would come up to a poll period
 * late. A target without libusdtkit costs nothing: nothing is attached.
 *
 * The watch runs its own engine (PROBE "usdtkit:provider_load", the
 * target's pid filter), so lowering, semaphores and attach methods are the
 * engine's: the program reads its arguments like every other one.
 */
#ifndef USDTKIT_TRACER_ANNOUNCE_H
#define USDTKIT_TRACER_ANNOUNCE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* One announcement, as the BPF program forwards it. */
struct announce_msg {
	__u32 tgid; /* in the tracer's pid namespace */
	__s32 fd; /* the new object's fd in the target */
	__u64 record; /* address of the target's struct usdt_announce */
	__u64 token; /* to write back at record + offsetof(ack) */
};

#define ANNOUNCE_MAX_LOCS 16 /* copies of libusdtkit one target maps */

#ifndef __VMLINUX_H__
#include <stdbool.h>
#include <sys/types.h>

struct engine;
struct announce;

/*
 * A watch of @pid's announcements (-1: every process's; @multi:
 * uprobe_multi links, as the session's). Nothing is loaded until announce__scan() finds libusdtkit.
 * 0 or a negative errno.
 */
int announce__new(pid_t pid, bool multi, const char *who, bool verbose, struct announce **out);
void announce__free(struct announce *a);
/* The watch's engine: add a -c command's objects (its ldd list) to it before a scan. */
struct engine *announce__engine(struct announce *a);
/*
 * Also watches the copies a target may map later (the Python binding
 * dlopen()s one at import): the installed libusdtkit.so.0 and
 * $USDTKIT_LIBRARY (a -c command inherits it; the bindings load it first;
 * with --all it names a copy no process maps yet). A copy not mapped yet
 * is watched from its first mapping on. 0 or -ENOMEM.
 */
int announce__add_usual_copies(struct announce *a);
/*
 * Finds copies of libusdtkit not watched yet (in the added objects and,
 * with @pid > 0, that process's maps) and attaches to them. Returns the
 * number of new watches, or a negative errno.
 */
int announce__scan(struct announce *a, pid_t pid);
/* The ring's fd (epoll-able) once something is watched, else -1. */
int announce__ring_fd(const struct announce *a);
/*
 * Calls @fn for each announcement pending on the ring (without waiting).
 * @fn returns 0 to go on. Returns 0 or a negative errno.
 */
typedef int (*announce_fn)(void *ctx, const struct announce_msg *m);
int announce__consume(struct announce *a, announce_fn fn, void *ctx);
/*
 * Ends the target's wait for announcement @m: writes its token into the
 * record. 0, or a negative errno (-ESRCH: the process is gone, not an
 * error for the caller).
 */
int announce__ack(const struct announce_msg *m);
#endif

#endif
