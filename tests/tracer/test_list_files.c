/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * `usdtkit list PATH`: for every fixture binary of the test suite and for
 * system binaries that carry probes, the probes and locations printed by
 * `list`, `list -v` and `list --json` equal what binutils' readelf reads
 * from the same file.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_list_util.h"

static const char *const system_files[] = {
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/bin/node",
	"/usr/bin/python3.11",
	"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
	"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
	"/usr/local/bin/postgres",
	"/usr/lib/aarch64-linux-gnu/libc.so.6",
};

static void add_dir(struct strlist *files, const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[4096];

		if (prefix && strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (is_elf_exec_or_dyn(path))
			assert_int_equal(strlist_add(files, path), 0);
	}
	closedir(d);
}

/* Fixtures (globbed now: whatever the suite built) and system binaries. */
static void collect_files(struct strlist *files)
{
	const char *build = getenv("USDTKIT_BUILD_DIR");
	char dir[4096];
	size_t nfix;

	if (build) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", build);
		add_dir(files, dir, NULL);
		snprintf(dir, sizeof(dir), "%s/tests/sdt", build);
		add_dir(files, dir, "fx-hdr-");
		add_dir(files, dir, "fx_");
		snprintf(dir, sizeof(dir), "%s/tests/tracer", build);
		add_dir(files, dir, "libtest_list_lib");
		add_dir(files, dir, "list_target");
		snprintf(dir, sizeof(dir), "%s/bin", build);
		add_dir(files, dir, "example-");
	}
	nfix = files->count;
	for (size_t i = 0; i < sizeof(system_files) / sizeof(system_files[0]); i++) {
		if (is_elf_exec_or_dyn(system_files[i]))
			assert_int_equal(strlist_add(files, system_files[i]), 0);
	}
	strlist_sort(files);
	strlist_uniq(files);
	printf("# %zu files: %zu built by the suite, %zu system binaries\n", files->count, nfix,
	       files->count - nfix);
}

static void run_list(const char *usdtkit, const char *opt, const char *path, struct cmd_result *res)
{
	char *argv[] = {(char *)usdtkit, "list", (char *)opt, (char *)path, NULL};

	if (!opt) {
		argv[2] = (char *)path;
		argv[3] = NULL;
	}
	assert_int_equal(run_cmd(argv, res), 0);
	if (res->status || res->err[0])
		printf("usdtkit list %s %s: status %d: %s\n", opt ? opt : "", path, res->status,
		       res->err);
	assert_int_equal(res->status, 0);
	assert_string_equal(res->err, "");
}

static void check_file(const char *usdtkit, const char *path, size_t *total_locs)
{
	struct strlist want = {0}, want_probes = {0};
	struct strlist got = {0}, got_probes = {0};
	struct cmd_result res;
	int err;

	err = readelf_locations(path, path, &want, &want_probes);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	strlist_sort(&want);
	strlist_sort(&want_probes);
	strlist_uniq(&want_probes);

	/* default output: each probe once */
	run_list(usdtkit, NULL, path, &res);
	assert_int_equal(text_locations(res.out, &got, &got_probes), 0);
	cmd_result_free(&res);
	assert_int_equal(got.count, 0); /* no locations without -v */
	strlist_sort(&got_probes);
	assert_true(strlist_equal(&want_probes, &got_probes, path));
	strlist_free(&got_probes);

	/* -v: every location, semaphore and argument */
	run_list(usdtkit, "-v", path, &res);
	assert_int_equal(text_locations(res.out, &got, &got_probes), 0);
	cmd_result_free(&res);
	strlist_sort(&got);
	strlist_sort(&got_probes);
	assert_true(strlist_equal(&want, &got, path));
	assert_true(strlist_equal(&want_probes, &got_probes, path)); /* grouped: once each */
	strlist_free(&got);
	strlist_free(&got_probes);

	/* --json: parses, follows the schema, carries the same data */
	run_list(usdtkit, "--json", path, &res);
	err = json_locations(res.out, &got, &got_probes);
	cmd_result_free(&res);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	strlist_sort(&got);
	strlist_sort(&got_probes);
	assert_true(strlist_equal(&want, &got, path));
	assert_true(strlist_equal(&want_probes, &got_probes, path));

	printf("# %-60s %5zu probes %6zu locations: equal to readelf\n", path, want_probes.count,
	       want.count);
	*total_locs += want.count;
	strlist_free(&got);
	strlist_free(&got_probes);
	strlist_free(&want);
	strlist_free(&want_probes);
}

static void test_files_match_readelf(void **state)
{
	const char *usdtkit = usdtkit_path();
	struct strlist files = {0};
	size_t total = 0;

	if (!usdtkit)
		skip();
	collect_files(&files);
	assert_true(files.count > 0);
	for (size_t i = 0; i < files.count; i++)
		check_file(usdtkit, files.items[i], &total);
	/* the comparison must have compared something */
	assert_true(total > 0);
	strlist_free(&files);
}

/*
 * Typed metadata: the argument names and types `list --json` reports equal
 * the .note.usdtkit notes as decoded from readelf's hex dump.
 */
static void test_typed_metadata(void **state)
{
	const char *usdtkit = usdtkit_path();
	struct strlist files = {0};
	size_t total = 0;

	if (!usdtkit)
		skip();
	collect_files(&files);
	for (size_t i = 0; i < files.count; i++) {
		struct strlist want = {0}, got = {0};
		struct cmd_result res;
		int err;

		err = readelf_meta_locations(files.items[i], files.items[i], &want);
		if (err == 77)
			skip();
		assert_int_equal(err, 0);
		run_list(usdtkit, "--json", files.items[i], &res);
		err = json_meta_locations(res.out, &got);
		cmd_result_free(&res);
		if (err == 77)
			skip();
		assert_int_equal(err, 0);
		strlist_sort(&want);
		strlist_sort(&got);
		assert_true(strlist_equal(&want, &got, files.items[i]));
		if (want.count)
			printf("# %-60s %5zu typed locations: equal to .note.usdtkit\n",
			       files.items[i], want.count);
		total += want.count;
		strlist_free(&want);
		strlist_free(&got);
	}
	if (!total)
		printf("# no fixture with typed metadata was built: nothing compared\n");
	strlist_free(&files);
}

/* Several PATHs in one run: the union, each under its own path. */
static void test_many_files_at_once(void **state)
{
	const char *usdtkit = usdtkit_path();
	struct strlist files = {0}, want = {0}, got = {0};
	struct cmd_result res;
	char **argv;
	int err;

	if (!usdtkit)
		skip();
	collect_files(&files);
	argv = calloc(files.count + 4, sizeof(*argv));
	assert_non_null(argv);
	argv[0] = (char *)usdtkit;
	argv[1] = "list";
	argv[2] = "--json";
	for (size_t i = 0; i < files.count; i++) {
		argv[3 + i] = files.items[i];
		err = readelf_locations(files.items[i], files.items[i], &want, NULL);
		if (err == 77)
			skip();
		assert_int_equal(err, 0);
	}
	assert_int_equal(run_cmd(argv, &res), 0);
	assert_int_equal(res.status, 0);
	err = json_locations(res.out, &got, NULL);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	strlist_sort(&want);
	strlist_sort(&got);
	assert_true(strlist_equal(&want, &got, "all files"));
	cmd_result_free(&res);
	free(argv);
	strlist_free(&want);
	strlist_free(&got);
	strlist_free(&files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_match_readelf),
		cmocka_unit_test(test_many_files_at_once),
		cmocka_unit_test(test_typed_metadata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
