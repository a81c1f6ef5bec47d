/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Unit tests of list's helpers: the JSON writer and discovery. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "discover.h"
#include "json.h"

static char *json_of(void (*fn)(struct json_writer *))
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_writer__init(&w, f);
	fn(&w);
	fclose(f);
	return buf;
}

static void write_nested(struct json_writer *w)
{
	json__object_begin(w);
	json__kv_string(w, "s", "a\"b\\c\n\t\x01");
	json__kv_int(w, "neg", INT64_MIN);
	json__kv_uint(w, "big", UINT64_MAX);
	json__kv_bool(w, "t", true);
	json__key(w, "n");
	json__null(w);
	json__key(w, "arr");
	json__array_begin(w);
	json__int(w, 0);
	json__object_begin(w);
	json__object_end(w);
	json__array_begin(w);
	json__array_end(w);
	json__string(w, NULL);
	json__double(w, 0.5);
	json__array_end(w);
	json__kv_string(w, "utf8", "\xc3\xa9\xe2\x82\xac");
	json__kv_string(w, "bad", "\xff\xc3(");
	json__object_end(w);
	json__newline(w);
	json__array_begin(w);
	json__array_end(w);
	json__newline(w);
}

static void test_json_writer(void **state)
{
	char *s = json_of(write_nested);

	assert_string_equal(s, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"neg\":-9223372036854775808,"
			       "\"big\":18446744073709551615,\"t\":true,\"n\":null,"
			       "\"arr\":[0,{},[],null,0.5],\"utf8\":\"\xc3\xa9\xe2\x82\xac\","
			       "\"bad\":\"\\u00ff\\u00c3(\"}\n[]\n");
	free(s);
}

/* Our own process: the executable is found, by (dev, ino), with a path that opens it. */
static void test_discover_self(void **state)
{
	struct object_list list = {0};
	struct stat exe;
	const struct mapped_object *obj;
	struct stat st;

	assert_int_equal(stat("/proc/self/exe", &exe), 0);
	assert_int_equal(discover_pid_objects(getpid(), &list), 0);
	assert_true(list.count > 0);
	obj = object_list__find(&list, exe.st_dev, exe.st_ino);
	assert_non_null(obj);
	assert_false(obj->deleted);
	assert_int_equal(obj->pid, getpid());
	assert_int_equal(stat(obj->open_path, &st), 0);
	assert_true(st.st_ino == exe.st_ino);
	/* each object once */
	for (size_t i = 0; i < list.count; i++)
		for (size_t j = i + 1; j < list.count; j++)
			assert_false(list.objs[i].dev == list.objs[j].dev &&
				     list.objs[i].ino == list.objs[j].ino);
	object_list__free(&list);
}

/* An executable memfd mapping is found and opens through the process. */
static void test_discover_memfd(void **state)
{
	struct object_list list = {0};
	int fd = memfd_create("usdtkit-list-unit", MFD_CLOEXEC);
	struct stat st, got;
	void *map;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(fstat(fd, &st), 0);
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		printf("# cannot map a memfd executable here (%s)\n", strerror(errno));
		close(fd);
		skip();
	}
	assert_int_equal(discover_pid_objects(getpid(), &list), 0);
	const struct mapped_object *obj = object_list__find(&list, st.st_dev, st.st_ino);
	assert_non_null(obj);
	assert_true(obj->memfd);
	assert_true(obj->deleted);
	assert_non_null(strstr(obj->display_path, "/memfd:usdtkit-list-unit"));
	assert_int_equal(stat(obj->open_path, &got), 0);
	assert_true(got.st_ino == st.st_ino);
	object_list__free(&list);
	munmap(map, 4096);
	close(fd);
}

static bool skip_all(const struct mapped_object *obj, void *ctx)
{
	(*(int *)ctx)++;
	return false;
}

static void test_discover_filter_and_errors(void **state)
{
	struct object_list list = {0};
	int calls = 0;
	pid_t pid;

	assert_int_equal(discover_pid_objects_filtered(getpid(), &list, skip_all, &calls), 0);
	assert_int_equal(list.count, 0);
	assert_true(calls > 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	assert_int_equal(discover_pid_objects(pid, &list), -ESRCH);
	assert_int_equal(discover_pid_objects(0, &list), -EINVAL);
	assert_int_equal(list.count, 0);
	object_list__free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_discover_self),
		cmocka_unit_test(test_discover_memfd),
		cmocka_unit_test(test_discover_filter_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
