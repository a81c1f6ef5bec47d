// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Loader for bench/filter: the filtered count `usdtkit stat --filter` will
 * run, before the command is wired: finds PROBE's locations with the
 * argument engine, compiles EXPR for each probe (tracer/filter.c), loads
 * filter_count (tests/tracer/filter_run.bpf.c: fetch what the filter
 * needs, interpret, count) and attaches it like stat does (uprobe_multi
 * where the kernel has it, unless USDTKIT_NO_UPROBE_MULTI=1), runs
 * COMMAND and prints "HITS PASSED FAULTS" of the run on stdout after
 * COMMAND's own output.
 *
 * Usage: filter_bench PROBE ARGS_DECL EXPR COMMAND [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "engine.h"
#include "kernel.h"
#include "filter_compile.h"
#include "filter_run.h"
#include "filter_run.skel.h"

static int compile_filters(struct engine *eng, struct filter_expr *e, int map_fd)
{
	for (size_t p = 0; p < engine__probe_count(eng); p++) {
		const struct engine_probe *pr = engine__probe(eng, p);
		struct filter_arg args[FILTER_NARGS];
		struct filter_env env = {.provider = pr->provider, .name = pr->name, .args = args};
		const struct engine_loc *loc = NULL;
		struct filter_error err;
		struct filter_prog prog;
		char line[256];
		__u32 key = (__u32)p;

		for (size_t i = 0; i < engine__loc_count(eng); i++) {
			if (engine__loc(eng, i)->probe_id == p) {
				loc = engine__loc(eng, i);
				break;
			}
		}
		env.nargs = pr->nargs < 0 ? 0 : (unsigned int)pr->nargs;
		for (unsigned int i = 0; i < env.nargs && i < FILTER_NARGS; i++) {
			enum usdt_type t = pr->meta[i].type;

			if (t == USDT_TYPE_NONE && loc)
				t = engine__arg_type(pr, &loc->spec.args[i], -1);
			args[i].name = pr->meta[i].name[0] ? pr->meta[i].name : NULL;
			args[i].type = filter_arg_type_of(t);
		}
		if (filter_compile(&e, 1, &env, &prog, &err)) {
			filter_error__format(&err, "filter_bench", line, sizeof(line));
			fprintf(stderr, "%s\n", line);
			return -EINVAL;
		}
		if (bpf_map_update_elem(map_fd, &key, &prog, 0))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct engine_opts opts = {.pid = -1};
	struct filter_run_bpf *skel = NULL;
	struct engine *eng = NULL;
	struct filter_expr *e = NULL;
	struct filter_error ferr;
	bool multi = !getenv("USDTKIT_NO_UPROBE_MULTI");
	unsigned long long sum[FCOUNT__MAX] = {0};
	int ncpu, rc = 1, status, err;
	pid_t child;
	char line[256];

	if (argc < 5) {
		fprintf(stderr, "usage: filter_bench PROBE ARGS_DECL EXPR COMMAND [ARG...]\n");
		return 2;
	}
	if (filter_parse(argv[3], &e, &ferr)) {
		filter_error__format(&ferr, "filter_bench", line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		return 2;
	}
	if (engine__new(&opts, &eng) || engine__add_probe(eng, argv[1]) ||
	    engine__add_args_decl(eng, argv[2]) || engine__scan(eng, false) <= 0) {
		fprintf(stderr, "filter_bench: no location of %s\n", argv[1]);
		goto out;
	}
	skel = filter_run_bpf__open();
	if (!skel)
		goto out;
	skel->rodata->filter_on = 1;
	bpf_map__set_max_entries(skel->maps.locs, (__u32)engine__loc_count(eng));
	bpf_map__set_max_entries(skel->maps.filter_progs, (__u32)engine__probe_count(eng));
	bpf_map__set_max_entries(skel->maps.fcounts, (__u32)engine__loc_count(eng) * FCOUNT__MAX);
	bpf_program__set_autoload(skel->progs.filter_run_test, false);
	if (multi)
		bpf_program__set_expected_attach_type(skel->progs.filter_count,
						      KERNEL_BPF_TRACE_UPROBE_MULTI);
	err = filter_run_bpf__load(skel);
	if (err && multi) {
		/* no uprobe_multi on this kernel: perf-event uprobes */
		filter_run_bpf__destroy(skel);
		fprintf(stderr, "filter_bench: load failed (%d)\n", err);
		goto out;
	}
	if (compile_filters(eng, e, bpf_map__fd(skel->maps.filter_progs)))
		goto out;
	engine__set_attach_mode(eng, multi ? ENGINE_ATTACH_MULTI : ENGINE_ATTACH_PERF);
	err = engine__attach(eng, skel->progs.filter_count, bpf_map__fd(skel->maps.locs));
	if (err <= 0) {
		fprintf(stderr, "filter_bench: attach failed (%d)\n", err);
		goto out;
	}
	fflush(stdout);
	child = fork();
	if (child == 0) {
		execv(argv[4], argv + 4);
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		goto out;
	ncpu = libbpf_num_possible_cpus();
	for (__u32 k = 0; k < engine__loc_count(eng) * FCOUNT__MAX; k++) {
		unsigned long long v[ncpu];

		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.fcounts), &k, v))
			goto out;
		for (int c = 0; c < ncpu; c++)
			sum[k % FCOUNT__MAX] += v[c];
	}
	printf("%llu %llu %llu\n", sum[FCOUNT_HITS], sum[FCOUNT_PASSED], sum[FCOUNT_FAULTS]);
	rc = 0;
out:
	engine__detach(eng);
	engine__free(eng);
	filter_run_bpf__destroy(skel);
	filter_expr__free(e);
	return rc;
}
