/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * perf-target: a process with one runtime provider for the perf test
 * (perf.sh). Loads provider PROVIDER with probe "tick" (u64 n), from a
 * memfd or (with "file") from the fallback file, prints one line
 * "PID PATH" once loaded, then fires tick every millisecond for SECONDS
 * (default 30) or until killed.
 *
 *   perf-target PROVIDER memfd|file [SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <usdtkit/provider.h>

int main(int argc, char **argv)
{
	const enum usdt_type t[] = {USDT_TYPE_UINT64};
	const char *n[] = {"n"};
	struct usdt_provider_opts o = {.sz = sizeof(o)};
	struct usdt_provider *prov;
	struct usdt_probe *tick;
	char link[64], path[256];
	struct timespec ms = {0, 1000000};
	ssize_t len;
	uint64_t i = 0, fires;
	int err, fd;

	if (argc < 3 || argc > 4 || (strcmp(argv[2], "memfd") && strcmp(argv[2], "file"))) {
		fprintf(stderr, "usage: perf-target PROVIDER memfd|file [SECONDS]\n");
		return 2;
	}
	fires = 1000 * (uint64_t)(argc > 3 ? strtoul(argv[3], NULL, 10) : 30);
	o.no_memfd = !strcmp(argv[2], "file");
	prov = usdt_provider__new(argv[1], &o);
	if (!prov) {
		fprintf(stderr, "perf-target: provider: %s\n", usdt_strerror(errno));
		return 1;
	}
	tick = usdt_provider__add_probe(prov, "tick", 1, t, n);
	err = tick ? usdt_provider__load(prov) : -errno;
	if (err) {
		fprintf(stderr, "perf-target: load: %s\n", usdt_strerror(err));
		usdt_provider__free(prov);
		return 1;
	}
	fd = usdt_provider__fd(prov);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	path[len > 0 ? len : 0] = '\0';
	if (o.no_memfd)
		printf("%d %s\n", (int)getpid(), path);
	else
		printf("%d /proc/%d/fd/%d\n", (int)getpid(), (int)getpid(), fd);
	fflush(stdout);
	while (i < fires) {
		usdt_probe__fire(tick, ++i);
		nanosleep(&ms, NULL);
	}
	usdt_provider__free(prov);
	return 0;
}
