// SPDX-License-Identifier: MIT
/*
 * usdtkit trace: attach to USDT probes and stream one decoded line (or JSON
 * record) per hit.
 *
 * The argument engine (engine.c) selects locations and compiles their
 * argument specs; one sleepable BPF program (trace.bpf.c) serves them all
 * and writes fixed-size records into a ring buffer. The BPF side does not
 * wake us per event: we poll the ring on a short timer, and the program
 * forces a wakeup only when the ring is a quarter full, so the per-hit cost
 * stays near the uprobe floor. Lost records are counted in BPF and always
 * reported.
 *
 * Targets: PATH in the PROBE (every process running it, now and later), -p
 * PID (that process; its objects are rescanned for dlopen'ed libraries and
 * runtime providers), -c CMD (we fork, attach while the child waits on a
 * pipe, then let it exec: the executable and the libraries ldd reports are
 * attached by path with the child's pid before its first instruction;
 * objects loaded later are found by the rescan).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "json.h"
#include "trace.h"
#include "trace.skel.h"

#define DEFAULT_STR_SIZE 64
#define MAX_STR_SIZE 4096
#define DEFAULT_RING_MB 32
#define POLL_MS 10

struct trace_opts {
	pid_t pid;
	const char *cmd;
	bool json;
	const char *format;
	const char *outpath;
	uint64_t max_events;
	double duration;
	unsigned int str_size;
	unsigned int ring_mb;
	bool verbose;
	bool wait; /* PROBEs may match objects the target loads later */
};

#define MAX_LAYOUTS 8

struct trace_ctx;

/*
 * One loaded BPF object with its record geometry. The first is sized
 * exactly for the locations found at start (small records: fewer cache
 * lines per hit, more records per ring); locations found later that need
 * more argument or string slots get a new, roomier object with its own ring.
 */
struct layout {
	struct trace_ctx *t;
	struct trace_bpf *skel;
	unsigned int max_args; /* argument slots per record */
	unsigned int nslots; /* string slots per record */
	size_t cap; /* the locs map holds location indices below this */
	unsigned int ring_mb;
};

struct trace_ctx {
	struct trace_opts o;
	struct engine *eng;
	FILE *out;
	struct json_writer jw;
	uint64_t events;
	int64_t mono_to_real; /* add to bpf_ktime_get_ns() for wall-clock ns */
	struct layout layouts[MAX_LAYOUTS];
	int nlayouts;
	const struct layout *cur; /* layout of the record being printed */
	struct ring_buffer *rb;
	bool multi; /* uprobe_multi links */
	time_t time_sec; /* put_time()'s cache */
	char time_buf[32];
	bool done;
	bool out_error;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static bool verbose_print;

/* libbpf's messages (including its warnings) only with -v: errors are ours to word. */
__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
							      const char *fmt, va_list ap)
{
	if (!verbose_print)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usdtkit trace [OPTIONS] PROBE...\n"
		"\n"
		"Attach to USDT probes and print one line per hit with decoded arguments.\n"
		"PROBE is [PATH:]PROVIDER:NAME; PROVIDER and NAME take shell globs.\n"
		"With a PATH, every process running that file is traced (now and later);\n"
		"without one, the probes are searched in the objects of the -p/-c target.\n"
		"\n"
		"targets:\n"
		"  -p, --pid PID          trace that process only (all its mapped objects,\n"
		"                         including libraries and providers loaded later)\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs, exit when it exits\n"
		"  -w, --wait             -p: a PROBE may match nothing yet (a library or\n"
		"                         runtime provider loaded later); implied by -c.\n"
		"                         Still unmatched at exit: exit status 1\n"
		"\n"
		"decoding:\n"
		"      --args 'PROVIDER:NAME=[name:]type,...'\n"
		"                         declare argument names/types (i8..u64 f64 str ptr)\n"
		"                         for probes without usdtkit metadata; globs allowed\n"
		"  -s, --string-size N    bytes captured per string argument (default %d)\n"
		"\n"
		"output:\n"
		"  -j, --json             JSON lines (see docs/usdtkit-trace.md)\n"
		"  -f, --format TEMPLATE  one line per event from TEMPLATE: {ARGNAME}, {0}..{11},\n"
		"                         {pid} {tid} {comm} {probe} {provider} {probe_name}\n"
		"                         {time} {ts_ns}; '{{' is a literal '{'\n"
		"  -o, --output FILE      write events to FILE instead of stdout\n"
		"  -n, --count N          stop after N events\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -b, --buffer-size MB   ring buffer size in MiB, a power of two (default %d)\n"
		"  -v, --verbose          libbpf and engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n"
		"examples:\n"
		"  usdtkit trace -p 1234 'myapp:request_*'\n"
		"  usdtkit trace /usr/bin/myapp:myapp:request_start --json\n"
		"  usdtkit trace -c './server --port 8080' 'http:*' -f '{client} GET {path}'\n"
		"  usdtkit trace ./a.out:demo:tick --args 'demo:tick=i:i64,msg:str' -n 10\n"
		"\n"
		"Needs CAP_BPF and CAP_PERFMON (or root). Ctrl-C stops and prints a summary.\n",
		DEFAULT_STR_SIZE, DEFAULT_RING_MB);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- decoding ----------------------------------------------------------- */

struct arg_view {
	const char *name;
	enum usdt_type type;
	bool bad; /* unreadable or unsupported */
	uint64_t raw;
	const char *str; /* USDT_TYPE_STRING with a slot */
	size_t len;
	bool truncated;
};

static enum usdt_type type_from_size(const struct usdt_fetch *f)
{
	bool s = f->flags & FETCH_SIGNED;

	switch (f->size) {
	case 1:
		return s ? USDT_TYPE_INT8 : USDT_TYPE_UINT8;
	case 2:
		return s ? USDT_TYPE_INT16 : USDT_TYPE_UINT16;
	case 4:
		return s ? USDT_TYPE_INT32 : USDT_TYPE_UINT32;
	default:
		return s ? USDT_TYPE_INT64 : USDT_TYPE_UINT64;
	}
}

static void view_arg(const struct trace_ctx *t, const struct trace_record *e,
		     const struct engine_loc *l, const struct engine_probe *p, int i,
		     struct arg_view *v, char *namebuf, size_t namesz)
{
	const struct usdt_fetch *f = &l->spec.args[i];

	memset(v, 0, sizeof(*v));
	v->name = engine__arg_name(p, i, namebuf, namesz);
	v->raw = e->args[i];
	v->type =
		p->typed && p->meta[i].type != USDT_TYPE_NONE ? p->meta[i].type : type_from_size(f);
	v->bad = l->unsupported[i] || (e->err_mask & (1u << i));
	if (v->type == USDT_TYPE_STRING && (f->flags & FETCH_STR) && f->str_slot < t->cur->nslots &&
	    !v->bad) {
		v->str = (const char *)(e->args + t->cur->max_args) +
			 (size_t)f->str_slot * t->o.str_size;
		v->len = strnlen(v->str, t->o.str_size);
		v->truncated = v->len == t->o.str_size;
	} else if (v->type == USDT_TYPE_STRING && !v->bad) {
		v->type = USDT_TYPE_POINTER; /* no room for it: show the pointer */
	}
}

static int64_t signed_value(enum usdt_type type, uint64_t raw)
{
	switch (type) {
	case USDT_TYPE_INT8:
		return (int8_t)raw;
	case USDT_TYPE_INT16:
		return (int16_t)raw;
	case USDT_TYPE_INT32:
		return (int32_t)raw;
	default:
		return (int64_t)raw;
	}
}

static uint64_t unsigned_value(enum usdt_type type, uint64_t raw)
{
	switch (type) {
	case USDT_TYPE_UINT8:
		return (uint8_t)raw;
	case USDT_TYPE_UINT16:
		return (uint16_t)raw;
	case USDT_TYPE_UINT32:
		return (uint32_t)raw;
	default:
		return raw;
	}
}

static double double_value(uint64_t raw)
{
	double d;

	memcpy(&d, &raw, sizeof(d));
	return d;
}

static void put_text_str(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Prints the value alone, as text (--format and the default line). */
static void put_text_value(FILE *out, const struct arg_view *v, bool quote)
{
	if (v->bad) {
		fputs("<fault>", out);
		return;
	}
	switch (v->type) {
	case USDT_TYPE_INT8:
	case USDT_TYPE_INT16:
	case USDT_TYPE_INT32:
	case USDT_TYPE_INT64:
		fprintf(out, "%" PRId64, signed_value(v->type, v->raw));
		break;
	case USDT_TYPE_DOUBLE:
		fprintf(out, "%.17g", double_value(v->raw));
		break;
	case USDT_TYPE_POINTER:
		fprintf(out, "0x%" PRIx64, v->raw);
		break;
	case USDT_TYPE_STRING:
		if (quote)
			put_text_str(out, v->str, v->len);
		else
			fwrite(v->str, 1, v->len, out);
		if (v->truncated)
			fputs("...", out);
		break;
	default:
		fprintf(out, "%" PRIu64, unsigned_value(v->type, v->raw));
		break;
	}
}

static void put_time(FILE *out, struct trace_ctx *t, uint64_t ts)
{
	uint64_t real = ts + t->mono_to_real;
	time_t sec = real / 1000000000ull;

	/* localtime_r() is slow per event; the HH:MM:SS part changes once a second */
	if (sec != t->time_sec || !t->time_buf[0]) {
		struct tm tm;

		localtime_r(&sec, &tm);
		strftime(t->time_buf, sizeof(t->time_buf), "%H:%M:%S", &tm);
		t->time_sec = sec;
	}
	fprintf(out, "%s.%06u", t->time_buf, (unsigned int)(real % 1000000000ull / 1000));
}

static void emit_text(struct trace_ctx *t, const struct trace_record *e, const struct engine_loc *l,
		      const struct engine_probe *p)
{
	char comm[TRACE_COMM_LEN + 1], nb[16];
	struct arg_view v;

	memcpy(comm, e->comm, TRACE_COMM_LEN);
	comm[TRACE_COMM_LEN] = 0;
	put_time(t->out, t, e->ts_ns);
	fprintf(t->out, " %u %u %s %s:%s", e->pid, e->tid, comm, p->provider, p->name);
	for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
		view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
		fprintf(t->out, " %s=", v.name);
		put_text_value(t->out, &v, true);
	}
	fputc('\n', t->out);
}

static void emit_json(struct trace_ctx *t, const struct trace_record *e, const struct engine_loc *l,
		      const struct engine_probe *p)
{
	struct json_writer *w = &t->jw;
	char nb[16];
	struct arg_view v;
	bool any_trunc = false;

	json__object_begin(w);
	json__kv_string(w, "type", "event");
	json__kv_uint(w, "ts_ns", e->ts_ns + t->mono_to_real);
	json__kv_uint(w, "pid", e->pid);
	json__kv_uint(w, "tid", e->tid);
	json__key(w, "comm");
	json__string_len(w, e->comm, strnlen(e->comm, TRACE_COMM_LEN));
	json__kv_string(w, "provider", p->provider);
	json__kv_string(w, "name", p->name);
	json__key(w, "args");
	json__object_begin(w);
	for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
		view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
		json__key(w, v.name);
		if (v.bad) {
			json__null(w);
			continue;
		}
		switch (v.type) {
		case USDT_TYPE_INT8:
		case USDT_TYPE_INT16:
		case USDT_TYPE_INT32:
		case USDT_TYPE_INT64:
			json__int(w, signed_value(v.type, v.raw));
			break;
		case USDT_TYPE_DOUBLE:
			json__double(w, double_value(v.raw));
			break;
		case USDT_TYPE_POINTER: {
			char hex[24];

			snprintf(hex, sizeof(hex), "0x%" PRIx64, v.raw);
			json__string(w, hex);
			break;
		}
		case USDT_TYPE_STRING:
			json__string_len(w, v.str, v.len);
			any_trunc |= v.truncated;
			break;
		default:
			json__uint(w, unsigned_value(v.type, v.raw));
			break;
		}
	}
	json__object_end(w);
	if (any_trunc) {
		json__key(w, "truncated");
		json__array_begin(w);
		for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
			view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
			if (v.truncated)
				json__string(w, v.name);
		}
		json__array_end(w);
	}
	json__object_end(w);
	json__newline(w);
}

/* Finds argument @key of the event: a name, or a decimal index. */
static int find_arg(const struct engine_probe *p, int nargs, const char *key, size_t len)
{
	char nb[16];

	for (int i = 0; i < nargs && i < FETCH_MAX_ARGS; i++) {
		const char *n = engine__arg_name(p, i, nb, sizeof(nb));

		if (strlen(n) == len && !memcmp(n, key, len))
			return i;
	}
	if (len && len < 3 && key[0] >= '0' && key[0] <= '9') {
		int i = atoi(key);

		if ((len == 1 || key[1] >= '0') && i < nargs)
			return i;
	}
	return -1;
}

static void emit_format(struct trace_ctx *t, const struct trace_record *e,
			const struct engine_loc *l, const struct engine_probe *p)
{
	const char *s = t->o.format;
	FILE *out = t->out;
	char nb[16];

	while (*s) {
		const char *end;
		size_t len;
		int i;

		if (s[0] == '{' && s[1] == '{') {
			fputc('{', out);
			s += 2;
			continue;
		}
		if (s[0] == '}' && s[1] == '}') {
			fputc('}', out);
			s += 2;
			continue;
		}
		if (*s != '{' || !(end = strchr(s, '}'))) {
			fputc(*s++, out);
			continue;
		}
		s++;
		len = end - s;
		i = find_arg(p, e->nargs, s, len);
		if (i >= 0) {
			struct arg_view v;

			view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
			put_text_value(out, &v, false);
		} else if (len == 3 && !memcmp(s, "pid", 3)) {
			fprintf(out, "%u", e->pid);
		} else if (len == 3 && !memcmp(s, "tid", 3)) {
			fprintf(out, "%u", e->tid);
		} else if (len == 4 && !memcmp(s, "comm", 4)) {
			fprintf(out, "%.*s", (int)strnlen(e->comm, TRACE_COMM_LEN), e->comm);
		} else if (len == 5 && !memcmp(s, "probe", 5)) {
			fprintf(out, "%s:%s", p->provider, p->name);
		} else if (len == 8 && !memcmp(s, "provider", 8)) {
			fputs(p->provider, out);
		} else if (len == 10 && !memcmp(s, "probe_name", 10)) {
			fputs(p->name, out);
		} else if (len == 4 && !memcmp(s, "time", 4)) {
			put_time(out, t, e->ts_ns);
		} else if (len == 5 && !memcmp(s, "ts_ns", 5)) {
			fprintf(out, "%" PRIu64, (uint64_t)(e->ts_ns + t->mono_to_real));
		} else {
			fprintf(out, "{%.*s}", (int)len, s); /* unknown field: kept visible */
		}
		s = end + 1;
	}
	fputc('\n', out);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct layout *ly = ctx;
	struct trace_ctx *t = ly->t;
	const struct trace_record *e = data;
	const struct engine_loc *l;
	const struct engine_probe *p;

	if (t->done)
		return 0;
	t->cur = ly;
	if (size < sizeof(*e) + t->cur->max_args * sizeof(__u64) +
			    (size_t)t->cur->nslots * t->o.str_size ||
	    !(l = engine__loc(t->eng, e->loc)))
		return 0;
	p = engine__probe(t->eng, l->probe_id);
	if (t->o.format)
		emit_format(t, e, l, p);
	else if (t->o.json)
		emit_json(t, e, l, p);
	else
		emit_text(t, e, l, p);
	t->events++;
	if (ferror(t->out)) {
		t->out_error = true;
		t->done = true;
		return -EIO;
	}
	if (t->o.max_events && t->events >= t->o.max_events) {
		t->done = true;
		return 1; /* stop consuming */
	}
	return 0;
}

/* --- targets ------------------------------------------------------------ */

/* execvp's search, so we attach to the file the child will run. */
static char *which(const char *prog)
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
		if (access(buf, X_OK) == 0)
			return realpath(buf, NULL);
		env = *end ? end + 1 : end;
	}
	return NULL;
}

/*
 * Libraries the dynamic loader will map before main, as ldd reports them
 * (ldd runs the loader in trace mode; the program itself does not run).
 */
static void add_ldd_objects(struct engine *eng, const char *exe)
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
		int null = open("/dev/null", O_WRONLY);

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
		char *p = strstr(line, "=> "), *sp;

		p = p ? p + 3 : line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '/')
			continue;
		sp = strstr(p, " (");
		if (sp)
			*sp = 0;
		p[strcspn(p, "\n")] = 0;
		engine__add_object(eng, p);
	}
	fclose(f);
	waitpid(pid, NULL, 0);
}

/* Forks the command, stopped before exec until we write to *@go_fd. */
static pid_t spawn_waiting(char **argv, int *go_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char c;

		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127); /* we gave up: do not run the command */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "usdtkit: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go_fd = fds[1];
	return pid;
}

/*
 * True when the file-backed mappings in /proc/PID/maps differ from the last
 * call: a new object may be mapped. Anonymous mappings (malloc's mmap and
 * munmap, thread stacks) change all the time and are left out of the
 * fingerprint, so a busy process does not cause a rescan at every poll.
 * Reading maps costs tens of microseconds, so new providers are found
 * within one poll period instead of on a slow timer.
 */
static bool maps_changed(pid_t pid, uint64_t *prev)
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

/* Opens and loads a BPF object for @ly's geometry. */
static int open_and_load(struct trace_ctx *t, struct layout *ly, bool multi)
{
	struct trace_bpf *skel;
	int err;

	ly->skel = skel = trace_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->str_size = t->o.str_size;
	skel->rodata->nslots = ly->nslots;
	skel->rodata->max_args = ly->max_args;
	skel->rodata->event_size = (sizeof(struct trace_record) + ly->max_args * sizeof(__u64) +
				    ly->nslots * t->o.str_size + 7) &
				   ~7u;
	skel->rodata->wakeup_bytes = (uint64_t)ly->ring_mb << 18; /* a quarter of the ring */
	bpf_map__set_max_entries(skel->maps.locs, ly->cap ? ly->cap : 1);
	bpf_map__set_max_entries(skel->maps.events, ly->ring_mb << 20);
	if (multi)
		bpf_program__set_expected_attach_type(skel->progs.usdt_trace,
						      ENGINE_ATTACH_UPROBE_MULTI);
	err = trace_bpf__load(skel);
	if (err && (errno == EPERM || errno == EACCES))
		err = -errno;
	return err;
}

/*
 * Adds a layout with room for @max_args arguments and @nslots strings per
 * record and for every location index found so far (plus @slack), and
 * polls its ring. The first layout decides between uprobe_multi links and
 * perf-event uprobes.
 */
static int add_layout(struct trace_ctx *t, unsigned int max_args, unsigned int nslots, size_t slack,
		      unsigned int ring_mb)
{
	struct layout *ly;
	int err;

	if (t->nlayouts == MAX_LAYOUTS)
		return -ENOSPC;
	ly = &t->layouts[t->nlayouts];
	memset(ly, 0, sizeof(*ly));
	ly->t = t;
	ly->max_args = max_args > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : max_args;
	ly->nslots = nslots > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : nslots;
	ly->cap = engine__loc_count(t->eng) + slack;
	ly->ring_mb = ring_mb;
	if (t->nlayouts == 0) {
		/* uprobe_multi links where the kernel has them (6.6+) */
		err = open_and_load(t, ly, true);
		if (err && err != -EPERM && err != -EACCES) {
			trace_bpf__destroy(ly->skel);
			ly->skel = NULL;
			err = open_and_load(t, ly, false);
		} else if (!err) {
			t->multi = true;
		}
		engine__set_uprobe_multi(t->eng, t->multi);
	} else {
		err = open_and_load(t, ly, t->multi);
	}
	if (!err && !t->rb) {
		t->rb = ring_buffer__new(bpf_map__fd(ly->skel->maps.events), handle_event, ly,
					 NULL);
		if (!t->rb)
			err = -errno;
	} else if (!err) {
		err = ring_buffer__add(t->rb, bpf_map__fd(ly->skel->maps.events), handle_event, ly);
	}
	if (err) {
		trace_bpf__destroy(ly->skel);
		ly->skel = NULL;
		return err;
	}
	t->nlayouts++;
	return 0;
}

/*
 * Attaches the locations found since the last call, in the newest layout
 * if they fit, else in a new one with room to spare for later finds.
 */
static int attach_pending(struct trace_ctx *t)
{
	const struct layout *ly = NULL;
	unsigned int need_args, need_strs;
	int err;

	if (!t->nlayouts)
		return -EINVAL;
	engine__pending_max(t->eng, &need_args, &need_strs);
	/* the smallest records that fit: layouts only grow in order */
	for (int i = 0; i < t->nlayouts && !ly; i++) {
		const struct layout *c = &t->layouts[i];

		if (need_args <= c->max_args && need_strs <= c->nslots &&
		    engine__loc_count(t->eng) <= c->cap)
			ly = c;
	}
	if (!ly) {
		err = add_layout(t, FETCH_MAX_ARGS, need_strs > 2 ? need_strs : 2, 4096,
				 t->o.ring_mb);
		if (err) {
			fprintf(stderr,
				"usdtkit trace: cannot load a BPF program for new probes: %s\n",
				strerror(-err));
			return err;
		}
		ly = &t->layouts[t->nlayouts - 1];
	}
	return engine__attach(t->eng, ly->skel->progs.usdt_trace, bpf_map__fd(ly->skel->maps.locs));
}

static uint64_t read_counter(struct trace_bpf *skel, __u32 which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u64 *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &which, vals))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"command", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"count", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"string-size", required_argument, NULL, 's'},
		{"buffer-size", required_argument, NULL, 'b'},
		{"args", required_argument, NULL, 'A'},
		{"verbose", no_argument, NULL, 'v'},
		{"wait", no_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct trace_ctx t = {
		.o = {.pid = -1, .str_size = DEFAULT_STR_SIZE, .ring_mb = DEFAULT_RING_MB}};
	struct engine_opts eo = {.pid = -1};
	char **decls = NULL;
	size_t ndecls = 0;
	wordexp_t we = {0};
	bool have_we = false;
	pid_t child = -1;
	int go_fd = -1, pidfd = -1, ret = EXIT_FAIL, err, c;
	uint64_t v, start, lost = 0;
	char *exe = NULL;
	uint64_t maps_hash = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:c:jf:o:n:d:s:b:vwh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_u64(optarg, &v) || !v || v > INT_MAX) {
				fprintf(stderr, "usdtkit trace: bad PID '%s'\n", optarg);
				return EXIT_USAGE;
			}
			t.o.pid = v;
			break;
		case 'c':
			t.o.cmd = optarg;
			break;
		case 'j':
			t.o.json = true;
			break;
		case 'f':
			t.o.format = optarg;
			break;
		case 'o':
			t.o.outpath = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, &v) || !v) {
				fprintf(stderr, "usdtkit trace: bad count '%s'\n", optarg);
				return EXIT_USAGE;
			}
			t.o.max_events = v;
			break;
		case 'd': {
			char *end;

			t.o.duration = strtod(optarg, &end);
			if (end == optarg || *end || !(t.o.duration > 0)) {
				fprintf(stderr, "usdtkit trace: bad duration '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 's':
			if (parse_u64(optarg, &v) || v < 2 || v > MAX_STR_SIZE) {
				fprintf(stderr, "usdtkit trace: string size must be 2..%d\n",
					MAX_STR_SIZE);
				return EXIT_USAGE;
			}
			t.o.str_size = v;
			break;
		case 'b':
			if (parse_u64(optarg, &v) || !v || v > 1024 || (v & (v - 1))) {
				fprintf(stderr,
					"usdtkit trace: buffer size must be a power of two, 1..1024 MiB\n");
				return EXIT_USAGE;
			}
			t.o.ring_mb = v;
			break;
		case 'A': {
			void *np = realloc(decls, (ndecls + 1) * sizeof(*decls));

			if (!np) {
				free(decls);
				return EXIT_FAIL;
			}
			decls = np;
			decls[ndecls++] = optarg;
			break;
		}
		case 'v':
			t.o.verbose = true;
			break;
		case 'w':
			t.o.wait = true;
			break;
		case 'h':
			usage(stdout);
			free(decls);
			return EXIT_OK;
		default:
			usage(stderr);
			free(decls);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usdtkit trace: no PROBE given\n");
		usage(stderr);
		free(decls);
		return EXIT_USAGE;
	}
	if (t.o.pid > 0 && t.o.cmd) {
		fprintf(stderr, "usdtkit trace: -p and -c cannot be combined\n");
		free(decls);
		return EXIT_USAGE;
	}
	if (t.o.json && t.o.format) {
		fprintf(stderr, "usdtkit trace: --json and --format cannot be combined\n");
		free(decls);
		return EXIT_USAGE;
	}
	if (t.o.wait && t.o.pid <= 0 && !t.o.cmd) {
		fprintf(stderr, "usdtkit trace: --wait needs -p or -c\n");
		free(decls);
		return EXIT_USAGE;
	}
	if (t.o.cmd)
		t.o.wait = true; /* nothing has run yet: runtime providers come later */
	verbose_print = t.o.verbose;
	libbpf_set_print(libbpf_print);

	eo.pid = t.o.pid;
	eo.verbose = t.o.verbose;
	if (engine__new(&eo, &t.eng)) {
		free(decls);
		return EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		err = engine__add_probe(t.eng, argv[i]);
		if (err) {
			fprintf(stderr,
				"usdtkit trace: bad PROBE '%s' (want [PATH:]PROVIDER:NAME)\n",
				argv[i]);
			ret = err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
			goto out;
		}
	}
	for (size_t i = 0; i < ndecls; i++) {
		err = engine__add_args_decl(t.eng, decls[i]);
		if (err) {
			fprintf(stderr,
				"usdtkit trace: bad --args '%s' (want PROVIDER:NAME=[name:]type,...; "
				"at most %d)\n",
				decls[i], FETCH_MAX_ARGS);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < engine__spec_count(t.eng); i++) {
		const char *spec = engine__spec(t.eng, i, NULL);

		if (t.o.pid <= 0 && !t.o.cmd && strchr(spec, ':') == strrchr(spec, ':')) {
			fprintf(stderr,
				"usdtkit trace: PROBE '%s' needs a PATH (PATH:PROVIDER:NAME) or a "
				"-p/-c target\n",
				spec);
			ret = EXIT_USAGE;
			goto out;
		}
	}

	if (t.o.cmd) {
		err = wordexp(t.o.cmd, &we, WRDE_NOCMD);
		if (err || we.we_wordc == 0) {
			fprintf(stderr, "usdtkit trace: cannot parse command '%s'\n", t.o.cmd);
			if (!err)
				wordfree(&we);
			ret = EXIT_USAGE;
			goto out;
		}
		have_we = true;
		exe = which(we.we_wordv[0]);
		if (!exe) {
			fprintf(stderr, "usdtkit trace: %s: command not found\n", we.we_wordv[0]);
			goto out;
		}
		engine__add_object(t.eng, exe);
		add_ldd_objects(t.eng, exe);
		child = spawn_waiting(we.we_wordv, &go_fd);
		if (child < 0) {
			fprintf(stderr, "usdtkit trace: cannot start '%s': %s\n", t.o.cmd,
				strerror(errno));
			goto out;
		}
		/* the child's pid filters the uprobes; its maps are not scanned until it runs */
		engine__set_pid(t.eng, child);
	}

	err = engine__scan(t.eng, t.o.pid > 0);
	if (err == -ESRCH) {
		fprintf(stderr, "usdtkit trace: no process %d\n", t.o.pid);
		goto out;
	}
	if (err < 0) {
		fprintf(stderr, "usdtkit trace: %s\n", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < engine__spec_count(t.eng); i++) {
		size_t m;
		const char *spec = engine__spec(t.eng, i, &m);

		if (!m && !t.o.wait) {
			fprintf(stderr, "usdtkit trace: PROBE '%s' matches no probe\n", spec);
			goto out;
		}
		if (!m)
			fprintf(stderr,
				"usdtkit trace: PROBE '%s' matches no probe yet; waiting for objects "
				"loaded later\n",
				spec);
	}

	/* records sized exactly for what was found; -p/-c leave room in the locs map */
	err = add_layout(&t, engine__max_args(t.eng), engine__max_strings(t.eng),
			 (t.o.pid > 0 || t.o.cmd) ? 4096 : 0, t.o.ring_mb);
	/*
	 * -p/-c: a roomy spare loaded now, so that providers found later are
	 * attached without waiting for a program load while they fire.
	 */
	if (!err && (t.o.pid > 0 || t.o.cmd) &&
	    (t.layouts[0].max_args < FETCH_MAX_ARGS || t.layouts[0].nslots < 2))
		err = add_layout(&t, FETCH_MAX_ARGS, 2, 4096,
				 t.o.ring_mb > 2 ? t.o.ring_mb / 2 : t.o.ring_mb);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			fprintf(stderr, "usdtkit trace: not permitted to load BPF programs: run as "
					"root or with CAP_BPF and CAP_PERFMON\n");
		else
			fprintf(stderr, "usdtkit trace: cannot load BPF program: %s%s\n",
				strerror(-err), t.o.verbose ? "" : " (-v for details)");
		goto out;
	}

	start = now_ns(CLOCK_MONOTONIC);
	err = attach_pending(&t);
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "usdtkit trace: not permitted to attach uprobes: run as root or "
				"with CAP_BPF and CAP_PERFMON\n");
		goto out;
	}
	if (err < 0 || (err == 0 && engine__loc_count(t.eng) > 0)) {
		fprintf(stderr, "usdtkit trace: no probe location could be attached\n");
		goto out;
	}
	if (t.o.verbose)
		fprintf(stderr, "usdtkit trace: attached %d locations in %.3f ms\n", err,
			(now_ns(CLOCK_MONOTONIC) - start) / 1e6);

	if (t.o.outpath) {
		t.out = fopen(t.o.outpath, "we");
		if (!t.out) {
			fprintf(stderr, "usdtkit trace: %s: %s\n", t.o.outpath, strerror(errno));
			goto out;
		}
	} else {
		t.out = stdout;
	}
	setvbuf(t.out, NULL, _IOFBF, 1 << 16);
	json_writer__init(&t.jw, t.out);
	t.mono_to_real = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (t.o.pid > 0)
		pidfd = syscall(SYS_pidfd_open, t.o.pid, 0);
	if (child > 0) {
		if (write(go_fd, "g", 1) != 1) {
			fprintf(stderr, "usdtkit trace: cannot start the command\n");
			goto out;
		}
		close(go_fd);
		go_fd = -1;
	}

	start = now_ns(CLOCK_MONOTONIC);
	ret = EXIT_OK;
	while (!t.done && !stop_signal) {
		bool target_gone = false;
		uint64_t now;

		err = ring_buffer__poll(t.rb, POLL_MS);
		if (err >= 0 && !t.done)
			err = ring_buffer__consume(t.rb);
		if (err < 0 && err != -EINTR && !t.done) {
			fprintf(stderr, "usdtkit trace: reading events: %s\n", strerror(-err));
			ret = EXIT_FAIL;
			break;
		}
		fflush(t.out);
		if (t.out_error) {
			ret = EXIT_FAIL;
			break;
		}
		if (t.done)
			break;
		if (child > 0) {
			int status;

			if (waitpid(child, &status, WNOHANG) == child) {
				child = -1;
				target_gone = true;
				fprintf(stderr, "usdtkit trace: command exited (%s %d)\n",
					WIFEXITED(status) ? "status" : "signal",
					WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			}
		} else if (t.o.pid > 0) {
			struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

			if (pidfd >= 0 ? poll(&pfd, 1, 0) > 0
				       : kill(t.o.pid, 0) && errno == ESRCH) {
				target_gone = true;
				fprintf(stderr, "usdtkit trace: process %d exited\n", t.o.pid);
			}
		}
		if (target_gone) {
			ring_buffer__consume(t.rb); /* what it fired before exiting */
			break;
		}
		now = now_ns(CLOCK_MONOTONIC);
		if (t.o.duration > 0 && now - start >= t.o.duration * 1e9) {
			ring_buffer__consume(t.rb);
			break;
		}
		if ((t.o.pid > 0 || t.o.cmd) &&
		    maps_changed(t.o.pid > 0 ? t.o.pid : child, &maps_hash)) {
			if (engine__scan(t.eng, true) > 0)
				attach_pending(&t);
		}
	}
	fflush(t.out);
	engine__detach(t.eng);
	for (int i = 0; i < t.nlayouts; i++)
		lost += read_counter(t.layouts[i].skel, TRACE_CNT_LOST);
	if (t.o.json && !t.out_error) {
		json__object_begin(&t.jw);
		json__kv_string(&t.jw, "type", "summary");
		json__kv_uint(&t.jw, "events", t.events);
		json__kv_uint(&t.jw, "lost", lost);
		json__object_end(&t.jw);
		json__newline(&t.jw);
		fflush(t.out);
	}
	fprintf(stderr, "usdtkit trace: %" PRIu64 " events, %" PRIu64 " lost%s\n", t.events, lost,
		lost ? " (ring buffer full: try a larger --buffer-size)" : "");
	for (size_t i = 0; i < engine__spec_count(t.eng); i++) {
		size_t m;
		const char *spec = engine__spec(t.eng, i, &m);

		if (!m) {
			fprintf(stderr, "usdtkit trace: PROBE '%s' matched no probe\n", spec);
			if (ret == EXIT_OK)
				ret = EXIT_FAIL;
		}
	}
out:
	/*
	 * A child never released reads EOF and exits without running the
	 * command: reap it. A released one that still runs (-n, -d, Ctrl-C)
	 * is left running, as a shell leaves a job.
	 */
	if (go_fd >= 0) {
		close(go_fd);
		if (child > 0)
			waitpid(child, NULL, 0);
	}
	if (pidfd >= 0)
		close(pidfd);
	ring_buffer__free(t.rb);
	if (t.eng)
		engine__free(t.eng);
	for (int i = 0; i < t.nlayouts; i++)
		trace_bpf__destroy(t.layouts[i].skel);
	if (t.out && t.out != stdout)
		fclose(t.out);
	if (have_we)
		wordfree(&we);
	free(exe);
	free(decls);
	return ret;
}
