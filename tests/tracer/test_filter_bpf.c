// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The --filter interpreter in the kernel (tracer/filter.bpf.h, run by the
 * syscall program of filter_run.bpf.c through BPF_PROG_TEST_RUN) against
 * the reference evaluator (filter_prog__eval): thousands of random compiled
 * programs on random inputs whose strings live in this process's memory,
 * and the cases the reference cannot take: strings in pages the process
 * never touched (read by faulting them in), a string ending just before an
 * unmapped page, unreadable pointers, a probe id without a program. Loading
 * the object also puts filter_count, the interpreter in a sleepable uprobe
 * program, before this kernel's verifier.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter_compile.h"
#include "filter_gen.h"
#include "filter_run.h"
#include "filter_run.skel.h"
#include "tracer_test_util.h"

#define NPROBES 4

static int run(struct filter_run_bpf *skel, uint32_t probe_id, const struct filter_input *in)
{
	struct filter_run_args a = {.in = *in, .probe_id = probe_id};
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a, .ctx_size_in = sizeof(a));

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.filter_run_test), &o),
			 0);
	return (int)o.retval;
}

static void load_prog(struct filter_run_bpf *skel, uint32_t probe_id, const struct filter_prog *p)
{
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.filter_progs), &probe_id, p, 0),
			 0);
}

static void compile(const char *text, struct filter_prog *p)
{
	struct filter_expr *e = NULL;
	struct filter_error err;
	char line[256];

	if (filter_parse(text, &e, &err) || filter_compile(&e, 1, &fg_env, p, &err)) {
		filter_error__format(&err, "test", line, sizeof(line));
		fail_msg("'%s': %s", text, line);
	}
	filter_expr__free(e);
}

static void random_programs(void **state)
{
	struct filter_run_bpf *skel = *state;
	struct fg_rng r = {0xfeedfacecafebeefull};
	struct filter_prog p;
	struct fg_input x;
	char text[4096];
	unsigned long pass = 0, total = 0;
	const char *env = getenv("USDTKIT_FILTER_PROGRAMS");
	int nprogs = env ? atoi(env) : 2000;

	/* under emulation (run-on-kernel.sh) each run is slow: fewer programs */
	for (int i = 0; i < nprogs; i++) {
		struct fg_node *n = fg_expr(&r, text, sizeof(text));

		compile(text, &p);
		load_prog(skel, 1, &p);
		for (int k = 0; k < 6; k++) {
			int want, ref, got;

			fg_input(&r, &x);
			want = fg_eval(n, &x) ? FILTER_PASS : FILTER_DROP;
			ref = filter_prog__eval(&p, &x.in);
			got = run(skel, 1, &x.in);
			if (ref != want || got != ref)
				fail_msg("'%s' on path '%s' method '%s' comm '%s': kernel %d, "
					 "reference %d, direct %d",
					 text, x.path, x.method, x.in.comm, got, ref, want);
			pass += want == FILTER_PASS;
			total++;
		}
		fg_free(n);
	}
	assert_true(pass > total / 10 && pass < total - total / 10);
}

static int check(struct filter_run_bpf *skel, const char *text, const struct filter_input *in)
{
	struct filter_prog p;

	compile(text, &p);
	load_prog(skel, 2, &p);
	return run(skel, 2, in);
}

static void fixed_cases(void **state)
{
	struct filter_run_bpf *skel = *state;
	struct filter_input in = {0};
	char s126[127], s127[128], s200[201];
	static const char *const exprs[] = {
		"path =~ \"*a\"",
		"path =~ \"a*\"",
		"path =~ \"*a*\"",
		"path == \"a\"",
		"status < 0 && comm =~ \"py*\"",
		"len >= 0xffffffffffffffff || pid == 42",
		"comm == \"python3\"",
		"!(method != \"GET\") && path =~ \"?*\"",
	};

	memset(s126, 'a', sizeof(s126) - 1);
	s126[126] = 0;
	memset(s127, 'a', sizeof(s127) - 1);
	s127[127] = 0;
	memset(s200, 'a', sizeof(s200) - 1);
	s200[200] = 0;
	in.vals[FG_STATUS] = (uint64_t)-3;
	in.vals[FG_LEN] = UINT64_MAX;
	in.vals[FG_METHOD] = (uintptr_t) "GET";
	in.vals[FILTER_VAL_PID] = 42;
	memcpy(in.comm, "python3", 8);
	/* every expression on strings at the window's edge: kernel == reference */
	const char *paths[] = {"", "a", s126, s127, s200};

	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			struct filter_prog p;

			in.vals[FG_PATH] = (uintptr_t)paths[k];
			compile(exprs[i], &p);
			load_prog(skel, 2, &p);
			if (run(skel, 2, &in) != filter_prog__eval(&p, &in))
				fail_msg("'%s' on a path of %zu bytes", exprs[i], strlen(paths[k]));
		}
	}
	in.vals[FG_PATH] = (uintptr_t)s127;
	assert_int_equal(check(skel, "path =~ \"a*\"", &in), FILTER_PASS);
	assert_int_equal(check(skel, "path =~ \"*a\"", &in), FILTER_DROP);
	/* faults: a value marked unreadable, a NULL or unmapped string, no program */
	in.fault = 1u << FG_STATUS;
	assert_int_equal(check(skel, "status == 1", &in), FILTER_FAULT);
	assert_int_equal(check(skel, "pid == 42 || status == 1", &in), FILTER_PASS);
	in.fault = 0;
	in.vals[FG_PATH] = 0;
	assert_int_equal(check(skel, "path == \"x\"", &in), FILTER_FAULT);
	in.vals[FG_PATH] = 8;
	assert_int_equal(check(skel, "path != \"x\"", &in), FILTER_FAULT);
	assert_int_equal(run(skel, NPROBES, &in), FILTER_FAULT);
}

/*
 * Strings in file pages this process never touched: bpf_probe_read_user_str
 * cannot fault them in, the interpreter's fallback must. The second string
 * ends 4 bytes before an unmapped page, so only the read up to the end of
 * its page succeeds.
 */
static void untouched_pages(void **state)
{
	struct filter_run_bpf *skel = *state;
	long pg = sysconf(_SC_PAGESIZE);
	struct filter_input in = {0};
	char *page = malloc((size_t)pg), *map;
	int fd = memfd_create("filter-test", MFD_CLOEXEC);

	assert_non_null(page);
	assert_true(fd >= 0);
	memset(page, 'x', (size_t)pg);
	memcpy(page, "/api/users", 11);
	memcpy(page + pg - 4, "abc", 4);
	assert_int_equal(write(fd, page, (size_t)pg), pg);
	assert_int_equal(write(fd, page, (size_t)pg), pg);
	/* two file pages mapped, the second unmapped again: a hole after the first */
	map = mmap(NULL, 2 * (size_t)pg, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(munmap(map + pg, (size_t)pg), 0);
	in.vals[FG_PATH] = (uintptr_t)map;
	assert_int_equal(check(skel, "path =~ \"/api/*\"", &in), FILTER_PASS);
	in.vals[FG_PATH] = (uintptr_t)(map + pg - 4);
	assert_int_equal(check(skel, "path == \"abc\"", &in), FILTER_PASS);
	assert_int_equal(check(skel, "path == \"ab\"", &in), FILTER_DROP);
	munmap(map, (size_t)pg);
	close(fd);
	free(page);
}

static int setup(void **state)
{
	struct filter_run_bpf *skel;
	int err;

	skel = filter_run_bpf__open();
	if (!skel)
		return -1;
	skel->rodata->filter_on = 1;
	bpf_map__set_max_entries(skel->maps.filter_progs, NPROBES);
	err = filter_run_bpf__load(skel);
	if (err) {
		fprintf(stderr, "filter_run.bpf.o: load failed: %d\n", err);
		filter_run_bpf__destroy(skel);
		return -1;
	}
	*state = skel;
	return 0;
}

static int teardown(void **state)
{
	filter_run_bpf__destroy(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_programs),
		cmocka_unit_test(fixed_cases),
		cmocka_unit_test(untouched_pages),
	};
	int rc = tt_bpf_permitted();

	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, setup, teardown);
}
