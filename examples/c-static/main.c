/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * example-c-static: a fake request handler with compile-time USDT probes
 * from <usdtkit/sdt.h>. No library, no run-time setup: the probes are
 * nops in the code and notes in the file, so any tracer finds them with
 * the program stopped or running.
 *
 *   store:request_start(id:u64, path:str, client_fd:i32)
 *   store:request_done(id:u64, status:i32, latency_ms:f64, bytes:u64)
 *   store:stats(served:u64, errors:u64, summary:str)  semaphore-guarded:
 *       the summary text is formatted only while a tracer is attached
 *
 * Usage: example-c-static [REQUESTS [INTERVAL_MS]]  (default 100 x 50 ms)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Plain "8@" specs for doubles: bcc and bpftrace 0.17 reject a probe list
 * with "8f@". usdtkit's tracer still decodes latency_ms as a double, from
 * the typed metadata note.
 */
#define USDT_FLOAT_MARKER 0
#include <usdtkit/sdt.h>

USDT_SEMAPHORE(store, stats);

struct request {
	uint64_t id;
	int client_fd;
	char path[64];
};

struct totals {
	uint64_t served;
	uint64_t errors;
	uint64_t bytes;
	double slowest_ms;
};

static const char *const paths[] = {
	"/index.html", "/cart", "/checkout", "/api/items?page=2", "/static/app.js", "/missing",
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Formatted only when store:stats is traced: see main(). */
static const char *summarize(const struct totals *t, char *buf, size_t size)
{
	snprintf(buf, size, "served=%llu errors=%llu bytes=%llu slowest=%.2fms",
		 (unsigned long long)t->served, (unsigned long long)t->errors,
		 (unsigned long long)t->bytes, t->slowest_ms);
	return buf;
}

static int handle(const struct request *req, uint64_t *bytes)
{
	size_t len = strlen(req->path);

	/* a little fake work whose duration depends on the request */
	sleep_ms((long)(req->id % 4));
	if (!strcmp(req->path, "/missing")) {
		*bytes = 0;
		return 404;
	}
	if (req->id % 17 == 16) {
		*bytes = 0;
		return 500;
	}
	*bytes = 512 + len * 97 + req->id % 1024;
	return 200;
}

int main(int argc, char **argv)
{
	long requests = argc > 1 ? atol(argv[1]) : 100;
	long interval = argc > 2 ? atol(argv[2]) : 50;
	struct totals t = {0};
	char summary[128];

	if (argc > 3 || requests < 0 || interval < 0) {
		fprintf(stderr, "usage: %s [REQUESTS [INTERVAL_MS]]\n", argv[0]);
		return 2;
	}
	fprintf(stderr, "example-c-static: pid %d, %ld requests every %ld ms\n", (int)getpid(),
		requests, interval);

	for (long i = 0; i < requests; i++) {
		struct request req = {.id = (uint64_t)i + 1, .client_fd = 5 + (int)(i % 3)};
		double start, latency;
		uint64_t bytes;
		int status;

		snprintf(req.path, sizeof(req.path), "%s",
			 paths[i % (long)(sizeof(paths) / sizeof(paths[0]))]);
		USDT_TYPED(store, request_start, USDT_ARG(u64, id, req.id),
			   USDT_ARG(str, path, req.path), USDT_ARG(i32, client_fd, req.client_fd));

		start = now_ms();
		status = handle(&req, &bytes);
		latency = now_ms() - start;

		USDT_TYPED(store, request_done, USDT_ARG(u64, id, req.id),
			   USDT_ARG(i32, status, status), USDT_ARG(f64, latency_ms, latency),
			   USDT_ARG(u64, bytes, bytes));

		t.served++;
		t.errors += status >= 400;
		t.bytes += bytes;
		if (latency > t.slowest_ms)
			t.slowest_ms = latency;
		/* the arguments, summarize() included, run only while traced */
		if ((i + 1) % 10 == 0)
			USDT_TYPED_WITH_SEMAPHORE(
				store, stats, USDT_ARG(u64, served, t.served),
				USDT_ARG(u64, errors, t.errors),
				USDT_ARG(str, summary, summarize(&t, summary, sizeof(summary))));
		sleep_ms(interval);
	}
	printf("%s\n", summarize(&t, summary, sizeof(summary)));
	return 0;
}
