// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The pure parts of the language tools (tracer/lang_model.c): runtime
 * detection, the runtime table, per-thread call stacks and aggregates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static void detect_command(void **state)
{
	(void)state;
	assert_int_equal(lang__detect_command("/usr/bin/python3.11 app.py"), LANG_PYTHON);
	assert_int_equal(lang__detect_command("  python3 -c 'x'"), LANG_PYTHON);
	assert_int_equal(lang__detect_command("ruby3.1 x.rb"), LANG_RUBY);
	assert_int_equal(lang__detect_command("env A=1 php8.2 x.php"), LANG_PHP);
	assert_int_equal(lang__detect_command("X=/usr/bin/ruby java -cp . Main"), LANG_JAVA);
	assert_int_equal(lang__detect_command("/opt/pythonista/bin/node x.js"), LANG_UNKNOWN);
	assert_int_equal(lang__detect_command("   "), LANG_UNKNOWN);
	assert_int_equal(lang__detect_command(NULL), LANG_UNKNOWN);
}

static void detect_maps(void **state)
{
	const char *jvm = "5555-6666 r-xp 0 08:01 1 /usr/bin/java\n"
			  "7000-8000 r-xp 0 08:01 2 /usr/lib/x86_64-linux-gnu/libz.so.1\n"
			  "8000-9000 r-xp 0 08:01 3 /usr/lib/jvm/j17/lib/server/libjvm.so\n";
	const char *embed = "1-2 r-xp 0 0:1 1 /usr/sbin/myserver\n"
			    "2-3 r-xp 0 0:1 1 /usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1\n"
			    "3-4 rw-p 0 0:0 0 [heap]\n";

	(void)state;
	/* the launcher is named java, but libjvm decides; an embedded ruby by its library */
	assert_int_equal(lang__detect_maps(jvm), LANG_JAVA);
	assert_int_equal(lang__detect_maps(embed), LANG_RUBY);
	assert_int_equal(lang__detect_maps("1-2 r-xp 0 0:1 1 /usr/bin/python3.11"), LANG_PYTHON);
	assert_int_equal(lang__detect_maps("1-2 r-xp 0 0:1 1 /usr/bin/bash\n3-4 ---p 0 0:0 0\n"),
			 LANG_UNKNOWN);
	assert_int_equal(lang__detect_maps(""), LANG_UNKNOWN);
}

static void table(void **state)
{
	const struct lang_runtime *py = lang__runtime(LANG_PYTHON), *rb = lang__runtime(LANG_RUBY);
	bool line = false;

	(void)state;
	assert_int_equal(lang__by_name("ruby"), LANG_RUBY);
	assert_int_equal(lang__by_name("jvm"), LANG_JAVA);
	assert_int_equal(lang__by_name("perl"), LANG_UNKNOWN);
	assert_null(lang__runtime(LANG_UNKNOWN));
	/* CPython 3.11 has no allocation or thread probes; ruby has no thread probes */
	assert_int_equal(lang__tools(py) & (LANG_TOOL_OBJECTS | LANG_TOOL_THREADS), 0);
	assert_true(lang__tools(rb) & LANG_TOOL_OBJECTS);
	assert_false(lang__tools(rb) & LANG_TOOL_THREADS);
	assert_int_equal(lang__tools(lang__runtime(LANG_JAVA)), 0x1f);
	/* the method tools attach python:line: it is what makes function__entry fire */
	for (size_t i = 0; i < py->nprobes; i++)
		if (!strcmp(py->probes[i].probe, "python:line"))
			line = py->probes[i].ev == LANG_EV_HELPER &&
			       (py->probes[i].tools & LANG_TOOL_FLOW);
	assert_true(line);
	assert_string_equal(lang__runtime(LANG_PHP)->env, "USE_ZEND_DTRACE=1");
}

static void stacks(void **state)
{
	struct lang_stacks s = {0};
	uint64_t dur;

	(void)state;
	/* an unknown thread returns from a frame entered before tracing */
	assert_int_equal(lang_stacks__pop(&s, 7, 10, &dur), -1);
	assert_int_equal(lang_stacks__push(&s, 7, 100), 0);
	assert_int_equal(lang_stacks__push(&s, 7, 150), 1);
	assert_int_equal(lang_stacks__push(&s, 9, 160), 0); /* another thread: its own depth */
	assert_int_equal(lang_stacks__pop(&s, 7, 170, &dur), 1);
	assert_int_equal(dur, 20);
	assert_int_equal(lang_stacks__pop(&s, 7, 400, &dur), 0);
	assert_int_equal(dur, 300);
	assert_int_equal(lang_stacks__pop(&s, 7, 500, &dur), -1);
	assert_int_equal(lang_stacks__pop(&s, 9, 161, &dur), 0);
	assert_int_equal(dur, 1);
	/* many threads: the table grows and keeps every stack */
	for (uint32_t t = 100; t < 1100; t++)
		assert_int_equal(lang_stacks__push(&s, t, t), 0);
	for (uint32_t t = 100; t < 1100; t++) {
		assert_int_equal(lang_stacks__pop(&s, t, t + 5, &dur), 0);
		assert_int_equal(dur, 5);
	}
	/* deeper than timed: depth still counted, duration 0 */
	for (int i = 0; i < LANG_MAX_DEPTH + 3; i++)
		assert_int_equal(lang_stacks__push(&s, 1, 1000 + i), i);
	assert_int_equal(lang_stacks__pop(&s, 1, 5000, &dur), LANG_MAX_DEPTH + 2);
	assert_int_equal(dur, 0);
	lang_stacks__free(&s);
}

static void aggregates(void **state)
{
	struct lang_aggs a = {0};
	struct lang_agg **v, *g;
	char name[32];
	size_t n;

	(void)state;
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "m%d", i % 100);
		g = lang_aggs__get(&a, name);
		assert_non_null(g);
		g->count += i < 100 ? i : 1; /* m99 ends highest */
	}
	assert_int_equal(a.n, 100);
	g = lang_aggs__get(&a, "slow");
	lang_agg__add_time(g, 1000);
	lang_agg__add_time(g, 3000);
	assert_int_equal(g->max_ns, 3000);
	assert_int_equal(g->total_ns, 4000);
	assert_int_equal(g->hist[lang__log2(1000)], 1);
	assert_int_equal(g->hist[11], 1); /* 3000 in [2048, 4096) */
	v = lang_aggs__sorted(&a, false, &n);
	assert_non_null(v);
	assert_int_equal(n, 101);
	assert_string_equal(v[0]->name, "m99");
	assert_int_equal(v[0]->count, 101);
	assert_string_equal(v[n - 1]->name, "slow");
	free(v);
	v = lang_aggs__sorted(&a, true, &n);
	assert_string_equal(v[0]->name, "slow");
	free(v);
	assert_int_equal(lang__log2(0), 0);
	assert_int_equal(lang__log2(1), 0);
	assert_int_equal(lang__log2(2), 1);
	assert_int_equal(lang__log2(UINT64_MAX), 63);
	lang_aggs__free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detect_command), cmocka_unit_test(detect_maps),
		cmocka_unit_test(table),	  cmocka_unit_test(stacks),
		cmocka_unit_test(aggregates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
