// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Integration tests of --filter (issue 13): the real usdtkit binary runs
 * stat_fixtures/stat_fixture (known values: see stat_fixture.c) and a
 * CPython 3.11 script under -c, and the tests expect the exact hits the
 * filter keeps, through trace and through stat (count, --by, --hist,
 * --latency), and the exact one-line errors with exit status 2.
 *
 *   test_filter_cli GROUP     GROUP: trace | stat | python | errors
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer_test_util.h"

#define PYTHON "/usr/bin/python3.11" /* Debian's, built with the probes */
#define ARGS_VALUE "--args=stat:value=v:i64"
#define ARGS_SIZE "--args=stat:size=size:u64"
#define ARGS_NAMED "--args=stat:named=name:str,n:i64"
#define ARGS_REQ "--args=stat:req_*=id:i64"

static char cmd_dist[4200], cmd_match[4200];

struct run {
	int status;
	char *out;
	char *err;
};

/* Runs `usdtkit ARGS...` (NULL-terminated) to its end; asserts it did not hang. */
static void run(struct run *r, ...)
{
	char *argv[64];
	struct tt_proc p;
	va_list ap;
	int n = 0;

	argv[n++] = (char *)tt_usdtkit();
	va_start(ap, r);
	while ((argv[n] = va_arg(ap, char *)) && n < 62)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(tt_start(&p, argv), 0);
	r->status = tt_wait(&p, 120000);
	r->out = tt_read(p.out_path);
	r->err = tt_read(p.err_path);
	if (r->status != 0 && r->status != 2)
		tt_dump(&p, "usdtkit failed");
	tt_cleanup(&p);
	assert_int_not_equal(r->status, -ETIMEDOUT);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The dropped-hits line of the summary. */
static void assert_dropped(const struct run *r, const char *who, const char *what)
{
	char line[160];

	snprintf(line, sizeof(line), "%s: --filter dropped %s\n", who, what);
	if (!strstr(r->err, line))
		fprintf(stderr, "expected '%s' in:\n%s\n", line, r->err);
	assert_non_null(strstr(r->err, line));
}

/* --- trace -------------------------------------------------------------- */

static void trace_expect(const char *probe, const char *args, const char *filter,
			 const char *format, const char *expect)
{
	struct run r;

	run(&r, "trace", "-c", cmd_dist, args, "--filter", filter, "-f", format, probe, NULL);
	if (strcmp(r.out, expect))
		fprintf(stderr, "filter '%s': expected\n%s\ngot\n%s\nstderr:\n%s\n", filter, expect,
			r.out, r.err);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, expect);
	run_free(&r);
}

static void test_trace_int_or_hex(void **state)
{
	/* -5 x2 and 100 (0x64) x6, in firing order */
	trace_expect("stat:value", ARGS_VALUE, "v < 0 || v == 0x64", "{v}",
		     "-5\n-5\n100\n100\n100\n100\n100\n100\n");
}

static void test_trace_int_and_not(void **state)
{
	trace_expect("stat:value", ARGS_VALUE, "v >= -5 && !(v > 3) && v != 0", "{v}",
		     "-5\n-5\n1\n1\n2\n2\n2\n3\n3\n3\n3\n");
}

static void test_trace_big_and_unsigned(void **state)
{
	struct run r;

	trace_expect("stat:value", ARGS_VALUE, "v > 1000", "{v}", "1099511627776\n");
	trace_expect("stat:size", ARGS_SIZE, "size == 0x1000", "{size}", "4096\n4096\n4096\n");
	/* unsigned against a negative literal compares signed: every size passes */
	trace_expect("stat:size", ARGS_SIZE, "size > -1", "{size}", "4096\n4096\n4096\n10\n10\n");
	run(&r, "trace", "-c", cmd_dist, ARGS_VALUE, "--filter", "v == 1", "-f", "{v}",
	    "stat:value", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "1\n1\n");
	assert_dropped(&r, "usdtkit trace", "29 hits (0 unreadable)");
	run_free(&r);
}

static void test_trace_strings(void **state)
{
	/* names fire alpha x3, beta x5, gamma x1; n counts 0.. within each */
	trace_expect("stat:named", ARGS_NAMED, "name =~ \"?e*\" || (name == \"alpha\" && n >= 1)",
		     "{name} {n}", "alpha 1\nalpha 2\nbeta 0\nbeta 1\nbeta 2\nbeta 3\nbeta 4\n");
	trace_expect("stat:named", ARGS_NAMED, "name =~ \"gam*\" || name == \"beta\" && n == 4",
		     "{name} {n}", "beta 4\ngamma 0\n");
	trace_expect("stat:named", ARGS_NAMED, "name != \"beta\" && name !~ \"*ph*\"", "{name}",
		     "gamma\n");
	/* comm of the fixture's private copy, "usdtkit-st-fixture-XXXXXX" cut to 15 */
	trace_expect("stat:named", ARGS_NAMED, "comm =~ \"usdtkit-st-*\" && tid > 0 && n == 2",
		     "{name}", "alpha\nbeta\n");
	trace_expect("stat:named", ARGS_NAMED, "pid == 1", "{name}", "");
}

static void test_trace_scopes(void **state)
{
	struct run r;

	run(&r, "trace", "-c", cmd_dist, ARGS_VALUE, ARGS_NAMED, "--filter", "stat:value: v == 5",
	    "--filter", "stat:nam?d: name != \"beta\"", "-f", "{probe_name}", "stat:*", NULL);
	assert_int_equal(r.status, 0);
	/* value 5 x5; size and other unfiltered; named without beta */
	assert_int_equal(tt_count_lines(r.out, "value"), 5);
	assert_int_equal(tt_count_lines(r.out, "size"), 5);
	assert_int_equal(tt_count_lines(r.out, "named"), 4);
	assert_int_equal(tt_count_lines(r.out, "other"), 10);
	assert_int_equal(tt_count_lines(r.out, ""), 24);
	assert_dropped(&r, "usdtkit trace", "31 hits (0 unreadable)");
	run_free(&r);
}

/* --- stat --------------------------------------------------------------- */

/* The number after @label at the start of a line of @out, -1 if absent. */
static long text_count(const char *out, const char *label)
{
	size_t len = strlen(label);

	for (const char *l = out; *l;) {
		const char *nl = strchrnul(l, '\n');

		while (*l == ' ')
			l++;
		if (!strncmp(l, label, len) && l[len] == ' ')
			return strtol(l + len, NULL, 10);
		l = *nl ? nl + 1 : nl;
	}
	return -1;
}

/* text_count(), 0 for a row that is not printed */
static long rows(const char *out, const char *label)
{
	long n = text_count(out, label);

	return n < 0 ? 0 : n;
}

static void test_stat_count(void **state)
{
	struct run r;

	run(&r, "stat", "-c", cmd_dist, ARGS_VALUE, "--filter", "stat:value: v > 2", "stat:*",
	    NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(text_count(r.out, "stat:value"), 23);
	assert_int_equal(text_count(r.out, "stat:size"), 5);
	assert_int_equal(text_count(r.out, "stat:named"), 9);
	assert_int_equal(text_count(r.out, "stat:other"), 10);
	assert_dropped(&r, "usdtkit stat", "8 hits (0 unreadable)");
	run_free(&r);
	/* and the plain count of the same run, without a filter */
	run(&r, "stat", "-c", cmd_dist, "stat:value", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(text_count(r.out, "stat:value"), 31);
	assert_null(strstr(r.err, "--filter"));
	run_free(&r);
}

static void test_stat_by(void **state)
{
	struct run r;

	run(&r, "stat", "-c", cmd_dist, ARGS_NAMED, "--filter", "name != \"beta\"", "--by", "name",
	    "stat:named", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "stat:named by name (4 hits)"));
	assert_int_equal(text_count(r.out, "\"alpha\""), 3);
	assert_int_equal(text_count(r.out, "\"gamma\""), 1);
	assert_int_equal(text_count(r.out, "\"beta\""), -1);
	run_free(&r);
	run(&r, "stat", "-c", cmd_dist, ARGS_VALUE, "--filter", "v <= 2 || v == 1000", "--by", "v",
	    "stat:value", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(text_count(r.out, "-5"), 2);
	assert_int_equal(text_count(r.out, "2"), 3);
	assert_int_equal(text_count(r.out, "1000"), 7);
	assert_int_equal(text_count(r.out, "3"), -1);
	assert_int_equal(text_count(r.out, "100"), -1);
	run_free(&r);
}

static void test_stat_hist(void **state)
{
	struct run r;

	run(&r, "stat", "-c", cmd_dist, ARGS_VALUE, "--filter", "v >= 0 && v != 3", "--hist", "v",
	    "stat:value", NULL);
	assert_int_equal(r.status, 0);
	/* 31 hits less -5 x2 and 3 x4 */
	assert_non_null(strstr(r.out, "stat:value log2 v (25 hits)"));
	assert_int_equal(text_count(r.out, "[0]"), 1);
	assert_int_equal(text_count(r.out, "[1]"), 2);
	assert_int_equal(text_count(r.out, "[2, 4)"), 3);
	assert_int_equal(text_count(r.out, "[4, 8)"), 5);
	assert_int_equal(text_count(r.out, "[1T, 2T)"), 1);
	assert_null(strstr(r.out, "-"));
	run_free(&r);
}

static void test_stat_latency(void **state)
{
	struct run r;

	/* start(1000) dropped: 9 pairs, and its end finds no start */
	run(&r, "stat", "-c", cmd_match, ARGS_REQ, "--filter", "stat:req_start: id != 1000",
	    "--latency", "stat:req_start,stat:req_done", "--match", "id", "--unit", "ms", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "count 9 "));
	assert_non_null(strstr(r.out, "1 end hits without a start"));
	assert_dropped(&r, "usdtkit stat", "1 hit (0 unreadable)");
	run_free(&r);
	/* unscoped: both probes; ids 1000..1003 pass (2 of 2 ms, 2 of 20 ms) */
	run(&r, "stat", "-c", cmd_match, ARGS_REQ, "--filter", "id < 1004", "--latency",
	    "stat:req_start,stat:req_done", "--match", "id", "--unit", "ms", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "count 4 "));
	/* sleeps of 2 and 18 ms: a slow (emulated) kernel may push a 2 ms pair up a bucket */
	assert_int_equal(rows(r.out, "[2, 4)") + rows(r.out, "[4, 8)") + rows(r.out, "[8, 16)"), 2);
	assert_int_equal(rows(r.out, "[16, 32)") + rows(r.out, "[32, 64)"), 2);
	assert_null(strstr(r.out, "without a start"));
	assert_dropped(&r, "usdtkit stat", "12 hits (0 unreadable)");
	run_free(&r);
}

/* --- python ------------------------------------------------------------- */

static void python_expect(const char *filter, const char *expect)
{
	char cmd[4200];
	struct run r;

	snprintf(cmd, sizeof(cmd), PYTHON " %s/tests/tracer/filter_fixtures/filter_copy.py",
		 getenv("USDTKIT_SOURCE_DIR"));
	/*
	 * CPython 3.11 fires function__entry only on its tracing path, which
	 * python:line's semaphore enables: it is traced and filtered out.
	 */
	run(&r, "trace", "-c", cmd, "--args", "python:function__entry=file:str,func:str,line:i32",
	    "--filter", filter, "--filter", "python:line: pid == 0", "-f",
	    "{probe_name} {func} {line}", "python:function__entry", "python:line", NULL);
	if (strcmp(r.out, expect))
		fprintf(stderr, "stderr:\n%s\n", r.err);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, expect);
	run_free(&r);
}

static void test_python_copyfile(void **state)
{
	python_expect("python:function__entry: func == \"copyfile\"",
		      "function__entry copyfile 19\n"
		      "function__entry copyfile 19\n"
		      "function__entry copyfile 19\n");
}

static void test_python_glob(void **state)
{
	char expect[50 * 32 + 1] = "";

	for (int i = 0; i < 50; i++)
		strcat(expect, "function__entry xcopyfile 15\n");
	python_expect(
		"python:function__entry: func =~ \"?copyfile\" && file =~ \"*/filter_copy.py\"",
		expect);
}

/* --- errors ------------------------------------------------------------- */

static void error_expect(const char *cmd, const char *probe, const char *filter, const char *expect)
{
	struct run r;

	run(&r, cmd, "-c", cmd_dist, ARGS_VALUE, ARGS_NAMED, "--filter", filter, probe, NULL);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, expect);
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_errors(void **state)
{
	error_expect("trace", "stat:value", "status >> 5",
		     "usdtkit trace: --filter: unexpected '>' at column 9\n");
	error_expect("trace", "stat:value", "vv >= 500",
		     "usdtkit trace: --filter: unknown name 'vv' in stat:value at column 1\n");
	error_expect("stat", "stat:named", "name < \"/api\"",
		     "usdtkit stat: --filter: '<' cannot compare strings (use == != =~ !~) at "
		     "column 6\n");
	error_expect("trace", "stat:value", "v == \"ok\"",
		     "usdtkit trace: --filter: cannot compare integer 'v' with a string at column "
		     "3\n");
	/* an unscoped filter's names must exist in every probe traced */
	error_expect("stat", "stat:*", "v > 2",
		     "usdtkit stat: --filter: unknown name 'v' in stat:req_start at column 1\n");
	error_expect("trace", "stat:value", "  stat:nope: v == 1",
		     "usdtkit trace: --filter: scope 'stat:nope' names no traced probe at column "
		     "3\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest trace[] = {
		cmocka_unit_test(test_trace_int_or_hex),
		cmocka_unit_test(test_trace_int_and_not),
		cmocka_unit_test(test_trace_big_and_unsigned),
		cmocka_unit_test(test_trace_strings),
		cmocka_unit_test(test_trace_scopes),
	};
	const struct CMUnitTest stat[] = {
		cmocka_unit_test(test_stat_count),
		cmocka_unit_test(test_stat_by),
		cmocka_unit_test(test_stat_hist),
		cmocka_unit_test(test_stat_latency),
	};
	const struct CMUnitTest python[] = {
		cmocka_unit_test(test_python_copyfile),
		cmocka_unit_test(test_python_glob),
	};
	const struct CMUnitTest errors[] = {
		cmocka_unit_test(test_errors),
	};
	const char *group = argc > 1 ? argv[1] : "";
	int skip;

	if (!tt_stat_ready())
		return 1;
	skip = tt_bpf_permitted();
	if (skip)
		return skip;
	snprintf(cmd_dist, sizeof(cmd_dist), "%s dist", tt_stat_fixture());
	snprintf(cmd_match, sizeof(cmd_match), "%s latency-match", tt_stat_fixture());
	if (!strcmp(group, "trace"))
		return cmocka_run_group_tests_name("filter_trace", trace, NULL, NULL);
	if (!strcmp(group, "stat"))
		return cmocka_run_group_tests_name("filter_stat", stat, NULL, NULL);
	if (!strcmp(group, "python")) {
		if (access(PYTHON, X_OK)) {
			printf("SKIP: " PYTHON " is not installed\n");
			return TT_SKIP;
		}
		return cmocka_run_group_tests_name("filter_python", python, NULL, NULL);
	}
	if (!strcmp(group, "errors"))
		return cmocka_run_group_tests_name("filter_errors", errors, NULL, NULL);
	fprintf(stderr, "usage: test_filter_cli trace|stat|python|errors\n");
	return 2;
}
