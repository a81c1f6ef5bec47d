/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * `usdtkit list -p PID` and `--all` against a live process: the probes
 * listed equal the union of readelf over every object the process maps,
 * including a library dlopen()ed after start, that library once deleted
 * from disk, and a runtime provider (memfd) loaded after start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_list_util.h"

struct target {
	pid_t pid;
	FILE *in; /* its stdin */
	FILE *out; /* its stdout */
};

static struct target target;
static char tmpdir[64];
static char lib_copy[PATH_MAX];

static const char *build_dir(void)
{
	const char *b = getenv("USDTKIT_BUILD_DIR");

	return b ? b : ".";
}

static int process_cmd(struct target *t, const char *cmd, char *reply, size_t size)
{
	fprintf(t->in, "%s\n", cmd);
	fflush(t->in);
	if (!fgets(reply, size, t->out))
		return -EPIPE;
	reply[strcspn(reply, "\n")] = '\0';
	return strcmp(reply, "ok") ? -EIO : 0;
}

static int target_cmd(const char *cmd, char *reply, size_t size)
{
	return process_cmd(&target, cmd, reply, size);
}

/* Starts argv with pipes on stdin/stdout and waits for its first "ok". */
static int process_start(struct target *t, char *const argv[])
{
	int in[2], out[2];
	char reply[256];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(in[0], 0);
		dup2(out[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in = fdopen(in[1], "w");
	t->out = fdopen(out[0], "r");
	if (!t->in || !t->out || process_cmd(t, "ping", reply, sizeof(reply)))
		return -1;
	return 0;
}

static void process_stop(struct target *t)
{
	if (t->in)
		fclose(t->in); /* EOF: the target exits */
	if (t->pid > 0)
		waitpid(t->pid, NULL, 0);
	if (t->out)
		fclose(t->out);
	memset(t, 0, sizeof(*t));
}

static int setup(void **state)
{
	char path[PATH_MAX];
	char *argv[] = {path, NULL};

	snprintf(path, sizeof(path), "%s/tests/tracer/list_target", build_dir());
	if (process_start(&target, argv)) {
		printf("cannot start %s\n", path);
		return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/usdtkit-list-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	process_stop(&target);
	if (lib_copy[0])
		unlink(lib_copy);
	if (tmpdir[0])
		rmdir(tmpdir);
	return 0;
}

/*
 * readelf over every object @pid maps with an executable mapping, one per
 * (dev, ino), read through map_files when the path is gone (deleted, memfd).
 */
static void readelf_union(pid_t pid, struct strlist *locs, struct strlist *probes)
{
	char maps_path[64], line[8192];
	struct strlist seen = {0};
	FILE *maps;

	snprintf(maps_path, sizeof(maps_path), "/proc/%d/maps", (int)pid);
	maps = fopen(maps_path, "re");
	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;
		char perms[8], key[64], read_path[PATH_MAX];
		int pos = 0;
		char *name;
		bool dup = false;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off,
			   &maj, &min, &ino, &pos) < 7 ||
		    !pos || !ino || !strchr(perms, 'x'))
			continue;
		name = line + pos;
		if (name[0] != '/')
			continue;
		snprintf(key, sizeof(key), "%x:%x:%llu", maj, min, ino);
		for (size_t i = 0; i < seen.count; i++)
			dup |= !strcmp(seen.items[i], key);
		if (dup)
			continue;
		assert_int_equal(strlist_add(&seen, key), 0);
		if (!strncmp(name, "/memfd:", 7) || strstr(name, " (deleted)"))
			snprintf(read_path, sizeof(read_path), "/proc/%d/map_files/%llx-%llx",
				 (int)pid, start, end);
		else
			snprintf(read_path, sizeof(read_path), "%s", name);
		if (!is_elf_exec_or_dyn(read_path))
			continue;
		assert_int_equal(readelf_locations(read_path, name, locs, probes), 0);
	}
	fclose(maps);
	strlist_free(&seen);
	strlist_sort(locs);
	if (probes) {
		strlist_sort(probes);
		strlist_uniq(probes);
	}
}

/* `list -p` (-v text and --json) equals the readelf union; returns the JSON. */
static char *check_pid(pid_t pid)
{
	const char *usdtkit = usdtkit_path();
	struct strlist want = {0}, want_p = {0}, got = {0}, got_p = {0};
	char pidstr[16], needle[32];
	struct cmd_result res;
	char *json;
	int err;

	assert_non_null(usdtkit);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	readelf_union(pid, &want, &want_p);

	char *argv_v[] = {(char *)usdtkit, "list", "-v", "-p", pidstr, NULL};
	assert_int_equal(run_cmd(argv_v, &res), 0);
	if (res.status)
		printf("list -v -p: %s", res.err);
	assert_int_equal(res.status, 0);
	assert_int_equal(text_locations(res.out, &got, &got_p), 0);
	cmd_result_free(&res);
	strlist_sort(&got);
	strlist_sort(&got_p);
	assert_true(strlist_equal(&want, &got, "list -v -p"));
	assert_true(strlist_equal(&want_p, &got_p, "list -v -p (probes)"));
	strlist_free(&got);
	strlist_free(&got_p);

	char *argv_j[] = {(char *)usdtkit, "list", "--json", "-p", pidstr, NULL};
	assert_int_equal(run_cmd(argv_j, &res), 0);
	assert_int_equal(res.status, 0);
	err = json_locations(res.out, &got, &got_p);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	strlist_sort(&got);
	assert_true(strlist_equal(&want, &got, "list --json -p"));
	snprintf(needle, sizeof(needle), "\"pid\":%d,", (int)pid);
	for (char *l = res.out; *l; l = strchr(l, '\n') + 1)
		assert_true(!strncmp(strstr(l, "\"pid\":"), needle, strlen(needle)));
	json = res.out;
	res.out = NULL;
	cmd_result_free(&res);
	printf("# pid %d: %zu probes, %zu locations: equal to readelf over its objects\n", (int)pid,
	       want_p.count, want.count);
	strlist_free(&want);
	strlist_free(&want_p);
	strlist_free(&got);
	strlist_free(&got_p);
	return json;
}

static bool has_probe(const char *json, const char *path_part, const char *provider,
		      const char *name)
{
	char want[256];

	snprintf(want, sizeof(want), "\"provider\":\"%s\",\"name\":\"%s\"", provider, name);
	for (const char *l = json; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char *line = strndup(l, len);
		bool ok = line && strstr(line, want) && strstr(line, path_part);

		free(line);
		if (ok)
			return true;
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

static void test_pid_startup(void **state)
{
	char *json = check_pid(target.pid);

	assert_true(has_probe(json, "list_target", "listtarget", "command"));
	free(json);
}

static void test_pid_dlopen_and_deleted(void **state)
{
	char src[PATH_MAX], cmd[PATH_MAX + 16], reply[512], deleted[PATH_MAX];
	struct cmd_result res;
	char *json;

	snprintf(src, sizeof(src), "%s/tests/tracer/libtest_list_lib.so", build_dir());
	snprintf(lib_copy, sizeof(lib_copy), "%s/libcopy.so", tmpdir);
	char *cp[] = {"cp", src, lib_copy, NULL};
	assert_int_equal(run_cmd(cp, &res), 0);
	assert_int_equal(res.status, 0);
	cmd_result_free(&res);

	snprintf(cmd, sizeof(cmd), "dlopen %s", lib_copy);
	assert_int_equal(target_cmd(cmd, reply, sizeof(reply)), 0);
	json = check_pid(target.pid);
	assert_true(has_probe(json, lib_copy, "listlib", "work"));
	assert_true(has_probe(json, lib_copy, "listlib", "tick"));
	free(json);

	/* deleted on disk while mapped: still listed, read through the process */
	assert_int_equal(unlink(lib_copy), 0);
	lib_copy[0] = '\0';
	snprintf(deleted, sizeof(deleted), "%s/libcopy.so (deleted)\"", tmpdir);
	json = check_pid(target.pid);
	assert_true(has_probe(json, deleted, "listlib", "work"));
	assert_true(has_probe(json, deleted, "listlib", "mixed"));
	free(json);
}

static void test_pid_runtime_provider(void **state)
{
	char lib[PATH_MAX], cmd[PATH_MAX + 16], reply[512];
	char *json;

	snprintf(lib, sizeof(lib), "%s/lib/libusdtkit.so", build_dir());
	if (access(lib, R_OK)) {
		printf("# %s not built: runtime provider part skipped\n", lib);
		skip();
	}
	snprintf(cmd, sizeof(cmd), "provider %s", lib);
	if (target_cmd(cmd, reply, sizeof(reply))) {
		printf("# the runtime library could not load a provider (%s): part skipped\n",
		       reply);
		skip();
	}
	json = check_pid(target.pid);
	assert_true(has_probe(json, "", "listtest", "request"));
	assert_true(has_probe(json, "", "listtest", "tick"));
	/* the typed metadata travels with the probe */
	assert_true(has_probe(json, "\"name\":\"path\",\"type\":\"str\"", "listtest", "request"));
	assert_true(has_probe(json, "\"name\":\"size\",\"type\":\"i64\"", "listtest", "request"));
	free(json);
}

/*
 * A process in another mount namespace (a container) maps a library at a
 * path that, seen from here, names a different file: the library must be
 * read through /proc/PID/root, never the file at the same path here.
 */
static void test_pid_other_mount_namespace(void **state)
{
	char dir[] = "/tmp/usdtkit-list-ns-XXXXXX";
	char script[4 * PATH_MAX], lib[PATH_MAX], tgt[PATH_MAX], nslib[PATH_MAX + 32];
	char cmd[PATH_MAX + 64], rootpath[2 * PATH_MAX], pidstr[16];
	char *argv[] = {"unshare", "--mount", "--propagation", "private", "sh", "-c", script, NULL};
	const char *usdtkit = usdtkit_path();
	struct strlist want = {0}, got = {0};
	struct target ns = {0};
	struct cmd_result res;
	char reply[512];
	int err;

	assert_non_null(usdtkit);
	assert_non_null(mkdtemp(dir));
	snprintf(lib, sizeof(lib), "%s/tests/tracer/libtest_list_lib.so", build_dir());
	snprintf(tgt, sizeof(tgt), "%s/tests/tracer/list_target", build_dir());
	snprintf(nslib, sizeof(nslib), "%s/lib.so", dir);
	/* here, DIR/lib.so is a copy of the target: other probes, other inode */
	char *cp[] = {"cp", tgt, nslib, NULL};
	assert_int_equal(run_cmd(cp, &res), 0);
	cmd_result_free(&res);
	/* there, a tmpfs over DIR holds the real library */
	snprintf(script, sizeof(script),
		 "mount -t tmpfs usdtkit-list %s && cp %s %s/lib.so && exec %s", dir, lib, dir,
		 tgt);
	if (process_start(&ns, argv)) {
		printf("# cannot run a process in a new mount namespace here: skipped\n");
		process_stop(&ns);
		unlink(nslib);
		rmdir(dir);
		skip();
	}
	snprintf(cmd, sizeof(cmd), "dlopen %s", nslib);
	assert_int_equal(process_cmd(&ns, cmd, reply, sizeof(reply)), 0);

	snprintf(pidstr, sizeof(pidstr), "%d", (int)ns.pid);
	char *list[] = {(char *)usdtkit, "list", "--json", "-p", pidstr, "-P", "listlib:*", NULL};
	assert_int_equal(run_cmd(list, &res), 0);
	assert_int_equal(res.status, 0);
	err = json_locations(res.out, &got, NULL);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	snprintf(rootpath, sizeof(rootpath), "/proc/%d/root%s", (int)ns.pid, nslib);
	assert_int_equal(readelf_locations(rootpath, nslib, &want, NULL), 0);
	strlist_sort(&want);
	strlist_sort(&got);
	assert_true(want.count > 0);
	assert_true(strlist_equal(&want, &got, "other mount namespace"));
	cmd_result_free(&res);

	/* and nothing of the same-path file of this namespace */
	char *list2[] = {(char *)usdtkit, "list", "-p", pidstr, NULL};
	assert_int_equal(run_cmd(list2, &res), 0);
	assert_int_equal(res.status, 0);
	snprintf(cmd, sizeof(cmd), "%s listtarget:", nslib);
	assert_null(strstr(res.out, cmd));
	printf("# mount namespace: %zu locations read through /proc/PID/root\n", got.count);
	cmd_result_free(&res);

	/* --all names the process for an object only its namespace can reach */
	char *list3[] = {(char *)usdtkit, "list", "--all", "--json", "-P", "listlib:work", NULL};
	assert_int_equal(run_cmd(list3, &res), 0);
	assert_int_equal(res.status, 0);
	snprintf(cmd, sizeof(cmd), "\"path\":\"%s\",\"pid\":%d,", nslib, (int)ns.pid);
	assert_true(has_probe(res.out, cmd, "listlib", "work"));
	cmd_result_free(&res);
	strlist_free(&want);
	strlist_free(&got);
	process_stop(&ns);
	unlink(nslib);
	rmdir(dir);
}

/* --all: the target's objects show up; memfd objects carry the pid. */
static void test_all(void **state)
{
	const char *usdtkit = usdtkit_path();
	char *argv[] = {(char *)usdtkit, "list", "--all", "--json", NULL};
	struct strlist got = {0};
	struct cmd_result res;
	char pidfield[32];
	int err;

	assert_non_null(usdtkit);
	assert_int_equal(run_cmd(argv, &res), 0);
	assert_int_equal(res.status, 0);
	err = json_locations(res.out, &got, NULL);
	if (err == 77)
		skip();
	assert_int_equal(err, 0);
	assert_true(has_probe(res.out, "list_target", "listtarget", "start"));
	assert_true(has_probe(res.out, "libcopy.so (deleted)", "listlib", "work"));
	snprintf(pidfield, sizeof(pidfield), "\"pid\":%d,", (int)target.pid);
	if (has_probe(res.out, "/memfd:", "listtest", "request"))
		assert_true(has_probe(res.out, pidfield, "listtest", "request"));
	printf("# --all: %zu locations; stderr: %s", got.count, res.err[0] ? res.err : "\n");
	strlist_free(&got);
	cmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pid_startup),
		cmocka_unit_test(test_pid_dlopen_and_deleted),
		cmocka_unit_test(test_pid_runtime_provider),
		cmocka_unit_test(test_all),
		cmocka_unit_test(test_pid_other_mount_namespace),
	};

	if (!usdtkit_path())
		return 77;
	return cmocka_run_group_tests(tests, setup, teardown);
}
