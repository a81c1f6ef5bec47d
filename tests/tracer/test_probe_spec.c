// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Unit tests of the one PROBE grammar (tracer/probe_spec.h) and its matcher. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probe_spec.h"

/* Parses @text and checks its fields; NULL @path: none. */
static void expect(const char *text, const char *path, const char *provider, const char *name)
{
	struct probe_spec s;

	assert_int_equal(probe_spec__parse(&s, text), 0);
	assert_string_equal(s.text, text);
	if (path)
		assert_string_equal(s.path, path);
	else
		assert_null(s.path);
	assert_string_equal(s.provider, provider);
	assert_string_equal(s.name, name);
	probe_spec__free(&s);
}

static void test_forms(void **state)
{
	expect("libc:mem*", NULL, "libc", "mem*");
	expect("py*", NULL, "py*", "*"); /* provider only */
	expect(":gc__?tart", NULL, "*", "gc__?tart"); /* name only */
	expect("python:", NULL, "python", "*");
	expect("/usr/bin/python3:python:line", "/usr/bin/python3", "python", "line");
	expect("./a.out:demo:tick", "./a.out", "demo", "tick");
	expect("a.out:demo:tick", "a.out", "demo", "tick"); /* a PATH searched on $PATH */
	/* a PATH holding ':' keeps it: fields are split from the right */
	expect("/tmp/a:b/x:prov:name", "/tmp/a:b/x", "prov", "name");
	/* bpftrace's spellings */
	expect("usdt:/usr/bin/python3:python:line", "/usr/bin/python3", "python", "line");
	expect("usdt:python:line", NULL, "python", "line");
	expect("usdt:/usr/bin/python3:line", "/usr/bin/python3", "*", "line");
	expect("usdt:/usr/bin/python3::line", "/usr/bin/python3", "*", "line");
	expect("::name", NULL, "*", "name"); /* empty PATH: none */
}

static void test_errors(void **state)
{
	struct probe_spec s;

	assert_int_equal(probe_spec__parse(&s, ""), -EINVAL);
	assert_int_equal(probe_spec__parse(&s, "usdt:"), -EINVAL);
	assert_int_equal(probe_spec__parse(&s, NULL), -EINVAL);
}

static void test_match(void **state)
{
	struct probe_specs set = {0};
	struct probe_spec s;

	assert_int_equal(probe_spec__parse(&s, "a:[bc]d"), 0);
	assert_true(probe_spec__match(&s, "a", "cd"));
	assert_false(probe_spec__match(&s, "a", "dd"));
	assert_false(probe_spec__match(&s, "ab", "cd"));
	probe_spec__free(&s);

	assert_true(probe_specs__match(&set, "any", "thing")); /* empty set: all */
	assert_int_equal(probe_specs__add(&set, "x:*"), 0);
	assert_int_equal(probe_specs__add(&set, "*:y"), 0);
	assert_true(probe_specs__match(&set, "x", "q"));
	assert_true(probe_specs__match(&set, "q", "y"));
	assert_false(probe_specs__match(&set, "q", "q"));
	assert_int_equal(probe_specs__add(&set, ""), -EINVAL);
	assert_int_equal(set.count, 2);
	probe_specs__free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
