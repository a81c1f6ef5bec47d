/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Tests of the kernel feature probes (tracer/kernel_features.c, issue 11).
 *
 * Each probe's conclusion on the running kernel is checked against what
 * the release number says Debian's kernels have (the probes themselves
 * never look at it): on 6.1 uprobe_multi must come out absent with EINVAL,
 * on 6.6+ present. The environment switch is checked in a child process
 * (the results are cached once per process), the rendering of -v on
 * synthetic results, and the forced perf-event fallback end to end: trace
 * and stat with USDTKIT_NO_UPROBE_MULTI=1 must say so and count exactly
 * what the stat fixture fires, as they do without it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel_features.h"
#include "tracer_test_util.h"

/* major * 1000 + minor of the running kernel */
static int kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

static void expect_probe(int err, int since, int absent_err, const char *what)
{
	int v = kernel_version();

	print_message("%s: %d (%s)\n", what, err, err ? strerror(-err) : "present");
	if (v >= since)
		assert_int_equal(err, 0);
	else
		assert_int_equal(err, absent_err);
}

static void test_probe_uprobe_multi(void **state)
{
	(void)state;
	/* 6.1: the program loads, the link type is unknown: EINVAL */
	expect_probe(kernel_features__probe_uprobe_multi(), 6006, -EINVAL, "uprobe_multi");
}

static void test_probe_cookie(void **state)
{
	(void)state;
	expect_probe(kernel_features__probe_cookie(), 5015, -EINVAL, "cookie");
}

static void test_probe_sleepable(void **state)
{
	(void)state;
	expect_probe(kernel_features__probe_sleepable(), 6000, -EINVAL, "sleepable");
}

static void test_probe_ringbuf(void **state)
{
	(void)state;
	expect_probe(kernel_features__probe_ringbuf(), 5008, -EINVAL, "ringbuf");
}

/* The cached results agree with the probes; the release is uname's. */
static void test_get_matches_probes(void **state)
{
	const struct kernel_features *kf;
	struct utsname u;

	(void)state;
	if (getenv(KERNEL_FEATURES_ENV_NO_MULTI))
		skip();
	kf = kernel_features__get();
	assert_ptr_equal(kf, kernel_features__get());
	assert_int_equal(uname(&u), 0);
	assert_string_equal(kf->release, u.release);
	assert_int_equal(kf->f[KF_UPROBE_MULTI].err, kernel_features__probe_uprobe_multi());
	assert_int_equal(kf->f[KF_COOKIE].err, kernel_features__probe_cookie());
	assert_int_equal(kf->f[KF_SLEEPABLE].err, kernel_features__probe_sleepable());
	assert_int_equal(kf->f[KF_RINGBUF].err, kernel_features__probe_ringbuf());
	for (int i = 0; i < KF__COUNT; i++)
		assert_int_equal(kf->f[i].present, kf->f[i].err == 0);
	assert_int_equal(kernel_features__use_uprobe_multi(kf), kf->f[KF_UPROBE_MULTI].err == 0);
}

/*
 * In a child: the switch set before the first probe. 0 when as expected.
 * Runs before anything in this process calls kernel_features__get().
 */
static int child_with_env(const char *value)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		const struct kernel_features *kf;
		bool multi = kernel_features__probe_uprobe_multi() == 0;

		setenv(KERNEL_FEATURES_ENV_NO_MULTI, value, 1);
		kf = kernel_features__get();
		if (!strcmp(value, "1"))
			_exit(!kernel_features__use_uprobe_multi(kf) &&
					      kf->f[KF_UPROBE_MULTI].forced_off == multi
				      ? 0
				      : 1);
		_exit(kernel_features__use_uprobe_multi(kf) == multi &&
				      !kf->f[KF_UPROBE_MULTI].forced_off
			      ? 0
			      : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_env_forces_fallback(void **state)
{
	(void)state;
	assert_int_equal(child_with_env("1"), 0);
	assert_int_equal(child_with_env("0"), 0); /* only "1" switches it off */
}

static void test_describe(void **state)
{
	struct kernel_features kf = {.release = "6.1.0-57-amd64"};
	char buf[1024], small[16];
	int n;

	(void)state;
	for (int i = 0; i < KF__COUNT; i++)
		kf.f[i].present = true;
	kf.f[KF_UPROBE_MULTI].present = false;
	kf.f[KF_UPROBE_MULTI].err = -EINVAL;
	n = kernel_features__describe(&kf, "usdtkit trace", buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_int_equal(tt_count_lines(buf, "usdtkit trace: kernel 6.1.0-57-amd64: "), KF__COUNT);
	assert_non_null(strstr(buf, "usdtkit trace: kernel 6.1.0-57-amd64: uprobe_multi links: no "
				    "(EINVAL) -> perf-event uprobes\n"));
	assert_non_null(strstr(buf, ": ring buffer: yes -> "));
	/* truncated: the length needed, a terminated prefix */
	assert_int_equal(kernel_features__describe(&kf, "usdtkit trace", small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);

	kf.f[KF_UPROBE_MULTI].forced_off = true;
	kf.f[KF_UPROBE_MULTI].err = 0;
	kernel_features__describe(&kf, "usdtkit stat", buf, sizeof(buf));
	assert_non_null(strstr(buf, "uprobe_multi links: no (USDTKIT_NO_UPROBE_MULTI=1) -> "
				    "perf-event uprobes\n"));
}

static void test_missing(void **state)
{
	struct kernel_features kf = {.release = "5.10.0"};
	char buf[256];

	(void)state;
	for (int i = 0; i < KF__COUNT; i++)
		kf.f[i].present = true;
	kf.f[KF_UPROBE_MULTI].present = false; /* a fallback, never missing */
	assert_int_equal(
		kernel_features__missing(&kf, "usdtkit trace", KF_NEEDS_TRACE, buf, sizeof(buf)),
		0);
	assert_string_equal(buf, "");
	kf.f[KF_SLEEPABLE].present = false;
	kf.f[KF_SLEEPABLE].err = -EINVAL;
	assert_true(kernel_features__missing(&kf, "usdtkit stat", KF_NEEDS_STAT, buf, sizeof(buf)) >
		    0);
	assert_string_equal(buf, "usdtkit stat: kernel 5.10.0 has no sleepable uprobes (EINVAL): "
				 "cannot trace here\n");
	/* not permitted to tell: left to the command's own load error */
	kf.f[KF_SLEEPABLE].err = -EPERM;
	assert_int_equal(
		kernel_features__missing(&kf, "usdtkit stat", KF_NEEDS_STAT, buf, sizeof(buf)), 0);
	/* the ring buffer is trace's need only */
	kf.f[KF_SLEEPABLE].present = true;
	kf.f[KF_RINGBUF].present = false;
	kf.f[KF_RINGBUF].err = -EINVAL;
	assert_int_equal(
		kernel_features__missing(&kf, "usdtkit stat", KF_NEEDS_STAT, buf, sizeof(buf)), 0);
	assert_true(kernel_features__missing(&kf, "usdtkit trace", KF_NEEDS_TRACE, buf,
					     sizeof(buf)) > 0);
}

/*
 * usdtkit CMD -v -c 'stat_fixture dist' 'stat:*' with or without the
 * switch: asserts the -v line of the chosen method and returns stdout.
 */
static char *run_cmd(const char *cmd, bool force_perf)
{
	const struct kernel_features *kf = kernel_features__get();
	char command[512], *out, *err;
	struct tt_proc p;
	char *argv[] = {(char *)tt_usdtkit(), (char *)cmd, "-v", "-c", command, "stat:*", NULL};
	const char *want;

	snprintf(command, sizeof(command), "%s dist", tt_stat_fixture());
	if (force_perf)
		setenv(KERNEL_FEATURES_ENV_NO_MULTI, "1", 1);
	else
		unsetenv(KERNEL_FEATURES_ENV_NO_MULTI);
	assert_int_equal(tt_run(&p, argv, 120000), 0);
	unsetenv(KERNEL_FEATURES_ENV_NO_MULTI);
	out = tt_read(p.out_path);
	err = tt_read(p.err_path);
	if (force_perf && kf->f[KF_UPROBE_MULTI].present)
		want = "uprobe_multi links: no (USDTKIT_NO_UPROBE_MULTI=1) -> perf-event uprobes\n";
	else if (kf->f[KF_UPROBE_MULTI].present)
		want = "uprobe_multi links: yes -> one uprobe_multi link per object\n";
	else
		want = "-> perf-event uprobes\n";
	if (!strstr(err, want))
		tt_dump(&p, cmd);
	assert_non_null(strstr(err, want));
	free(err);
	tt_cleanup(&p);
	return out;
}

static long count_of(const char *out, const char *label)
{
	size_t len = strlen(label);

	for (const char *l = out; *l;) {
		const char *nl = strchrnul(l, '\n');

		if (!strncmp(l, label, len) && l[len] == ' ')
			return strtol(l + len, NULL, 10);
		l = *nl ? nl + 1 : nl;
	}
	return -1;
}

static size_t lines_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void check_trace(bool force_perf)
{
	char *out = run_cmd("trace", force_perf);

	/* what stat_fixture dist fires, event by event */
	assert_int_equal(tt_count_lines(out, " stat:value "), 31);
	assert_int_equal(tt_count_lines(out, " stat:size "), 5);
	assert_int_equal(tt_count_lines(out, " stat:named "), 9);
	assert_int_equal(tt_count_lines(out, " stat:other"), 10);
	assert_int_equal(lines_of(out), 55);
	free(out);
}

static void check_stat(bool force_perf)
{
	char *out = run_cmd("stat", force_perf);

	assert_int_equal(count_of(out, "stat:value"), 31);
	assert_int_equal(count_of(out, "stat:size"), 5);
	assert_int_equal(count_of(out, "stat:named"), 9);
	assert_int_equal(count_of(out, "stat:other"), 10);
	assert_int_equal(count_of(out, "stat:req_start"), 0);
	free(out);
}

static void test_trace_forced_perf(void **state)
{
	(void)state;
	check_trace(true);
}

static void test_trace_default(void **state)
{
	(void)state;
	check_trace(false);
}

static void test_stat_forced_perf(void **state)
{
	(void)state;
	check_stat(true);
}

static void test_stat_default(void **state)
{
	(void)state;
	check_stat(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: its children must not inherit this process's cached results */
		cmocka_unit_test(test_env_forces_fallback),
		cmocka_unit_test(test_probe_uprobe_multi),
		cmocka_unit_test(test_probe_cookie),
		cmocka_unit_test(test_probe_sleepable),
		cmocka_unit_test(test_probe_ringbuf),
		cmocka_unit_test(test_get_matches_probes),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_trace_forced_perf),
		cmocka_unit_test(test_trace_default),
		cmocka_unit_test(test_stat_forced_perf),
		cmocka_unit_test(test_stat_default),
	};
	int skip = tt_bpf_permitted();

	if (skip)
		return skip;
	if (!tt_usdtkit())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
