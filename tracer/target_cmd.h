/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The -c command of a session: forked and held on a pipe until the uprobes
 * are attached, then released; ended if still running when usdtkit stops.
 * Functions that print take @who, the command's name ("usdtkit trace"), as
 * the prefix of their messages.
 */
#ifndef USDTKIT_TRACER_TARGET_CMD_H
#define USDTKIT_TRACER_TARGET_CMD_H

#include <linux/types.h>
#include <stdbool.h>
#include <sys/types.h>
#include <wordexp.h>

struct engine;
struct exec_stop_bpf;

struct target_cmd {
	pid_t pid; /* the child; -1: none, or reaped */
	int go_fd; /* write end of the pipe the child waits on; -1 once released */
	char *exe; /* the file it will execute (execvp's search) */
	wordexp_t we;
	bool have_we;
	bool released;
	struct exec_stop_bpf *exec_stop; /* stops it at each exec; NULL: cannot */
	__u64 execs_seen;
	bool at_exec; /* stopped at an exec, until target_cmd__resume */
};

enum target_cmd_event {
	TARGET_CMD_RUNNING = 0,
	TARGET_CMD_EXEC, /* stopped at an exec: scan, attach, then target_cmd__resume() */
	TARGET_CMD_EXITED, /* exited (its status printed) */
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
/*
 * What the released command did since the last call (never blocks): an
 * exec stop, its exit (status printed), or nothing new.
 */
enum target_cmd_event target_cmd__poll(struct target_cmd *tc, const char *who);
/* The executable it runs now (malloc'ed), or NULL. */
char *target_cmd__exe(const struct target_cmd *tc);
/* Lets a command stopped at an exec go on. */
void target_cmd__resume(struct target_cmd *tc);
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

#endif
