// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The engine under bad input and faults, through the real `usdtkit`: a
 * FIFO as a PATH never hangs a command; a full output is an error naming
 * it, a closed pipe a quiet stop; names from the target never reach the
 * terminal raw; floats, NaN, NULL and cut strings decode as documented;
 * distinct probes folded onto one address stay distinct; --args rejects a
 * name given twice and accepts f32; -p resolves a PATH in the target's
 * mount namespace; stat shows probes that are only counted, and a
 * --lhist over the whole int64 range keeps every hit; -c follows its
 * command through exec (env, sh -c 'exec ...', a wrapper script).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer_test_util.h"

static char *usdtkit_cmd(void)
{
	return (char *)tt_usdtkit();
}

/* "PATH:REST" for a fixture, in a static buffer per call site. */
static const char *probe_of(char *buf, size_t size, const char *fixture, const char *rest)
{
	snprintf(buf, size, "%s:%s", tt_fixture(fixture), rest);
	return buf;
}

/* Asserts that @p's stderr holds @needle. */
static void expect_err(const struct tt_proc *p, const char *needle)
{
	char *err = tt_read(p->err_path);
	bool found = strstr(err, needle) != NULL;

	if (!found)
		tt_dump(p, needle);
	free(err);
	assert_true(found);
}

static void fifo_never_blocks(void **state)
{
	char dir[] = "/tmp/usdtkit-fifo-XXXXXX", fifo[64], spec[96];
	struct tt_proc p;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/pipe", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(spec, sizeof(spec), "%s:a:b", fifo);
	{
		char *argv[] = {usdtkit_cmd(), "list", fifo, NULL};

		assert_int_equal(tt_run(&p, argv, 10000), 1);
		expect_err(&p, "not a regular file");
		tt_cleanup(&p);
	}
	for (int i = 0; i < 2; i++) {
		char *argv[] = {usdtkit_cmd(), i ? "stat" : "trace", spec, NULL};

		assert_int_equal(tt_run(&p, argv, 10000), 1);
		expect_err(&p, "not a regular file");
		tt_cleanup(&p);
	}
	unlink(fifo);
	rmdir(dir);
}

/* Runs usdtkit ARGV with stdout on /dev/full. */
static int run_to_full(char *const argv[], struct tt_proc *p)
{
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC), ret;

	assert_true(full >= 0);
	ret = tt_start_out(p, argv, full);
	close(full);
	return ret;
}

static void write_errors(void **state)
{
	char cmd[PATH_MAX], spec[PATH_MAX];
	struct tt_proc p;
	char *err;

	/* stat's summary cannot be written: said, exit 1 */
	probe_of(spec, sizeof(spec), "trace_fold", "fold:p0");
	{
		char *argv[] = {usdtkit_cmd(), "stat", "-d", "300ms", spec, NULL};

		assert_int_equal(run_to_full(argv, &p), 0);
		assert_int_equal(tt_wait(&p, 20000), 1);
		err = tt_read(p.err_path);
		assert_non_null(
			strstr(err, "usdtkit stat: writing standard output: No space left"));
		free(err);
		tt_cleanup(&p);
	}
	/* trace -o a full file: said, exit 1, the summary counts what was written */
	snprintf(cmd, sizeof(cmd), "%s 50", tt_fixture("trace_edge"));
	{
		char *argv[] = {usdtkit_cmd(), "trace", "-o",	  "/dev/full",
				"-c",	       cmd,	"edge:*", NULL};

		assert_int_equal(tt_run(&p, argv, 30000), 1);
		err = tt_read(p.err_path);
		if (!strstr(err, "writing /dev/full: No space left"))
			tt_dump(&p, "trace -o /dev/full");
		assert_non_null(strstr(err, "usdtkit trace: writing /dev/full: No space left"));
		assert_non_null(strstr(err, "usdtkit trace: 0 events"));
		free(err);
		tt_cleanup(&p);
	}
}

/* Starts ARGV with stdout on a pipe; reads one line, closes it; the command must end 0. */
static void closed_pipe(char *const argv[], const char *what)
{
	int fds[2], status = -1;
	char line[4096];
	struct timespec t0, t1;
	struct tt_proc p;
	ssize_t n;
	char *err;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(tt_start_out(&p, argv, fds[1]), 0);
	close(fds[1]);
	n = read(fds[0], line, sizeof(line));
	assert_true(n > 0);
	close(fds[0]); /* like `| head -1` */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = tt_wait(&p, 10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	err = tt_read(p.err_path);
	if (status != 0 || strstr(err, "writing"))
		tt_dump(&p, what);
	assert_int_equal(status, 0);
	assert_null(strstr(err, "writing"));
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	free(err);
	tt_cleanup(&p);
}

static void closed_output(void **state)
{
	char cmd[PATH_MAX], spec[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "%s 100000", tt_fixture("trace_edge"));
	{
		char *argv[] = {usdtkit_cmd(), "trace", "-c", cmd, "edge:*", NULL};

		closed_pipe(argv, "trace | head -1");
	}
	probe_of(spec, sizeof(spec), "trace_fold", "fold:p0");
	{
		char *argv[] = {usdtkit_cmd(), "stat", "-i", "100ms", spec, NULL};

		closed_pipe(argv, "stat -i | head -1");
	}
}

/* trace -c the edge fixture with EXTRA options; its stdout, or NULL. */
static char *trace_edge(const char *extra1, const char *extra2)
{
	char *argv[] = {
		usdtkit_cmd(), "trace",	       "-c",	       (char *)tt_fixture("trace_edge"),
		"edge:*",      (char *)extra1, (char *)extra2, NULL};
	struct tt_proc p;
	char *out;

	if (tt_run(&p, argv, 30000) != 0) {
		tt_dump(&p, "trace edge");
		tt_cleanup(&p);
		return NULL;
	}
	out = tt_read(p.out_path);
	tt_cleanup(&p);
	return out;
}

static void decoding(void **state)
{
	char *out = trace_edge("--args", "edge:raw=x:f32");

	assert_non_null(out);
	/* untyped float specs decode as floats; NaN as nan */
	assert_non_null(strstr(out, " edge:floats arg0=1.5 arg1=-0.25 arg2=nan\n"));
	/* NULL is (null), a string cut by an unmapped page is marked truncated */
	assert_non_null(strstr(out, " edge:strs none=(null) cut=\"xyz\"... ok=\"fine\"\n"));
	assert_non_null(strstr(out, " edge:raw x=2.5\n"));
	/* the comm "\e[7mx\n" is escaped */
	assert_non_null(strstr(out, " \\x1b[7mx\\n edge:floats"));
	assert_null(strchr(out, '\x1b'));
	free(out);

	out = trace_edge("--json", NULL);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"args\":{\"arg0\":1.5,\"arg1\":-0.25,\"arg2\":null}"));
	assert_non_null(strstr(
		out,
		"\"args\":{\"none\":null,\"cut\":\"xyz\",\"ok\":\"fine\"},\"truncated\":[\"cut\"]"));
	free(out);
}

static void args_declarations(void **state)
{
	char *argv[] = {usdtkit_cmd(),
			"trace",
			"-c",
			(char *)tt_fixture("trace_edge"),
			"edge:*",
			"--args",
			"edge:raw=x:u32,x:u32",
			NULL};
	struct tt_proc p;

	assert_int_equal(tt_run(&p, argv, 30000), 2);
	expect_err(&p, "bad --args 'edge:raw=x:u32,x:u32'");
	tt_cleanup(&p);
}

static void folded_probes(void **state)
{
	char spec[PATH_MAX], cmd[PATH_MAX];
	struct tt_proc p;
	char *out, *err;

	/* five runs of the site: one per argument */
	snprintf(cmd, sizeof(cmd), "%s a b c d", tt_fixture("trace_fold"));
	{
		char *argv[] = {usdtkit_cmd(), "stat", "-c", cmd, "fold:*", NULL};

		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		err = tt_read(p.err_path);
		assert_non_null(strstr(err, "attached 5 locations of 5 probes"));
		for (int i = 0; i < 4; i++) {
			char want[64];

			snprintf(want, sizeof(want), "fold:p%d ", i);
			assert_non_null(strstr(out, want));
			assert_non_null(strstr(strstr(out, want), " 5\n"));
		}
		/* a probe name with an escape sequence: escaped in text */
		assert_non_null(strstr(out, "fold:bad\\x1b[7m"));
		assert_null(strchr(out, '\x1b'));
		free(out);
		free(err);
		tt_cleanup(&p);
	}
	{
		char *argv[] = {usdtkit_cmd(), "trace", "-c",	       cmd,
				"fold:p[0-3]", "-f",	"{probe} {0}", NULL};

		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		assert_int_equal(tt_count_lines(out, "fold:p"), 20);
		assert_int_equal(tt_count_lines(out, "fold:p2 "), 5);
		assert_int_equal(tt_count_lines(out, "fold:p1 5\n"), 1);
		free(out);
		tt_cleanup(&p);
	}
	/* bpftrace's spelling selects the same probes */
	probe_of(spec, sizeof(spec), "trace_fold", "fold:p1");
	{
		char full[PATH_MAX + 8];
		char *argv[] = {usdtkit_cmd(), "list", full, NULL};

		snprintf(full, sizeof(full), "usdt:%s", spec);
		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		assert_int_equal(tt_count_lines(out, "fold:"), 1);
		assert_non_null(strstr(out, " fold:p1\n"));
		free(out);
		tt_cleanup(&p);
	}
}

static void stat_only_counted(void **state)
{
	char cmd[PATH_MAX];
	struct tt_proc p;
	char *out;

	snprintf(cmd, sizeof(cmd), "%s a b", tt_fixture("trace_fold"));
	{
		char *argv[] = {usdtkit_cmd(), "stat",	 "-c",	 cmd,
				"fold:p[23]",  "--hist", "arg0", NULL};

		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		if (!strstr(out, "fold:p3 (3 hits, only counted)"))
			tt_dump(&p, "only counted");
		assert_non_null(strstr(out, "fold:p2 log2 arg0 (3 hits):"));
		assert_non_null(strstr(out, "fold:p3 (3 hits, only counted)"));
		free(out);
		tt_cleanup(&p);
	}
	/* the whole int64 range: every hit lands in a bucket */
	{
		char *argv[] = {usdtkit_cmd(),
				"stat",
				"-c",
				cmd,
				"fold:p0",
				"--lhist",
				"arg0,-9223372036854775808,9223372036854775807,1152921504606846976",
				"--json",
				NULL};
		struct tt_json *rec;
		const struct tt_json *pr, *b;
		int64_t sum = 0;

		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		rec = tt_json_parse(out, NULL);
		assert_non_null(rec);
		pr = tt_json_probe(rec, "p0");
		assert_non_null(pr);
		b = tt_json_get(pr, "buckets");
		assert_non_null(b);
		for (size_t i = 0; i < b->n; i++)
			sum += tt_json_int(&b->items[i], "count");
		assert_int_equal(sum, 3);
		tt_json_free(rec);
		free(out);
		tt_cleanup(&p);
	}
}

/* -p PID with a PATH that exists only in the target's mount namespace. */
static void target_mount_namespace(void **state)
{
	char dir[] = "/tmp/usdtkit-ns-XXXXXX", script[PATH_MAX * 2], spec[PATH_MAX], pid[16];
	struct tt_proc f, p;
	char *out;

	if (access("/usr/bin/unshare", X_OK))
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script),
		 "mount -t tmpfs none %s && cp %s %s/edge && echo ready && exec %s/edge 100000",
		 dir, tt_fixture("trace_edge"), dir, dir);
	{
		char *fargv[] = {"/usr/bin/unshare",
				 "-m",
				 "--propagation",
				 "private",
				 "sh",
				 "-c",
				 script,
				 NULL};

		assert_int_equal(tt_start(&f, fargv), 0);
	}
	assert_true(tt_wait_for(f.out_path, "ready", 10000));
	for (int i = 0; i < 200; i++) {
		char exe[64], target[PATH_MAX];
		ssize_t n;

		snprintf(exe, sizeof(exe), "/proc/%d/exe", f.pid);
		n = readlink(exe, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = 0, strstr(target, "/edge")))
			break;
		usleep(10000);
	}
	snprintf(pid, sizeof(pid), "%d", f.pid);
	snprintf(spec, sizeof(spec), "%s/edge:edge:*", dir); /* not there in our namespace */
	{
		char *argv[] = {usdtkit_cmd(), "trace", "-p", pid, spec, "-n", "5", NULL};

		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		assert_int_equal(tt_count_lines(out, " edge:"), 5);
		free(out);
		tt_cleanup(&p);
	}
	tt_cleanup(&f);
	rmdir(dir);
}

/* -c follows the command through exec: env, sh -c 'exec', a wrapper script. */
static void exec_chain(void **state)
{
	const char *fix = tt_fixture("trace_doubles");
	char script[] = "/tmp/usdtkit-wrap-XXXXXX", forms[4][PATH_MAX + 64];
	struct tt_proc p;
	FILE *f;
	int fd;

	fd = mkstemp(script);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "#!/bin/sh\nexec %s \"$@\"\n", fix);
	fclose(f);
	chmod(script, 0755);
	snprintf(forms[0], sizeof(forms[0]), "%s 3", fix);
	snprintf(forms[1], sizeof(forms[1]), "env FOO=1 %s 3", fix);
	snprintf(forms[2], sizeof(forms[2]), "sh -c 'exec %s 3'", fix);
	snprintf(forms[3], sizeof(forms[3]), "%s 3", script);
	for (int i = 0; i < 4; i++) {
		char *argv[] = {usdtkit_cmd(), "trace", "-c", forms[i], "dbl:vals", NULL};
		char *argv_stat[] = {usdtkit_cmd(), "stat", "-c", forms[i], "dbl:vals", NULL};
		char *out;

		/* the fixture fires at once after exec: only a traced exec sees it */
		assert_int_equal(tt_run(&p, argv, 30000), 0);
		out = tt_read(p.out_path);
		if (tt_count_lines(out, " dbl:vals ") != 3)
			tt_dump(&p, forms[i]);
		assert_int_equal(tt_count_lines(out, " dbl:vals "), 3);
		free(out);
		tt_cleanup(&p);
		assert_int_equal(tt_run(&p, argv_stat, 30000), 0);
		out = tt_read(p.out_path);
		assert_non_null(strstr(out, "dbl:vals            3\n"));
		free(out);
		tt_cleanup(&p);
	}
	unlink(script);
}

static int setup(void **state)
{
	return tt_usdtkit() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fifo_never_blocks), cmocka_unit_test(write_errors),
		cmocka_unit_test(closed_output),     cmocka_unit_test(decoding),
		cmocka_unit_test(args_declarations), cmocka_unit_test(folded_probes),
		cmocka_unit_test(stat_only_counted), cmocka_unit_test(target_mount_namespace),
		cmocka_unit_test(exec_chain),
	};

	if (tt_bpf_permitted())
		return TT_SKIP;
	return cmocka_run_group_tests(tests, setup, NULL);
}
