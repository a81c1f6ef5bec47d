/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Third-party USDT readers see runtime probes in a live process: a child
 * defines and loads a provider, then tplist-bpfcc -p, bpftrace -l -p and
 * gdb -p 'info probes' must list its probes. Each tool that is missing
 * (or cannot run here) is skipped with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/provider.h>

#include "runtime_util.h"

static pid_t child = -1;

/* The child: load "tooltest" with two probes, report, then idle. */
static void run_child(int wfd)
{
	const enum usdt_type t[] = {USDT_TYPE_INT32, USDT_TYPE_STRING};
	const char *n[] = {"n", "msg"};
	struct usdt_provider *p = usdt_provider__new("tooltest", NULL);
	struct usdt_probe *hello;
	char c = 'R';

	if (!p || !(hello = usdt_provider__add_probe(p, "hello", 2, t, n)) ||
	    !usdt_provider__add_probe(p, "bye", 0, NULL, NULL) || usdt_provider__load(p))
		_exit(1);
	if (write(wfd, &c, 1) != 1)
		_exit(1);
	for (int i = 0; i < 60 * 100; i++) { /* at most a minute */
		usdt_probe__fire(hello, i, "hi");
		usleep(10000);
	}
	usdt_provider__free(p);
	_exit(0);
}

static int setup(void **state)
{
	int fds[2];
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		close(fds[0]);
		run_child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1 || c != 'R') {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return 0;
}

static int teardown(void **state)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
}

static void test_tplist(void **state)
{
	char cmd[256], *out;
	int st = -1;

	if (!rt_have("tplist-bpfcc")) {
		RT_SKIP("tplist-bpfcc not installed\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "timeout 60 tplist-bpfcc -p %d 2>&1", (int)child);
	out = rt_run(cmd, &st);
	assert_non_null(out);
	if (st != 0) {
		char *why = NULL;

		if (!rt_baseline_ok("timeout 60 tplist-bpfcc -p $$ 2>&1", &why)) {
			RT_SKIP("tplist-bpfcc cannot run here: %s\n", why ? why : "?");
			free(why);
			free(out);
			skip();
		}
		free(why);
		fail_msg("tplist-bpfcc works, but not on the runtime's process: %s", out);
	}
	assert_non_null(strstr(out, "tooltest:hello"));
	assert_non_null(strstr(out, "tooltest:bye"));
	free(out);
}

static void test_bpftrace_list(void **state)
{
	char cmd[256], *out;
	int st = -1;

	if (!rt_have("bpftrace")) {
		RT_SKIP("bpftrace not installed\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "timeout 60 bpftrace -l 'usdt:*' -p %d 2>/dev/null", (int)child);
	out = rt_run(cmd, &st);
	assert_non_null(out);
	if (st != 0) {
		char *why = NULL;

		if (!rt_baseline_ok("timeout 60 bpftrace -l 'usdt:*' -p $$ 2>&1", &why)) {
			RT_SKIP("bpftrace -l cannot run here: %s\n", why ? why : "?");
			free(why);
			free(out);
			skip();
		}
		free(why);
		fail_msg("bpftrace -l works, but not on the runtime's process (status %d)", st);
	}
	assert_non_null(strstr(out, ":tooltest:hello\n"));
	assert_non_null(strstr(out, ":tooltest:bye\n"));
	free(out);
}

static void test_gdb_info_probes(void **state)
{
	char cmd[256], *out, *line;
	int st = -1;

	if (!rt_have("gdb")) {
		RT_SKIP("gdb not installed\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "timeout 120 gdb -nx -p %d -batch -ex 'info probes' 2>&1",
		 (int)child);
	out = rt_run(cmd, &st);
	assert_non_null(out);
	if (strstr(out, "ptrace: Operation not permitted")) {
		RT_SKIP("gdb may not attach here\n");
		free(out);
		skip();
	}
	line = strstr(out, "tooltest");
	if (!line)
		print_message("gdb said:\n%s\n", out);
	assert_non_null(line);
	assert_non_null(strstr(out, "hello"));
	assert_non_null(strstr(out, "bye"));
	/* gdb found the object through the link map: /proc/PID/fd/N. */
	snprintf(cmd, sizeof(cmd), "/proc/%d/fd/", (int)child);
	assert_non_null(strstr(out, cmd));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tplist),
		cmocka_unit_test(test_bpftrace_list),
		cmocka_unit_test(test_gdb_info_probes),
	};

	return rt_exit(cmocka_run_group_tests(tests, setup, teardown));
}
