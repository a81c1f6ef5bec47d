// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `usdtkit trace` targets and transport: -p follows a process and exits 0
 * when it exits, and picks up a library it dlopen()s after attach; a semaphore-guarded probe sees its semaphore on while
 * traced and off after usdtkit exits (the kernel's ref_ctr_offset); 8
 * threads firing 100 000 probes each arrive complete, or every loss is
 * reported (events + lost == fires); a -c command still running when
 * usdtkit stops is ended and reaped.
 */
#include <errno.h>
#include <limits.h>
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

#include "tracer_test_util.h"

/* Waits until @pid runs @exe (the fork in tt_start has exec'd). */
static bool wait_exec(pid_t pid, const char *exe)
{
	char link[64], target[PATH_MAX], want[PATH_MAX];

	if (!realpath(exe, want))
		return false;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	for (int i = 0; i < 500; i++) {
		ssize_t n = readlink(link, target, sizeof(target) - 1);

		if (n > 0) {
			target[n] = 0;
			if (!strcmp(target, want))
				return true;
		}
		usleep(10 * 1000);
	}
	return false;
}

static void pid_exit(void **state)
{
	/* "wait": the fixture fires once our breakpoint is in (slow attach under emulation) */
	char *fix[] = {(char *)tt_fixture("trace_operands"), "40", "wait", NULL};
	char pid[32];
	char *argv[] = {(char *)tt_usdtkit(),  "trace", "-p", pid, "ops:str", "--args",
			"ops:str=s:str,n:i32", NULL};
	struct tt_proc f, p;
	char *out, *err;

	assert_int_equal(tt_start(&f, fix), 0);
	assert_true(wait_exec(f.pid, fix[0]));
	snprintf(pid, sizeof(pid), "%d", f.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	/* the fixture runs ~1 s; usdtkit must notice its exit and stop with 0 */
	assert_int_equal(tt_wait(&f, 30000), 0);
	assert_int_equal(tt_wait(&p, 10000), 0);
	out = tt_read(p.out_path);
	err = tt_read(p.err_path);
	if (!strstr(err, "exited"))
		tt_dump(&p, "pid exit");
	assert_non_null(strstr(err, "exited"));
	assert_true(tt_count_lines(out, " ops:str s=\"never touched by the program\" n=28") >= 1);
	free(out);
	free(err);
	tt_cleanup(&p);
	tt_cleanup(&f);

	/* a PID that does not exist: failure, not a hang */
	snprintf(pid, sizeof(pid), "%d", INT_MAX - 1);
	assert_int_equal(tt_run(&p, argv, 30000), 1);
	tt_cleanup(&p);
}

static void semaphore(void **state)
{
	char *fix[] = {(char *)tt_fixture("trace_sema"), "60", NULL};
	char pid[32];
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-p", pid, "demo:guarded", NULL};
	struct tt_proc f, p;
	char *out, *fout;

	assert_int_equal(tt_start(&f, fix), 0);
	assert_true(tt_wait_for(f.out_path, "sema=0 fired=0\n", 10000));
	snprintf(pid, sizeof(pid), "%d", f.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	/* while traced, the kernel holds the semaphore up and the probe fires */
	assert_true(tt_wait_for(f.out_path, "sema=1 fired=0\n", 10000));
	assert_true(tt_wait_for(p.out_path, "demo:guarded arg0=5\n", 10000));
	tt_signal(&p, SIGINT);
	assert_int_equal(tt_wait(&p, 10000), 0);
	/* after usdtkit exits, the semaphore is back to 0 */
	assert_true(tt_wait_for(f.out_path, "sema=0 fired=", 10000));
	fout = tt_read(f.out_path);
	assert_non_null(strstr(strstr(fout, "sema=1"), "sema=0"));
	out = tt_read(p.err_path);
	assert_non_null(strstr(out, " lost"));
	free(out);
	free(fout);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

/*
 * Runs the 8-thread fixture (100 000 fires each) under `usdtkit trace
 * [-b RING_MB] -f '{0} {1}' -o OUTFILE` (no -b when @ring_mb is NULL) and
 * returns the events and losses its summary reports.
 */
static void trace_threads(const char *ring_mb, const char *outfile, unsigned long long *events,
			  unsigned long long *lost)
{
	char cmd[4200];
	char *argv[] = {(char *)tt_usdtkit(),
			"trace",
			"-c",
			cmd,
			"thr:fire",
			"-f",
			"{0} {1}",
			"-o",
			(char *)outfile,
			ring_mb ? "-b" : NULL,
			(char *)ring_mb,
			NULL};
	struct tt_proc p;
	char *err, *out, *s;

	snprintf(cmd, sizeof(cmd), "%s 8 100000", tt_fixture("trace_threads"));
	assert_int_equal(tt_run(&p, argv, 240000), 0);
	err = tt_read(p.err_path);
	out = tt_read(p.out_path);
	assert_non_null(strstr(out, "fired 800000"));
	s = strstr(err, "usdtkit trace: ");
	while (s && sscanf(s, "usdtkit trace: %llu events, %llu lost", events, lost) != 2)
		s = strstr(s + 1, "usdtkit trace: ");
	assert_non_null(s);
	free(err);
	free(out);
	tt_cleanup(&p);
}

static void threads_no_loss(void **state)
{
	unsigned long long events = 0, lost = 0;

	trace_threads(NULL, "/dev/null", &events, &lost);
	printf("8 threads x 100000 fires: %llu events, %llu lost\n", events, lost);
	assert_int_equal(events + lost, 800000);
}

/*
 * Through a 1 MiB ring, 800 000 records wrap around it many times while
 * the consumer reads in batches: every record printed is whole and in its
 * thread's firing order, and printed + lost == fired.
 */
static void small_ring_wraps(void **state)
{
	char outfile[] = "/tmp/usdtkit-ring-XXXXXX";
	unsigned long long events = 0, lost = 0, lines = 0;
	long next[8] = {0}, thr, i;
	FILE *f;
	int fd;

	fd = mkstemp(outfile);
	assert_true(fd >= 0);
	close(fd);
	trace_threads("1", outfile, &events, &lost);
	f = fopen(outfile, "re");
	assert_non_null(f);
	while (fscanf(f, "%ld %ld\n", &thr, &i) == 2) {
		assert_true(thr >= 0 && thr < 8);
		assert_true(i >= next[thr] && i < 100000);
		next[thr] = i + 1;
		lines++;
	}
	assert_true(feof(f));
	fclose(f);
	unlink(outfile);
	printf("1 MiB ring, 800000 fires: %llu events, %llu lost, %llu lines\n", events, lost,
	       lines);
	assert_int_equal(lines, events);
	assert_int_equal(events + lost, 800000);
}

/*
 * Without CAP_BPF/CAP_PERFMON (root with every capability dropped by
 * setpriv) trace and stat say what is missing, in one line, and exit 1;
 * a verifier rejection is never reported as a permission problem.
 */
static void no_capabilities(void **state)
{
	static const char *const cmds[] = {"trace", "stat"};
	char probe[4200];

	if (access("/usr/bin/setpriv", X_OK) != 0) {
		printf("SKIP: /usr/bin/setpriv (util-linux) not found\n");
		skip();
	}
	snprintf(probe, sizeof(probe), "%s:thr:fire", tt_fixture("trace_threads"));
	for (size_t i = 0; i < 2; i++) {
		char *argv[] = {"/usr/bin/setpriv",
				"--inh-caps=-all",
				"--bounding-set=-all",
				"--",
				(char *)tt_usdtkit(),
				(char *)cmds[i],
				probe,
				"-d",
				"1",
				NULL};
		struct tt_proc p;
		char *err;

		assert_int_equal(tt_run(&p, argv, 20000), 1);
		err = tt_read(p.err_path);
		assert_non_null(strstr(err, "not permitted to load BPF programs"));
		assert_non_null(strstr(err, "CAP_BPF"));
		assert_null(strstr(err, "verifier"));
		assert_int_equal(tt_count_lines(err, ""), 1);
		free(err);
		tt_cleanup(&p);
	}
}

/* A library dlopen'ed after attach in a -p target is scanned and traced. */
static void dlopen_late(void **state)
{
	char lib[4200];
	char *fix[] = {(char *)tt_fixture("trace_dlopen"), lib, "1000", "30", "20", NULL};
	char pid[32];
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-p", pid, "-w", "dl:hit", "--args",
			"dl:hit=i:i64,s:str", NULL};
	struct tt_proc f, p;
	char *out, want[128];
	int good = 0;

	snprintf(lib, sizeof(lib), "%s", tt_fixture("libtrace_dlib.so"));
	assert_int_equal(tt_start(&f, fix), 0);
	assert_true(wait_exec(f.pid, fix[0]));
	snprintf(pid, sizeof(pid), "%d", f.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	assert_int_equal(tt_wait(&f, 60000), 0);
	assert_int_equal(tt_wait(&p, 10000), 0);
	out = tt_read(p.out_path);
	for (int i = 0; i < 30; i++) {
		snprintf(want, sizeof(want), " dl:hit i=%d s=\"from dlopen\"\n", i);
		good += strstr(out, want) != NULL;
	}
	printf("dlopen'ed after attach: %d of 30 fires\n", good);
	if (good < 20)
		tt_dump(&p, "dlopen");
	assert_true(good >= 20);
	assert_int_equal(tt_count_lines(out, " dl:hit "), good);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&f);
}

/* Pid written by the -c command's shell into @path (it then execs the fixture). */
static pid_t read_pid_file(const char *path)
{
	char *s = tt_read(path);
	pid_t pid = atoi(s);

	free(s);
	return pid;
}

static bool alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/*
 * When usdtkit stops before its -c command (-n here), it ends the command
 * (SIGTERM, then SIGKILL if that is ignored), reaps it and says so.
 */
static void command_stopped(void **state)
{
	static const char *const traps[] = {"", "trap \"\" TERM; "};
	char cmd[4400], pidfile[] = "/tmp/usdtkit-tt-pid-XXXXXX";
	char *argv[] = {(char *)tt_usdtkit(), "trace", "-c", cmd, "ops:regs", "-n", "3", NULL};
	int fd = mkstemp(pidfile);

	assert_true(fd >= 0);
	close(fd);
	for (int i = 0; i < 2; i++) {
		struct tt_proc p;
		bool left;
		pid_t pid;
		char *err;

		/* the shell execs the fixture: its pid is the command's pid */
		snprintf(cmd, sizeof(cmd), "sh -c '%secho $$ > %s; exec %s 400'", traps[i], pidfile,
			 tt_fixture("trace_operands"));
		if (tt_run(&p, argv, 30000) != 0)
			tt_dump(&p, "trace -c -n");
		assert_int_equal(p.status, 0);
		pid = read_pid_file(pidfile);
		err = tt_read(p.err_path);
		left = alive(pid);
		if (left) {
			tt_dump(&p, "command left running");
			kill(pid, SIGKILL);
		}
		assert_true(pid > 0);
		assert_false(left);
		assert_non_null(strstr(err, "stopping the command"));
		assert_non_null(strstr(err, i ? "command stopped (signal 9)"
					      : "command stopped (signal 15)"));
		if (i)
			assert_non_null(strstr(err, "SIGKILL"));
		free(err);
		tt_cleanup(&p);
	}
	unlink(pidfile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pid_exit),	   cmocka_unit_test(semaphore),
		cmocka_unit_test(threads_no_loss), cmocka_unit_test(small_ring_wraps),
		cmocka_unit_test(no_capabilities), cmocka_unit_test(dlopen_late),
		cmocka_unit_test(command_stopped),
	};
	int rc;

	if (!tt_usdtkit())
		return 1;
	rc = tt_bpf_permitted();
	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
