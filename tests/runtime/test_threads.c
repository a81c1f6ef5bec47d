/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Firing is safe against concurrent load and unload: 8 threads fire (the
 * varargs path, the libffi path and the is-enabled check) while the main
 * thread loads, unloads, and creates and frees providers in a loop.
 *
 * Untraced fires never reach a stub, so to exercise the traced path the
 * loader plays tracer: after every load it raises each probe's semaphore
 * itself, through the same writable mapping the kernel's ref_ctr update
 * would write to. Fires then call into stubs that unload is about to
 * unmap. Meant to be run under ASan and TSan as well.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <usdtkit/provider.h>

#define FIRERS 8
#define ROUNDS 300

static struct usdt_probe *probes[2][3];
static atomic_bool stop;
static atomic_long fires, traced, failures;

/* The semaphore lives behind the probe's first member (provider.h's ABI). */
static void play_tracer(struct usdt_probe *probe)
{
	unsigned short *sema = *(unsigned short **)probe;

	__atomic_store_n(sema, 1, __ATOMIC_RELAXED);
}

static void *firer(void *arg)
{
	long id = (long)(intptr_t)arg;
	struct usdt_value v[3] = {{USDT_TYPE_INT64, {.i64 = -1}},
				  {USDT_TYPE_STRING, {.str = "abc"}},
				  {USDT_TYPE_DOUBLE, {.f64 = 2.5}}};
	long n = 0, t = 0;

	while (!atomic_load(&stop)) {
		for (int p = 0; p < 2; p++) {
			struct usdt_probe *a = probes[p][0], *b = probes[p][1], *c = probes[p][2];

			usdt_probe__fire(a, (int64_t)id, "abc", 2.5);
			if (usdt_probe__fire_values(a, v, 3) != 0)
				atomic_fetch_add(&failures, 1);
			(usdt_probe__fire)(b);
			if (usdt_probe__enabled(c))
				t++;
			usdt_probe__fire(c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
		}
		n++;
	}
	atomic_fetch_add(&fires, n);
	atomic_fetch_add(&traced, t);
	return NULL;
}

static void test_fire_during_load_unload(void **state)
{
	const enum usdt_type three[] = {USDT_TYPE_INT64, USDT_TYPE_STRING, USDT_TYPE_DOUBLE};
	enum usdt_type twelve[USDT_MAX_ARGS];
	struct usdt_provider *prov[2];
	pthread_t th[FIRERS];

	for (int i = 0; i < USDT_MAX_ARGS; i++)
		twelve[i] = USDT_TYPE_INT32;
	for (int p = 0; p < 2; p++) {
		prov[p] = usdt_provider__new(p ? "threads_b" : "threads_a", NULL);
		assert_non_null(prov[p]);
		probes[p][0] = usdt_provider__add_probe(prov[p], "three", 3, three, NULL);
		probes[p][1] = usdt_provider__add_probe(prov[p], "zero", 0, NULL, NULL);
		probes[p][2] = usdt_provider__add_probe(prov[p], "twelve", 12, twelve, NULL);
		for (int i = 0; i < 3; i++)
			assert_non_null(probes[p][i]);
	}
	for (long i = 0; i < FIRERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, firer, (void *)(intptr_t)i), 0);

	for (int r = 0; r < ROUNDS; r++) {
		int p = (r / 2) % 2 ^ (r % 2);
		struct usdt_provider *extra;

		/* Each round toggles one of the two providers. */
		if (usdt_provider__loaded(prov[p])) {
			assert_int_equal(usdt_provider__unload(prov[p]), 0);
		} else {
			assert_int_equal(usdt_provider__load(prov[p]), 0);
			for (int i = 0; i < 3; i++)
				play_tracer(probes[p][i]);
		}
		/* A short-lived third provider, loaded and freed while loaded. */
		extra = usdt_provider__new("threads_extra", NULL);
		assert_non_null(extra);
		assert_non_null(usdt_provider__add_probe(extra, "x", 3, three, NULL));
		assert_int_equal(usdt_provider__load(extra), 0);
		usdt_provider__free(extra);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < FIRERS; i++)
		pthread_join(th[i], NULL);
	print_message("%ld firing rounds, %ld of them traced\n", atomic_load(&fires),
		      atomic_load(&traced));
	assert_true(atomic_load(&fires) > 0);
	/* The point of the test: fires took the traced path (into the stubs). */
	assert_true(atomic_load(&traced) > 0);
	assert_int_equal(atomic_load(&failures), 0);
	for (int p = 0; p < 2; p++) {
		/* Unloaded means not enabled, whatever the last tracer state was. */
		if (usdt_provider__loaded(prov[p]))
			assert_int_equal(usdt_provider__unload(prov[p]), 0);
		for (int i = 0; i < 3; i++)
			assert_false(usdt_probe__enabled(probes[p][i]));
		usdt_provider__free(prov[p]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_during_load_unload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
