// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The -c command of every session (see target_cmd.h).
 *
 * -c CMD must be attached before the command runs its first instruction,
 * so we fork, and the child blocks reading a pipe before execvp(): the
 * uprobes are created on the executable and the libraries ldd lists (ldd
 * runs the loader in trace mode; the program itself does not run), filtered
 * to the child's pid, and only then is the child released. Libraries and
 * providers appearing later are found by rescanning when /proc/PID/maps
 * changes. When usdtkit stops first (-n, --duration, Ctrl-C), the command
 * would otherwise outlive its tracer unobserved: it is ended with SIGTERM,
 * then SIGKILL after a grace period, and reaped.
 *
 * The command is followed through every exec (env, `sh -c 'exec ...'`,
 * wrapper scripts): a BPF program on the sched_process_exec tracepoint
 * (exec_stop.bpf.c) stops it with SIGSTOP before the new program's first
 * instruction, and it is continued (SIGCONT) once the session has scanned
 * and attached the new executable. Not ptrace: a traced program keeps its
 * own debuggers and sanitizers (LeakSanitizer cannot run under ptrace), and
 * no signal it receives is intercepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "exec_stop.skel.h"
#include "target_cmd.h"

char *target__which(const char *prog)
{
	char buf[PATH_MAX];
	const char *env = getenv("PATH");

	if (strchr(prog, '/'))
		return realpath(prog, NULL);
	if (!env)
		env = "/usr/local/bin:/usr/bin:/bin";
	while (*env) {
		const char *end = strchrnul(env, ':');

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - env), env, prog);
		if (end > env && access(buf, X_OK) == 0)
			return realpath(buf, NULL);
		env = *end ? end + 1 : end;
	}
	return NULL;
}

void target__add_ldd_objects(struct engine *eng, const char *exe)
{
	char line[PATH_MAX + 64];
	int fds[2];
	pid_t pid;
	FILE *f;

	if (pipe2(fds, O_CLOEXEC))
		return;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(fds[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execlp("ldd", "ldd", exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f) {
		close(fds[0]);
		waitpid(pid, NULL, 0);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		/* "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-... (0x...)" */
		char *p = strstr(line, "=> "), *paren;

		p = p ? p + 3 : line;
		p += strspn(p, " \t");
		if (*p != '/')
			continue;
		paren = strstr(p, " (");
		if (paren)
			*paren = 0;
		p[strcspn(p, "\n")] = 0;
		engine__add_object(eng, p);
	}
	fclose(f);
	waitpid(pid, NULL, 0);
}

void target_cmd__init(struct target_cmd *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->pid = -1;
	tc->go_fd = -1;
}

/* Forks the command, blocked before exec until a byte arrives on tc->go_fd. */
static int spawn_waiting(struct target_cmd *tc, const char *who)
{
	char **argv = tc->we.we_wordv;
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		char c;

		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127); /* we gave up: do not run the command */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", who, argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	tc->go_fd = fds[1];
	tc->pid = pid;
	tc->exec_stop = exec_stop_bpf__open();
	if (tc->exec_stop) {
		tc->exec_stop->rodata->target_tgid = pid;
		if (exec_stop_bpf__load(tc->exec_stop) || exec_stop_bpf__attach(tc->exec_stop)) {
			exec_stop_bpf__destroy(tc->exec_stop);
			tc->exec_stop = NULL;
		}
	}
	return 0;
}

int target_cmd__spawn(struct target_cmd *tc, const char *cmdline, const char *who)
{
	int err = wordexp(cmdline, &tc->we, WRDE_NOCMD);

	if (err || tc->we.we_wordc == 0) {
		fprintf(stderr, "%s: cannot parse command '%s'\n", who, cmdline);
		if (!err)
			wordfree(&tc->we);
		return EXIT_USAGE;
	}
	tc->have_we = true;
	tc->exe = target__which(tc->we.we_wordv[0]);
	if (!tc->exe) {
		fprintf(stderr, "%s: %s: command not found\n", who, tc->we.we_wordv[0]);
		return EXIT_FAIL;
	}
	err = spawn_waiting(tc, who);
	if (err) {
		fprintf(stderr, "%s: cannot start '%s': %s\n", who, cmdline, strerror(-err));
		return EXIT_FAIL;
	}
	return 0;
}

void target_cmd__add_objects(const struct target_cmd *tc, struct engine *eng)
{
	if (!tc->exe)
		return;
	engine__add_object(eng, tc->exe);
	target__add_ldd_objects(eng, tc->exe);
}

int target_cmd__release(struct target_cmd *tc, const char *who)
{
	if (tc->pid <= 0 || tc->go_fd < 0)
		return 0;
	if (write(tc->go_fd, "g", 1) != 1) {
		fprintf(stderr, "%s: cannot start the command\n", who);
		return -1;
	}
	close(tc->go_fd);
	tc->go_fd = -1;
	tc->released = true;
	return 0;
}

static void print_status(const char *who, const char *what, int status)
{
	fprintf(stderr, "%s: %s (%s %d)\n", who, what, WIFEXITED(status) ? "status" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

enum target_cmd_event target_cmd__poll(struct target_cmd *tc, const char *who)
{
	int status;

	if (tc->pid <= 0 || !tc->released || tc->at_exec)
		return tc->at_exec ? TARGET_CMD_EXEC : TARGET_CMD_RUNNING;
	for (;;) {
		pid_t r = waitpid(tc->pid, &status, WNOHANG | WUNTRACED);

		if (r != tc->pid)
			return TARGET_CMD_RUNNING;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			tc->pid = -1;
			print_status(who, "command exited", status);
			return TARGET_CMD_EXITED;
		}
		/* our stop at an exec, or one the command was sent (left alone) */
		if (WIFSTOPPED(status) && tc->exec_stop &&
		    tc->exec_stop->bss->execs != tc->execs_seen) {
			tc->execs_seen = tc->exec_stop->bss->execs;
			tc->at_exec = true;
			return TARGET_CMD_EXEC;
		}
	}
}

char *target_cmd__exe(const struct target_cmd *tc)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)tc->pid);
	return realpath(link, NULL);
}

void target_cmd__resume(struct target_cmd *tc)
{
	if (tc->at_exec && tc->pid > 0)
		kill(tc->pid, SIGCONT);
	tc->at_exec = false;
}

/* Waits up to @ms for the child; true when it was reaped (status in *@status). */
static bool reap_within(pid_t pid, int ms, int *status)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return r == pid;
		if (waited >= ms)
			return false;
		nanosleep(&ts, NULL);
	}
}

void target_cmd__finish(struct target_cmd *tc, const char *who)
{
	int status;

	if (tc->go_fd >= 0) {
		close(tc->go_fd);
		tc->go_fd = -1;
		if (tc->pid > 0)
			waitpid(tc->pid, NULL, 0);
		tc->pid = -1;
	}
	target_cmd__resume(tc);
	if (tc->pid > 0 && waitpid(tc->pid, &status, WNOHANG) == tc->pid && !WIFSTOPPED(status)) {
		/* it exited on its own just now (e.g. the terminal's Ctrl-C reached it too) */
		print_status(who, "command exited", status);
		tc->pid = -1;
	}
	if (tc->pid > 0) {
		fprintf(stderr, "%s: stopping the command (pid %d) with SIGTERM\n", who, tc->pid);
		kill(tc->pid, SIGTERM);
		kill(tc->pid, SIGCONT); /* a stopped command acts on SIGTERM only once continued */
		if (!reap_within(tc->pid, TARGET_TERM_GRACE_MS, &status)) {
			fprintf(stderr, "%s: command still running after %d ms: SIGKILL\n", who,
				TARGET_TERM_GRACE_MS);
			kill(tc->pid, SIGKILL);
			while (waitpid(tc->pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		print_status(who, "command stopped", status);
		tc->pid = -1;
	}
	exec_stop_bpf__destroy(tc->exec_stop);
	tc->exec_stop = NULL;
	if (tc->have_we)
		wordfree(&tc->we);
	tc->have_we = false;
	free(tc->exe);
	tc->exe = NULL;
}
