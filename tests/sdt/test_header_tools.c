/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The compile-time header's probes as the outside tracers see them:
 *
 *   header_tools tplist     tplist-bpfcc -l lists every probe
 *   header_tools bpftrace   bpftrace -l lists every probe
 *   header_tools gdb        gdb "info probes" lists every probe
 *   header_tools trace      bpftrace reads the arguments of plain and typed
 *                           probes exactly, and a semaphore probe turns on
 *                           (the program sees USDT_IS_ACTIVE) under bpftrace
 *
 * Each mode is its own ctest test and skips (exit 77, with the reason)
 * when its tool is missing or the environment forbids what it needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_header_util.h"

static const char *const c_probes[] = {"zero",	"ints",	 "twelve", "floats", "misc", "consts",
				       "tzero", "typed", "fire",   "tfire",  "sema", "tsema"};
#define N_C_PROBES (sizeof(c_probes) / sizeof(c_probes[0]))

static const char *skip_reason;
static bool skipped;

/* cmocka counts a skipped test as passed; remember it for ctest's SKIP (77). */
#define hdr_skip()              \
	do {                    \
		skipped = true; \
		skip();         \
	} while (0)

/* Output that means "not allowed here" rather than "broken". */
static bool env_refusal(const char *out)
{
	static const char *const marks[] = {"Operation not permitted",
					    "Permission denied",
					    "EPERM",
					    "must be run as root",
					    "ModuleNotFoundError",
					    "ImportError",
					    "No such file or directory: 'python"};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(out, marks[i]))
			return true;
	return false;
}

/* Whether @out has a line equal to @line. */
static bool has_line(const char *out, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, line, len) && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/* Whether some line of @out has all the whitespace-separated @words in order. */
static bool has_row(const char *out, const char *const *words, size_t n)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *end = p + strcspn(p, "\n"), *q = p;
		size_t w;

		for (w = 0; w < n; w++) {
			char tok[128];
			int len;

			q += strspn(q, " \t");
			if (q >= end || sscanf(q, "%127s%n", tok, &len) != 1 ||
			    strcmp(tok, words[w]))
				break;
			q += len;
		}
		if (w == n)
			return true;
	}
	return false;
}

static void test_tplist(void **state)
{
	const char *fx = hdr_fixture("fx-hdr-c");
	char *out = NULL;
	int rc;

	(void)state;
	rc = hdr_run(&out, "tplist-bpfcc -l '%s'", fx);
	if (rc != 0 && env_refusal(out)) {
		print_message("tplist-bpfcc cannot run here, skipping:\n%s\n", out);
		free(out);
		hdr_skip();
	}
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < N_C_PROBES; i++) {
		char want[128];
		const char *row[2] = {fx, want};

		snprintf(want, sizeof(want), "hdr:%s", c_probes[i]);
		if (!has_row(out, row, 2)) {
			print_message("tplist-bpfcc does not list %s:\n%s\n", want, out);
			fail();
		}
	}
	free(out);
}

static void test_bpftrace_list(void **state)
{
	const char *fx = hdr_fixture("fx-hdr-c");
	char *out = NULL;
	int rc;

	(void)state;
	rc = hdr_run(&out, "bpftrace -l 'usdt:%s:*'", fx);
	if (rc != 0 && env_refusal(out)) {
		print_message("bpftrace -l cannot run here, skipping:\n%s\n", out);
		free(out);
		hdr_skip();
	}
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < N_C_PROBES; i++) {
		char want[1200];

		snprintf(want, sizeof(want), "usdt:%s:hdr:%s", fx, c_probes[i]);
		if (!has_line(out, want)) {
			print_message("bpftrace -l does not list %s:\n%s\n", want, out);
			fail();
		}
	}
	free(out);
}

static void gdb_lists(const char *fx, const char *provider, const char *const *names, size_t n)
{
	char *out = NULL;
	int rc;

	rc = hdr_run(&out, "gdb -batch -nx -ex 'info probes' '%s'", fx);
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < n; i++) {
		const char *row[3] = {"stap", provider, names[i]};

		if (!has_row(out, row, 3)) {
			print_message("gdb info probes does not list %s:%s:\n%s\n", provider,
				      names[i], out);
			fail();
		}
	}
	free(out);
}

static void test_gdb(void **state)
{
	static const char *const cxx[] = {"zero", "ints", "typed", "sema", "inl", "tmpl"};

	(void)state;
	gdb_lists(hdr_fixture("fx-hdr-c"), "hdr", c_probes, N_C_PROBES);
	gdb_lists(hdr_fixture("fx-hdr-cxx"), "cx", cxx, sizeof(cxx) / sizeof(cxx[0]));
}

/*
 * Runs bpftrace with @prog on "FIXTURE ARGS"; skips when BPF is refused.
 * bpftrace's "failed to detach probe" complaints (no tracefs here) are
 * harmless and ignored: the checks look for exact lines.
 */
static char *bpftrace(const char *fx, const char *prog, const char *args)
{
	char *out = NULL;
	int rc;

	rc = hdr_run(&out, "timeout 60 bpftrace -e '%s' -c '%s %s'", prog, fx, args);
	if (!strstr(out, "Attaching") && env_refusal(out)) {
		print_message("bpftrace may not load BPF programs here, skipping:\n%s\n", out);
		free(out);
		hdr_skip();
	}
	if (rc != 0) {
		print_message("bpftrace exited %d:\n%s\n", rc, out);
		fail();
	}
	return out;
}

static void expect_line(const char *out, const char *line)
{
	if (!has_line(out, line)) {
		print_message("missing line \"%s\" in:\n%s\n", line, out);
		fail();
	}
}

static void trace_args(const char *fixture)
{
	const char *fx = hdr_fixture(fixture);
	char prog[2048], *out;

	snprintf(prog, sizeof(prog),
		 "usdt:%s:hdr:fire { printf(\"fire %%d %%ld %%s\\n\", arg0, arg1, str(arg2)); } "
		 "usdt:%s:hdr:tfire { printf(\"tfire %%d %%ld %%s\\n\", arg0, arg1, str(arg2)); "
		 "exit(); }",
		 fx, fx);
	out = bpftrace(fx, prog, "fire -5 123456789012 hello-usdt");
	expect_line(out, "fired -5 123456789012 hello-usdt");
	expect_line(out, "fire -5 123456789012 hello-usdt");
	expect_line(out, "tfire -5 123456789012 hello-usdt");
	free(out);

	/* other values, so a constant cannot pass by accident */
	out = bpftrace(fx, prog, "fire 2147483647 -42 x");
	expect_line(out, "fire 2147483647 -42 x");
	expect_line(out, "tfire 2147483647 -42 x");
	free(out);
}

static void test_trace_args(void **state)
{
	(void)state;
	trace_args("fx-hdr-c");
	trace_args("fx-hdr-c-O0");
}

static void test_trace_semaphore(void **state)
{
	const char *fx = hdr_fixture("fx-hdr-c");
	char prog[1024], *out;

	(void)state;
	snprintf(prog, sizeof(prog),
		 "usdt:%s:hdr:sema { printf(\"sema %%d %%s\\n\", arg0, str(arg1)); exit(); }", fx);
	out = bpftrace(fx, prog, "sema 20");
	/* the program saw its semaphore raised, then fired the guarded probe */
	expect_line(out, "active");
	expect_line(out, "sema 7 sema-msg");
	free(out);

	snprintf(prog, sizeof(prog),
		 "usdt:%s:hdr:tsema { printf(\"tsema %%d %%s\\n\", arg0, str(arg1)); exit(); }",
		 fx);
	out = bpftrace(fx, prog, "sema 20");
	expect_line(out, "active");
	expect_line(out, "tsema 9 sema-msg");
	free(out);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct CMUnitTest tests[2];
	size_t n = 0;
	int rc;

	if (!strcmp(mode, "tplist")) {
		if (!hdr_have("tplist-bpfcc"))
			skip_reason = "tplist-bpfcc (bpfcc-tools) not installed";
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_tplist);
	} else if (!strcmp(mode, "bpftrace")) {
		if (!hdr_have("bpftrace"))
			skip_reason = "bpftrace not installed";
		else if (geteuid() != 0)
			skip_reason = "bpftrace 0.17 runs only as root, even to list probes";
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bpftrace_list);
	} else if (!strcmp(mode, "gdb")) {
		if (!hdr_have("gdb"))
			skip_reason = "gdb not installed";
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_gdb);
	} else if (!strcmp(mode, "trace")) {
		if (!hdr_have("bpftrace"))
			skip_reason = "bpftrace not installed";
		else if (geteuid() != 0)
			skip_reason = "attaching uprobes with bpftrace needs root";
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_trace_args);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_trace_semaphore);
	} else {
		fprintf(stderr, "usage: %s tplist|bpftrace|gdb|trace\n", argv[0]);
		return 2;
	}
	if (skip_reason) {
		fprintf(stderr, "SKIP: %s\n", skip_reason);
		printf("SKIP: %s\n", skip_reason);
		return HDR_SKIP;
	}
	rc = _cmocka_run_group_tests(mode, tests, n, NULL, NULL);
	return rc == 0 && skipped ? HDR_SKIP : rc;
}
