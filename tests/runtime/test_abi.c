/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * libusdtkit's ABI rules, from the caller's side. This file is compiled
 * against a copy of provider.h in which each options struct has one more
 * field (future_field, runtime.cmake makes the copy): it plays a program
 * built with a newer header running on this library. Setting the new
 * field must fail with EINVAL, leaving it zero must work, and a struct
 * from an older header (smaller sz) must work too. Also: the error codes
 * load gives when it runs out of descriptors or memory, usdt_strerror()
 * of every int, the extensible add_probe_opts().
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/provider.h>

/* Fails to compile unless the copied header really has the new fields. */
_Static_assert(offsetof(struct usdt_probe_opts, future_field) >=
		       offsetof(struct usdt_probe_opts, arg_names) + sizeof(void *),
	       "the future header adds a field after the last known one");
_Static_assert(offsetof(struct usdt_provider_opts, future_field) >
		       offsetof(struct usdt_provider_opts, load_wait_ms),
	       "the future header adds a field after the last known one");

static const enum usdt_type two[] = {USDT_TYPE_INT32, USDT_TYPE_STRING};
static const char *const two_names[] = {"n", "s"};

static void test_newer_probe_opts(void **state)
{
	struct usdt_provider *p = usdt_provider__new("abi", NULL);
	struct usdt_probe *probe;

	assert_non_null(p);
	{
		LIBUSDT_OPTS(usdt_probe_opts, o, .argc = 2, .types = two, .arg_names = two_names,
			     .future_field = 1);
		errno = 0;
		assert_null(usdt_provider__add_probe_opts(p, "future", &o));
		assert_int_equal(errno, EINVAL);
	}
	{
		LIBUSDT_OPTS(usdt_probe_opts, o, .argc = 2, .types = two, .arg_names = two_names,
			     .future_field = 0);
		probe = usdt_provider__add_probe_opts(p, "present", &o);
		assert_non_null(probe);
		assert_int_equal(usdt_probe__argc(probe), 2);
	}
	assert_int_equal(usdt_provider__load(p), 0);
	usdt_provider__free(p);
}

static void test_newer_provider_opts(void **state)
{
	struct usdt_provider *p;

	{
		LIBUSDT_OPTS(usdt_provider_opts, o, .future_field = 7);
		errno = 0;
		assert_null(usdt_provider__new("abi", &o));
		assert_int_equal(errno, EINVAL);
	}
	{
		LIBUSDT_OPTS(usdt_provider_opts, o, .probe_nop = USDT_NOP_1);
		p = usdt_provider__new("abi", &o);
		assert_non_null(p);
		assert_int_equal(usdt_provider__probe_nop(p), USDT_NOP_1);
		usdt_provider__free(p);
	}
}

/* An older header: sz ends after argc; the rest reads as zero. */
static void test_older_and_bad_sz(void **state)
{
	struct usdt_provider *p = usdt_provider__new("abi", NULL);
	struct usdt_probe_opts o;

	assert_non_null(p);
	memset(&o, 0xff, sizeof(o)); /* garbage past sz must not be read */
	o.sz = offsetof(struct usdt_probe_opts, argc) + sizeof(int);
	o.argc = 0;
	assert_non_null(usdt_provider__add_probe_opts(p, "old", &o));
	o.argc = 1; /* types are past sz: NULL, and argc > 0 needs them */
	errno = 0;
	assert_null(usdt_provider__add_probe_opts(p, "old2", &o));
	assert_int_equal(errno, EINVAL);
	o.sz = 4;
	errno = 0;
	assert_null(usdt_provider__add_probe_opts(p, "tiny", &o));
	assert_int_equal(errno, EINVAL);
	/* NULL opts: a probe without arguments. */
	assert_non_null(usdt_provider__add_probe_opts(p, "bare", NULL));
	usdt_provider__free(p);
}

static void test_strerror_all(void **state)
{
	const int v[] = {INT_MIN, INT_MIN + 1, -1, 0, 1, INT_MAX, -EMFILE, -ETIMEDOUT, 4095};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_non_null(usdt_strerror(v[i]));
	assert_string_equal(usdt_strerror(INT_MIN), "Unknown error");
	assert_string_equal(usdt_strerror(-EMFILE), usdt_strerror(EMFILE));
}

/*
 * Runs a load in a child after @limit() took a resource away; returns
 * the load's result (the child's exit status is its negated errno).
 */
static int load_in_child(void (*limit)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		struct usdt_provider *p = usdt_provider__new("limited", NULL);
		int err;

		if (!p || !usdt_provider__add_probe(p, "a", 2, two, NULL))
			_exit(100);
		limit();
		err = usdt_provider__load(p);
		_exit(-err);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return -WEXITSTATUS(st);
}

/* Every descriptor but one taken: the memfd gets it, dlopen's open fails. */
static void limit_fds(void)
{
	struct rlimit r = {64, 64};
	int fd, last = -1;

	setrlimit(RLIMIT_NOFILE, &r);
	while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		last = fd;
	close(last);
}

/* No address space left for the object's segments. */
static void limit_as(void)
{
	struct rlimit r = {1 << 20, 1 << 20};

	setrlimit(RLIMIT_AS, &r);
}

static void test_load_out_of_resources(void **state)
{
	assert_int_equal(load_in_child(limit_fds), -EMFILE);
	assert_int_equal(load_in_child(limit_as), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newer_probe_opts),
		cmocka_unit_test(test_newer_provider_opts),
		cmocka_unit_test(test_older_and_bad_sz),
		cmocka_unit_test(test_strerror_all),
		cmocka_unit_test(test_load_out_of_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
