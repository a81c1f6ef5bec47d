// SPDX-License-Identifier: MIT
/* Helpers of the `usdtkit trace` integration tests (see test_trace_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_trace_util.h"

/* Paths are interned: callers keep them in argv arrays for the whole test. */
static const char *build_path(const char *rel)
{
	static char *paths[64];
	const char *dir = getenv("USDTKIT_BUILD_DIR");
	char buf[4096];
	size_t i;

	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : ".", rel);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]) && paths[i]; i++)
		if (!strcmp(paths[i], buf))
			return paths[i];
	if (i == sizeof(paths) / sizeof(paths[0]))
		abort();
	paths[i] = strdup(buf);
	if (!paths[i])
		abort();
	return paths[i];
}

const char *tt_usdtkit(void)
{
	const char *p = build_path("bin/usdtkit");

	if (access(p, X_OK)) {
		fprintf(stderr, "usdtkit binary not found at %s\n", p);
		return NULL;
	}
	return p;
}

const char *tt_fixture(const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "tests/tracer/fixtures/%s", name);
	return build_path(rel);
}

int tt_bpf_permitted(void)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		printf("SKIP: BPF is not permitted here (bpf(): %s); run as root or with "
		       "CAP_BPF+CAP_PERFMON\n",
		       strerror(errno));
		return TT_SKIP;
	}
	close(fd);
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK)) {
		printf("SKIP: the kernel has no uprobe PMU\n");
		return TT_SKIP;
	}
	return 0;
}

int tt_start(struct tt_proc *p, char *const argv[])
{
	int out, err;

	memset(p, 0, sizeof(*p));
	p->status = -1;
	strcpy(p->out_path, "/tmp/usdtkit-tt-out-XXXXXX");
	strcpy(p->err_path, "/tmp/usdtkit-tt-err-XXXXXX");
	out = mkostemp(p->out_path, O_CLOEXEC);
	err = mkostemp(p->err_path, O_CLOEXEC);
	if (out < 0 || err < 0) {
		if (out >= 0)
			close(out);
		if (err >= 0)
			close(err);
		return -errno;
	}
	p->pid = fork();
	if (p->pid < 0) {
		close(out);
		close(err);
		return -errno;
	}
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	close(err);
	return 0;
}

static int decode(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tt_wait(struct tt_proc *p, int timeout_ms)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	int st;

	if (p->status >= 0 || p->pid <= 0)
		return p->status;
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);

		if (r == p->pid) {
			p->status = decode(st);
			return p->status;
		}
		if (waited >= timeout_ms)
			break;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "pid %d did not exit within %d ms: killed\n", p->pid, timeout_ms);
	kill(p->pid, SIGKILL);
	if (waitpid(p->pid, &st, 0) == p->pid)
		p->status = decode(st);
	return -ETIMEDOUT;
}

void tt_signal(struct tt_proc *p, int sig)
{
	if (p->pid > 0 && p->status < 0)
		kill(p->pid, sig);
}

void tt_cleanup(struct tt_proc *p)
{
	if (p->pid > 0 && p->status < 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->status = 128 + SIGKILL;
	}
	if (p->out_path[0])
		unlink(p->out_path);
	if (p->err_path[0])
		unlink(p->err_path);
	p->out_path[0] = p->err_path[0] = 0;
}

int tt_run(struct tt_proc *p, char *const argv[], int timeout_ms)
{
	int err = tt_start(p, argv);

	return err ? err : tt_wait(p, timeout_ms);
}

char *tt_read(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);

	if (!buf)
		abort();
	if (f) {
		size_t n;

		while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
			len += n;
			if (len == cap) {
				cap *= 2;
				buf = realloc(buf, cap + 1);
				if (!buf)
					abort();
			}
		}
		fclose(f);
	}
	buf[len] = 0;
	return buf;
}

bool tt_wait_for(const char *path, const char *needle, int timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		char *s = tt_read(path);
		bool found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

size_t tt_count_lines(const char *s, const char *needle)
{
	size_t n = 0;

	while (*s) {
		const char *nl = strchrnul(s, '\n');
		const char *hit = strstr(s, needle);

		if (hit && hit < nl)
			n++;
		s = *nl ? nl + 1 : nl;
	}
	return n;
}

void tt_dump(const struct tt_proc *p, const char *what)
{
	char *out = tt_read(p->out_path), *err = tt_read(p->err_path);

	fprintf(stderr, "--- %s (status %d) stdout:\n%.4000s\n--- stderr:\n%.4000s\n", what,
		p->status, out, err);
	free(out);
	free(err);
}
