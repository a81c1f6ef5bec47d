/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the `usdtkit stat` integration tests: the binaries under test,
 * the BPF permission check (tests skip without it), background processes
 * with their output in temporary files, and a small JSON reader so the
 * tests can assert on `stat --json` values instead of matching text.
 */
#ifndef USDTKIT_TEST_STAT_UTIL_H
#define USDTKIT_TEST_STAT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ST_SKIP 77

struct st_proc {
	pid_t pid;
	int status; /* exit status, 128 + signal, or -1 while running */
	char out_path[64];
	char err_path[64];
};

const char *st_usdtkit(void); /* NULL (message printed) when not built */
/* The fixture as built, and this test process's private copy of it (made on first use). */
const char *st_fixture_built(void);
const char *st_fixture(void);
/* 0, or prints why BPF cannot be used here and returns ST_SKIP. */
int st_bpf_permitted(void);

int st_start(struct st_proc *p, char *const argv[]);
/* Waits up to @timeout_ms (then kills it); returns p->status or -ETIMEDOUT. */
int st_wait(struct st_proc *p, int timeout_ms);
void st_cleanup(struct st_proc *p);
char *st_read(const char *path); /* "" when missing; free() it */
bool st_wait_for(const char *path, const char *needle, int timeout_ms);
void st_dump(const struct st_proc *p, const char *what);

/*
 * Runs `usdtkit stat ARGS...` (NULL-terminated), waits until it has
 * attached, runs the fixture with @mode to completion (its pid in
 * *@fixture_pid), then interrupts stat. Returns stat's stdout (free() it)
 * and its exit status in *@status; NULL on a harness failure.
 */
char *st_stat_around(const char *mode, int *status, pid_t *fixture_pid, ...)
	__attribute__((sentinel));

/* --- JSON --- */
enum st_json_type { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ };

struct st_json {
	enum st_json_type type;
	char *key; /* member name inside an object */
	char *str;
	double num;
	bool is_int; /* a number without fraction or exponent */
	int64_t i; /* valid when is_int (values above INT64_MAX: see u) */
	uint64_t u;
	bool b;
	struct st_json *items;
	size_t n;
};

/* Parses one JSON value from @s; *@end after it. NULL when malformed. */
struct st_json *st_json_parse(const char *s, const char **end);
void st_json_free(struct st_json *v);
const struct st_json *st_json_get(const struct st_json *obj, const char *key);
/* The array of probe objects of a stat record, member with "name" == @name. */
const struct st_json *st_json_probe(const struct st_json *rec, const char *name);
/* Number of a member as int64 (asserts it exists and is an integer). */
int64_t st_json_int(const struct st_json *obj, const char *key);
/* Parses every line of @text as a JSON value; returns how many (max @max). */
size_t st_json_lines(const char *text, struct st_json **out, size_t max);

#endif
