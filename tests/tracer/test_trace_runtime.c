// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `usdtkit trace` and runtime providers (libusdtkit): argument names and
 * types come from the provider's metadata note, so strings, doubles and
 * signed integers decode without --args; a provider loaded after usdtkit
 * attached to a -p target is found by the maps rescan and traced; and a
 * provider that fires the moment its load returns loses no fire, under -p
 * and -c, trace and stat: the load announcement (tracer/announce.h).
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer_test_util.h"

/* Counts lines "rtp:req path="/index.html" size=512+i ratio=0.5 code=-i". */
static int count_good(const char *out, int max)
{
	char want[128];
	int n = 0;

	for (int i = 0; i < max; i++) {
		snprintf(want, sizeof(want),
			 " rtp:req path=\"/index.html\" size=%d ratio=0.5 code=%d\n", 512 + i, -i);
		if (strstr(out, want))
			n++;
	}
	return n;
}

static void runtime_command(void **state)
{
	char cmd[4200];
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-c", cmd, "rtp:*", NULL};
	struct tt_proc p;
	char *out;
	int good;

	/* loaded 300 ms after start, after usdtkit attached to the command */
	snprintf(cmd, sizeof(cmd), "%s 300 40 20", tt_fixture("trace_runtime"));
	assert_int_equal(tt_run(&p, argv, 60000), 0);
	out = tt_read(p.out_path);
	good = count_good(out, 40);
	printf("runtime provider under -c: %d of 40 fires decoded\n", good);
	if (good < 30)
		tt_dump(&p, "runtime -c");
	/* the first fires can precede the rescan that finds the new object */
	assert_true(good >= 30);
	assert_int_equal(tt_count_lines(out, " rtp:req "), good);
	free(out);
	tt_cleanup(&p);
}

static void runtime_late_pid(void **state)
{
	char *fix[] = {(char *)tt_fixture("trace_runtime"), "1500", "40", "20", NULL};
	char pid[32];
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-p", pid, "-w", "rtp:req", "--json", NULL};
	struct tt_proc f, p;
	char *out, *fout;
	size_t n;

	assert_int_equal(tt_start(&f, fix), 0);
	usleep(300 * 1000);
	fout = tt_read(f.out_path);
	assert_null(strstr(fout, "loaded")); /* not loaded yet when usdtkit attaches */
	free(fout);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	assert_int_equal(tt_wait(&f, 60000), 0);
	assert_int_equal(tt_wait(&p, 10000), 0);
	out = tt_read(p.out_path);
	n = tt_count_lines(out, "\"provider\":\"rtp\",\"name\":\"req\",\"args\":{\"path\":"
				"\"/index.html\",\"size\":5");
	printf("runtime provider loaded after attach: %zu of 40 fires\n", n);
	if (n < 30)
		tt_dump(&p, "late provider");
	assert_true(n >= 30);
	assert_non_null(strstr(out, "\"ratio\":0.5,\"code\":-39}}"));
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

#define NOW_FIRES 1000

/*
 * The fixture's load waits for the tracer's ack up to this long (the
 * library's default, 100 ms, is less than an emulated 6.1 kernel takes to
 * attach a perf-event uprobe): what is tested is that nothing is missed
 * once the tracer answered, not how fast it answers.
 */
static void patient_loads(void)
{
	setenv("USDTKIT_LOAD_WAIT_MS", "30000", 1);
}

/* trace -p PID -w: started before the load, every fire after it returns. */
static void announce_pid(void **state)
{
	char go[64], pid[32], nfires[16];
	char *fix[] = {(char *)tt_fixture("trace_runtime"), go, nfires, "0", "now", NULL};
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-v", "-p", pid, "-w", "rtp:req", NULL};
	struct tt_proc f, p;
	char *out;
	FILE *g;
	int good;

	patient_loads();

	snprintf(go, sizeof(go), "/tmp/usdtkit-announce-%d.go", (int)getpid());
	snprintf(nfires, sizeof(nfires), "%d", NOW_FIRES);
	unlink(go);
	assert_int_equal(tt_start(&f, fix), 0);
	snprintf(pid, sizeof(pid), "%d", f.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	/* the fixture loads only once usdtkit watches its libusdtkit */
	if (!tt_wait_for(p.err_path, "watching runtime provider loads", 60000))
		tt_dump(&p, "no watch");
	assert_true(tt_wait_for(p.err_path, "watching runtime provider loads", 0));
	g = fopen(go, "we");
	assert_non_null(g);
	fclose(g);
	assert_int_equal(tt_wait(&f, 60000), 0);
	unlink(go);
	assert_int_equal(tt_wait(&p, 10000), 0);
	out = tt_read(p.out_path);
	good = count_good(out, NOW_FIRES);
	printf("provider firing as its load returns, under trace -p -w: %d of %d\n", good,
	       NOW_FIRES);
	if (good != NOW_FIRES)
		tt_dump(&p, "announce -p");
	assert_int_equal(good, NOW_FIRES);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

/* -c: the command loads at once; trace and stat see every fire. */
static void announce_command(void **state)
{
	char cmd[4200];
	char *trace[] = {(char *)tt_usdtkit(), "trace", "-c", cmd, "rtp:req", NULL};
	char *stat[] = {(char *)tt_usdtkit(), "stat", "-c", cmd, "rtp:req", NULL};
	struct tt_proc p;
	char *out, *row;
	int good;

	patient_loads();

	snprintf(cmd, sizeof(cmd), "%s 0 %d 0 now", tt_fixture("trace_runtime"), NOW_FIRES);
	assert_int_equal(tt_run(&p, trace, 60000), 0);
	out = tt_read(p.out_path);
	good = count_good(out, NOW_FIRES);
	printf("provider loaded and fired at once by a -c command, trace: %d of %d\n", good,
	       NOW_FIRES);
	if (good != NOW_FIRES)
		tt_dump(&p, "announce -c trace");
	assert_int_equal(good, NOW_FIRES);
	free(out);
	tt_cleanup(&p);

	assert_int_equal(tt_run(&p, stat, 60000), 0);
	out = tt_read(p.out_path);
	row = strstr(out, "\nrtp:req ");
	if (!row || sscanf(row, " rtp:req %d", &good) != 1 || good != NOW_FIRES)
		tt_dump(&p, "announce -c stat");
	assert_non_null(row);
	assert_int_equal(good, NOW_FIRES);
	free(out);
	tt_cleanup(&p);
}

/*
 * trace --all, started before the process exists: a provider loaded and
 * fired at once by a process started later is traced whole. The copy of
 * libusdtkit the fixture links is named by $USDTKIT_LIBRARY (no process
 * maps it yet, and it is not the installed one).
 */
static void announce_all(void **state)
{
	char lib[4200], nfires[16];
	char *fix[] = {(char *)tt_fixture("trace_runtime"), "0", nfires, "0", "now", NULL};
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-v", "--all", "rtp:req", "-d", "120", NULL};
	const char *build = getenv("USDTKIT_BUILD_DIR");
	struct tt_proc f, p;
	char *out;
	int good;

	patient_loads();

	assert_non_null(build);
	snprintf(lib, sizeof(lib), "%s/lib/libusdtkit.so.0", build);
	snprintf(nfires, sizeof(nfires), "%d", NOW_FIRES);
	setenv("USDTKIT_LIBRARY", lib, 1);
	assert_int_equal(tt_start(&p, argv), 0);
	unsetenv("USDTKIT_LIBRARY");
	if (!tt_wait_for(p.err_path, "watching runtime provider loads", 60000))
		tt_dump(&p, "--all: no watch");
	assert_true(tt_wait_for(p.err_path, "watching runtime provider loads", 0));
	/* said once the watch is complete and the loop answers announcements */
	assert_true(tt_wait_for(p.err_path, "attached", 60000));
	assert_int_equal(tt_start(&f, fix), 0);
	assert_int_equal(tt_wait(&f, 60000), 0);
	/* the events are in the ring once the fixture is done: give the consumer a poll */
	usleep(500 * 1000);
	tt_signal(&p, SIGINT);
	if (tt_wait(&p, 60000))
		tt_dump(&p, "trace --all at exit");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	good = count_good(out, NOW_FIRES);
	printf("provider of a process started under trace --all: %d of %d\n", good, NOW_FIRES);
	if (good != NOW_FIRES)
		tt_dump(&p, "announce --all");
	assert_int_equal(good, NOW_FIRES);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runtime_command), cmocka_unit_test(runtime_late_pid),
		cmocka_unit_test(announce_pid),	   cmocka_unit_test(announce_command),
		cmocka_unit_test(announce_all),
	};
	int rc;

	if (!tt_usdtkit())
		return 1;
	rc = tt_bpf_permitted();
	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
