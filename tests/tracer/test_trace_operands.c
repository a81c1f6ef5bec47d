// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `usdtkit trace` decodes every x86-64 operand form exactly: registers of
 * every width (including %ah), constants, base+displacement, SIB with and
 * without a base, sym(%rip), 40+sym(%rip), a bare symbol, sign and zero
 * extension, and a string in a page the program never touched. The
 * fixture (fixtures/trace_operands.S) sets every value by hand. Also the
 * output modes (text, --json, --format, truncation), PATH targets and the
 * command line's exit statuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer_test_util.h"

#define REGS_LINE                                                                            \
	" ops:regs arg0=1234605616436508552 arg1=-10 arg2=43981 arg3=-128 arg4=119 arg5=-5 " \
	"arg6=7 arg7=-32768 arg8=255 arg9=-2 arg10=-42 arg11=123456789012\n"
#define MEM_LINE                                                                         \
	" ops:mem arg0=72623859790382856 arg1=-1000 arg2=-2 arg3=777 arg4=103 arg5=102 " \
	"arg6=-7 arg7=21845 arg8=-3 arg9=1 arg10=-3 arg11=101\n"
#define STR_LINE " ops:str s=\"never touched by the program\" n=28\n"
#define STR_DECL "ops:str=s:str,n:i32"

static char cmd[4096];

static const char *fixture_cmd(int rounds)
{
	snprintf(cmd, sizeof(cmd), "%s %d", tt_fixture("trace_operands"), rounds);
	return cmd;
}

static void operands_text(void **state)
{
	char *argv[] = {(char *)tt_usdtkit(),
			"trace",
			"-c",
			(char *)fixture_cmd(1),
			"ops:*",
			"--args",
			STR_DECL,
			NULL};
	struct tt_proc p;
	char *out, *err;

	assert_int_equal(tt_run(&p, argv, 30000), 0);
	out = tt_read(p.out_path);
	err = tt_read(p.err_path);
	if (!strstr(out, REGS_LINE) || !strstr(out, MEM_LINE) || !strstr(out, STR_LINE))
		tt_dump(&p, "operands");
	assert_non_null(strstr(out, REGS_LINE));
	assert_non_null(strstr(out, MEM_LINE));
	assert_non_null(strstr(out, STR_LINE));
	/* -c attached before the first instruction: each probe exactly once */
	assert_int_equal(tt_count_lines(out, " ops:"), 3);
	assert_null(strstr(err, "cannot be fetched"));
	assert_non_null(strstr(err, "3 events, 0 lost"));
	free(out);
	free(err);
	tt_cleanup(&p);
}

static const char json_check[] =
	"import json, sys\n"
	"recs = [json.loads(l) for l in open(sys.argv[1])]\n"
	"ev = {r['name']: r for r in recs if r['type'] == 'event'}\n"
	"assert len(ev) == 3, recs\n"
	"assert ev['str']['args'] == {'s': 'never touched by the program', 'n': 28}, ev['str']\n"
	"r = ev['regs']['args']\n"
	"assert r['arg0'] == 0x1122334455667788 and r['arg1'] == -10 and r['arg4'] == 119, r\n"
	"assert list(r) == ['arg%d' % i for i in range(12)], r\n"
	"m = ev['mem']['args']\n"
	"assert m['arg6'] == -7 and m['arg7'] == 0x5555 and m['arg8'] == -3, m\n"
	"for e in ev.values():\n"
	"    assert e['provider'] == 'ops' and e['comm'] == 'trace_operands', e\n"
	"    assert e['pid'] > 0 and e['tid'] == e['pid'] and isinstance(e['ts_ns'], int), e\n"
	"    assert 'truncated' not in e, e\n"
	"assert recs[-1] == {'type': 'summary', 'events': 3, 'lost': 0}, recs[-1]\n"
	"print('json ok')\n";

static void operands_json(void **state)
{
	char outfile[] = "/tmp/usdtkit-tt-json-XXXXXX";
	int fd = mkstemp(outfile);
	char *argv[] = {(char *)tt_usdtkit(),	"trace", "--json", "-o",     outfile, "-c",
			(char *)fixture_cmd(1), "ops:*", "--args", STR_DECL, NULL};
	char *py[] = {"/usr/bin/python3", "-c", (char *)json_check, outfile, NULL};
	struct tt_proc p, q;
	char *out;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tt_run(&p, argv, 30000), 0);
	if (access(py[0], X_OK)) {
		printf("python3 missing: JSON checked only for presence\n");
		out = tt_read(outfile);
		assert_non_null(strstr(out, "\"s\":\"never touched by the program\""));
		free(out);
	} else {
		int rc = tt_run(&q, py, 30000);

		if (rc)
			tt_dump(&q, "json check");
		assert_int_equal(rc, 0);
		tt_cleanup(&q);
	}
	unlink(outfile);
	tt_cleanup(&p);
}

static void format_and_truncation(void **state)
{
	char *argv[] = {(char *)tt_usdtkit(),
			"trace",
			"-c",
			(char *)fixture_cmd(1),
			"ops:str",
			"--args",
			STR_DECL,
			"-f",
			"{s}|{n}|{1}|{0}|{probe}|{comm}|{provider}|{probe_name}|{{x}}|{nope}",
			NULL};
	char *argv2[] = {(char *)tt_usdtkit(),
			 "trace",
			 "-c",
			 (char *)fixture_cmd(1),
			 "ops:str",
			 "--args",
			 STR_DECL,
			 "-s",
			 "6",
			 "--json",
			 NULL};
	struct tt_proc p;
	char *out;

	assert_int_equal(tt_run(&p, argv, 30000), 0);
	out = tt_read(p.out_path);
	assert_string_equal(out, "never touched by the program|28|28|never touched by the "
				 "program|ops:str|trace_operands|ops|str|{x}|{nope}\n");
	free(out);
	tt_cleanup(&p);

	assert_int_equal(tt_run(&p, argv2, 30000), 0);
	out = tt_read(p.out_path);
	assert_non_null(strstr(out, "\"args\":{\"s\":\"never \",\"n\":28},\"truncated\":[\"s\"]"));
	free(out);
	tt_cleanup(&p);
}

/* PATH target: processes already running the file are traced. */
static void path_target(void **state)
{
	char *fix[] = {(char *)tt_fixture("trace_operands"), "400", NULL};
	char probe[4200];
	char *argv[] = {(char *)tt_usdtkit(), "trace", probe, "-n", "3", NULL};
	char *argv_d[] = {(char *)tt_usdtkit(), "trace", probe, "--duration", "0.5", NULL};
	struct timespec t0, t1;
	double secs;
	struct tt_proc f, p;
	char *out;

	snprintf(probe, sizeof(probe), "%s:ops:re*s", tt_fixture("trace_operands"));
	/* a process started after usdtkit attached ("and later") */
	assert_int_equal(tt_start(&p, argv), 0);
	usleep(500 * 1000);
	assert_int_equal(tt_start(&f, fix), 0);
	assert_int_equal(tt_wait(&p, 30000), 0);
	out = tt_read(p.out_path);
	assert_int_equal(tt_count_lines(out, " ops:regs "), 3);
	free(out);
	tt_cleanup(&p);
	/* and a process already running */
	assert_int_equal(tt_run(&p, argv, 30000), 0);
	out = tt_read(p.out_path);
	if (tt_count_lines(out, " ops:") != 3)
		tt_dump(&p, "path target");
	assert_int_equal(tt_count_lines(out, "ops:regs arg0=1234605616436508552 arg1=-10 "), 3);
	assert_int_equal(tt_count_lines(out, " ops:"), 3);
	free(out);
	tt_cleanup(&p);

	/* --duration stops a trace that -n would not */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(tt_run(&p, argv_d, 30000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	out = tt_read(p.out_path);
	assert_true(tt_count_lines(out, " ops:regs ") >= 2);
	assert_true(secs >= 0.5 && secs < 10);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

/*
 * Two PROBEs naming the same PATH: the object is scanned once for both,
 * and each PROBE selects its own probe (the second used to match nothing).
 */
static void shared_path(void **state)
{
	char *fix[] = {(char *)tt_fixture("trace_operands"), "400", NULL};
	char regs[4200], str[4200];
	char *argv[] = {
		(char *)tt_usdtkit(), "trace", regs, str, "--args", STR_DECL, "-n", "6", NULL};
	struct tt_proc f, p;
	char *out;

	snprintf(regs, sizeof(regs), "%s:ops:regs", tt_fixture("trace_operands"));
	snprintf(str, sizeof(str), "%s:ops:str", tt_fixture("trace_operands"));
	assert_int_equal(tt_start(&f, fix), 0);
	if (tt_run(&p, argv, 30000) != 0)
		tt_dump(&p, "shared path");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	assert_true(tt_count_lines(out, REGS_LINE) >= 2);
	assert_true(tt_count_lines(out, STR_LINE) >= 2);
	assert_int_equal(tt_count_lines(out, " ops:mem "), 0);
	assert_int_equal(tt_count_lines(out, " ops:"), 6);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

/*
 * Doubles print with the fewest digits that read back as the same value
 * (0.1, not 0.10000000000000001), in text, JSON and --format alike.
 */
static void doubles_shortest(void **state)
{
	static const char *const modes[][2] = {
		{NULL, " dbl:vals a=1.5 b=0.1 c=2.115156\n"},
		{"-j", "\"args\":{\"a\":1.5,\"b\":0.1,\"c\":2.115156}}\n"},
		{"-f", "\n1.5|0.1|2.115156\n"},
	};
	char dcmd[4200];

	snprintf(dcmd, sizeof(dcmd), "%s 1", tt_fixture("trace_doubles"));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *argv[] = {(char *)tt_usdtkit(),
				"trace",
				"-c",
				dcmd,
				"dbl:vals",
				"--args",
				"dbl:vals=a:f64,b:f64,c:f64",
				(char *)modes[i][0],
				"{a}|{b}|{c}",
				NULL};
		struct tt_proc p;
		char *out, *line;

		if (!modes[i][0])
			argv[7] = NULL;
		else if (strcmp(modes[i][0], "-f"))
			argv[8] = NULL;
		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		/* -f: the whole line (a newline is put before the first) */
		line = malloc(strlen(out) + 2);
		assert_non_null(line);
		sprintf(line, "\n%s", out);
		if (!strstr(line, modes[i][1]))
			tt_dump(&p, "doubles");
		assert_non_null(strstr(line, modes[i][1]));
		free(line);
		free(out);
		tt_cleanup(&p);
	}
}

static void exit_statuses(void **state)
{
	char probe[4200];
	char *nomatch[] = {(char *)tt_usdtkit(), "trace", probe, NULL};
	char *badopt[] = {(char *)tt_usdtkit(), "trace", "--bogus", "a:b", NULL};
	char *noprobe[] = {(char *)tt_usdtkit(), "trace", NULL};
	char *badcount[] = {(char *)tt_usdtkit(), "trace", "-n", "x", "a:b", NULL};
	char *notarget[] = {(char *)tt_usdtkit(), "trace", "ops:regs", NULL};
	char *help[] = {(char *)tt_usdtkit(), "trace", "--help", NULL};
	char *missing[] = {(char *)tt_usdtkit(), "trace", "/nonexistent/x:a:b", NULL};
	char *baddecl[] = {(char *)tt_usdtkit(), "trace", probe, "--args",
			   "ops:str=s:string2",	 NULL};
	char *badprobe[] = {(char *)tt_usdtkit(), "trace", "nocolon", NULL};
	struct tt_proc p;
	char *s;

	snprintf(probe, sizeof(probe), "%s:ops:nope*", tt_fixture("trace_operands"));
	assert_int_equal(tt_run(&p, nomatch, 30000), 1);
	s = tt_read(p.err_path);
	assert_non_null(strstr(s, "ops:nope*"));
	free(s);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, badopt, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, noprobe, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, badcount, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, notarget, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, missing, 30000), 1);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, baddecl, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, badprobe, 30000), 2);
	tt_cleanup(&p);
	assert_int_equal(tt_run(&p, help, 30000), 0);
	s = tt_read(p.out_path);
	assert_non_null(strstr(s, "examples:"));
	free(s);
	tt_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(operands_text),	 cmocka_unit_test(operands_json),
		cmocka_unit_test(format_and_truncation), cmocka_unit_test(path_target),
		cmocka_unit_test(shared_path),		 cmocka_unit_test(doubles_shortest),
		cmocka_unit_test(exit_statuses),
	};
	int rc;

	if (!tt_usdtkit())
		return 1;
	rc = tt_bpf_permitted();
	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
