// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Target of the attach benchmark: loads N runtime providers ("bp0".."bpN-1",
 * one probe "hit"(i64) each, so N in-memory objects and N uprobe_multi links
 * or N perf-event uprobes), prints "loaded", then fires every probe once
 * every 10 ms until killed.
 * Usage: bench-attach-providers N
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <usdtkit/provider.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	enum usdt_type types[] = {USDT_TYPE_INT64};
	const char *names[] = {"i"};
	struct usdt_probe **probes;

	if (n <= 0) {
		fprintf(stderr, "usage: bench-attach-providers N\n");
		return 2;
	}
	probes = calloc(n, sizeof(*probes));
	if (!probes) {
		fprintf(stderr, "bench-attach-providers: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct usdt_provider *prov;
		char name[32];

		snprintf(name, sizeof(name), "bp%d", i);
		prov = usdt_provider__new(name, NULL);
		if (!prov ||
		    !(probes[i] = usdt_provider__add_probe(prov, "hit", 1, types, names)) ||
		    usdt_provider__load(prov)) {
			fprintf(stderr, "bench-attach-providers: provider %s: %s\n", name,
				strerror(errno));
			return 1;
		}
	}
	printf("loaded\n");
	fflush(stdout);
	for (int64_t k = 0;; k++) {
		for (int i = 0; i < n; i++)
			usdt_probe__fire(probes[i], k);
		usleep(10000);
	}
}
