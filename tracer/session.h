/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The session every tracing command runs on (trace, stat, and the tools
 * built on them), so that each command is a thin front-end: its options,
 * its BPF object and what it does with the data.
 *
 * The pipeline, in order:
 *   session__setup	shared options checked; PROBEs and --args into the
 *			engine; -c command forked (held before exec); first scan;
 *			the output (stdout or -o FILE) opened
 *   session__kernel	what the running kernel can do (probed, not read from
 *			its version): uprobe_multi or perf-event uprobes
 *   (the command loads its BPF object, sized by the engine's locations)
 *   session__attach	locations attached; "attached N locations of M probes"
 *   session__begin	signals caught, -c command released, the clock starts
 *   session__run		the loop: the command's wait/consume step, the
 *			target's exit, --duration, signals, a closed output,
 *			rescans of the target for new objects
 *   session__detach	(then the command prints what is left)
 *   session__finish	unmatched PROBEs, output closed, -c command ended;
 *			the exit status
 * Messages are prefixed with the command's name ("usdtkit trace: ...").
 */
#ifndef USDTKIT_TRACER_SESSION_H
#define USDTKIT_TRACER_SESSION_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "filter_set.h"
#include "output.h"
#include "target_cmd.h"

struct bpf_program;

struct session_opts {
	pid_t pid; /* -p PID; -1: none */
	bool all; /* -a, --all: every process, now and later (target_all.h) */
	const char *cmd; /* -c 'CMD ARGS' */
	bool wait; /* -w: PROBEs may match objects loaded later (implied by -c) */
	bool wait_given; /* -w itself */
	bool verbose; /* -v */
	char **decls; /* --args declarations (pointers into argv) */
	size_t ndecls;
	const char *outpath; /* -o FILE */
	double duration; /* -d SEC; 0: none */
};

/* getopt_long() letters of the shared options; 'A' is --args. */
#define SESSION_SHORT_OPTS "p:c:awvo:d:"
/* clang-format off */
#define SESSION_LONG_OPTS                                  \
	{"pid", required_argument, NULL, 'p'},             \
	{"command", required_argument, NULL, 'c'},         \
	{"all", no_argument, NULL, 'a'},                   \
	{"wait", no_argument, NULL, 'w'},                  \
	{"args", required_argument, NULL, 'A'},            \
	{"verbose", no_argument, NULL, 'v'},               \
	{"output", required_argument, NULL, 'o'},          \
	{"duration", required_argument, NULL, 'd'}
/* clang-format on */
/*
 * --filter EXPR (filter_set.h), for the commands whose BPF objects include
 * filter.bpf.h and call filter_set__prepare() before loading them.
 */
#define SESSION_OPT_FILTER 0x1000
#define SESSION_FILTER_LONG_OPT                                       \
	{                                                             \
		"filter", required_argument, NULL, SESSION_OPT_FILTER \
	}

struct session {
	const char *who;
	struct session_opts o;
	struct engine *eng;
	struct target_cmd cmd;
	enum engine_attach_mode mode;
	struct output out;
	struct filter_set filters; /* --filter */
	int pidfd;
	uint64_t start_ns; /* CLOCK_MONOTONIC when tracing began */
	int64_t mono_to_real; /* add to a CLOCK_MONOTONIC time for CLOCK_REALTIME */
	uint64_t maps_hash;
	struct announce *ann; /* -p/-c/--all: runtime providers' load announcements (announce.h) */
	struct target_all *all; /* --all: processes that exec'd, rescans, sweeps */
	bool ann_warned;
	bool ann_waking; /* its ring is in wake_fd */
	/*
	 * -p/-c/--all: an epoll fd that is readable when the session has
	 * something to handle (an announcement, an exec): the commands' waits
	 * include it (session__wake_fd), so a loading provider waits for a
	 * wakeup, not for the next poll period.
	 */
	int wake_fd;
	bool began;
};

void session__init(struct session *s, const char *who);
/*
 * Handles option @c if it is a shared one. Returns 1 when handled, 0 when
 * it is not a shared option, or an exit status (EXIT_USAGE, EXIT_FAIL)
 * negated, after printing why.
 */
int session__parse_opt(struct session *s, int c, const char *arg);
/* Everything up to the first scan (see above). EXIT_OK, or the exit status after printing. */
int session__setup(struct session *s, char *const *probes, size_t nprobes);
/* -p or -c: a process whose objects are (re)scanned. */
bool session__has_target(const struct session *s);
/* The process being traced (-p, the -c child), or -1. */
pid_t session__target_pid(const struct session *s);
/*
 * Probes the kernel (once per run: kernel_features.h), says with -v what it
 * found and chose, and picks the attach method. EXIT_FAIL (said) when a
 * feature of @needs (KF_NEEDS_TRACE, KF_NEEDS_STAT) is missing.
 */
int session__kernel(struct session *s, unsigned int needs);
/* Prints why a BPF object could not be loaded (@err negative errno). */
void session__report_load_error(const struct session *s, int err);
/*
 * Attaches the pending locations. The first call checks that something is
 * attached (or, with -w, may be later) and says how many. EXIT_OK, or
 * EXIT_FAIL after printing why.
 */
int session__attach(struct session *s, struct bpf_program *prog, int locs_map_fd);

int session__begin(struct session *s);

struct session_loop {
	/*
	 * Waits up to @timeout_ms for data and handles it. Returns 0 to go on,
	 * 1 to stop (e.g. -n reached), or a negative errno to stop with a
	 * failure (already reported).
	 */
	int (*step)(void *ctx, int timeout_ms);
	/* New locations were found in the target: attach them. May be NULL. */
	int (*attach_new)(void *ctx);
	void *ctx;
	int poll_ms;
};

/* Runs until a stop condition (see above). EXIT_OK or EXIT_FAIL. */
int session__run(struct session *s, const struct session_loop *loop);
void session__detach(struct session *s);
/* Reports unmatched PROBEs, closes the output, ends -c. Returns the final exit status. */
int session__finish(struct session *s, int status);

/* The epoll fd a command's wait must include (see wake_fd), or -1. */
int session__wake_fd(const struct session *s);

/* Seconds since session__begin. */
double session__elapsed(const struct session *s);
/* libbpf's own messages only with -v: errors are ours to word. */
void session__libbpf_print(bool verbose);

#endif
