/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * bench-runtime's load figures: provider load+unload with 100 probes (the
 * first load, which builds the image, reloads, and a fresh provider built
 * and loaded each time), the cost of the
 * announce check that every load pays when no tracer watches, and load
 * while a tracer watches the announce probe and acks at once (a thread of
 * this process playing the tracer with a perf_event uprobe; root only),
 * then while the real `usdtkit trace -p` watches ($USDTKIT_BIN): not
 * interested in the provider, then attaching its 100 probes every load.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/runtime/announce_tracer.h"
#include "bench_load.h"

extern char **environ;

#define NPROBES 100
#define ROUNDS 200

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct usdt_provider *hundred(void)
{
	const enum usdt_type three[] = {USDT_TYPE_INT64, USDT_TYPE_STRING, USDT_TYPE_DOUBLE};
	struct usdt_provider *p = usdt_provider__new("bench_load", NULL);
	char name[32];

	for (int i = 0; i < NPROBES && p; i++) {
		snprintf(name, sizeof(name), "probe_%d", i);
		if (!usdt_provider__add_probe(p, name, 3, three, NULL)) {
			usdt_provider__free(p);
			return NULL;
		}
	}
	return p;
}

/* Mean load+unload of @rounds, best of @reps; < 0 on error. */
static double load_unload_ms(struct usdt_provider *p, int rounds, int reps)
{
	double best = 1e30;

	for (int r = 0; r < reps; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < rounds; i++) {
			if (usdt_provider__load(p) || usdt_provider__unload(p))
				return -1;
		}
		t = (now_ns() - t0) / rounds / 1e6;
		best = t < best ? t : best;
	}
	return best;
}

/* The unwatched announce check: one relaxed load of the semaphore and a branch. */
static double announce_check_ns(const volatile unsigned short *sema)
{
	long n = 50000000, hits = 0;
	double best = 1e30;

	for (int r = 0; r < 5; r++) {
		double t0 = now_ns(), t;

		for (long i = 0; i < n / 5; i++) {
			if (__builtin_expect(__atomic_load_n(sema, __ATOMIC_RELAXED) != 0, 0))
				hits++;
			__asm__ __volatile__("" ::: "memory");
		}
		t = (now_ns() - t0) / (double)(n / 5);
		best = t < best ? t : best;
	}
	return hits ? -1 : best;
}

/* The tracer thread: every announcement acked as soon as it is seen. */
struct watcher {
	int fd;
	void *ring;
	volatile int stop;
	long acks;
};

static void *watch(void *arg)
{
	struct watcher *w = arg;

	while (!w->stop) {
		uint64_t addr = at_next_announce(w->fd, w->ring, 100);
		uint64_t token;
		struct iovec l = {&token, sizeof(token)}, r;

		if (!addr)
			continue;
		token = ((const volatile struct usdt_announce *)(uintptr_t)addr)->token;
		r = (struct iovec){(void *)(uintptr_t)(addr + offsetof(struct usdt_announce, ack)),
				   sizeof(token)};
		if (process_vm_writev(getpid(), &l, 1, &r, 1, 0) == sizeof(token))
			w->acks++;
	}
	return NULL;
}

static void watched(struct usdt_provider *p, double unwatched)
{
	size_t ring_len = (1 + RING_PAGES) * 4096;
	struct watcher w = {.fd = -1, .ring = MAP_FAILED};
	const char *why = at_setup();
	pthread_t th;
	double ms;

	if (why || T.arg0_reg < 0 || !T.pc) {
		printf("%-44s skipped (%s)\n", "load+unload, tracer watching",
		       why ? why : "no probe");
		return;
	}
	w.fd = at_uprobe_open(T.lib, T.pc, T.sema, getpid(), true);
	if (w.fd < 0) {
		printf("%-44s skipped (uprobe: %s)\n", "load+unload, tracer watching",
		       strerror(errno));
		return;
	}
	w.ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, w.fd, 0);
	if (w.ring == MAP_FAILED || pthread_create(&th, NULL, watch, &w)) {
		printf("%-44s skipped (ring buffer)\n", "load+unload, tracer watching");
		goto out;
	}
	ms = load_unload_ms(p, 50, 3);
	w.stop = 1;
	pthread_join(th, NULL);
	printf("%-44s %10.3f ms (%ld acks; x%.1f unwatched)\n",
	       "load+unload, tracer watching (acks at once)", ms, w.acks, ms / unwatched);
out:
	if (w.ring != MAP_FAILED)
		munmap(w.ring, ring_len);
	close(w.fd);
}

/*
 * Load+unload while the real tracer watches: `usdtkit trace -p SELF -w
 * PROBE` (tracer/announce.c) scans each new object, attaches what PROBE
 * matches and acks. Started once the semaphore says it watches.
 */
static void watched_by_usdtkit(struct usdt_provider *p, const volatile unsigned short *sema,
			       double unwatched, const char *usdtkit, const char *probe,
			       const char *what)
{
	char pid[16];
	char *argv[] = {(char *)usdtkit, "trace", "-p",	       pid, "-w",
			(char *)probe,	 "-o",	  "/dev/null", NULL};
	posix_spawn_file_actions_t fa;
	pid_t child;
	double ms = -1;
	int i;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&child, usdtkit, &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		printf("%-44s skipped (cannot start %s)\n", what, usdtkit);
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < 20000 && !*sema; i++)
		usleep(1000);
	if (*sema)
		ms = load_unload_ms(p, 20, 3);
	kill(child, SIGINT);
	waitpid(child, NULL, 0);
	if (ms < 0)
		printf("%-44s skipped (usdtkit did not watch)\n", what);
	else
		printf("%-44s %10.3f ms (x%.1f unwatched)\n", what, ms, ms / unwatched);
}

/* A fresh provider each time: new, 100 add_probe, load, free (builds every image). */
static double fresh_ms(int rounds, int reps)
{
	double best = 1e30;

	for (int r = 0; r < reps; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < rounds; i++) {
			struct usdt_provider *p = hundred();

			if (!p || usdt_provider__load(p)) {
				usdt_provider__free(p);
				return -1;
			}
			usdt_provider__free(p);
		}
		t = (now_ns() - t0) / rounds / 1e6;
		best = t < best ? t : best;
	}
	return best;
}

void bench_load(bool traced)
{
	struct usdt_provider *p = hundred();
	const struct usdt_notes *n;
	const unsigned short *sema = NULL;
	double t0, first, steady, check;
	Dl_info info;

	if (!p) {
		printf("load: cannot set up the provider: %s\n", usdt_strerror(errno));
		return;
	}
	t0 = now_ns();
	if (usdt_provider__load(p) || usdt_provider__unload(p)) {
		printf("load: %s\n", usdt_strerror(errno));
		goto out;
	}
	first = (now_ns() - t0) / 1e6;
	steady = load_unload_ms(p, ROUNDS, 5);
	printf("%-44s %10.3f ms\n", "first load+unload, 100 probes (builds)", first);
	printf("%-44s %10.3f ms (mean of %d, best of 5)\n", "load+unload, 100 probes", steady,
	       ROUNDS);
	printf("%-44s %10.3f ms (mean of 50, best of 3)\n", "new+add 100+load+free, 100 probes",
	       fresh_ms(50, 3));

	/* The semaphore load tests: found like a tracer finds it, by its note. */
	if (dladdr((void *)usdt_provider__new, &info) && info.dli_fname) {
		n = usdt_notes__open_path(info.dli_fname, NULL);
		for (size_t i = 0; n && i < usdt_notes__count(n); i++) {
			const struct usdt_note *e = usdt_notes__get(n, i);

			if (!strcmp(e->name, "provider_load") && e->sema_addr)
				sema = (const unsigned short *)((uintptr_t)info.dli_fbase +
								e->sema_addr);
		}
		usdt_notes__free((struct usdt_notes *)n);
	}
	check = sema ? announce_check_ns(sema) : -1;
	if (check >= 0)
		printf("%-44s %10.2f ns (%.5f%% of a load)\n", "announce check, nobody watching",
		       check, check / (steady * 1e6) * 100);
	else
		printf("%-44s unavailable (no announce probe found)\n",
		       "announce check, nobody watching");
	if (traced && geteuid() == 0) {
		const char *usdtkit = getenv("USDTKIT_BIN");

		watched(p, steady);
		if (usdtkit && sema) {
			watched_by_usdtkit(p, sema, steady, usdtkit, "nomatch:*",
					   "load+unload, usdtkit trace -p watching");
			watched_by_usdtkit(p, sema, steady, usdtkit, "bench_load:*",
					   "load+unload, usdtkit trace -p attaching");
		} else {
			printf("%-44s skipped (set USDTKIT_BIN)\n",
			       "load+unload, usdtkit trace -p watching");
		}
	} else {
		printf("%-44s skipped (needs root)\n", "load+unload, tracer watching");
	}
out:
	usdt_provider__free(p);
}
