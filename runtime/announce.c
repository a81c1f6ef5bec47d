/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The load announcement: how a tracer that watches a process (or every
 * process) sees a runtime provider's probes from the first fire after
 * usdt_provider__load() returns.
 *
 * A runtime provider is a new object with a new inode: a tracer that
 * rescans /proc/PID/maps finds it only after some delay, and the fires in
 * between are lost. So the library announces each load through a probe
 * of its own, usdtkit:provider_load, compiled into libusdtkit with
 * <usdtkit/sdt.h>. A tracer attaches a uprobe to it by libusdtkit's path
 * (one attachment covers every process that maps the library, now or
 * later) with the semaphore's ref_ctr_offset, so the kernel raises the
 * semaphore in exactly the processes being watched.
 *
 * Protocol (docs/runtime-announce.md is the tracer's spec):
 *  1. Load maps the object and its semaphores, then checks the announce
 *     semaphore: zero (nobody watches) costs one load and a branch.
 *  2. Non-zero: take the process-wide announce lock, fill the static
 *     record (struct usdt_announce, provider.h) with a fresh token, the
 *     object's path, fd and load bias, and fire the probe with the
 *     record's address, provider name, path, token, fd and base.
 *  3. Wait until record.ack == token, at most the provider's bound
 *     (USDT_LOAD_WAIT_MS_DEFAULT = 100 ms unless told otherwise). The
 *     tracer, after attaching its uprobes to the new object (or deciding
 *     it is not interested), writes the token into record.ack with
 *     process_vm_writev() or /proc/PID/mem. No ptrace stop, no signal, no
 *     bpf_probe_write_user(): the tracer already has ptrace-read access
 *     (it reads the target's memory for string arguments), and the same
 *     access lets it write.
 *  4. Load returns; every fire from then on hits the tracer's uprobes.
 *
 * Why polling: the tracer cannot wake a futex in the target's private
 * memory, and a shared fd would need a channel the tracer does not have.
 * The waiter spins briefly (an ack usually comes within a millisecond),
 * then sleeps with a doubling interval capped at 1 ms, so a slow ack costs
 * at most about 1 ms more than the tracer took, and the CPU stays idle.
 *
 * Why the record is static and announcements are serialized: a tracer
 * may ack after the bound has passed; its write must land in memory that
 * is still the record, never a stack or freed heap. One record means one
 * outstanding token; the lock is taken with the same deadline, so even a
 * lock held by a thread that vanished across fork() bounds the wait.
 *
 * Why 100 ms: attaching to a new provider (open the object, read its
 * notes, one uprobe per probe) takes a few milliseconds on a loaded
 * machine; 100 ms leaves an order of magnitude of margin for a tracer
 * busy with other events, and bounds what a hung or buggy tracer can
 * cost a loading program (only while that tracer holds the announce
 * probe attached).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

USDT_SEMAPHORE(usdtkit, provider_load);

/* The record's layout is ABI for tracers (docs/runtime-announce.md). */
_Static_assert(offsetof(struct usdt_announce, token) == 8, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, ack) == 16, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, base) == 24, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, pid) == 32, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, fd) == 36, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, provider) == 40, "announce ABI");
_Static_assert(offsetof(struct usdt_announce, path) == 104, "announce ABI");
_Static_assert(sizeof(struct usdt_announce) == 232, "announce ABI");

#define WAIT_MS_MAX 60000
#define SPINS 64
#define SLEEP_MIN_NS 20000L
#define SLEEP_MAX_NS 1000000L

static pthread_mutex_t announce_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t announce_seq; /* under announce_lock */
/* The tracer writes .ack from another process: never moved, never freed. */
static struct usdt_announce announce_rec;

int usdt_announce__parse_ms(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > WAIT_MS_MAX)
		return -1;
	return (int)v;
}

int usdt_announce__wait_ms(int opt)
{
	int env;

	if (opt < 0)
		return 0;
	if (opt > 0)
		return opt > WAIT_MS_MAX ? WAIT_MS_MAX : opt;
	env = usdt_announce__parse_ms(secure_getenv("USDTKIT_LOAD_WAIT_MS"));
	return env >= 0 ? env : USDT_LOAD_WAIT_MS_DEFAULT;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static bool acked(uint64_t token)
{
	return __atomic_load_n(&announce_rec.ack, __ATOMIC_ACQUIRE) == token;
}

/* Returns 0 when acknowledged, -ETIMEDOUT when the bound passed first. */
static int wait_ack(uint64_t token, const struct timespec *deadline)
{
	long sleep_ns = SLEEP_MIN_NS;

	for (int i = 0; i < SPINS; i++) {
		if (acked(token))
			return 0;
		cpu_relax();
	}
	while (!acked(token)) {
		struct timespec ts = {0, sleep_ns};

		if (passed(deadline))
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
		if (sleep_ns < SLEEP_MAX_NS)
			sleep_ns *= 2;
	}
	return 0;
}

int usdt_announce__load(const char *provider, int fd, const char *path, uintptr_t base, int wait_ms)
{
	struct usdt_announce *r = &announce_rec;
	struct timespec deadline;
	uint64_t token;
	int err;

	deadline_after(&deadline, wait_ms);
	err = -pthread_mutex_clocklock(&announce_lock, CLOCK_MONOTONIC, &deadline);
	if (err)
		return err;
	if (!USDT_IS_ACTIVE(usdtkit, provider_load)) { /* the tracer left meanwhile */
		err = 0;
		goto out;
	}
	token = ++announce_seq;
	r->version = USDT_ANNOUNCE_VERSION;
	r->size = sizeof(*r);
	r->base = base;
	r->pid = (int32_t)getpid();
	r->fd = fd;
	snprintf(r->provider, sizeof(r->provider), "%s", provider);
	snprintf(r->path, sizeof(r->path), "%s", path);
	__atomic_store_n(&r->token, token, __ATOMIC_RELEASE);
	USDT_TYPED_WITH_SEMAPHORE(usdtkit, provider_load, USDT_ARG(ptr, announce, r),
				  USDT_ARG(str, provider, r->provider),
				  USDT_ARG(str, path, r->path), USDT_ARG(u64, token, token),
				  USDT_ARG(i32, fd, fd), USDT_ARG(u64, base, (uint64_t)base));
	err = wait_ms > 0 ? wait_ack(token, &deadline) : 0;
out:
	pthread_mutex_unlock(&announce_lock);
	return err;
}
