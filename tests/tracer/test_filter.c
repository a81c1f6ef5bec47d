// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The --filter compiler in user space (tracer/filter.c): every error's
 * exact one-line message and column, the instructions a few expressions
 * lower to, scopes and constant folding, the reference evaluator on fixed
 * inputs (faults, NULL, comm, strings at the window's edge), the reference
 * glob against fnmatch(3), and thousands of random expressions whose
 * compiled verdict must equal their direct evaluation (filter_gen.c).
 */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter_compile.h"
#include "filter_gen.h"

/* Compiles @text for fg_env; returns 0 or the error line in @line. */
static int compile(const char *text, struct filter_prog *prog, char *line, size_t size)
{
	struct filter_expr *e = NULL;
	struct filter_error err;
	int rc;

	line[0] = 0;
	rc = filter_parse(text, &e, &err);
	if (!rc)
		rc = filter_compile(&e, 1, &fg_env, prog, &err);
	if (rc == -EINVAL)
		filter_error__format(&err, "usdtkit trace", line, size);
	filter_expr__free(e);
	return rc;
}

static void errors(void **state)
{
	static const struct {
		const char *expr, *line;
	} cases[] = {
		{"status >> 5", "unexpected '>' at column 9"},
		{"status >", "unexpected end of expression at column 9"},
		{"", "empty expression at column 1"},
		{"   ", "empty expression at column 4"},
		{"(status == 1", "unexpected end of expression at column 13"},
		{"status == 1)", "unexpected ')' at column 12"},
		{"status = 1", "unexpected '=' at column 8"},
		{"status & 1", "unexpected '&' at column 8"},
		{"status | 1", "unexpected '|' at column 8"},
		{"status == @", "unexpected '@' at column 11"},
		{"status == 1 2", "unexpected '2' at column 13"},
		{"status == 1 path", "unexpected 'path' at column 13"},
		{"status == 1 \"x\"", "unexpected string at column 13"},
		{"status\x01", "unexpected byte 0x01 at column 7"},
		{"path == \"abc", "unterminated string at column 9"},
		{"path == \"a\\qb\"", "invalid escape in string at column 11"},
		{"path == \"a\\x00\"", "invalid escape in string at column 11"},
		{"nosuch == 1", "unknown name 'nosuch' in store:request_done at column 1"},
		{"status == 1 && arg6 == 1",
		 "unknown name 'arg6' in store:request_done at column 16"},
		{"arg01 == 1", "unknown name 'arg01' in store:request_done at column 1"},
		{"path < \"a\"", "'<' cannot compare strings (use == != =~ !~) at column 6"},
		{"comm >= \"a\"", "'>=' cannot compare strings (use == != =~ !~) at column 6"},
		{"status == \"x\"", "cannot compare integer 'status' with a string at column 8"},
		{"path == 5", "cannot compare string 'path' with an integer at column 6"},
		{"\"x\" == 5", "cannot compare a string with an integer at column 5"},
		{"status =~ \"5*\"", "'=~' needs a string on the left, not an integer at column 8"},
		{"path == method", "string 'path' can only be compared with a literal at column 6"},
		{"\"a*\" =~ path", "the right side of '=~' must be a string literal at column 6"},
		{"ratio > 1", "'ratio' is a floating-point argument (filters compare integers and "
			      "strings) at column 1"},
		{"path", "'path' is a string, not a condition at column 1"},
		{"len > 1 || \"x\"", "a string literal is not a condition at column 12"},
		{"!status == 1", "cannot compare a condition with '==' at column 9"},
		{"status < 1 < 2", "unexpected '<' at column 12"},
		{"0x == 1", "invalid number '0x' at column 1"},
		{"12ab == 1", "invalid number '12ab' at column 1"},
		{"status == 99999999999999999999", "number out of range at column 11"},
		{"status == -9223372036854775809", "number out of range at column 11"},
		{"status == -", "unexpected end of expression at column 12"},
		{"status == --1", "unexpected '-' at column 12"},
		{"store:: status", "empty probe name in scope at column 7"},
		{"store:request_done:status >> 5", "unexpected '>' at column 28"},
		{"store:request_*:nosuch",
		 "unknown name 'nosuch' in store:request_done at column 17"},
		{"status: == 1", "unexpected ':' at column 7"},
		{"path =~ \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
		 "string longer than 63 bytes at column 6"},
	};
	struct filter_prog prog;
	char line[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = compile(cases[i].expr, &prog, line, sizeof(line));

		snprintf(want, sizeof(want), "usdtkit trace: --filter: %s", cases[i].line);
		if (rc != -EINVAL || strcmp(line, want))
			fail_msg("'%s': rc %d, got \"%s\", want \"%s\"", cases[i].expr, rc, line,
				 want);
	}
}

static void nesting(void **state)
{
	char text[200], line[256];
	struct filter_prog prog;
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		text[i] = '(';
	snprintf(text + 64, sizeof(text) - 64, "status");
	for (i = 0; i < 64; i++)
		strcat(text, ")");
	assert_int_equal(compile(text, &prog, line, sizeof(line)), 0);
	memmove(text + 1, text, strlen(text) + 1);
	text[0] = '!';
	assert_int_equal(compile(text, &prog, line, sizeof(line)), -EINVAL);
	assert_string_equal(line,
			    "usdtkit trace: --filter: expression nested too deeply at column 65");
}

static void limits(void **state)
{
	char text[2048], line[256];
	struct filter_prog prog;
	size_t n = 0;

	(void)state;
	/* 32 comparisons fit, 33 do not; the error points at the operator that overflows */
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sstatus == %d", i ? " || " : "",
				      i);
	assert_int_equal(compile(text, &prog, line, sizeof(line)), 0);
	assert_int_equal(prog.ninsns, 32);
	snprintf(text + n, sizeof(text) - n, " || len == 1");
	assert_int_equal(compile(text, &prog, line, sizeof(line)), -EINVAL);
	assert_non_null(strstr(line, "too many comparisons (at most 32) at column "));
	/* four different strings fit, a repeated one is shared, a fifth does not */
	assert_int_equal(
		compile("path == \"a\" || path == \"b\" || method == \"c\" || comm =~ \"d*\" "
			"|| method == \"a\"",
			&prog, line, sizeof(line)),
		0);
	assert_int_equal(prog.npats, 4);
	assert_int_equal(
		compile("path == \"a\" || path == \"b\" || method == \"c\" || comm =~ \"d*\" "
			"|| method == \"e\"",
			&prog, line, sizeof(line)),
		-EINVAL);
	assert_string_equal(line, "usdtkit trace: --filter: too many string comparisons (at most 4 "
				  "different) at column 71");
	/* 63 pattern bytes fit; stars do not count */
	assert_int_equal(
		compile("path =~ \"*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaa*\"",
			&prog, line, sizeof(line)),
		0);
	assert_int_equal(prog.pats[0].n, 63);
}

static void codegen(void **state)
{
	struct filter_prog p;
	char line[256];

	(void)state;
	/* status >= 500 is !(status < 500): one signed LT whose successors are swapped */
	assert_int_equal(compile("status >= 500", &p, line, sizeof(line)), 0);
	assert_int_equal(p.start, 0);
	assert_int_equal(p.ninsns, 1);
	assert_int_equal(p.insns[0].op, FILTER_OP_LT);
	assert_int_equal(p.insns[0].a, FILTER_VAL_ARG0 + FG_STATUS);
	assert_int_equal(p.insns[0].imm, 500);
	assert_int_equal(p.insns[0].jt, FILTER_JMP_DROP);
	assert_int_equal(p.insns[0].jf, FILTER_JMP_PASS);
	/* unsigned argument: unsigned op; literal on the left is mirrored */
	assert_int_equal(compile("5 < len", &p, line, sizeof(line)), 0);
	assert_int_equal(p.insns[0].op, FILTER_OP_LEU);
	assert_int_equal(p.insns[0].a, FILTER_VAL_ARG0 + FG_LEN);
	assert_int_equal(p.insns[0].jt, FILTER_JMP_DROP);
	/* a negative literal makes the comparison signed */
	assert_int_equal(compile("len > -1", &p, line, sizeof(line)), 0);
	assert_int_equal(p.insns[0].op, FILTER_OP_LE);
	assert_int_equal(p.insns[0].imm, -1);
	/* && chains forward: the first failing comparison drops */
	assert_int_equal(compile("pid == 7 && (tid != 8 || arg4)", &p, line, sizeof(line)), 0);
	assert_int_equal(p.ninsns, 3);
	assert_int_equal(p.insns[0].a, FILTER_VAL_PID);
	assert_int_equal(p.insns[0].jt, 1);
	assert_int_equal(p.insns[0].jf, FILTER_JMP_DROP);
	assert_int_equal(p.insns[1].a, FILTER_VAL_TID);
	assert_int_equal(p.insns[1].jt, 2);
	assert_int_equal(p.insns[1].jf, FILTER_JMP_PASS);
	assert_int_equal(p.insns[2].a, FILTER_VAL_ARG0 + FG_ARG4);
	assert_int_equal(p.insns[2].jt, FILTER_JMP_DROP);
	assert_int_equal(p.insns[2].jf, FILTER_JMP_PASS);
	/* two values */
	assert_int_equal(compile("status < arg4", &p, line, sizeof(line)), 0);
	assert_int_equal(p.insns[0].flags, FILTER_F_BVAL);
	assert_int_equal(p.insns[0].bval, FILTER_VAL_ARG0 + FG_ARG4);
	/* strings: one pattern, == takes * literally, =~ does not */
	assert_int_equal(compile("path == \"a*\"", &p, line, sizeof(line)), 0);
	assert_int_equal(p.insns[0].op, FILTER_OP_MATCH);
	assert_int_equal(p.pats[0].n, 2);
	assert_int_equal(p.pats[0].star, 0);
	assert_true(p.pats[0].cls['*'] & 4);
	assert_int_equal(compile("path =~ \"a*\"", &p, line, sizeof(line)), 0);
	assert_int_equal(p.pats[0].n, 1);
	assert_int_equal(p.pats[0].star, 2);
	assert_int_equal(compile("path =~ \"a\\*\"", &p, line, sizeof(line)), 0);
	assert_int_equal(p.pats[0].n, 2);
	assert_int_equal(p.pats[0].star, 0);
}

static void folding(void **state)
{
	struct filter_expr *e[3] = {NULL, NULL, NULL};
	struct filter_error err;
	struct filter_prog p;
	char line[256];

	(void)state;
	assert_int_equal(compile("probe == \"store:request_done\"", &p, line, sizeof(line)), 0);
	assert_true(filter_prog__is_pass(&p));
	assert_int_equal(compile("probe =~ \"other:*\" && status > 1", &p, line, sizeof(line)), 0);
	assert_int_equal(p.start, FILTER_JMP_DROP);
	assert_int_equal(compile("probe =~ \"store:*\" && status > 1", &p, line, sizeof(line)), 0);
	assert_int_equal(p.ninsns, 1);
	assert_int_equal(compile("1 < 2 || status", &p, line, sizeof(line)), 0);
	assert_true(filter_prog__is_pass(&p));
	assert_int_equal(compile("-1 < 2", &p, line, sizeof(line)), 0);
	assert_true(filter_prog__is_pass(&p));
	assert_int_equal(compile("0xffffffffffffffff < 2", &p, line, sizeof(line)), 0);
	assert_int_equal(p.start, FILTER_JMP_DROP);
	assert_int_equal(compile("!0 && \"ab\" =~ \"a?\"", &p, line, sizeof(line)), 0);
	assert_true(filter_prog__is_pass(&p));

	/* scopes: only expressions whose scope matches apply, and they are ANDed */
	assert_int_equal(filter_parse("other:*: nosuch > 1", &e[0], &err), 0);
	assert_false(filter_expr__applies(e[0], "store", "request_done"));
	assert_true(filter_expr__applies(e[0], "other", "x"));
	assert_int_equal(filter_parse("st*:request_[d]one: status > 1", &e[1], &err), 0);
	assert_true(filter_expr__applies(e[1], "store", "request_done"));
	assert_int_equal(filter_parse("len == 2", &e[2], &err), 0);
	assert_int_equal(filter_compile(e, 1, &fg_env, &p, &err), 0);
	assert_true(filter_prog__is_pass(&p));
	assert_int_equal(filter_compile(e, 3, &fg_env, &p, &err), 0);
	assert_int_equal(p.ninsns, 2);
	/* status > 1 is !(status <= 1): holding means drop, else on to len == 2 */
	assert_int_equal(p.insns[0].op, FILTER_OP_LE);
	assert_int_equal(p.insns[0].jt, FILTER_JMP_DROP);
	assert_int_equal(p.insns[0].jf, 1);
	assert_int_equal(p.insns[1].a, FILTER_VAL_ARG0 + FG_LEN);
	assert_int_equal(p.insns[1].jt, FILTER_JMP_PASS);
	/* an error names the expression it is in */
	filter_expr__free(e[0]);
	assert_int_equal(filter_parse("path < \"x\"", &e[0], &err), 0);
	assert_int_equal(filter_compile(e, 3, &fg_env, &p, &err), -EINVAL);
	assert_int_equal(err.index, 0);
	assert_int_equal(err.column, 6);
	assert_int_equal(p.start, FILTER_JMP_DROP); /* a failed compile drops everything */
	for (int i = 0; i < 3; i++)
		filter_expr__free(e[i]);
}

static int eval(const char *text, const struct filter_input *in)
{
	struct filter_prog p;
	char line[256];

	if (compile(text, &p, line, sizeof(line)))
		fail_msg("'%s': %s", text, line);
	return filter_prog__eval(&p, in);
}

static void reference(void **state)
{
	struct filter_input in = {0};
	char s126[127], s127[128], s200[201];

	(void)state;
	memset(s126, 'a', sizeof(s126) - 1);
	s126[126] = 0;
	memset(s127, 'a', sizeof(s127) - 1);
	s127[127] = 0;
	memset(s200, 'a', sizeof(s200) - 1);
	s200[200] = 0;
	in.vals[FG_STATUS] = (uint64_t)-3;
	in.vals[FG_LEN] = UINT64_MAX;
	in.vals[FG_PATH] = (uintptr_t) "/api/v1/users";
	in.vals[FG_METHOD] = (uintptr_t) "GET";
	in.vals[FILTER_VAL_PID] = 42;
	in.vals[FILTER_VAL_TID] = 43;
	memcpy(in.comm, "python3", 8);

	assert_int_equal(eval("status < 0", &in), FILTER_PASS);
	assert_int_equal(eval("status < -3", &in), FILTER_DROP);
	assert_int_equal(eval("len > 0xfffffffffffffffe", &in), FILTER_PASS);
	assert_int_equal(eval("len > -2", &in), FILTER_PASS); /* signed: -1 > -2 */
	in.vals[FG_LEN] = 5;
	assert_int_equal(eval("len < -2", &in), FILTER_DROP);
	assert_int_equal(eval("pid == 42 && tid == 43", &in), FILTER_PASS);
	assert_int_equal(eval("path =~ \"/api/*\"", &in), FILTER_PASS);
	assert_int_equal(eval("path =~ \"/api/?\"", &in), FILTER_DROP);
	assert_int_equal(eval("path =~ \"*users\" && method == \"GET\"", &in), FILTER_PASS);
	assert_int_equal(eval("path == \"/api/v1/user\"", &in), FILTER_DROP);
	assert_int_equal(eval("path != \"/api/v1/user\"", &in), FILTER_PASS);
	assert_int_equal(eval("comm == \"python3\"", &in), FILTER_PASS);
	assert_int_equal(eval("comm =~ \"py*\" && probe == \"store:request_done\"", &in),
			 FILTER_PASS);
	assert_int_equal(eval("method == \"\"", &in), FILTER_DROP);
	in.vals[FG_METHOD] = (uintptr_t) "";
	assert_int_equal(eval("method == \"\"", &in), FILTER_PASS);
	assert_int_equal(eval("method =~ \"*\"", &in), FILTER_PASS);
	assert_int_equal(eval("method =~ \"?\"", &in), FILTER_DROP);
	/* strings at the window's edge: 126 bytes are seen whole, 127 and more are long */
	in.vals[FG_PATH] = (uintptr_t)s126;
	assert_int_equal(eval("path =~ \"*a\"", &in), FILTER_PASS);
	in.vals[FG_PATH] = (uintptr_t)s127;
	assert_int_equal(eval("path =~ \"*a\"", &in), FILTER_DROP);
	assert_int_equal(eval("path =~ \"a*\"", &in), FILTER_PASS);
	in.vals[FG_PATH] = (uintptr_t)s200;
	assert_int_equal(eval("path =~ \"*a*\"", &in), FILTER_PASS);
	assert_int_equal(eval("path =~ \"b*\"", &in), FILTER_DROP);
	assert_int_equal(eval("path != \"a\"", &in), FILTER_PASS);
	/* faults: a value the program reads that could not be fetched */
	in.fault = 1u << FG_STATUS;
	assert_int_equal(eval("status == 1", &in), FILTER_FAULT);
	assert_int_equal(eval("pid == 42 || status == 1", &in), FILTER_PASS); /* not read */
	assert_int_equal(eval("pid == 1 || status == 1", &in), FILTER_FAULT);
	assert_int_equal(eval("len < status", &in), FILTER_FAULT);
	in.fault = 0;
	in.vals[FG_PATH] = 0;
	assert_int_equal(eval("path == \"x\"", &in), FILTER_FAULT);
	assert_int_equal(eval("!(path == \"x\")", &in), FILTER_FAULT);
}

static void glob_vs_fnmatch(void **state)
{
	static const char alpha[] = "ab*?";
	struct fg_rng r = {0x9e3779b97f4a7c15ull};
	char pat[12], s[12];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t pl = fg_rand(&r, 8), sl = fg_rand(&r, 10);

		for (size_t k = 0; k < pl; k++)
			pat[k] = alpha[fg_rand(&r, 4)];
		pat[pl] = 0;
		for (size_t k = 0; k < sl; k++)
			s[k] = alpha[fg_rand(&r, 2)];
		s[sl] = 0;
		if (filter_glob_match(pat, pl, s, sl) != (fnmatch(pat, s, 0) == 0))
			fail_msg("'%s' =~ '%s'", s, pat);
	}
	assert_true(filter_glob_match("a\\*", 3, "a*", 2));
	assert_false(filter_glob_match("a\\*", 3, "ab", 2));
	assert_true(filter_glob_match("\\\\", 2, "\\", 1));
}

static void random_expressions(void **state)
{
	struct fg_rng r = {0x1234567887654321ull};
	struct fg_input x;
	struct filter_prog p;
	char text[4096], line[256];
	unsigned long pass = 0, total = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct fg_node *n = fg_expr(&r, text, sizeof(text));

		if (compile(text, &p, line, sizeof(line)))
			fail_msg("'%s': %s", text, line);
		for (int k = 0; k < 8; k++) {
			bool want;
			int got;

			fg_input(&r, &x);
			want = fg_eval(n, &x);
			got = filter_prog__eval(&p, &x.in);
			if (got != (want ? FILTER_PASS : FILTER_DROP))
				fail_msg("'%s' on path '%s' method '%s' comm '%s': got %d, want %d",
					 text, x.path, x.method, x.in.comm, got, want);
			pass += want;
			total++;
		}
		fg_free(n);
	}
	/* the generator must exercise both verdicts */
	assert_true(pass > total / 10 && pass < total - total / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors),	   cmocka_unit_test(nesting),
		cmocka_unit_test(limits),	   cmocka_unit_test(codegen),
		cmocka_unit_test(folding),	   cmocka_unit_test(reference),
		cmocka_unit_test(glob_vs_fnmatch), cmocka_unit_test(random_expressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
