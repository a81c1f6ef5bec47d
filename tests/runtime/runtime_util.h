/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Helpers shared by the runtime tests: run a command, check for tools. */
#ifndef USDTKIT_TESTS_RUNTIME_UTIL_H
#define USDTKIT_TESTS_RUNTIME_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs @cmd through the shell; returns its stdout (malloc'd) and status. */
static inline char *rt_run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "re");
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	size_t n;
	int st;

	if (!f || !out) {
		if (f)
			pclose(f);
		free(out);
		return NULL;
	}
	while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *m = realloc(out, cap * 2);

			if (!m)
				break;
			out = m;
			cap *= 2;
		}
	}
	out[len] = '\0';
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static inline int rt_have(const char *tool)
{
	char cmd[256];
	int st = -1;
	char *out;

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	out = rt_run(cmd, &st);
	free(out);
	return st == 0;
}

/*
 * Whether @cmd (a baseline that needs nothing from usdtkit, such as a
 * tool run against this shell) succeeds. A tool failing on our objects is
 * a test failure only when its baseline works: otherwise the environment
 * is to blame and the test skips. On failure *why gets the output.
 */
static inline int rt_baseline_ok(const char *cmd, char **why)
{
	int st = -1;
	char *out = rt_run(cmd, &st);

	if (why)
		*why = out;
	else
		free(out);
	return st == 0;
}

/*
 * Says why a test is about to skip() and remembers it, so main() exits 77
 * (ctest's SKIP) instead of reporting a silent pass.
 */
static int rt_skipped;
#define RT_SKIP(...)                                 \
	do {                                         \
		print_message("skip: " __VA_ARGS__); \
		rt_skipped = 1;                      \
	} while (0)

static inline int rt_exit(int failed)
{
	return failed ? failed : rt_skipped ? 77 : 0;
}

/*
 * Stops a tool started by a test: SIGINT (so it detaches cleanly), then
 * SIGKILL if it has not exited within 10 s, so a tool stuck under load
 * fails the test instead of hanging it.
 */
static inline int rt_stop(pid_t pid)
{
	int st = 0;

	kill(pid, SIGINT);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return st;
}

#endif
