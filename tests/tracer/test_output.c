// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Unit tests of the data stream (tracer/output.h): names from a target are
 * escaped for a terminal, a full device is an error said once, a closed
 * pipe is a quiet EPIPE, and records are counted as written only once
 * they reached the file.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "output.h"

static void test_escape(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	static const char name[] = "a\x1b[7mb\nc\td\\e\x7f\xc3\xa9";

	assert_non_null(f);
	output__put_name(f, name, sizeof(name) - 1);
	fclose(f);
	assert_string_equal(buf, "a\\x1b[7mb\\nc\\td\\\\e\\x7f\xc3\xa9");
	free(buf);
}

static void test_full_device(void **state)
{
	struct output o;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	if (access("/dev/full", W_OK))
		skip();
	dup2(null, 2); /* the one message goes to stderr */
	assert_int_equal(output__open(&o, "test", "/dev/full"), 0);
	for (int i = 0; i < 100000; i++) {
		fputs("record\n", o.f);
		output__record(&o);
	}
	assert_int_equal(output__flush(&o), -ENOSPC);
	assert_true(output__failed(&o));
	assert_int_equal(o.written, 0);
	assert_int_equal(output__close(&o), -ENOSPC); /* sticky */
	dup2(saved, 2);
	close(saved);
	close(null);
}

static void test_closed_pipe(void **state)
{
	struct output o;
	int fds[2], saved = dup(1);

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], 1);
	close(fds[1]);
	assert_int_equal(output__open(&o, "test", NULL), 0);
	fputs("one\n", o.f);
	output__record(&o);
	assert_int_equal(output__flush(&o), 0);
	assert_int_equal(o.written, 1);
	close(fds[0]); /* the reader goes away */
	fputs("two\n", o.f);
	output__record(&o);
	assert_int_equal(output__flush(&o), -EPIPE);
	assert_false(output__failed(&o)); /* not a failure: a quiet stop */
	assert_int_equal(o.written, 1);
	clearerr(stdout);
	dup2(saved, 1);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_full_device),
		cmocka_unit_test(test_closed_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
