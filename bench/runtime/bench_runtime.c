/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * bench-runtime: what runtime probes cost, side by side, in one run.
 *
 *   untraced usdt_probe__fire()         the header's inline check, and the
 *                                        exported function as FFI calls it
 *   usdt_probe__enabled()               inline and exported
 *   usdt_probe__fire_values()           untraced
 *   libstapsdt-style dispatch           a varargs function that peeks at the
 *                                        stub's first byte for int3 and
 *                                        switches on the argument count
 *                                        (the baseline, written here)
 *   provider load+unload, 100 probes    first (builds the image) and reloads,
 *                                        the unwatched announce check, and
 *                                        with a tracer watching (bench_load.c)
 *   traced fire, optimized nop vs 1-byte nop, under the same bpftrace
 *                                        program (@c = count()); needs root
 *
 * Usage: bench-runtime [-n ITERATIONS] [--no-traced] [--load-only]
 *   (bench/runtime/run_bench.sh: the load figures next to libstapsdt's)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <usdtkit/provider.h>

#include "bench_load.h"

extern char **environ;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Best of REPS runs: the machine is shared, the minimum is the cost. */
#define REPS 5
#define MEASURE(label, ...)                                               \
	do {                                                              \
		double best = 1e30;                                       \
		for (int r = 0; r < REPS; r++) {                          \
			double m_t0 = now_ns(), m_t;                      \
			for (long i = 0; i < iters / REPS; i++) {         \
				__VA_ARGS__;                              \
			}                                                 \
			m_t = (now_ns() - m_t0) / (double)(iters / REPS); \
			best = m_t < best ? m_t : best;                   \
		}                                                         \
		printf("%-44s %10.2f ns/call\n", label, best);            \
	} while (0)

/* ---- the libstapsdt-style baseline ---------------------------------- */

typedef void (*fn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct stap_like_probe {
	int argc;
	void *stub; /* first byte 0xcc while a tracer has a uprobe on it */
};

static __attribute__((noinline)) void stap_like_fire(struct stap_like_probe *p, ...)
{
	uint64_t a[6];
	va_list ap;

	if (*(volatile uint8_t *)p->stub != 0xcc)
		return;
	va_start(ap, p);
	for (int i = 0; i < p->argc; i++)
		a[i] = va_arg(ap, uint64_t);
	va_end(ap);
	switch (p->argc) {
	case 0:
		((void (*)(void))p->stub)();
		break;
	case 1:
		((void (*)(uint64_t))p->stub)(a[0]);
		break;
	case 2:
		((void (*)(uint64_t, uint64_t))p->stub)(a[0], a[1]);
		break;
	case 3:
		((void (*)(uint64_t, uint64_t, uint64_t))p->stub)(a[0], a[1], a[2]);
		break;
	default:
		((fn6)p->stub)(a[0], a[1], a[2], a[3], a[4], a[5]);
		break;
	}
}

/* ---- traced: bpftrace on both stubs ----------------------------------- */

static pid_t spawn_bpftrace(const char *script)
{
	char pid[16];
	char *argv[] = {"bpftrace", "-p", pid, "-e", (char *)script, NULL};
	posix_spawn_file_actions_t fa;
	pid_t child;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&child, "bpftrace", &fa, NULL, argv, environ))
		child = -1;
	posix_spawn_file_actions_destroy(&fa);
	return child;
}

static double traced_ns(struct usdt_probe *probe, long n)
{
	double t0;

	for (int i = 0; i < 1000; i++) /* the first hits optimize the probe */
		usdt_probe__fire(probe, (int64_t)i);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		usdt_probe__fire(probe, (int64_t)i);
	return (now_ns() - t0) / (double)n;
}

static void bench_traced(long n)
{
	const enum usdt_type one[] = {USDT_TYPE_INT64};
	struct usdt_provider_opts o1 = {.sz = sizeof(o1), .probe_nop = USDT_NOP_1};
	struct usdt_provider *opt = usdt_provider__new("bench_opt", NULL);
	struct usdt_provider *nop1 = usdt_provider__new("bench_nop1", &o1);
	struct usdt_probe *po, *p1;
	char script[512];
	double t0, c_opt, c_nop1;
	pid_t bt;

	po = usdt_provider__add_probe(opt, "hit", 1, one, NULL);
	p1 = usdt_provider__add_probe(nop1, "hit", 1, one, NULL);
	if (!po || !p1 || usdt_provider__load(opt) || usdt_provider__load(nop1)) {
		printf("traced: cannot set up providers: %s\n", usdt_strerror(errno));
		goto out;
	}
	if (geteuid() != 0) {
		printf("traced: skipped (attaching uprobes needs root)\n");
		goto out;
	}
	snprintf(script, sizeof(script),
		 "usdt:/proc/%d/fd/%d:bench_opt:hit { @c = count(); } "
		 "usdt:/proc/%d/fd/%d:bench_nop1:hit { @c = count(); }",
		 (int)getpid(), usdt_provider__fd(opt), (int)getpid(), usdt_provider__fd(nop1));
	bt = spawn_bpftrace(script);
	if (bt < 0) {
		printf("traced: skipped (bpftrace not found)\n");
		goto out;
	}
	t0 = now_ns();
	while (!(usdt_probe__enabled(po) && usdt_probe__enabled(p1)) && now_ns() - t0 < 30e9)
		usleep(10000);
	if (usdt_probe__enabled(po) && usdt_probe__enabled(p1)) {
		/* Interleaved rounds share the machine's noise; keep the best. */
		c_opt = c_nop1 = 1e30;
		for (int r = 0; r < REPS; r++) {
			double o = traced_ns(po, n / REPS), b = traced_ns(p1, n / REPS);

			c_opt = o < c_opt ? o : c_opt;
			c_nop1 = b < c_nop1 ? b : c_nop1;
		}
		printf("traced fire, %d-byte nop stub (optimized)  %10.1f ns/call\n",
		       usdt_provider__probe_nop(opt), c_opt);
		printf("traced fire, 1-byte nop stub (int3)        %10.1f ns/call\n", c_nop1);
		printf("ratio optimized / int3                     %10.2fx\n", c_opt / c_nop1);
	} else {
		printf("traced: skipped (bpftrace did not attach within 30 s)\n");
	}
	kill(bt, SIGINT);
	waitpid(bt, NULL, 0);
out:
	usdt_provider__free(opt);
	usdt_provider__free(nop1);
}

int main(int argc, char **argv)
{
	const enum usdt_type three[] = {USDT_TYPE_INT64, USDT_TYPE_STRING, USDT_TYPE_DOUBLE};
	struct usdt_value vals[3] = {{USDT_TYPE_INT64, {.i64 = 1}},
				     {USDT_TYPE_STRING, {.str = "x"}},
				     {USDT_TYPE_DOUBLE, {.f64 = 1.0}}};
	long iters = 100000000, traced_iters = 300000;
	bool traced = true, load_only = false;
	struct usdt_provider *prov;
	struct usdt_probe *probe;
	volatile long sink = 0;
	double t0, t;
	static uint8_t fake_stub[16] = {0x90, 0xc3};
	struct stap_like_probe sp = {3, fake_stub};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			iters = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--no-traced"))
			traced = false;
		else if (!strcmp(argv[i], "--load-only"))
			load_only = true;
		else {
			fprintf(stderr, "usage: %s [-n ITERATIONS] [--no-traced] [--load-only]\n",
				argv[0]);
			return 2;
		}
	}
	if (load_only) {
		bench_load(traced);
		return 0;
	}

	t0 = now_ns();
	prov = usdt_provider__new("bench", NULL);
	t = now_ns() - t0;
	probe = prov ? usdt_provider__add_probe(prov, "p", 3, three, NULL) : NULL;
	if (!probe || usdt_provider__load(prov)) {
		fprintf(stderr, "bench-runtime: setup failed: %s\n", usdt_strerror(errno));
		return 1;
	}
	printf("bench-runtime: %ld iterations (best of %d runs), untraced unless noted\n", iters,
	       REPS);
	printf("%-44s %10.3f ms (nop form %d)\n", "first usdt_provider__new (kernel detection)",
	       t / 1e6, usdt_provider__probe_nop(prov));

	MEASURE("usdt_probe__fire (inline check)", usdt_probe__fire(probe, (int64_t)i, "x", 1.0));
	MEASURE("usdt_probe__fire (exported function)",
		(usdt_probe__fire)(probe, (int64_t)i, "x", 1.0));
	MEASURE("usdt_probe__enabled (inline)", sink += usdt_probe__enabled(probe));
	MEASURE("usdt_probe__enabled (exported function)", sink += (usdt_probe__enabled)(probe));
	MEASURE("usdt_probe__fire_values", vals[0].i64 = i;
		sink += usdt_probe__fire_values(probe, vals, 3));
	MEASURE("baseline: libstapsdt-style varargs switch",
		stap_like_fire(&sp, (uint64_t)i, (uint64_t) "x", (uint64_t)1));
	usdt_provider__free(prov);

	bench_load(traced);
	if (traced)
		bench_traced(traced_iters);
	return sink == -1;
}
