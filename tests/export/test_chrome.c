// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Chrome trace writer: a file of instant and complete events from two
 * processes and three threads is validated by check_chrome_trace.py (JSON,
 * required fields per ph, metadata for every track) and its counts and
 * durations are matched to the input; a writer that is never closed (a
 * killed run) leaves a file that is valid once the bracket is added; write
 * errors are reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "export_chrome.h"
#include "export_test_util.h"

static char *check(const char *path, bool truncated)
{
	char script[512];
	const char *src = getenv("USDTKIT_SOURCE_DIR");
	struct xbuf out = {0};
	char *argv[] = {"python3", script, (char *)path, truncated ? "--truncated" : NULL, NULL};
	int rc;

	assert_non_null(src);
	snprintf(script, sizeof(script), "%s/tests/export/check_chrome_trace.py", src);
	rc = run_cmd(argv, NULL, &out, 30000);
	if (rc)
		print_message("%s\n", out.p ? out.p : "");
	assert_int_equal(rc, 0);
	return out.p;
}

/* Flush, then validate the file as it is on disk (what a kill would leave). */
static char *check_flushed(struct chrome_writer *w, const char *path)
{
	assert_int_equal(chrome_event_sink_ops.flush(w), 0);
	return check(path, false);
}

static void write_sample(struct chrome_writer *w, int nevents)
{
	struct event_value v[2] = {
		{.name = "n", .kind = EVENT_VAL_INT, .i = -3},
		{.name = "s", .kind = EVENT_VAL_STR, .str = {.p = "a\"b\nc", .len = 5}},
	};
	struct event e = {
		.provider = "app", .name = "req", .comm = "main", .comm_len = 4, .nargs = 2};
	struct span s = {.name = "app:entry..app:return", .key = "k", .comm = "w", .comm_len = 1};
	int i;

	memcpy(e.args, v, sizeof(v));
	for (i = 0; i < nevents; i++) {
		e.pid = 1000 + i % 2;
		e.tid = e.pid + (uint32_t)(i % 3);
		e.mono_ns = 1000000123ull + (uint64_t)i * 1000;
		assert_int_equal(chrome_event_sink_ops.event(w, &e), 0);
	}
	/* durations 1.5 us, 2.001 us, 1000 us */
	s.pid = 1000;
	s.tid = 1000;
	s.start_mono_ns = 5000000000ull;
	s.start_ns = 10;
	s.end_ns = 1510;
	assert_int_equal(chrome__span(w, &s), 0);
	s.end_ns = 2011;
	assert_int_equal(chrome_span_sink_ops.span(w, &s), 0);
	s.end_ns = 1000010;
	s.tid = 1003;
	assert_int_equal(chrome__span(w, &s), 0);
}

static void test_file(void **state)
{
	struct chrome_writer *w;
	char dir[256], path[300];
	char *out;

	(void)state;
	assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/trace.json", dir);
	assert_int_equal(chrome_writer__open(&w, path, -1), 0);
	write_sample(w, 5000); /* several 64 KiB flushes */
	assert_int_equal(chrome_writer__close(w), 0);
	out = check(path, false);
	/* 2 processes, threads 1000 1001 1002 (pid 1000), 1001 1002 1003 (pid 1001), + 1003 */
	assert_non_null(strstr(out, "i=5000 X=3\n"));
	assert_non_null(strstr(out, "M=9 "));
	assert_non_null(strstr(out, "dur 1.500 2.001 1000.000\n"));
	free(out);
	remove_tree(dir);
}

/*
 * A run killed before close: after each flush the file is already a
 * complete array (no bracket to add), and a later flush extends it.
 */
static void test_interrupted(void **state)
{
	struct chrome_writer *w;
	char dir[256], path[300];
	char *out;

	(void)state;
	assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/trace.json", dir);
	assert_int_equal(chrome_writer__open(&w, path, -1), 0);
	out = check_flushed(w, path);
	assert_non_null(strstr(out, "M=0 i=0 X=0\n"));
	free(out);
	write_sample(w, 3000);
	out = check_flushed(w, path);
	assert_non_null(strstr(out, "i=3000 X=3\n"));
	free(out);
	write_sample(w, 10);
	out = check_flushed(w, path);
	assert_non_null(strstr(out, "i=3010 X=6\n"));
	free(out);
	assert_int_equal(chrome_writer__close(w), 0);
	out = check(path, false);
	assert_non_null(strstr(out, "i=3010 X=6\n"));
	free(out);
	remove_tree(dir);
}

/* A pipe cannot be rewritten: streamed, without "]" until close. */
static void test_pipe(void **state)
{
	struct chrome_writer *w;
	char dir[256], path[300];
	char *out;
	int fd[2], file, i;
	char buf[65536];
	ssize_t n;

	(void)state;
	assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/trace.json", dir);
	assert_int_equal(pipe(fd), 0);
	assert_int_equal(chrome_writer__open(&w, "pipe", fd[1]), 0);
	write_sample(w, 20);
	assert_int_equal(chrome__flush(w), 0);
	file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(file >= 0);
	n = read(fd[0], buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(write(file, buf, (size_t)n), n);
	out = check(path, true); /* valid once the bracket is added */
	assert_non_null(strstr(out, "i=20 X=3\n"));
	free(out);
	assert_int_equal(chrome_writer__close(w), 0);
	for (i = 0; (n = read(fd[0], buf, sizeof(buf))) > 0 && i < 100; i++)
		assert_int_equal(write(file, buf, (size_t)n), n);
	close(fd[0]);
	close(file);
	out = check(path, false);
	free(out);
	remove_tree(dir);
}

static void test_write_error(void **state)
{
	struct chrome_writer *w;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	(void)state;
	if (fd < 0)
		skip();
	assert_int_equal(chrome_writer__open(&w, "/dev/full", fd), 0);
	write_sample(w, 10);
	assert_int_equal(chrome__flush(w), -ENOSPC);
	assert_int_equal(chrome_writer__close(w), -ENOSPC);
	assert_int_equal(chrome_writer__open(&w, "/nonexistent/dir/x.json", -1), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests_name("chrome", tests, NULL, NULL);
}
