/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Helpers of the `usdtkit trace` and `usdtkit stat` integration tests:
 * locate the binaries under test, check that BPF is permitted here (else
 * the tests skip), run processes in the background with their output in
 * temporary files, wait for text to appear in those files, and a small
 * JSON reader so the tests can assert on `--json` values instead of
 * matching text.
 */
#ifndef USDTKIT_TRACER_TEST_UTIL_H
#define USDTKIT_TRACER_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
/* The stat fixture as built, and this test process's private copy of it (made on first use). */
const char *tt_stat_fixture_built(void);
/* The usdtkit binary and the stat fixture are built; false (message printed) if not. */
bool tt_stat_ready(void);
const char *tt_stat_fixture(void);
/* 0 when this process may create BPF maps; else prints why and returns TT_SKIP. */
int tt_bpf_permitted(void);

/* Starts argv (no shell) with stdout/stderr in temporary files. Returns 0 or -errno. */
int tt_start(struct tt_proc *p, char *const argv[]);
/* The same with stdout on @out_fd (a pipe, /dev/full); out_path then stays empty. */
int tt_start_out(struct tt_proc *p, char *const argv[], int out_fd);
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
/* Prints @what and the process's stdout and stderr (diagnostics for failed assertions). */
void tt_dump(const struct tt_proc *p, const char *what);

/*
 * Runs `usdtkit stat ARGS...` (NULL-terminated), waits until it has
 * attached, runs the stat fixture with @mode to completion (its pid in
 * *@fixture_pid), then interrupts stat. Returns stat's stdout (free() it)
 * and its exit status in *@status; NULL on a harness failure.
 */
char *tt_stat_around(const char *mode, int *status, pid_t *fixture_pid, ...)
	__attribute__((sentinel));

/* --- JSON --- */
enum tt_json_type { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ };

struct tt_json {
	enum tt_json_type type;
	char *key; /* member name inside an object */
	char *str;
	double num;
	bool is_int; /* a number without fraction or exponent */
	int64_t i; /* valid when is_int (values above INT64_MAX: see u) */
	uint64_t u;
	bool b;
	struct tt_json *items;
	size_t n;
};

/* Parses one JSON value from @s; *@end after it. NULL when malformed. */
struct tt_json *tt_json_parse(const char *s, const char **end);
void tt_json_free(struct tt_json *v);
const struct tt_json *tt_json_get(const struct tt_json *obj, const char *key);
/* The array of probe objects of a stat record, member with "name" == @name. */
const struct tt_json *tt_json_probe(const struct tt_json *rec, const char *name);
/* Number of a member as int64 (asserts it exists and is an integer). */
int64_t tt_json_int(const struct tt_json *obj, const char *key);
/* Parses every line of @text as a JSON value; returns how many (max @max). */
size_t tt_json_lines(const char *text, struct tt_json **out, size_t max);

#endif
