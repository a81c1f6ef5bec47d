// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Targets of `usdtkit trace` and `usdtkit stat` (see target.h).
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
#include <unistd.h>

#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "target.h"

/* --- options ------------------------------------------------------------ */

void target_opts__init(struct target_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = -1;
}

int target_opts__parse(struct target_opts *o, const char *who, int c, const char *arg)
{
	uint64_t v;
	void *np;

	switch (c) {
	case 'p':
		if (target__parse_u64(arg, &v) || !v || v > INT_MAX) {
			fprintf(stderr, "%s: bad PID '%s'\n", who, arg);
			return -EINVAL;
		}
		o->pid = v;
		return 1;
	case 'c':
		o->cmd = arg;
		return 1;
	case 'w':
		o->wait = true;
		return 1;
	case 'v':
		o->verbose = true;
		return 1;
	case 'A':
		np = realloc(o->decls, (o->ndecls + 1) * sizeof(*o->decls));
		if (!np)
			return -ENOMEM;
		o->decls = np;
		o->decls[o->ndecls++] = (char *)arg;
		return 1;
	default:
		return 0;
	}
}

int target_opts__check(struct target_opts *o, const char *who)
{
	if (o->pid > 0 && o->cmd) {
		fprintf(stderr, "%s: -p and -c cannot be combined\n", who);
		return -EINVAL;
	}
	if (o->wait && o->pid <= 0 && !o->cmd) {
		fprintf(stderr, "%s: --wait needs -p or -c\n", who);
		return -EINVAL;
	}
	if (o->cmd)
		o->wait = true; /* nothing has run yet: runtime providers come later */
	return 0;
}

void target_opts__free(struct target_opts *o)
{
	free(o->decls);
	o->decls = NULL;
	o->ndecls = 0;
}

bool target_opts__probe_ok(const struct target_opts *o, const char *who, const char *spec)
{
	if (o->pid > 0 || o->cmd || strchr(spec, ':') != strrchr(spec, ':'))
		return true;
	fprintf(stderr, "%s: PROBE '%s' needs a PATH (PATH:PROVIDER:NAME) or a -p/-c target\n", who,
		spec);
	return false;
}

/* --- the -c command ----------------------------------------------------- */

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

bool target_cmd__exited(struct target_cmd *tc, const char *who)
{
	int status;

	if (tc->pid <= 0 || !tc->released)
		return false;
	if (waitpid(tc->pid, &status, WNOHANG) != tc->pid)
		return false;
	tc->pid = -1;
	print_status(who, "command exited", status);
	return true;
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
	if (tc->pid > 0 && waitpid(tc->pid, &status, WNOHANG) == tc->pid) {
		/* it exited on its own just now (e.g. the terminal's Ctrl-C reached it too) */
		print_status(who, "command exited", status);
		tc->pid = -1;
	}
	if (tc->pid > 0) {
		fprintf(stderr, "%s: stopping the command (pid %d) with SIGTERM\n", who, tc->pid);
		kill(tc->pid, SIGTERM);
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
	if (tc->have_we)
		wordfree(&tc->we);
	tc->have_we = false;
	free(tc->exe);
	tc->exe = NULL;
}

/* --- watching a target -------------------------------------------------- */

int target__pidfd(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

bool target__pid_exited(pid_t pid, int pidfd)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Anonymous mappings (malloc's mmap and munmap, thread stacks) change all
 * the time and are left out of the fingerprint, so a busy process does not
 * cause a rescan at every poll. Reading maps costs tens of microseconds,
 * so new providers are found within one poll period.
 */
bool target__maps_changed(pid_t pid, uint64_t *prev)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	char path[64], line[4096 + 256];
	bool changed;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms offset dev inode path": skip inode 0 (anonymous) */
		char *p = line;

		for (int field = 0; field < 4 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (!p || (p[0] == '0' && p[1] == ' '))
			continue;
		for (const char *c = line; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
	}
	fclose(f);
	changed = h != *prev;
	*prev = h;
	return changed;
}

/* --- shared messages ---------------------------------------------------- */

int target__first_scan(struct engine *eng, const struct target_opts *o, const char *who)
{
	int err = engine__scan(eng, o->pid > 0);

	if (err == -ESRCH) {
		fprintf(stderr, "%s: no process %d\n", who, o->pid);
		return -1;
	}
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", who, strerror(-err));
		return -1;
	}
	for (size_t i = 0; i < engine__spec_count(eng); i++) {
		size_t m;
		const char *spec = engine__spec(eng, i, &m);

		if (!m && !o->wait) {
			fprintf(stderr, "%s: PROBE '%s' matches no probe\n", who, spec);
			return -1;
		}
		if (!m)
			fprintf(stderr,
				"%s: PROBE '%s' matches no probe yet; waiting for objects loaded "
				"later\n",
				who, spec);
	}
	return 0;
}

bool target__report_unmatched(struct engine *eng, const char *who)
{
	bool any = false;

	for (size_t i = 0; i < engine__spec_count(eng); i++) {
		size_t m;
		const char *spec = engine__spec(eng, i, &m);

		if (!m) {
			fprintf(stderr, "%s: PROBE '%s' matched no probe\n", who, spec);
			any = true;
		}
	}
	return any;
}

/*
 * True when the effective capabilities allow loading tracing programs:
 * CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON. Read from /proc so no libcap
 * is needed; unknown (no /proc) counts as yes.
 */
static bool have_bpf_caps(void)
{
	unsigned long long eff = ~0ull;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> 21 & 1) || ((eff >> 39 & 1) && (eff >> 38 & 1));
}

void target__report_load_error(const char *who, int err, bool verbose)
{
	/*
	 * EACCES is also the verifier's answer to a program it rejects: with
	 * the capabilities present, say so instead of blaming permissions.
	 */
	if (err == -EPERM || (err == -EACCES && !have_bpf_caps()))
		fprintf(stderr,
			"%s: not permitted to load BPF programs: run as root or with CAP_BPF and "
			"CAP_PERFMON\n",
			who);
	else if (err == -EACCES)
		fprintf(stderr,
			"%s: the kernel's verifier rejected the BPF program (a usdtkit bug: please "
			"report it with the output of -v)\n",
			who);
	else
		fprintf(stderr, "%s: cannot load BPF program: %s%s\n", who, strerror(-err),
			verbose ? "" : " (-v for details)");
}

int target__check_attach(const char *who, int attached, size_t nlocs)
{
	if (attached == -EPERM || attached == -EACCES) {
		fprintf(stderr,
			"%s: not permitted to attach uprobes: run as root or with CAP_BPF and "
			"CAP_PERFMON\n",
			who);
		return -1;
	}
	if (attached < 0 || (attached == 0 && nlocs > 0)) {
		fprintf(stderr, "%s: no probe location could be attached\n", who);
		return -1;
	}
	return 0;
}

/* --- process-wide ------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void target__catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

int target__stop_signal(void)
{
	return stop_signal;
}

static bool verbose_print;

__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
							      const char *fmt, va_list ap)
{
	if (!verbose_print)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void target__libbpf_print(bool verbose)
{
	verbose_print = verbose;
	libbpf_set_print(libbpf_print);
}

uint64_t target__now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int target__parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}
