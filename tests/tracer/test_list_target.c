/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A process for the `usdtkit list -p` tests. It has probes of its own and,
 * on command (one line on stdin, one reply line on stdout), dlopen()s a
 * library or loads a usdtkit runtime provider — after it started, as the
 * tests require:
 *   dlopen PATH      -> "ok" | "err MESSAGE"
 *   provider LIBPATH -> "ok" | "err MESSAGE" (LIBPATH: libusdtkit.so)
 *   ping             -> "ok"
 * EOF or "exit" ends it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sdt.h>

#include <usdtkit/provider.h>

static int load_provider(const char *lib)
{
	typeof(usdt_provider__new) *new_fn;
	typeof(usdt_provider__add_probe) *add_fn;
	typeof(usdt_provider__load) *load_fn;
	static const enum usdt_type types[] = {USDT_TYPE_STRING, USDT_TYPE_INT64};
	static const char *const names[] = {"path", "size"};
	struct usdt_provider *prov;
	void *h = dlopen(lib, RTLD_NOW);

	if (!h) {
		printf("err %s\n", dlerror());
		return -1;
	}
	new_fn = (typeof(new_fn))dlsym(h, "usdt_provider__new");
	add_fn = (typeof(add_fn))dlsym(h, "usdt_provider__add_probe");
	load_fn = (typeof(load_fn))dlsym(h, "usdt_provider__load");
	if (!new_fn || !add_fn || !load_fn) {
		printf("err runtime API missing in %s\n", lib);
		return -1;
	}
	prov = new_fn("listtest", NULL);
	if (!prov || !add_fn(prov, "request", 2, types, names) ||
	    !add_fn(prov, "tick", 0, NULL, NULL)) {
		printf("err provider: %s\n", strerror(errno));
		return -1;
	}
	if (load_fn(prov)) {
		printf("err load: %s\n", strerror(errno));
		return -1;
	}
	printf("ok\n");
	return 0; /* the provider stays loaded until the process exits */
}

int main(int argc, char **argv)
{
	char line[4096];

	setvbuf(stdout, NULL, _IOLBF, 0);
	DTRACE_PROBE1(listtarget, start, argc);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		DTRACE_PROBE1(listtarget, command, line);
		if (!strncmp(line, "dlopen ", 7)) {
			if (dlopen(line + 7, RTLD_NOW))
				printf("ok\n");
			else
				printf("err %s\n", dlerror());
		} else if (!strncmp(line, "provider ", 9)) {
			load_provider(line + 9);
		} else if (!strcmp(line, "ping")) {
			printf("ok\n");
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("err unknown command\n");
		}
	}
	DTRACE_PROBE(listtarget, stop);
	return 0;
}
