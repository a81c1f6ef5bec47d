/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the `usdtkit trace` integration tests: locate the binaries
 * under test, check that BPF is permitted here (else the tests skip), run
 * processes in the background with their output in temporary files, and
 * wait for text to appear in those files.
 */
#ifndef USDTKIT_TEST_TRACE_UTIL_H
#define USDTKIT_TEST_TRACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TT_SKIP 77

struct tt_proc {
	pid_t pid;
	int status; /* exit status, 128 + signal, or -1 while running */
	char out_path[64];
	char err_path[64];
};

/* Path of the usdtkit binary under test; NULL (message printed) when absent. */
const char *tt_usdtkit(void);
/* Path of a fixture program built under tests/tracer/fixtures. */
const char *tt_fixture(const char *name);
/* 0 when this process may create BPF maps; else prints why and returns TT_SKIP. */
int tt_bpf_permitted(void);

/* Starts argv (no shell) with stdout/stderr in temporary files. Returns 0 or -errno. */
int tt_start(struct tt_proc *p, char *const argv[]);
/* Waits up to @timeout_ms (then kills it); returns p->status or -ETIMEDOUT. */
int tt_wait(struct tt_proc *p, int timeout_ms);
void tt_signal(struct tt_proc *p, int sig);
/* Kills the process if still running and removes its files. */
void tt_cleanup(struct tt_proc *p);
/* Starts argv and waits for it: convenience for short commands. */
int tt_run(struct tt_proc *p, char *const argv[], int timeout_ms);

/* Whole file as a NUL-terminated string ("" when missing); free() it. */
char *tt_read(const char *path);
/* Polls @path until it contains @needle; false after @timeout_ms. */
bool tt_wait_for(const char *path, const char *needle, int timeout_ms);
/* Number of lines of @s that contain @needle. */
size_t tt_count_lines(const char *s, const char *needle);
/* Prints @what and the process's stderr (diagnostics for failed assertions). */
void tt_dump(const struct tt_proc *p, const char *what);

#endif
