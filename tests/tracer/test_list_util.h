/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Helpers of the `usdtkit list` integration tests: run a command and
 * capture its output, and reduce a probe listing — from readelf, from
 * `usdtkit list -v` text or from `usdtkit list --json` — to one canonical
 * line per probe location, so two independent readers can be compared as
 * sorted sets of lines.
 */
#ifndef USDTKIT_TEST_LIST_UTIL_H
#define USDTKIT_TEST_LIST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cmd_result {
	char *out; /* stdout, NUL-terminated */
	size_t out_len;
	char *err; /* stderr, NUL-terminated */
	int status; /* exit status, or 128 + signal */
};

/* Runs argv (fork/exec, no shell), stdin from /dev/null. Returns 0 or -errno. */
int run_cmd(char *const argv[], struct cmd_result *res);
void cmd_result_free(struct cmd_result *res);

/* Path of the usdtkit binary under test, or NULL (message printed) when absent. */
const char *usdtkit_path(void);

/* A growable, sortable list of strings. */
struct strlist {
	char **items;
	size_t count;
	size_t cap;
};
int strlist_add(struct strlist *l, const char *s);
int strlist_addf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strlist_sort(struct strlist *l);
void strlist_uniq(struct strlist *l); /* sorted input */
void strlist_free(struct strlist *l);
/* Compares sorted lists; prints the first differences; true when equal. */
bool strlist_equal(const struct strlist *a, const struct strlist *b, const char *what);

/*
 * Canonical location line: "PREFIX|PROVIDER:NAME@ADDR sema=SEMA args=ARGS",
 * addresses in hex, adjusted for .stapsdt.base as every reader must.
 */
/* From readelf -n / -S of @path; lines get @prefix. Returns 0, -errno, 77 if no readelf. */
int readelf_locations(const char *path, const char *prefix, struct strlist *locs,
		      struct strlist *probes);
/* From `usdtkit list -v` output; the prefix is the object path of each probe. */
int text_locations(const char *out, struct strlist *locs, struct strlist *probes);
/*
 * From `usdtkit list --json` output, through python3's json module (every line must
 * parse). The prefix is the "path" field. Returns 0, -errno, 77 without python3.
 */
int json_locations(const char *out, struct strlist *locs, struct strlist *probes);

/*
 * Typed metadata, independently of usdtkit: decodes the hex dump readelf
 * prints for ".note.usdtkit" notes (64-bit little-endian objects) and joins
 * them to the stapsdt locations by provider, name and raw pc (0: all).
 * Lines: "PREFIX|PROVIDER:NAME@ADDR meta=ITEM ITEM ..." for every location
 * that has metadata. Returns 0, -errno, 77 without readelf.
 */
int readelf_meta_locations(const char *path, const char *prefix, struct strlist *out);
/* The same from `usdtkit list --json` output ("name:type" or "type" per argument). */
int json_meta_locations(const char *out, struct strlist *lines);

/* True when @path is an ELF executable or shared object. */
bool is_elf_exec_or_dyn(const char *path);

#endif
