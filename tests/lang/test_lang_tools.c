// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit flow, calls, gc, objects and threads against the real runtimes,
 * each running a program of this directory with a known call tree, known
 * call and allocation counts and forced collections (lang_tree.*).
 * argv[1] names the runtime; a runtime that is not installed skips (77).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer_test_util.h"

#define TIMEOUT_MS 120000

static const char *runtime;
static char cmd[4096]; /* the -c command running the runtime's program */
static char jdir[64]; /* java: the compiled program */

/* The last run_tool()'s stderr, shown when its output is not the one expected. */
static char *last_err;

/*
 * Runs `usdtkit TOOL -c CMD -o FILE ARGS...`; returns the tool's output
 * followed by the program's stdout (free it). The two are kept apart: the
 * program inherits stdout, and its writes would land between the tool's
 * buffered ones, in the middle of a line.
 */
static char *run_tool(const char *tool, const char *a1, const char *a2, const char *a3)
{
	char path[] = "/tmp/usdtkit-lang-XXXXXX";
	char *argv[12] = {(char *)tt_usdtkit(), (char *)tool, "-c", cmd, "-o", path};
	struct tt_proc p;
	char *out, *prog, *both;
	int n = 6, fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	if (a1)
		argv[n++] = (char *)a1;
	if (a2)
		argv[n++] = (char *)a2;
	if (a3)
		argv[n++] = (char *)a3;
	argv[n] = NULL;
	assert_int_equal(tt_run(&p, argv, TIMEOUT_MS), 0);
	out = tt_read(path);
	prog = tt_read(p.out_path);
	unlink(path);
	free(last_err);
	last_err = tt_read(p.err_path);
	if (p.status)
		tt_dump(&p, tool);
	assert_int_equal(p.status, 0);
	assert_non_null(out);
	assert_non_null(prog);
	assert_true(asprintf(&both, "%s%s", out, prog) >= 0);
	free(out);
	free(prog);
	tt_cleanup(&p);
	return both;
}

/*
 * The call tree in flow's output: per line "TID TIME INDENT-> NAME ...",
 * kept as "INDENT-> NAME", for thread @tid only (0: the first traced).
 */
static char *tree_of(const char *out)
{
	size_t cap = strlen(out) + 1, len = 0;
	char *tree = calloc(1, cap);
	unsigned long tid = 0;

	assert_non_null(tree);
	for (const char *l = out; *l;) {
		const char *nl = strchr(l, '\n'), *end = nl ? nl : l + strlen(l);
		const char *arrow = strstr(l, "-> "), *back = strstr(l, "<- "), *a, *p, *name_end;
		unsigned long t;
		double ts;
		int off = 0;

		if (arrow && arrow >= end)
			arrow = NULL;
		if (back && back >= end)
			back = NULL;
		a = arrow ? arrow : back;
		if (a && sscanf(l, "%lu %lf%n", &t, &ts, &off) == 2 && off && (!tid || t == tid)) {
			tid = t;
			p = l + off + 1; /* one separator, then the indentation */
			name_end = strchr(a + 3, ' ');
			if (!name_end || name_end > end)
				name_end = end;
			len += snprintf(tree + len, cap - len, "%.*s\n", (int)(name_end - p), p);
		}
		l = nl ? nl + 1 : end;
	}
	return tree;
}

/* The count column of the line of @out whose first word is @name; -1 if none. */
static long long count_of(const char *out, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (!strncmp(l, name, n) && l[n] == ' ')
			return strtoll(l + n, NULL, 10);
	}
	return -1;
}

/* @key=N in @out (N of the first one), -1 if none. */
static long long value_of(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static const char *expected_tree(void)
{
	static char buf[32768];
	const char *top = "top", *mid = "mid", *leaf = "leaf", *outer = NULL;
	int d = 0;
	size_t len = 0;

#define LINE(depth, arrow, name) \
	len += snprintf(buf + len, sizeof(buf) - len, "%*s%s %s\n", (depth)*2, "", arrow, name)
	if (!strcmp(runtime, "python")) {
		outer = "<module>";
	} else if (!strcmp(runtime, "ruby")) {
		top = "Object#top", mid = "Object#mid", leaf = "Object#leaf";
	} else if (!strcmp(runtime, "php")) {
		outer = "main";
	} else {
		outer = "LangTree.main";
		top = "LangTree.top", mid = "LangTree.mid", leaf = "LangTree.leaf";
	}
	if (outer)
		LINE(d++, "->", outer);
	LINE(d, "->", top);
	for (int m = 3; m >= 2; m--) {
		LINE(d + 1, "->", mid);
		for (int i = 0; i < m; i++) {
			LINE(d + 2, "->", leaf);
			LINE(d + 2, "<-", leaf);
		}
		LINE(d + 1, "<-", mid);
	}
	LINE(d, "<-", top);
	if (!strcmp(runtime, "python")) {
		/* the program runs with argument 3: burst(300) */
		LINE(d, "->", "burst");
		for (int i = 0; i < 300; i++) {
			LINE(d + 1, "->", leaf);
			LINE(d + 1, "<-", leaf);
		}
		LINE(d, "<-", "burst");
	}
	/* python leaves with os._exit(): <module> does not return */
	if (outer && strcmp(runtime, "python"))
		LINE(--d, "<-", outer);
#undef LINE
	return buf;
}

static const char *method_match(void)
{
	if (!strcmp(runtime, "python"))
		return "*lang_tree.py";
	if (!strcmp(runtime, "ruby"))
		return "Object#*";
	if (!strcmp(runtime, "php"))
		return "*";
	return "LangTree.*";
}

/*
 * cmocka cuts a long string short: say where the trees part, how long each
 * is, and what the tool said on stderr (events lost, a probe not attached).
 */
static void explain_tree(const char *got, const char *want)
{
	size_t line = 1, i = 0;

	while (got[i] && got[i] == want[i])
		line += got[i++] == '\n';
	while (i && got[i - 1] != '\n')
		i--;
	print_error("trees differ at line %zu (got %zu lines, want %zu)\n"
		    "got:  %.60s\nwant: %.60s\nstderr:\n%s\n",
		    line, tt_count_lines(got, "-"), tt_count_lines(want, "-"), got + i, want + i,
		    last_err ? last_err : "(none)");
}

static void flow_tree(void **state)
{
	char *out, *tree;

	(void)state;
	out = run_tool("flow", "-M", method_match(), NULL);
	tree = tree_of(out);
	/* java: the worker thread's lambda is left out (the first thread's tree only) */
	if (strcmp(tree, expected_tree()))
		explain_tree(tree, expected_tree());
	assert_string_equal(tree, expected_tree());
	free(tree);
	free(out);
}

static void flow_depth(void **state)
{
	bool outer = !!strcmp(runtime, "ruby"), py = !strcmp(runtime, "python");
	char *out, *tree;

	(void)state;
	/* --depth 2: depths 0 and 1 only: outer, top (and burst); ruby: top, mid x2 */
	out = run_tool("flow", "-M", method_match(), "--depth=2");
	tree = tree_of(out);
	assert_int_equal(tt_count_lines(tree, "leaf"), 0);
	assert_int_equal(tt_count_lines(tree, "-> "), outer ? 2 + py : 3);
	free(tree);
	free(out);
}

static void calls_counts(void **state)
{
	const char *leaf = "leaf", *mid = "mid";
	char *out;

	(void)state;
	if (!strcmp(runtime, "ruby"))
		leaf = "Object#leaf", mid = "Object#mid";
	if (!strcmp(runtime, "java"))
		leaf = "LangTree.leaf", mid = "LangTree.mid";
	out = run_tool("calls", "-L", "-M", method_match());
	/* python is run with argument 3: burst() adds 300 leaf calls */
	assert_int_equal(count_of(out, leaf), !strcmp(runtime, "python") ? 305
					      : !strcmp(runtime, "java") ? 6
									 : 5);
	assert_int_equal(count_of(out, mid), 2);
	free(out);
}

static void gc_forced(void **state)
{
	char *out;

	(void)state;
	out = run_tool("gc", NULL, NULL, NULL);
	if (!strcmp(runtime, "python")) {
		/* the program prints the collections it counted, per generation */
		const char *c = strstr(out, "gc_counts=");
		long long g0, g1, g2;

		assert_non_null(c);
		assert_int_equal(sscanf(c, "gc_counts=%lld,%lld,%lld", &g0, &g1, &g2), 3);
		assert_true(g2 >= 3);
		assert_int_equal(tt_count_lines(out, "generation=2 "), g2);
		assert_int_equal(tt_count_lines(out, " collection "), g0 + g1 + g2);
	} else if (!strcmp(runtime, "ruby")) {
		long long n = value_of(out, "gc_count=");

		assert_true(n >= 3);
		assert_int_equal(tt_count_lines(out, " mark "), n);
	} else {
		/* System.gc() x3: three full collections */
		assert_int_equal(tt_count_lines(out, "full=1"), 3);
	}
	free(out);
}

/* top --json: the gc counts of its intervals add up to the runtime's own */
static void top_intervals(void **state)
{
	long long g0, g1, g2, sum = 0, rows = 0;
	const char *c;
	char *out;

	(void)state;
	out = run_tool("top", "--json", "-i", "0.05");
	c = strstr(out, "gc_counts=");
	assert_non_null(c);
	assert_int_equal(sscanf(c, "gc_counts=%lld,%lld,%lld", &g0, &g1, &g2), 3);
	for (const char *p = strstr(out, "\"type\":\"top\""); p;
	     p = strstr(p + 1, "\"type\":\"top\"")) {
		const char *g = strstr(p, "\"gc\":");

		assert_non_null(g);
		sum += strtoll(g + 5, NULL, 10);
		rows++;
	}
	assert_true(rows >= 1);
	assert_int_equal(sum, g0 + g1 + g2);
	free(out);
}

static void objects_counted(void **state)
{
	const char *cls = !strcmp(runtime, "ruby") ? "Widget" : "LangTree$Widget";
	char *out;

	(void)state;
	out = run_tool("objects", "-M", cls, NULL);
	assert_int_equal(count_of(out, cls), 7);
	free(out);
}

static void threads_named(void **state)
{
	char *out;

	(void)state;
	out = run_tool("threads", "-M", "lang-*", NULL);
	assert_int_equal(tt_count_lines(out, "start lang-worker"), 1);
	assert_int_equal(tt_count_lines(out, "stop  lang-worker"), 1);
	free(out);
}

static int setup_java(const char *src)
{
	char javac[4200];

	if (access("/usr/bin/javac", X_OK)) {
		printf("SKIP: javac not installed (openjdk-17-jdk-headless)\n");
		return TT_SKIP;
	}
	snprintf(jdir, sizeof(jdir), "/tmp/usdtkit-lang-XXXXXX");
	if (!mkdtemp(jdir))
		return 1;
	snprintf(javac, sizeof(javac), "/usr/bin/javac -d %s %s/tests/lang/LangTree.java", jdir,
		 src);
	if (system(javac)) {
		printf("javac failed\n");
		return 1;
	}
	return 0;
}

static void cleanup_java(void)
{
	char rm[128];

	if (!jdir[0])
		return;
	snprintf(rm, sizeof(rm), "rm -rf %s", jdir);
	if (system(rm))
		fprintf(stderr, "could not remove %s\n", jdir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest method_tests[] = {
		cmocka_unit_test(flow_tree),
		cmocka_unit_test(flow_depth),
		cmocka_unit_test(calls_counts),
	};
	const struct CMUnitTest gc_tests[] = {cmocka_unit_test(gc_forced)};
	const struct CMUnitTest obj_tests[] = {cmocka_unit_test(objects_counted)};
	const struct CMUnitTest thread_tests[] = {cmocka_unit_test(threads_named)};
	const struct CMUnitTest top_tests[] = {cmocka_unit_test(top_intervals)};
	const char *src = getenv("USDTKIT_SOURCE_DIR"), *bin;
	int rc;

	if (argc < 2 || !src)
		return 1;
	runtime = argv[1];
	if (!tt_usdtkit())
		return 1;
	bin = !strcmp(runtime, "python") ? "/usr/bin/python3.11"
	      : !strcmp(runtime, "ruby") ? "/usr/bin/ruby3.1"
	      : !strcmp(runtime, "php")	 ? "/usr/bin/php8.2"
					 : "/usr/bin/java";
	if (access(bin, X_OK)) {
		printf("SKIP: %s is not installed\n", bin);
		return TT_SKIP;
	}
	rc = tt_bpf_permitted();
	if (rc)
		return rc;
	if (!strcmp(runtime, "python"))
		snprintf(cmd, sizeof(cmd), "%s %s/tests/lang/lang_tree.py 3", bin, src);
	else if (!strcmp(runtime, "ruby"))
		snprintf(cmd, sizeof(cmd), "%s %s/tests/lang/lang_tree.rb", bin, src);
	else if (!strcmp(runtime, "php"))
		snprintf(cmd, sizeof(cmd), "%s %s/tests/lang/lang_tree.php", bin, src);
	else if ((rc = setup_java(src)))
		return rc;
	if (!strcmp(runtime, "java"))
		snprintf(cmd, sizeof(cmd), "%s -XX:+ExtendedDTraceProbes -cp %s LangTree", bin,
			 jdir);
	rc = cmocka_run_group_tests_name("methods", method_tests, NULL, NULL);
	if (strcmp(runtime, "php"))
		rc |= cmocka_run_group_tests_name("gc", gc_tests, NULL, NULL);
	if (!strcmp(runtime, "ruby") || !strcmp(runtime, "java"))
		rc |= cmocka_run_group_tests_name("objects", obj_tests, NULL, NULL);
	if (!strcmp(runtime, "java"))
		rc |= cmocka_run_group_tests_name("threads", thread_tests, NULL, NULL);
	if (!strcmp(runtime, "python"))
		rc |= cmocka_run_group_tests_name("top", top_tests, NULL, NULL);
	cleanup_java();
	return rc;
}
