/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * End to end with a real tracer: bpftrace attaches to this process's
 * runtime probes with -p, the probes turn enabled (the kernel's ref_ctr
 * raises our semaphores), fired arguments arrive intact, and the probes
 * turn disabled again after bpftrace exits.
 *
 * The 12-argument probe: bpftrace 0.17 only offers arg0..arg5 for USDT on
 * x86-64, so the test reads the probe's argument specs from the note with
 * readelf and turns each into a bpftrace expression: a register spec
 * becomes argN (bpftrace decodes it), a stack spec "-4@8(%rsp)" becomes
 * *(int32 *)(reg("sp") + 8). Doubles are compared as their bit pattern.
 * A second test unloads and reloads the provider while bpftrace is still
 * attached. Skips without bpftrace, root, or BPF.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/provider.h>

#include "runtime_util.h"

extern char **environ;

static const enum usdt_type mixed[USDT_MAX_ARGS] = {
	USDT_TYPE_INT32,  USDT_TYPE_STRING, USDT_TYPE_DOUBLE, USDT_TYPE_INT8,
	USDT_TYPE_UINT16, USDT_TYPE_INT64,  USDT_TYPE_INT32,  USDT_TYPE_STRING,
	USDT_TYPE_DOUBLE, USDT_TYPE_INT8,   USDT_TYPE_UINT64, USDT_TYPE_POINTER,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t bits(double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

/* Appends the bpftrace expression and printf format for argument @i. */
static void arg_expr(const char *spec, int i, enum usdt_type t, char *fmt, char *args)
{
	int size = 0, off = 0;
	bool sign = spec[0] == '-';
	char expr[128];
	const char *fmt1;

	assert_int_equal(sscanf(spec + sign, "%d@", &size), 1);
	if (sscanf(strchr(spec, '@') + 1, "%d(%%rsp)", &off) == 1)
		snprintf(expr, sizeof(expr), "*(%sint%d *)(reg(\"sp\") + %d)", sign ? "" : "u",
			 size * 8, off);
	else
		snprintf(expr, sizeof(expr), "arg%d", i);
	switch (t) {
	case USDT_TYPE_STRING: {
		char tmp[160];

		fmt1 = "%s";
		snprintf(tmp, sizeof(tmp), "str(%s)", expr);
		strcpy(expr, tmp);
		break;
	}
	case USDT_TYPE_DOUBLE:
	case USDT_TYPE_POINTER:
		fmt1 = "%lx";
		break;
	case USDT_TYPE_UINT64:
		fmt1 = "%lu";
		break;
	default:
		fmt1 = "%ld";
		break;
	}
	strcat(fmt, i ? " " : "");
	strcat(fmt, fmt1);
	strcat(args, ", ");
	strcat(args, expr);
}

/*
 * bpftrace can load and run a BPF program here at all. When it cannot
 * (no BPF, a locked-down kernel) the tests skip; when it can, a probe of
 * ours that bpftrace does not attach to is a failure, not a skip.
 */
static bool bpf_works(void)
{
	char *why = NULL;

	if (rt_baseline_ok("timeout 60 bpftrace -e 'BEGIN { exit(); }' 2>&1", &why)) {
		free(why);
		return true;
	}
	RT_SKIP("bpftrace cannot run BPF programs here: %s\n", why ? why : "?");
	free(why);
	return false;
}

static void test_bpftrace_attach(void **state)
{
	const enum usdt_type two[] = {USDT_TYPE_INT32, USDT_TYPE_STRING};
	struct usdt_provider *p;
	struct usdt_probe *hello, *twelve;
	char script[4096], fmt[512] = "", args[2048] = "", expect_t[512], line[1024];
	char specs[USDT_MAX_ARGS][64], *out, *sp, stderr_path[] = "/tmp/usdtkit-trace-XXXXXX";
	char *argv[] = {"bpftrace", "-p", NULL, "-e", script, NULL};
	char pidbuf[16], cmd[256];
	posix_spawn_file_actions_t fa;
	int pfd[2], fd, nspec = 0, errfd;
	bool seen_enabled = false, got_h = false, got_v = false, got_t = false;
	size_t linelen = 0;
	pid_t bt;
	double t0;
	void *ptr = (void *)(uintptr_t)0xfeedbeef1234;

	if (!rt_have("bpftrace") || !rt_have("readelf")) {
		RT_SKIP("bpftrace or readelf not installed\n");
		skip();
	}
	if (geteuid() != 0) {
		RT_SKIP("attaching uprobes needs root\n");
		skip();
	}
	if (!bpf_works())
		skip();

	p = usdt_provider__new("tracetest", NULL);
	assert_non_null(p);
	hello = usdt_provider__add_probe(p, "hello", 2, two, NULL);
	twelve = usdt_provider__add_probe(p, "twelve", 12, mixed, NULL);
	assert_non_null(hello);
	assert_non_null(twelve);
	assert_int_equal(usdt_provider__load(p), 0);
	fd = usdt_provider__fd(p);

	/* The twelve specs, straight from the note. */
	snprintf(cmd, sizeof(cmd), "readelf -n --wide /proc/%d/fd/%d", (int)getpid(), fd);
	out = rt_run(cmd, NULL);
	assert_non_null(out);
	sp = strstr(out, "Name: twelve");
	assert_non_null(sp);
	sp = strstr(sp, "Arguments: ");
	assert_non_null(sp);
	sp += strlen("Arguments: ");
	*strchrnul(sp, '\n') = '\0';
	for (char *tok = strtok(sp, " "); tok && nspec < USDT_MAX_ARGS; tok = strtok(NULL, " "))
		snprintf(specs[nspec++], sizeof(specs[0]), "%s", tok);
	free(out);
	assert_int_equal(nspec, 12);
	for (int i = 0; i < 12; i++)
		arg_expr(specs[i], i, mixed[i], fmt, args);

	snprintf(script, sizeof(script),
		 "usdt:/proc/%d/fd/%d:tracetest:hello { printf(\"H %%d %%s\\n\", arg0, "
		 "str(arg1)); }\n"
		 "usdt:/proc/%d/fd/%d:tracetest:twelve { printf(\"T %s\\n\"%s); }\n",
		 (int)getpid(), fd, (int)getpid(), fd, fmt, args);
	snprintf(expect_t, sizeof(expect_t),
		 "T -1 str one %lx -2 65535 -123456789012 -7 eight %lx -10 %lu %lx",
		 (unsigned long)bits(1.5), (unsigned long)bits(-9.25), 18446744073709551615ul,
		 (unsigned long)(uintptr_t)ptr);

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	argv[2] = pidbuf;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	errfd = mkostemp(stderr_path, O_CLOEXEC);
	assert_true(errfd >= 0);
	unlink(stderr_path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	assert_int_equal(posix_spawnp(&bt, "bpftrace", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);

	t0 = now();
	/* bounded by the condition: bpftrace starts in seconds, minutes under emulation */
	while (now() - t0 < 150 && !(got_h && got_t && got_v && seen_enabled)) {
		struct pollfd pf = {pfd[0], POLLIN, 0};
		struct usdt_value v[2] = {{USDT_TYPE_INT32, {.i64 = 43}},
					  {USDT_TYPE_STRING, {.str = "via ffi"}}};
		ssize_t n;

		if (usdt_probe__enabled(hello) && usdt_probe__enabled(twelve))
			seen_enabled = true;
		usdt_probe__fire(hello, 42, "hello world");
		assert_int_equal(usdt_probe__fire_values(hello, v, 2), 0);
		usdt_probe__fire(twelve, -1, "str one", 1.5, -2, 65535, (int64_t)-123456789012, -7,
				 "eight", -9.25, -10, UINT64_MAX, ptr);
		if (poll(&pf, 1, 5) > 0) {
			n = read(pfd[0], line + linelen, sizeof(line) - 1 - linelen);
			if (n == 0)
				break; /* bpftrace exited */
			if (n > 0) {
				char *nl;

				linelen += (size_t)n;
				line[linelen] = '\0';
				while ((nl = strchr(line, '\n'))) {
					*nl = '\0';
					if (!strcmp(line, "H 42 hello world"))
						got_h = true;
					else if (!strcmp(line, "H 43 via ffi"))
						got_v = true;
					else if (line[0] == 'T') {
						assert_string_equal(line, expect_t);
						got_t = true;
					}
					linelen -= (size_t)(nl + 1 - line);
					memmove(line, nl + 1, linelen + 1);
				}
			}
		}
	}
	rt_stop(bt);
	close(pfd[0]);
	if (!seen_enabled && !got_h) {
		char err[2048] = "";
		ssize_t n = pread(errfd, err, sizeof(err) - 1, 0);

		err[n > 0 ? n : 0] = '\0';
		close(errfd);
		usdt_provider__free(p);
		/* bpftrace works here (bpf_works()): our probes are at fault. */
		fail_msg("bpftrace did not attach to the runtime's probes: %s", err);
	}
	close(errfd);
	assert_true(seen_enabled);
	assert_true(got_h);
	assert_true(got_v);
	assert_true(got_t);

	/* Detached: the semaphores drop back to zero. */
	t0 = now();
	while (now() - t0 < 20 && (usdt_probe__enabled(hello) || usdt_probe__enabled(twelve)))
		usleep(10000);
	assert_false(usdt_probe__enabled(hello));
	assert_false(usdt_probe__enabled(twelve));
	usdt_provider__free(p);
}

/*
 * Unload while bpftrace is attached: the probe turns disabled at once, a
 * reload starts disabled (the tracer is attached to the old object), and
 * firing through all of it is harmless.
 */
static void test_unload_while_traced(void **state)
{
	const enum usdt_type one[] = {USDT_TYPE_INT32};
	char script[256], pidbuf[16];
	char *argv[] = {"bpftrace", "-p", pidbuf, "-e", script, NULL};
	posix_spawn_file_actions_t fa;
	struct usdt_provider *p;
	struct usdt_probe *hit;
	double t0;
	pid_t bt;

	if (!rt_have("bpftrace") || geteuid() != 0) {
		RT_SKIP("needs bpftrace and root\n");
		skip();
	}
	if (!bpf_works())
		skip();
	p = usdt_provider__new("unloadtest", NULL);
	assert_non_null(p);
	hit = usdt_provider__add_probe(p, "hit", 1, one, NULL);
	assert_non_null(hit);
	assert_int_equal(usdt_provider__load(p), 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	snprintf(script, sizeof(script), "usdt:/proc/%d/fd/%d:unloadtest:hit { @c = count(); }",
		 (int)getpid(), usdt_provider__fd(p));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawnp(&bt, "bpftrace", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);

	t0 = now();
	while (!usdt_probe__enabled(hit) && now() - t0 < 150)
		usleep(10000);
	if (!usdt_probe__enabled(hit)) {
		rt_stop(bt);
		usdt_provider__free(p);
		fail_msg("bpftrace did not enable the runtime's probe within 150 s");
	}
	for (int i = 0; i < 100; i++)
		usdt_probe__fire(hit, i);
	assert_int_equal(usdt_provider__unload(p), 0);
	assert_false(usdt_probe__enabled(hit));
	usdt_probe__fire(hit, 1);
	assert_int_equal(usdt_provider__load(p), 0);
	assert_false(usdt_probe__enabled(hit));
	for (int i = 0; i < 100; i++)
		usdt_probe__fire(hit, i);
	rt_stop(bt);
	assert_false(usdt_probe__enabled(hit));
	usdt_provider__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpftrace_attach),
		cmocka_unit_test(test_unload_while_traced),
	};

	return rt_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
