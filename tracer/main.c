/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * usdtkit: entry point. Dispatches to a subcommand; every subcommand prints
 * data on stdout, diagnostics on stderr, and returns an exit status from
 * commands.h so scripts can tell "nothing matched" from "failed".
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lang.h"

#ifndef USDTKIT_VERSION
#define USDTKIT_VERSION "0.1.0"
#endif

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"list", cmd_list, "list USDT probes in files, a process or the whole system"},
	{"trace", cmd_trace, "attach to probes and stream decoded events"},
	{"stat", cmd_stat, "aggregate probe hits in the kernel: counts, histograms, latency"},
	{"flow", cmd_flow, "language runtimes: method calls by depth, with durations"},
	{"calls", cmd_calls, "language runtimes: call counts and latency per method"},
	{"gc", cmd_gc, "language runtimes: garbage collections and their durations"},
	{"objects", cmd_objects, "language runtimes: allocations per class"},
	{"threads", cmd_threads, "language runtimes: thread start/stop with names"},
	{"top", cmd_top, "language runtimes: calls/s, gc/s, objects/s, threads per interval"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: usdtkit COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'usdtkit COMMAND --help' describes a command, with examples.\n"
		     "examples:\n"
		     "  usdtkit list /usr/lib/x86_64-linux-gnu/libstdc++.so.6\n"
		     "  usdtkit list -p 1234 -v\n"
		     "  usdtkit trace -p 1234 'myapp:request_*'\n"
		     "  usdtkit stat -c 'python3.11 app.py' 'python:gc__*'\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") ||
	    !strcmp(argv[1], "version")) {
		printf("usdtkit %s\n", USDTKIT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "usdtkit: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
