// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Helpers of the `usdtkit trace` and `usdtkit stat` integration tests (see tracer_test_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracer_test_util.h"

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
	return tt_start_out(p, argv, -1);
}

int tt_start_out(struct tt_proc *p, char *const argv[], int out_fd)
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
		dup2(out_fd >= 0 ? out_fd : out, 1);
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

	fprintf(stderr, "--- %s (status %d) stdout:\n%.6000s\n--- stderr:\n%.4000s\n", what,
		p->status, out, err);
	free(out);
	free(err);
}

/* --- the stat fixture and `usdtkit stat` runs --- */

static char fixture_path[4096];

const char *tt_stat_fixture_built(void)
{
	return build_path("tests/tracer/stat_fixtures/stat_fixture");
}

bool tt_stat_ready(void)
{
	if (!tt_usdtkit())
		return false;
	if (access(tt_stat_fixture_built(), X_OK)) {
		fprintf(stderr, "fixture not built: %s\n", tt_stat_fixture_built());
		return false;
	}
	return true;
}

static pid_t copier;

static void remove_copy(void)
{
	if (getpid() == copier && fixture_path[0])
		unlink(fixture_path);
}

/*
 * A PATH target traces every process running that file, so tests running
 * in parallel would count each other's hits: each test process works on
 * its own copy of the fixture (another inode, other uprobes).
 */
const char *tt_stat_fixture(void)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	if (fixture_path[0])
		return fixture_path;
	snprintf(fixture_path, sizeof(fixture_path), "/tmp/usdtkit-st-fixture-XXXXXX");
	out = mkostemp(fixture_path, O_CLOEXEC);
	in = open(tt_stat_fixture_built(), O_RDONLY | O_CLOEXEC);
	if (out < 0 || in < 0) {
		fprintf(stderr, "cannot copy the fixture %s: %s\n", tt_stat_fixture_built(),
			strerror(errno));
		abort();
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			abort();
	if (n < 0 || fchmod(out, 0755) || close(out))
		abort();
	close(in);
	copier = getpid();
	atexit(remove_copy);
	return fixture_path;
}

char *tt_stat_around(const char *mode, int *status, pid_t *fixture_pid, ...)
{
	char *argv[64], *fargv[3], *out = NULL;
	struct tt_proc stat, fix;
	size_t n = 0;
	va_list ap;

	argv[n++] = (char *)tt_usdtkit();
	argv[n++] = "stat";
	va_start(ap, fixture_pid);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 62;)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	if (!argv[0] || tt_start(&stat, argv))
		return NULL;
	if (!tt_wait_for(stat.err_path, "attached", 30000)) {
		tt_wait(&stat, 100);
		tt_dump(&stat, "usdtkit stat did not attach");
		goto out;
	}
	fargv[0] = (char *)tt_stat_fixture();
	fargv[1] = (char *)mode;
	fargv[2] = NULL;
	if (tt_start(&fix, fargv))
		goto out;
	if (fixture_pid)
		*fixture_pid = fix.pid;
	if (tt_wait(&fix, 60000) != 0) {
		tt_dump(&fix, "fixture failed");
		tt_cleanup(&fix);
		goto out;
	}
	tt_cleanup(&fix);
	kill(stat.pid, SIGINT);
	*status = tt_wait(&stat, 30000);
	out = tt_read(stat.out_path);
	if (*status != 0)
		tt_dump(&stat, "usdtkit stat");
out:
	tt_cleanup(&stat);
	return out;
}

/* --- JSON --- */

struct parser {
	const char *s;
	int depth;
};

static void skip_ws(struct parser *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static char *parse_string(struct parser *p)
{
	size_t cap = 32, len = 0;
	char *out;

	if (*p->s != '"')
		return NULL;
	p->s++;
	out = malloc(cap);
	if (!out)
		abort();
	while (*p->s != '"') {
		char c = *p->s++;

		if (!c || (unsigned char)c < 0x20) {
			free(out);
			return NULL;
		}
		if (c == '\\') {
			c = *p->s++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u': {
				unsigned int cp;

				if (sscanf(p->s, "%4x", &cp) != 1) {
					free(out);
					return NULL;
				}
				p->s += 4;
				c = cp < 0x80 ? (char)cp : '?';
				break;
			}
			case '"':
			case '\\':
			case '/':
				break;
			default:
				free(out);
				return NULL;
			}
		}
		if (len + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		out[len++] = c;
	}
	p->s++;
	out[len] = 0;
	return out;
}

static bool parse_value(struct parser *p, struct tt_json *v);

static bool parse_items(struct parser *p, struct tt_json *v, char close, bool keyed)
{
	size_t cap = 0;

	p->s++;
	skip_ws(p);
	if (*p->s == close) {
		p->s++;
		return true;
	}
	for (;;) {
		struct tt_json item = {0};

		skip_ws(p);
		if (keyed) {
			item.key = parse_string(p);
			if (!item.key)
				return false;
			skip_ws(p);
			if (*p->s++ != ':') {
				free(item.key);
				return false;
			}
		}
		if (!parse_value(p, &item)) {
			free(item.key);
			return false;
		}
		if (v->n == cap) {
			cap = cap ? cap * 2 : 8;
			v->items = realloc(v->items, cap * sizeof(*v->items));
			if (!v->items)
				abort();
		}
		v->items[v->n++] = item;
		skip_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s == close) {
			p->s++;
			return true;
		}
		return false;
	}
}

static void free_items(struct tt_json *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->items[i].key);
		free(v->items[i].str);
		free_items(&v->items[i]);
	}
	free(v->items);
	v->items = NULL;
	v->n = 0;
}

static bool parse_value(struct parser *p, struct tt_json *v)
{
	bool ok = false;

	if (++p->depth > 64)
		return false;
	skip_ws(p);
	switch (*p->s) {
	case '{':
		v->type = SJ_OBJ;
		ok = parse_items(p, v, '}', true);
		break;
	case '[':
		v->type = SJ_ARR;
		ok = parse_items(p, v, ']', false);
		break;
	case '"':
		v->type = SJ_STR;
		v->str = parse_string(p);
		ok = v->str != NULL;
		break;
	case 't':
	case 'f':
	case 'n':
		if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "null", 4)) {
			v->type = p->s[0] == 't' ? SJ_BOOL : SJ_NULL;
			v->b = p->s[0] == 't';
			p->s += 4;
			ok = true;
		} else if (!strncmp(p->s, "false", 5)) {
			v->type = SJ_BOOL;
			p->s += 5;
			ok = true;
		}
		break;
	default: {
		const char *start = p->s;
		char *end;

		if (*start != '-' && (*start < '0' || *start > '9'))
			break;
		v->type = SJ_NUM;
		v->num = strtod(start, &end);
		if (end == start)
			break;
		v->is_int = !memchr(start, '.', end - start) && !memchr(start, 'e', end - start) &&
			    !memchr(start, 'E', end - start);
		if (v->is_int) {
			errno = 0;
			if (*start == '-') {
				v->i = strtoll(start, NULL, 10);
				v->u = (uint64_t)v->i;
			} else {
				v->u = strtoull(start, NULL, 10);
				v->i = (int64_t)v->u;
			}
		}
		p->s = end;
		ok = true;
		break;
	}
	}
	if (!ok)
		free_items(v);
	p->depth--;
	return ok;
}

struct tt_json *tt_json_parse(const char *s, const char **end)
{
	struct parser p = {.s = s};
	struct tt_json *v = calloc(1, sizeof(*v));

	if (!v)
		abort();
	if (!parse_value(&p, v)) {
		free(v->str);
		free(v);
		return NULL;
	}
	if (end)
		*end = p.s;
	return v;
}

void tt_json_free(struct tt_json *v)
{
	if (!v)
		return;
	free_items(v);
	free(v->str);
	free(v);
}

const struct tt_json *tt_json_get(const struct tt_json *obj, const char *key)
{
	if (!obj || obj->type != SJ_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->items[i].key, key))
			return &obj->items[i];
	return NULL;
}

const struct tt_json *tt_json_probe(const struct tt_json *rec, const char *name)
{
	const struct tt_json *probes = tt_json_get(rec, "probes");

	if (!probes || probes->type != SJ_ARR)
		return NULL;
	for (size_t i = 0; i < probes->n; i++) {
		const struct tt_json *n = tt_json_get(&probes->items[i], "name");

		if (n && n->type == SJ_STR && !strcmp(n->str, name))
			return &probes->items[i];
	}
	return NULL;
}

int64_t tt_json_int(const struct tt_json *obj, const char *key)
{
	const struct tt_json *v = tt_json_get(obj, key);

	if (!v || v->type != SJ_NUM || !v->is_int) {
		fprintf(stderr, "JSON member '%s' missing or not an integer\n", key);
		abort();
	}
	return v->i;
}

size_t tt_json_lines(const char *text, struct tt_json **out, size_t max)
{
	size_t n = 0;

	while (*text && n < max) {
		const char *nl = strchrnul(text, '\n'), *end;
		struct tt_json *v;

		if (nl == text) {
			text++;
			continue;
		}
		v = tt_json_parse(text, &end);
		if (!v || end != nl) {
			fprintf(stderr, "not a JSON line: %.*s\n", (int)(nl - text), text);
			tt_json_free(v);
			return n;
		}
		out[n++] = v;
		text = *nl ? nl + 1 : nl;
	}
	return n;
}
