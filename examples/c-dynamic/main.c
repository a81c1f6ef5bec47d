/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * example-c-dynamic: a "web server" that defines its USDT probes while it
 * runs, with libusdtkit, and fires them for a bounded number of fake
 * requests. Any USDT tracer sees them; see README.md for the commands.
 *
 *   example-c-dynamic [REQUESTS [INTERVAL_MS]]   (default 600 requests, 100 ms)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <usdtkit/provider.h>

static const char *const paths[] = {"/index.html", "/api/users", "/img/logo.png", "/missing"};

int main(int argc, char **argv)
{
	const enum usdt_type req_types[] = {USDT_TYPE_UINT64, USDT_TYPE_STRING, USDT_TYPE_INT32};
	const char *req_names[] = {"id", "path", "client_fd"};
	const enum usdt_type done_types[] = {USDT_TYPE_UINT64, USDT_TYPE_INT32, USDT_TYPE_DOUBLE,
					     USDT_TYPE_UINT64};
	const char *done_names[] = {"id", "status", "latency_ms", "bytes"};
	long requests = argc > 1 ? strtol(argv[1], NULL, 10) : 600;
	long interval_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	struct usdt_provider *prov;
	struct usdt_probe *start, *done;
	int err;

	prov = usdt_provider__new("webapp", NULL);
	if (!prov) {
		fprintf(stderr, "usdt_provider__new: %s\n", usdt_strerror(errno));
		return 1;
	}
	start = usdt_provider__add_probe(prov, "request_start", 3, req_types, req_names);
	{
		/* The extensible form: options structs grow, functions do not. */
		LIBUSDT_OPTS(usdt_probe_opts, o, .argc = 4, .types = done_types,
			     .arg_names = done_names);

		done = usdt_provider__add_probe_opts(prov, "request_done", &o);
	}
	if (!start || !done) {
		fprintf(stderr, "adding probes: %s\n", usdt_strerror(errno));
		usdt_provider__free(prov);
		return 1;
	}
	err = usdt_provider__load(prov);
	if (err) {
		fprintf(stderr, "usdt_provider__load: %s\n", usdt_strerror(err));
		usdt_provider__free(prov);
		return 1;
	}
	fprintf(stderr, "example-c-dynamic: pid %d, provider webapp loaded from /proc/%d/fd/%d\n",
		(int)getpid(), (int)getpid(), usdt_provider__fd(prov));

	for (long i = 0; i < requests; i++) {
		const char *path = paths[i % 4];
		int status = i % 4 == 3 ? 404 : 200;
		struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};

		/* Arguments are evaluated only while a tracer is attached. */
		usdt_probe__fire(start, (uint64_t)i, path, (int32_t)(i % 64));
		nanosleep(&ts, NULL);
		usdt_probe__fire(done, (uint64_t)i, status, (double)interval_ms + 0.25,
				 (uint64_t)(status == 200 ? 1024 + i : 0));
	}
	usdt_provider__free(prov);
	return 0;
}
