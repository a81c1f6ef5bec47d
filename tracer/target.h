/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * What `usdtkit trace` and `usdtkit stat` share around the argument engine:
 * the target options (-p, -c, -w, --args, -v), the -c command (forked and
 * held on a pipe until the uprobes are attached, then released; ended if
 * still running when usdtkit stops), the libraries it will load, watching a
 * target for its exit and for new mappings, the stop signals, and the
 * messages both commands print for the same situations.
 *
 * Every function that prints takes @who, the command's name ("usdtkit
 * trace"), as the prefix of its messages.
 */
#ifndef USDTKIT_TRACER_TARGET_H
#define USDTKIT_TRACER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <wordexp.h>

struct engine;

/* Options common to trace and stat. */
struct target_opts {
	pid_t pid; /* -p PID; -1: none */
	const char *cmd; /* -c 'CMD ARGS' */
	bool wait; /* -w: PROBEs may match objects loaded later (implied by -c) */
	bool verbose; /* -v */
	char **decls; /* --args declarations (pointers into argv) */
	size_t ndecls;
};

/* getopt_long() letters and long options of the shared options; 'A' is --args. */
#define TARGET_SHORT_OPTS "p:c:wv"
/* clang-format off */
#define TARGET_LONG_OPTS                                   \
	{"pid", required_argument, NULL, 'p'},             \
	{"command", required_argument, NULL, 'c'},         \
	{"wait", no_argument, NULL, 'w'},                  \
	{"args", required_argument, NULL, 'A'},            \
	{"verbose", no_argument, NULL, 'v'}
/* clang-format on */

void target_opts__init(struct target_opts *o);
/*
 * Handles option @c if it is a shared one. Returns 1 when handled, 0 when
 * it is not a shared option, -EINVAL (message printed: usage error) or
 * -ENOMEM.
 */
int target_opts__parse(struct target_opts *o, const char *who, int c, const char *arg);
/* Checks the combination once all options are parsed; -c implies -w. 0 or -EINVAL (printed). */
int target_opts__check(struct target_opts *o, const char *who);
void target_opts__free(struct target_opts *o);
/* A PROBE without PATH needs -p/-c: prints and returns false when @spec lacks one. */
bool target_opts__probe_ok(const struct target_opts *o, const char *who, const char *spec);

/* The -c command. */
struct target_cmd {
	pid_t pid; /* the child; -1: none, or reaped */
	int go_fd; /* write end of the pipe the child waits on; -1 once released */
	char *exe; /* the file it will execute (execvp's search) */
	wordexp_t we;
	bool have_we;
	bool released;
};

void target_cmd__init(struct target_cmd *tc);
/*
 * Splits @cmdline into words (no command substitution), finds the
 * executable and forks a child that waits before exec until released.
 * Returns 0, or an exit status (EXIT_USAGE, EXIT_FAIL) after printing why.
 */
int target_cmd__spawn(struct target_cmd *tc, const char *cmdline, const char *who);
/* Adds the executable and the libraries the loader maps before main to @eng. */
void target_cmd__add_objects(const struct target_cmd *tc, struct engine *eng);
/* Lets the child exec. 0, or -1 after printing. */
int target_cmd__release(struct target_cmd *tc, const char *who);
/* True (and prints its status) once the released command has exited. */
bool target_cmd__exited(struct target_cmd *tc, const char *who);
/*
 * Ends the command at exit: a child never released reads EOF and exits
 * without running the command; a released one still running gets SIGTERM,
 * then SIGKILL after TARGET_TERM_GRACE_MS, is reaped, and we say so.
 * Frees everything.
 */
void target_cmd__finish(struct target_cmd *tc, const char *who);

#define TARGET_TERM_GRACE_MS 2000

/* Lists @exe's libraries as ldd reports them, adding each to @eng. */
void target__add_ldd_objects(struct engine *eng, const char *exe);
/* execvp's search for @prog: a malloc'ed real path, or NULL. */
char *target__which(const char *prog);

/* -p: a pidfd to notice the process's exit (-1 if unavailable). */
int target__pidfd(pid_t pid);
/* True once process @pid (with its @pidfd, or -1) has exited. */
bool target__pid_exited(pid_t pid, int pidfd);
/*
 * True when the file-backed mappings of @pid differ from the last call's
 * fingerprint in *@prev (0 the first time): an object may have been mapped.
 */
bool target__maps_changed(pid_t pid, uint64_t *prev);

/*
 * The first engine__scan with its messages: no such process, a PROBE
 * matching nothing (an error unless @o->wait). 0, or -1 after printing.
 */
int target__first_scan(struct engine *eng, const struct target_opts *o, const char *who);
/* At exit: names each PROBE that never matched; true if there was one. */
bool target__report_unmatched(struct engine *eng, const char *who);
/* Prints why the BPF object could not be loaded (@err negative errno). */
void target__report_load_error(const char *who, int err, bool verbose);
/*
 * Checks the first engine__attach result @attached against @nlocs
 * locations found: 0 when usable, else -1 after printing why.
 */
int target__check_attach(const char *who, int attached, size_t nlocs);

/* SIGINT/SIGTERM set the stop signal; SIGPIPE is ignored. */
void target__catch_signals(void);
/* The signal that asked us to stop, or 0. */
int target__stop_signal(void);

/* libbpf's own messages only when @verbose: errors are ours to word. */
void target__libbpf_print(bool verbose);
uint64_t target__now_ns(clockid_t clk);
/* Decimal unsigned 64-bit integer, the whole string. 0 or -1. */
int target__parse_u64(const char *s, uint64_t *v);

#endif
