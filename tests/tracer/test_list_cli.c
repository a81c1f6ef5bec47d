/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * `usdtkit list` command line: exit statuses, one-line diagnostics on
 * stderr, --help, and probe patterns.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_list_util.h"

static char lib[PATH_MAX];
static char tmpdir[64];

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Runs usdtkit list ARGS...; checks the status and, for failures, one stderr line. */
static void list_expect(struct cmd_result *res, int status, ...)
{
	char *argv[16] = {(char *)usdtkit_path(), "list"};
	int argc = 2;
	va_list ap;

	assert_non_null(argv[0]);
	va_start(ap, status);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	assert_int_equal(run_cmd(argv, res), 0);
	if (res->status != status)
		printf("status %d, want %d; stderr: %s\n", res->status, status, res->err);
	assert_int_equal(res->status, status);
	if (status == 1) {
		assert_int_equal(count_lines(res->err), 1);
		assert_string_equal(res->out, "");
	}
	if (status == 2)
		assert_true(strlen(res->err) > 0);
}

static void test_help(void **state)
{
	struct cmd_result res;

	list_expect(&res, 0, "--help", NULL);
	assert_non_null(strstr(res.out, "examples:"));
	assert_non_null(strstr(res.out, "--json"));
	assert_string_equal(res.err, "");
	cmd_result_free(&res);
}

static void test_usage_errors(void **state)
{
	struct cmd_result res;

	list_expect(&res, 2, "--no-such-option", lib, NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, "-p", "abc", NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, "-p", "0", NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, "-p", "1", "--all", NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, "-p", NULL);
	cmd_result_free(&res);
	list_expect(&res, 2, "-P", "", lib, NULL);
	cmd_result_free(&res);
}

static void test_missing_file(void **state)
{
	struct cmd_result res;

	list_expect(&res, 1, "/nonexistent/usdtkit-list-test", NULL);
	assert_non_null(strstr(res.err, "/nonexistent/usdtkit-list-test"));
	assert_non_null(strstr(res.err, "No such file"));
	cmd_result_free(&res);
}

static void test_not_elf(void **state)
{
	char path[PATH_MAX + 16];
	struct cmd_result res;
	FILE *f;

	snprintf(path, sizeof(path), "%s/text", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho not an ELF file at all\n", f);
	fclose(f);
	list_expect(&res, 1, path, NULL);
	assert_non_null(strstr(res.err, "not an ELF file"));
	cmd_result_free(&res);
	unlink(path);

	list_expect(&res, 1, tmpdir, NULL); /* a directory */
	cmd_result_free(&res);
}

static void test_truncated_elf(void **state)
{
	char path[PATH_MAX + 16], buf[200];
	struct cmd_result res;
	int in, out;

	snprintf(path, sizeof(path), "%s/truncated.so", tmpdir);
	in = open(lib, O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(in >= 0 && out >= 0);
	assert_int_equal(read(in, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(write(out, buf, sizeof(buf)), sizeof(buf));
	close(in);
	close(out);
	list_expect(&res, 1, path, NULL);
	cmd_result_free(&res);
	unlink(path);
}

static void test_unreadable(void **state)
{
	char path[PATH_MAX + 16];
	struct cmd_result res;
	int fd;

	if (geteuid() == 0) {
		/* root reads a mode-000 file anyway: nothing to test */
		printf("# running as root: unreadable-file case skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/unreadable.so", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0000);
	assert_true(fd >= 0);
	close(fd);
	list_expect(&res, 1, path, NULL);
	assert_non_null(strstr(res.err, "Permission denied"));
	cmd_result_free(&res);
	unlink(path);
}

static void test_bad_pid(void **state)
{
	struct cmd_result res;
	char pidstr[16];
	pid_t pid;

	/* a pid that just exited and was reaped */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	list_expect(&res, 1, "-p", pidstr, NULL);
	assert_non_null(strstr(res.err, "no such process"));
	cmd_result_free(&res);
}

/* Mixed: a good file and a missing one: data for the first, status 1. */
static void test_partial_failure(void **state)
{
	char *argv[] = {(char *)usdtkit_path(), "list", lib, "/nonexistent/x", NULL};
	struct cmd_result res;

	assert_int_equal(run_cmd(argv, &res), 0);
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.out, "listlib:work"));
	assert_int_equal(count_lines(res.err), 1);
	cmd_result_free(&res);
}

static void test_patterns(void **state)
{
	struct cmd_result res;
	char want[PATH_MAX + 64];

	/* last operand with ':' that is not a file: a pattern */
	list_expect(&res, 0, lib, "listlib:w*", NULL);
	snprintf(want, sizeof(want), "%s listlib:work\n", lib);
	assert_string_equal(res.out, want);
	cmd_result_free(&res);

	list_expect(&res, 0, "-P", "*:tick", lib, NULL);
	snprintf(want, sizeof(want), "%s listlib:tick\n", lib);
	assert_string_equal(res.out, want);
	cmd_result_free(&res);

	/* several -P: either matches */
	list_expect(&res, 0, "-P", "*:tick", "-P", "listlib:mix?d", lib, NULL);
	assert_int_equal(count_lines(res.out), 2);
	cmd_result_free(&res);

	/* a bare provider glob */
	list_expect(&res, 0, "-P", "list*", lib, NULL);
	assert_int_equal(count_lines(res.out), 3);
	cmd_result_free(&res);

	/* nothing matches: success, no output */
	list_expect(&res, 0, lib, "nosuch:*", NULL);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "");
	cmd_result_free(&res);

	/* the tick probe has three locations, listed once, all three with -v */
	list_expect(&res, 0, "-v", lib, "*:tick", NULL);
	assert_int_equal(count_lines(res.out), 1 + 3 * 2);
	cmd_result_free(&res);
}

static void test_no_probes(void **state)
{
	char path[PATH_MAX];
	struct cmd_result res;

	/* an ELF file without probes: success, nothing printed */
	snprintf(path, sizeof(path), "%s/bin/usdtkit", getenv("USDTKIT_BUILD_DIR"));
	list_expect(&res, 0, path, NULL);
	assert_string_equal(res.err, "");
	cmd_result_free(&res);
}

static int setup(void **state)
{
	snprintf(lib, sizeof(lib), "%s/tests/tracer/libtest_list_lib.so",
		 getenv("USDTKIT_BUILD_DIR"));
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/usdtkit-list-cli-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),	      cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_missing_file),  cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_truncated_elf), cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_bad_pid),	      cmocka_unit_test(test_partial_failure),
		cmocka_unit_test(test_patterns),      cmocka_unit_test(test_no_probes),
	};

	if (!getenv("USDTKIT_BUILD_DIR") || !usdtkit_path())
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
