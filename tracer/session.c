// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The session under every tracing command (see session.h).
 *
 * One loop serves trace and stat: the command's step (trace reads its ring
 * buffers, stat sleeps and prints per interval) runs at least every
 * poll_ms, and between steps the session checks what ends a run — a stop
 * signal, --duration, the target's exit, a closed output — and whether the
 * target mapped new objects (a fingerprint of /proc/PID/maps), which are
 * scanned and handed to the command to attach.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "announce.h"
#include "cli.h"
#include "commands.h"
#include "kernel.h"
#include "kernel_features.h"
#include "session.h"
#include "target_all.h"
#include "target_proc.h"

#define FILTER_SPARE_PROBES 256

void session__init(struct session *s, const char *who)
{
	memset(s, 0, sizeof(*s));
	s->who = who;
	s->o.pid = -1;
	s->pidfd = -1;
	s->wake_fd = -1;
	target_cmd__init(&s->cmd);
	filter_set__init(&s->filters, who);
}

int session__parse_opt(struct session *s, int c, const char *arg)
{
	struct session_opts *o = &s->o;
	uint64_t v;
	void *np;

	switch (c) {
	case 'p':
		if (cli__parse_u64(arg, &v) || !v || v > INT_MAX) {
			fprintf(stderr, "%s: bad PID '%s'\n", s->who, arg);
			return -EXIT_USAGE;
		}
		o->pid = v;
		return 1;
	case 'c':
		o->cmd = arg;
		return 1;
	case 'a':
		o->all = true;
		return 1;
	case 'w':
		o->wait = o->wait_given = true;
		return 1;
	case 'v':
		o->verbose = true;
		return 1;
	case 'o':
		o->outpath = arg;
		return 1;
	case 'd':
		if (cli__parse_duration(arg, &o->duration)) {
			fprintf(stderr, "%s: bad duration '%s' (seconds, or 500ms, 2s, 1m)\n",
				s->who, arg);
			return -EXIT_USAGE;
		}
		return 1;
	case SESSION_OPT_FILTER: {
		int ret = filter_set__add(&s->filters, arg);

		return ret ? -ret : 1;
	}
	case 'A':
		np = realloc(o->decls, (o->ndecls + 1) * sizeof(*o->decls));
		if (!np)
			return -EXIT_FAIL;
		o->decls = np;
		o->decls[o->ndecls++] = (char *)arg;
		return 1;
	default:
		return 0;
	}
}

int session__wake_fd(const struct session *s)
{
	return s->wake_fd;
}

/* @fd (a ring) wakes the command's wait from now on. */
static int wake_add(struct session *s, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	if (s->wake_fd < 0 || fd < 0)
		return -EINVAL;
	return epoll_ctl(s->wake_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

bool session__has_target(const struct session *s)
{
	return s->o.pid > 0 || s->o.cmd || s->o.all;
}

pid_t session__target_pid(const struct session *s)
{
	return s->o.pid > 0 ? s->o.pid : s->cmd.pid;
}

static int check_opts(struct session *s)
{
	struct session_opts *o = &s->o;

	if ((o->pid > 0) + !!o->cmd + o->all > 1) {
		fprintf(stderr, "%s: -p, -c and --all cannot be combined\n", s->who);
		return EXIT_USAGE;
	}
	if (o->wait && o->pid <= 0 && !o->cmd && !o->all) {
		fprintf(stderr, "%s: --wait needs -p, -c or --all\n", s->who);
		return EXIT_USAGE;
	}
	/* -c: nothing has run yet; --all: processes to come. Probes may come later. */
	if (o->cmd || o->all)
		o->wait = true;
	return EXIT_OK;
}

static int add_probes(struct session *s, char *const *probes, size_t nprobes)
{
	for (size_t i = 0; i < nprobes; i++) {
		int err = engine__add_probe(s->eng, probes[i]);

		if (err) {
			fprintf(stderr, "%s: bad PROBE '%s' (want [usdt:][PATH:]PROVIDER:NAME)\n",
				s->who, probes[i]);
			return err == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
		}
	}
	if (engine__needs_target(s->eng) && !session__has_target(s)) {
		for (size_t i = 0; i < engine__spec_count(s->eng); i++)
			fprintf(stderr,
				"%s: PROBE '%s' needs a PATH (PATH:PROVIDER:NAME), a -p/-c "
				"target or --all\n",
				s->who, engine__spec(s->eng, i, NULL));
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < s->o.ndecls; i++) {
		int err = engine__add_args_decl(s->eng, s->o.decls[i]);

		if (err) {
			fprintf(stderr,
				"%s: bad --args '%s' (want PROVIDER:NAME=[name:]type,... with "
				"distinct names, at most %d; types i8..u64 f32 f64 str ptr)\n",
				s->who, s->o.decls[i], FETCH_MAX_ARGS);
			return err == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static int scan_process(void *ctx, pid_t pid, const char *exe)
{
	(void)exe;
	return engine__scan_process(ctx, pid);
}

/*
 * --all: the exec watch first (a process exec'd during the walk is not
 * missed), then every process's objects.
 */
static int scan_all(struct session *s)
{
	size_t skipped;
	int err = target_all__new(&s->all);

	if (!err)
		err = wake_add(s, target_all__ring_fd(s->all));
	if (err) {
		fprintf(stderr, "%s: --all: cannot watch new processes: %s\n", s->who,
			strerror(-err));
		return err;
	}
	err = engine__scan(s->eng, false);
	if (err < 0)
		return err;
	err = target_all__each(scan_process, s->eng, &skipped);
	if (err < 0) {
		fprintf(stderr, "%s: --all: /proc: %s\n", s->who, strerror(-err));
		return err;
	}
	if (skipped)
		fprintf(stderr, "%s: --all: %zu process%s could not be read\n", s->who, skipped,
			skipped == 1 ? "" : "es");
	return err;
}

/* The first scan and its messages: no such process, a PROBE matching nothing. */
static int first_scan(struct session *s)
{
	int err = s->o.all ? scan_all(s) : engine__scan(s->eng, s->o.pid > 0);

	if (err == -ESRCH) {
		fprintf(stderr, "%s: no process %d\n", s->who, s->o.pid);
		return EXIT_FAIL;
	}
	if (err == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", s->who);
		return EXIT_FAIL;
	}
	if (err < 0)
		return EXIT_FAIL; /* the engine said why */
	for (size_t i = 0; i < engine__spec_count(s->eng); i++) {
		size_t m;
		const char *spec = engine__spec(s->eng, i, &m);

		if (!m && !s->o.wait) {
			fprintf(stderr, "%s: PROBE '%s' matches no probe\n", s->who, spec);
			return EXIT_FAIL;
		}
		if (!m)
			fprintf(stderr,
				"%s: PROBE '%s' matches no probe yet; waiting for objects loaded "
				"later\n",
				s->who, spec);
	}
	return EXIT_OK;
}

int session__setup(struct session *s, char *const *probes, size_t nprobes)
{
	struct engine_opts eo = {
		.pid = s->o.pid,
		.pid_root = s->o.pid > 0,
		.who = s->who,
		.verbose = s->o.verbose,
	};
	int ret;

	ret = check_opts(s);
	if (ret)
		return ret;
	session__libbpf_print(s->o.verbose);
	if (engine__new(&eo, &s->eng)) {
		fprintf(stderr, "%s: out of memory\n", s->who);
		return EXIT_FAIL;
	}
	ret = add_probes(s, probes, nprobes);
	if (ret)
		return ret;
	if (s->o.cmd) {
		ret = target_cmd__spawn(&s->cmd, s->o.cmd, s->who);
		if (ret)
			return ret;
		target_cmd__add_objects(&s->cmd, s->eng);
		/* the child's pid filters the uprobes; its maps are scanned once it runs */
		engine__set_pid(s->eng, s->cmd.pid);
	}
	if (session__has_target(s)) {
		s->wake_fd = epoll_create1(EPOLL_CLOEXEC);
		if (s->wake_fd < 0) {
			fprintf(stderr, "%s: epoll: %s\n", s->who, strerror(errno));
			return EXIT_FAIL;
		}
	}
	ret = first_scan(s);
	if (ret)
		return ret;
	/*
	 * -p/-c: room for filters of probes found later. A scope must match a
	 * probe found now unless -w says probes come later (-c alone does not:
	 * the command's objects are scanned already).
	 */
	ret = filter_set__setup(&s->filters, s->eng, s->o.wait_given,
				session__has_target(s) ? FILTER_SPARE_PROBES : 0);
	if (ret)
		return ret;
	return output__open(&s->out, s->who, s->o.outpath) ? EXIT_FAIL : EXIT_OK;
}

int session__kernel(struct session *s, unsigned int needs)
{
	/* -v says what the kernel can do and which paths were chosen */
	if (kernel_features__report(stderr, s->who, needs, s->o.verbose))
		return EXIT_FAIL;
	s->mode = kernel_features__use_uprobe_multi(kernel_features__get()) ? ENGINE_ATTACH_MULTI
									    : ENGINE_ATTACH_PERF;
	engine__set_attach_mode(s->eng, s->mode);
	return EXIT_OK;
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

void session__report_load_error(const struct session *s, int err)
{
	/*
	 * EACCES is also the verifier's answer to a program it rejects: with
	 * the capabilities present, say so instead of blaming permissions.
	 */
	if (err == -EPERM || (err == -EACCES && !have_bpf_caps()))
		fprintf(stderr,
			"%s: not permitted to load BPF programs: run as root or with CAP_BPF and "
			"CAP_PERFMON\n",
			s->who);
	else if (err == -EACCES)
		fprintf(stderr,
			"%s: the kernel's verifier rejected the BPF program (a usdtkit bug: please "
			"report it with the output of -v)\n",
			s->who);
	else
		fprintf(stderr, "%s: cannot load BPF program: %s%s\n", s->who, strerror(-err),
			s->o.verbose ? "" : " (-v for details)");
}

static void watch_start(struct session *s);

int session__attach(struct session *s, struct bpf_program *prog, int locs_map_fd)
{
	size_t nlocs = engine__loc_count(s->eng);
	uint64_t t0 = cli__now_ns(CLOCK_MONOTONIC);
	int n;

	/* before "attached": once it is said, every announcement is answered */
	if (!s->began && !s->ann)
		watch_start(s);
	/* probes found by a rescan get their filters before their first hit */
	if (filter_set__update(&s->filters, s->eng) == -ENOMEM)
		return EXIT_FAIL;
	n = engine__attach(s->eng, prog, locs_map_fd);

	if (s->began) {
		if (n < 0 && n != -EPERM)
			fprintf(stderr, "%s: attaching new locations: %s\n", s->who, strerror(-n));
		return n < 0 ? EXIT_FAIL : EXIT_OK;
	}
	if (n == -EPERM || n == -EACCES) {
		fprintf(stderr,
			"%s: not permitted to attach uprobes: run as root or with CAP_BPF and "
			"CAP_PERFMON\n",
			s->who);
		return EXIT_FAIL;
	}
	if (n < 0 || (n == 0 && nlocs > 0)) {
		fprintf(stderr, "%s: no probe location could be attached%s%s\n", s->who,
			n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
		return EXIT_FAIL;
	}
	fprintf(stderr, "%s: attached %d location%s of %zu probe%s", s->who, n, n == 1 ? "" : "s",
		engine__probe_count(s->eng), engine__probe_count(s->eng) == 1 ? "" : "s");
	if (s->o.verbose)
		fprintf(stderr, " in %.3f ms", (cli__now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	fprintf(stderr, "; Ctrl-C to stop\n");
	return EXIT_OK;
}

/*
 * Watches for more copies of libusdtkit in the target (added objects, and
 * the maps of @pid when > 0) and attaches the announcement probe to them.
 * A watch that cannot be set up is said once: providers are then found by
 * the maps rescan only, a poll period late.
 */
static void watch_scan(struct session *s, pid_t pid)
{
	int n;

	if (!s->ann)
		return;
	n = announce__scan(s->ann, pid);
	/* --all: a process that is gone or cannot be read is skipped, as by the main scan */
	if (s->o.all && (n == -EACCES || n == -EPERM || n == -ENOENT))
		n = 0;
	if (n < 0 && n != -ESRCH && !s->ann_warned) {
		fprintf(stderr,
			"%s: cannot watch runtime provider loads (usdtkit:provider_load): %s; "
			"providers loaded later may miss their first fires\n",
			s->who, strerror(-n));
		s->ann_warned = true;
	} else if (n > 0 && !s->ann_waking && !wake_add(s, announce__ring_fd(s->ann))) {
		s->ann_waking = true;
	}
	if (n > 0 && s->o.verbose) {
		fprintf(stderr, "%s: watching runtime provider loads at %d more location%s\n",
			s->who, n, n == 1 ? "" : "s");
	}
}

static int watch_process(void *ctx, pid_t pid, const char *exe)
{
	(void)exe;
	watch_scan(ctx, pid);
	return 0;
}

/* Before the target runs on: its announcements from the first load on. */
static void watch_start(struct session *s)
{
	int err;

	if (!session__has_target(s))
		return;
	err = announce__new(session__target_pid(s), s->mode == ENGINE_ATTACH_MULTI, s->who,
			    s->o.verbose, &s->ann);
	if (err) {
		fprintf(stderr, "%s: cannot watch runtime provider loads: %s\n", s->who,
			strerror(-err));
		return;
	}
	if (s->o.cmd)
		target_cmd__add_objects(&s->cmd, announce__engine(s->ann));
	if (announce__add_usual_copies(s->ann))
		return; /* out of memory: said by the scan that follows, if it also fails */
	watch_scan(s, s->o.pid);
	if (s->o.all) {
		size_t skipped;

		target_all__each(watch_process, s, &skipped);
	}
}

struct watch_ctx {
	struct session *s;
	const struct session_loop *loop;
};

/*
 * A provider is being loaded and its process waits: scan the new object
 * through the process's fd, attach what matches, then ack (also when
 * nothing matched: the wait ends at once).
 */
static int on_announce(void *ctx, const struct announce_msg *m)
{
	struct watch_ctx *w = ctx;
	struct session *s = w->s;
	char path[64], obj[256];
	ssize_t len;
	int n = 0, err;

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", m->tgid, m->fd);
	len = readlink(path, obj, sizeof(obj) - 1);
	if (len > 0) {
		obj[len] = 0;
		n = engine__scan_object(s->eng, path, obj);
		if (n > 0 && w->loop->attach_new && w->loop->attach_new(w->loop->ctx) < 0)
			n = -EIO; /* said by attach_new */
		if (s->o.verbose)
			fprintf(stderr, "%s: process %u announced %s: %d new location%s\n", s->who,
				m->tgid, obj, n, n == 1 ? "" : "s");
	}
	err = announce__ack(m);
	if (err && err != -ESRCH && !s->ann_warned) {
		fprintf(stderr, "%s: cannot answer process %u's provider load: %s\n", s->who,
			m->tgid, strerror(-err));
		s->ann_warned = true;
	}
	return 0;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int session__begin(struct session *s)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed output is seen as EPIPE and ends the run quietly (output.h) */
	signal(SIGPIPE, SIG_IGN);
	if (s->o.pid > 0)
		s->pidfd = target_proc__pidfd(s->o.pid);
	if (target_cmd__release(&s->cmd, s->who))
		return EXIT_FAIL;
	s->start_ns = cli__now_ns(CLOCK_MONOTONIC);
	s->mono_to_real = (int64_t)(cli__now_ns(CLOCK_REALTIME) - s->start_ns);
	s->began = true;
	return EXIT_OK;
}

double session__elapsed(const struct session *s)
{
	return (cli__now_ns(CLOCK_MONOTONIC) - s->start_ns) / 1e9;
}

/*
 * The -c command stopped at an exec: the new executable and its libraries
 * are scanned and attached before it runs its first instruction.
 */
static void follow_exec(struct session *s, const struct session_loop *loop)
{
	char *exe = target_cmd__exe(&s->cmd);

	if (exe) {
		engine__add_object(s->eng, exe);
		target__add_ldd_objects(s->eng, exe);
		if (s->ann) {
			engine__add_object(announce__engine(s->ann), exe);
			target__add_ldd_objects(announce__engine(s->ann), exe);
			watch_scan(s, s->cmd.pid);
		}
		if (s->o.verbose)
			fprintf(stderr, "%s: command exec'd %s\n", s->who, exe);
		free(exe);
	}
	if (engine__scan(s->eng, true) > 0 && loop->attach_new)
		loop->attach_new(loop->ctx);
	target_cmd__resume(&s->cmd);
}

/* True (after saying so) once the target is gone. */
static bool target_gone(struct session *s, const struct session_loop *loop)
{
	if (s->cmd.pid > 0) {
		switch (target_cmd__poll(&s->cmd, s->who)) {
		case TARGET_CMD_EXEC:
			follow_exec(s, loop);
			return false;
		case TARGET_CMD_EXITED:
			return true;
		default:
			return false;
		}
	}
	if (s->o.pid > 0 && target_proc__exited(s->o.pid, s->pidfd)) {
		fprintf(stderr, "%s: process %d exited\n", s->who, s->o.pid);
		return true;
	}
	return false;
}

/*
 * --all: a process exec'd (@exe: its executable) or is due for a rescan;
 * what it brought is attached before the next process is looked at (and
 * before -v says so). New locations.
 */
static int all_rescan(void *ctx, pid_t pid, const char *exe)
{
	struct watch_ctx *w = ctx;
	struct session *s = w->s;
	int n = 0, m;

	if (exe) {
		n = engine__scan_object(s->eng, exe, exe);
		if (n < 0)
			n = 0; /* gone or not readable: the process's maps may still be */
	}
	watch_scan(s, pid);
	m = engine__scan_process(s->eng, pid);
	n = m > 0 ? n + m : n;
	if (n > 0 && w->loop->attach_new)
		w->loop->attach_new(w->loop->ctx);
	if (n > 0 && s->o.verbose)
		fprintf(stderr, "%s: --all: process %d: %d new location%s\n", s->who, (int)pid, n,
			n == 1 ? "" : "s");
	return n;
}

int session__run(struct session *s, const struct session_loop *loop)
{
	uint64_t deadline = s->o.duration > 0 ? s->start_ns + (uint64_t)(s->o.duration * 1e9) : 0;
	pid_t pid;
	int err;

	while (!stop_signal) {
		err = loop->step(loop->ctx, loop->poll_ms);
		if (err < 0 && err != -EINTR)
			return EXIT_FAIL;
		if (err > 0 || s->out.err)
			break;
		if (target_gone(s, loop))
			break;
		if (deadline && cli__now_ns(CLOCK_MONOTONIC) >= deadline)
			break;
		if (s->ann)
			announce__consume(s->ann, on_announce, &(struct watch_ctx){s, loop});
		if (s->all)
			target_all__poll(s->all, all_rescan, &(struct watch_ctx){s, loop});
		pid = session__target_pid(s);
		if (pid > 0 && target_proc__maps_changed(pid, &s->maps_hash)) {
			watch_scan(s, pid);
			if (engine__scan(s->eng, true) > 0 && loop->attach_new)
				loop->attach_new(loop->ctx);
		}
	}
	return output__failed(&s->out) ? EXIT_FAIL : EXIT_OK;
}

void session__detach(struct session *s)
{
	announce__free(s->ann); /* first: no load waits on a tracer that has stopped */
	s->ann = NULL;
	if (s->eng)
		engine__detach(s->eng);
}

int session__finish(struct session *s, int status)
{
	bool unmatched = false;

	if (s->eng && s->began) {
		for (size_t i = 0; i < engine__spec_count(s->eng); i++) {
			size_t m;
			const char *spec = engine__spec(s->eng, i, &m);

			if (!m) {
				fprintf(stderr, "%s: PROBE '%s' matched no probe\n", s->who, spec);
				unmatched = true;
			}
		}
	}
	if (unmatched && status == EXIT_OK)
		status = EXIT_FAIL;
	if (filter_set__active(&s->filters) && s->began) {
		uint64_t faults, dropped = filter_set__dropped(&s->filters, &faults);

		fprintf(stderr, "%s: --filter dropped %" PRIu64 " hit%s (%" PRIu64 " unreadable)\n",
			s->who, dropped, dropped == 1 ? "" : "s", faults);
	}
	if (output__close(&s->out) && output__failed(&s->out) && status == EXIT_OK)
		status = EXIT_FAIL;
	/* a -c command still running when we stop (-n, -d, Ctrl-C) is ended */
	target_cmd__finish(&s->cmd, s->who);
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	announce__free(s->ann);
	s->ann = NULL;
	target_all__free(s->all);
	s->all = NULL;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
	engine__free(s->eng);
	s->eng = NULL;
	free(s->o.decls);
	s->o.decls = NULL;
	filter_set__free(&s->filters);
	return status;
}

static bool verbose_print;

__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
							      const char *fmt, va_list ap)
{
	if (!verbose_print)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void session__libbpf_print(bool verbose)
{
	verbose_print = verbose;
	libbpf_set_print(libbpf_print);
}
