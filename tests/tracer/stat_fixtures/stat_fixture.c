// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Fixture of the `usdtkit stat` tests: fires sys/sdt.h probes with known
 * distributions, so the tests can expect exact counts and buckets.
 *
 *   stat_fixture [--wait-signal] dist|latency-tid|latency-match|slow
 *   stat_fixture dlopen LIBRARY
 *
 * dist: stat:value(long) over VALUES (below), stat:size(unsigned long)
 * over SIZES, stat:named(char *, long) over NAMES, stat:other() 10 times.
 * latency-tid: two threads, each 5 x (req_start, 2 ms, req_done) and
 * 5 x (req_start, 20 ms, req_done), ids unique per pair.
 * latency-match: one thread, requests interleaved so that only the id
 * pairs them: start(a) start(b) 2 ms done(b) 18 ms done(a), 5 times.
 * slow: stat:value(1) 30 times, 20 ms apart (for --interval).
 * dlopen: loads LIBRARY (stat_lib.c), waits until its probe's semaphore
 * shows it is traced, then fires statlib:late over LATE_VALUES.
 * --wait-signal: print "ready PID" and wait for SIGUSR1 before firing
 * (the test attaches with -p meanwhile).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

/* value, times fired; keep in sync with test_stat.c */
static const struct {
	long v;
	int n;
} VALUES[] = {{-5, 2}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {5, 5}, {100, 6}, {1000, 7}, {1L << 40, 1}};
static const struct {
	unsigned long v;
	int n;
} SIZES[] = {{4096, 3}, {10, 2}};
static const struct {
	const char *s;
	int n;
} NAMES[] = {{"alpha", 3}, {"beta", 5}, {"gamma", 1}};

static const long LATE_VALUES[] = {1, 2, 2, 3, 3, 3, 100};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts))
		;
}

static void dist(void)
{
	for (size_t i = 0; i < sizeof(VALUES) / sizeof(VALUES[0]); i++)
		for (int k = 0; k < VALUES[i].n; k++) {
			volatile long v = VALUES[i].v;

			DTRACE_PROBE1(stat, value, v);
		}
	for (size_t i = 0; i < sizeof(SIZES) / sizeof(SIZES[0]); i++)
		for (int k = 0; k < SIZES[i].n; k++) {
			volatile unsigned long v = SIZES[i].v;

			DTRACE_PROBE1(stat, size, v);
		}
	for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++)
		for (int k = 0; k < NAMES[i].n; k++) {
			const char *volatile s = NAMES[i].s;
			volatile long n = k;

			DTRACE_PROBE2(stat, named, s, n);
		}
	for (int k = 0; k < 10; k++)
		DTRACE_PROBE(stat, other);
}

static void *latency_thread(void *arg)
{
	long base = (long)arg;

	for (int i = 0; i < 10; i++) {
		volatile long id = base + i;

		DTRACE_PROBE1(stat, req_start, id);
		sleep_ms(i < 5 ? 2 : 20);
		DTRACE_PROBE1(stat, req_done, id);
	}
	return NULL;
}

static void latency_match(void)
{
	for (long i = 0; i < 5; i++) {
		volatile long a = 1000 + 2 * i, b = 1001 + 2 * i;

		DTRACE_PROBE1(stat, req_start, a);
		DTRACE_PROBE1(stat, req_start, b);
		sleep_ms(2);
		DTRACE_PROBE1(stat, req_done, b);
		sleep_ms(18);
		DTRACE_PROBE1(stat, req_done, a);
	}
}

static int late_library(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	int (*attached)(void);
	void (*fire)(long);
	int waited = 0;

	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return 1;
	}
	*(void **)&attached = dlsym(h, "statlib_attached");
	*(void **)&fire = dlsym(h, "statlib_fire");
	if (!attached || !fire) {
		fprintf(stderr, "%s: statlib symbols missing\n", path);
		return 1;
	}
	while (!attached()) {
		if (waited++ > 30000) {
			fprintf(stderr, "statlib:late was never attached\n");
			return 3;
		}
		sleep_ms(1);
	}
	sleep_ms(50); /* perf-event uprobes get their program just after the semaphore */
	for (size_t i = 0; i < sizeof(LATE_VALUES) / sizeof(LATE_VALUES[0]); i++)
		fire(LATE_VALUES[i]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode;
	pthread_t t[2];
	sigset_t set;
	int sig, a = 1;

	if (argc > 1 && !strcmp(argv[1], "--wait-signal")) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (sigwait(&set, &sig))
			return 1;
		a++;
	}
	mode = argc > a ? argv[a] : "dist";
	if (!strcmp(mode, "dlopen") && argc > a + 1)
		return late_library(argv[a + 1]);
	if (!strcmp(mode, "dist")) {
		dist();
	} else if (!strcmp(mode, "latency-tid")) {
		for (long i = 0; i < 2; i++)
			if (pthread_create(&t[i], NULL, latency_thread, (void *)(i * 100)))
				return 1;
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	} else if (!strcmp(mode, "latency-match")) {
		latency_match();
	} else if (!strcmp(mode, "slow")) {
		for (int i = 0; i < 30; i++) {
			volatile long v = 1;

			DTRACE_PROBE1(stat, value, v);
			sleep_ms(20);
		}
	} else {
		fprintf(stderr,
			"usage: stat_fixture [--wait-signal] dist|latency-tid|latency-match|slow\n");
		return 2;
	}
	return 0;
}
