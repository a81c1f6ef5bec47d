/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The peer figure for bench-runtime's "load+unload, 100 probes": the same
 * provider (100 probes of 3 arguments) loaded and unloaded with
 * libstapsdt. Built by run_bench.sh against a libstapsdt source tree it is
 * given or fetches; nothing of libstapsdt is part of this repository.
 */
#include <stdio.h>
#include <time.h>

#include <libstapsdt.h>

#define NPROBES 100
#define ROUNDS 200

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	SDTProvider_t *p = providerInit("bench_load");
	double best = 1e30;
	char name[32];

	for (int i = 0; i < NPROBES && p; i++) {
		snprintf(name, sizeof(name), "probe_%d", i);
		if (!providerAddProbe(p, name, 3, int64, uint64, uint64))
			return 1;
	}
	if (!p || providerLoad(p) || providerUnload(p)) {
		fprintf(stderr, "load_libstapsdt: cannot load the provider\n");
		return 1;
	}
	for (int r = 0; r < 5; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < ROUNDS; i++) {
			if (providerLoad(p) || providerUnload(p)) {
				fprintf(stderr, "load_libstapsdt: load failed\n");
				return 1;
			}
		}
		t = (now_ns() - t0) / ROUNDS / 1e6;
		best = t < best ? t : best;
	}
	printf("%-44s %10.3f ms (mean of %d, best of 5)\n", "libstapsdt load+unload, 100 probes",
	       best, ROUNDS);
	providerDestroy(p);

	/* A fresh provider each time: init, 100 add, load, unload, destroy. */
	best = 1e30;
	for (int r = 0; r < 3; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < 50; i++) {
			SDTProvider_t *q = providerInit("bench_load");

			for (int k = 0; k < NPROBES && q; k++) {
				snprintf(name, sizeof(name), "probe_%d", k);
				providerAddProbe(q, name, 3, int64, uint64, uint64);
			}
			if (!q || providerLoad(q)) {
				fprintf(stderr, "load_libstapsdt: load failed\n");
				return 1;
			}
			providerUnload(q);
			providerDestroy(q);
		}
		t = (now_ns() - t0) / 50 / 1e6;
		best = t < best ? t : best;
	}
	printf("%-44s %10.3f ms (mean of 50, best of 3)\n",
	       "libstapsdt new+add 100+load+free, 100 probes", best);
	return 0;
}
