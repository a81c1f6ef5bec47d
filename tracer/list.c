/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * `usdtkit list`: which probes are there, in files, in a process, or in every
 * process of the system.
 *
 * A front-end: the sdt core reads the notes, discover.c finds the objects
 * of a process, list_print.c prints one object's probes; this file walks
 * the files, the process or the system, and reports what cannot be read.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <usdtkit/stapsdt.h>

#include "commands.h"
#include "discover.h"
#include "json.h"
#include "output.h"
#include "list_print.h"
#include "probe_spec.h"
#include "target_all.h"

#define PROG "usdtkit list"
#define STDOUT_BUF_SIZE (1 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: usdtkit list [OPTIONS] PATH... [PATTERN]\n"
		   "       usdtkit list [OPTIONS] -p PID [PATTERN...]\n"
		   "       usdtkit list [OPTIONS] --all [PATTERN...]\n"
		   "\n"
		   "Lists the USDT (SystemTap SDT) probes of ELF files, of every object a\n"
		   "process has mapped (executable, libraries, dlopen'ed objects, memfd-backed\n"
		   "runtime providers, files deleted since they were mapped), or of every\n"
		   "process. Default output: one line per probe, 'PATH PROVIDER:NAME'.\n"
		   "\n"
		   "options:\n"
		   "  -p, --pid PID        list the objects mapped by process PID\n"
		   "  -a, --all            list the objects of every process (each object once)\n"
		   "  -P, --probe PATTERN  only probes matching PATTERN (repeatable)\n"
		   "  -v, --verbose        also print each location: address, file offset,\n"
		   "                       semaphore, and every argument decoded\n"
		   "  -j, --json           one JSON object per probe per line (JSON lines)\n"
		   "  -h, --help           show this help\n"
		   "\n"
		   "PATTERN is PROVIDER:NAME with shell globs on each side ('libc:*',\n"
		   "'*:malloc*'); a pattern without ':' is a provider glob ('python' means\n"
		   "'python:*'). With -p and --all every operand is a pattern. With PATHs,\n"
		   "the last operand is taken as a pattern when it contains ':' and is not an\n"
		   "existing file; use -P to be explicit. bpftrace's spelling works too:\n"
		   "'usdt:PATH:PROVIDER:NAME' lists PATH filtered by PROVIDER:NAME (the\n"
		   "PROBE grammar of trace and stat).\n"
		   "\n"
		   "exit status: 0 success (also when nothing matches), 1 a file, process or\n"
		   "permission problem (one line on stderr each), 2 bad command line.\n"
		   "\n"
		   "examples:\n"
		   "  usdtkit list /usr/bin/python3\n"
		   "  usdtkit list -v ./myapp 'myapp:request_*'\n"
		   "  usdtkit list -p 1234\n"
		   "  usdtkit list -p $(pidof node) --json | jq -r .name\n"
		   "  usdtkit list --all -P 'python:*'\n"
		   "  usdtkit list 'usdt:/usr/bin/python3.11:python:function__*'\n");
}

/* Diagnostics must not overtake data already printed. */
static void __attribute__((format(printf, 2, 3))) diag(struct list_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fflush(ctx->out);
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *open_error_reason(int err)
{
	switch (err) {
	case ENOEXEC:
		return "not an ELF file";
	case EBADMSG:
		return "corrupt ELF file or probe notes";
	case ENOTSUP:
		return "unsupported ELF file";
	default:
		return strerror(err);
	}
}

/*
 * Output primitives for the per-location hot path: fprintf's format parsing
 * is most of the cost of `list -v` on a binary with thousands of probes.
 */
/* ------------------------------------------------------------------ */
/* Files, processes, the system                                        */
/* ------------------------------------------------------------------ */

static int list_paths(struct list_ctx *ctx, char **paths, int npaths)
{
	int status = EXIT_OK;

	for (int i = 0; i < npaths; i++) {
		struct object_ref ref = {.open_path = paths[i], .display_path = paths[i]};
		struct stat st;
		int err;

		/* the reader would fail later and less clearly (a FIFO is never opened blocking) */
		if (!stat(paths[i], &st) && !S_ISREG(st.st_mode)) {
			diag(ctx, "%s: %s", paths[i],
			     S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
			status = EXIT_FAIL;
			continue;
		}
		err = list_object(ctx, &ref);
		if (err) {
			diag(ctx, "%s: %s", paths[i], open_error_reason(-err));
			status = EXIT_FAIL;
		}
	}
	return status;
}

static bool process_alive(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return access(path, F_OK) == 0;
}

/*
 * Lists every object of @objs. In -p mode an object that cannot be read is
 * an error (or the process exited); in --all mode it is counted as skipped.
 */
static int list_objects(struct list_ctx *ctx, pid_t pid, const struct object_list *objs)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < objs->count; i++) {
		const struct mapped_object *obj = &objs->objs[i];
		/*
		 * With --all, name the process when the path alone does not
		 * lead to this object: memfd, deleted, or only reachable
		 * through the process (another mount namespace).
		 */
		bool tied = obj->deleted || strcmp(obj->open_path, obj->display_path);
		struct object_ref ref = {
			.open_path = obj->open_path,
			.display_path = obj->display_path,
			.pid = (!ctx->all || tied) ? pid : 0,
			.show_pid = ctx->all && tied,
		};
		int err = list_object(ctx, &ref);

		if (!err || err == -ENOEXEC)
			continue; /* an executable mapping of something not ELF */
		if (ctx->all) {
			ctx->skipped_objs++;
			continue;
		}
		if (!process_alive(pid)) {
			diag(ctx, "process %d exited while being scanned", (int)pid);
			return EXIT_FAIL;
		}
		diag(ctx, "process %d: %s: %s", (int)pid, obj->display_path,
		     open_error_reason(-err));
		status = EXIT_FAIL;
	}
	return status;
}

static int list_pid(struct list_ctx *ctx, pid_t pid)
{
	struct object_list objs = {0};
	int err, status;

	err = discover_pid_objects(pid, &objs);
	if (err) {
		if (err == -ESRCH)
			diag(ctx, "process %d: no such process", (int)pid);
		else
			diag(ctx, "process %d: %s", (int)pid, strerror(-err));
		return EXIT_FAIL;
	}
	status = list_objects(ctx, pid, &objs);
	object_list__free(&objs);
	return status;
}

/* --all: an open-addressing set of (dev, ino). */
static bool seen_insert(struct seen_set *set, uint64_t dev, uint64_t ino)
{
	size_t mask, slot;

	if (2 * (set->count + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		uint64_t *keys = calloc(cap, 2 * sizeof(uint64_t));

		if (!keys)
			return true; /* out of memory: list it again rather than fail */
		for (size_t i = 0; i < set->cap; i++) {
			uint64_t d = set->keys[2 * i], n = set->keys[2 * i + 1];

			if (!d && !n)
				continue;
			slot = (d * 0x9e3779b97f4a7c15ULL ^ n) & (cap - 1);
			while (keys[2 * slot] || keys[2 * slot + 1])
				slot = (slot + 1) & (cap - 1);
			keys[2 * slot] = d;
			keys[2 * slot + 1] = n;
		}
		free(set->keys);
		set->keys = keys;
		set->cap = cap;
	}
	mask = set->cap - 1;
	slot = (dev * 0x9e3779b97f4a7c15ULL ^ ino) & mask;
	while (set->keys[2 * slot] || set->keys[2 * slot + 1]) {
		if (set->keys[2 * slot] == dev && set->keys[2 * slot + 1] == ino)
			return false;
		slot = (slot + 1) & mask;
	}
	set->keys[2 * slot] = dev;
	set->keys[2 * slot + 1] = ino;
	set->count++;
	return true;
}

/* memfd objects are listed per process; every other object once. */
static bool all_filter(const struct mapped_object *obj, void *data)
{
	struct list_ctx *ctx = data;

	if (obj->memfd)
		return true;
	return seen_insert(&ctx->seen, obj->dev, obj->ino);
}

/* One process of the --all walk (target_all__each, which --all tracing walks with too). */
static int list_one(void *data, pid_t pid, const char *exe)
{
	struct list_ctx *ctx = data;
	struct object_list objs = {0};
	int err;

	(void)exe;
	err = discover_pid_objects_filtered(pid, &objs, all_filter, ctx);
	if (err == -ESRCH)
		ctx->exited_procs++; /* gone between readdir and open */
	else if (err)
		ctx->skipped_procs++;
	if (err)
		return 0; /* counted here, in list's own terms */
	list_objects(ctx, pid, &objs);
	object_list__free(&objs);
	return 0;
}

static int list_all(struct list_ctx *ctx)
{
	size_t unreadable; /* none: list_one counts its own */
	int err = target_all__each(list_one, ctx, &unreadable);

	if (err < 0) {
		diag(ctx, "/proc: %s", strerror(-err));
		return EXIT_FAIL;
	}
	if (ctx->skipped_procs || ctx->skipped_objs)
		diag(ctx, "skipped %zu process%s and %zu object%s that could not be read",
		     ctx->skipped_procs, ctx->skipped_procs == 1 ? "" : "es", ctx->skipped_objs,
		     ctx->skipped_objs == 1 ? "" : "s");
	if (ctx->exited_procs)
		diag(ctx, "%zu process%s exited during the scan", ctx->exited_procs,
		     ctx->exited_procs == 1 ? "" : "es");
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

/*
 * Operands in bpftrace's spelling, "usdt:PATH:PROVIDER:NAME": the PATH is
 * listed, filtered by PROVIDER:NAME; "usdt:PROVIDER:NAME" is a pattern.
 * Other operands are left in place. Returns the number of operands left in
 * argv[first..] (compacted), or -1 after printing a usage error.
 */
static int take_usdt_operands(struct list_ctx *ctx, char **argv, int first, int argc, char **owned)
{
	int out = first;

	for (int i = first; i < argc; i++) {
		struct probe_spec ps;
		char *pat;

		if (strncmp(argv[i], "usdt:", 5)) {
			argv[out++] = argv[i];
			continue;
		}
		if (probe_spec__parse(&ps, argv[i])) {
			fprintf(stderr, PROG ": invalid pattern '%s'\n", argv[i]);
			return -1;
		}
		if (asprintf(&pat, "%s:%s", ps.provider, ps.name) < 0 ||
		    probe_specs__add(&ctx->patterns, pat)) {
			probe_spec__free(&ps);
			return -1;
		}
		free(pat);
		if (ps.path) {
			owned[i] = ps.path; /* freed by the caller */
			ps.path = NULL;
			argv[out++] = owned[i];
		}
		probe_spec__free(&ps);
	}
	return out - first;
}

static bool looks_like_pattern(const char *arg)
{
	struct stat st;

	return strchr(arg, ':') && stat(arg, &st) != 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"probe", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static char stdout_buf[STDOUT_BUF_SIZE];
	struct list_ctx ctx = {.out = stdout};
	char **owned = NULL;
	int opt, status = EXIT_USAGE, npaths;
	char *end;
	long pid;

	/* one big buffer: the output of a large binary goes out in a few writes */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:aP:vjh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || pid <= 0 || pid > INT_MAX) {
				fprintf(stderr, PROG ": invalid PID '%s'\n", optarg);
				goto usage_err;
			}
			ctx.pid = pid;
			break;
		case 'a':
			ctx.all = true;
			break;
		case 'P':
			if (probe_specs__add(&ctx.patterns, optarg)) {
				fprintf(stderr, PROG ": invalid pattern '%s'\n", optarg);
				goto usage_err;
			}
			break;
		case 'v':
			ctx.verbose = true;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			usage(stdout);
			status = EXIT_OK;
			goto out;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs an argument\n", argv[optind - 1]);
			goto usage_err;
		default:
			if (optopt)
				fprintf(stderr, PROG ": unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			goto usage_err;
		}
	}
	if (ctx.pid && ctx.all) {
		fprintf(stderr, PROG ": -p and --all exclude each other\n");
		goto usage_err;
	}
	json_writer__init(&ctx.jw, ctx.out);

	if (ctx.pid || ctx.all) {
		/* every operand is a pattern */
		for (int i = optind; i < argc; i++) {
			if (probe_specs__add(&ctx.patterns, argv[i])) {
				fprintf(stderr, PROG ": invalid pattern '%s'\n", argv[i]);
				goto usage_err;
			}
		}
		status = ctx.pid ? list_pid(&ctx, ctx.pid) : list_all(&ctx);
		goto out;
	}

	owned = calloc(argc, sizeof(*owned));
	if (!owned) {
		status = EXIT_FAIL;
		goto out;
	}
	npaths = take_usdt_operands(&ctx, argv, optind, argc, owned);
	if (npaths < 0)
		goto usage_err;
	if (npaths > 1 && looks_like_pattern(argv[optind + npaths - 1])) {
		if (probe_specs__add(&ctx.patterns, argv[optind + npaths - 1])) {
			fprintf(stderr, PROG ": invalid pattern '%s'\n", argv[optind + npaths - 1]);
			goto usage_err;
		}
		npaths--;
	}
	if (npaths < 1) {
		fprintf(stderr, PROG ": no PATH given (or use -p PID or --all)\n");
		goto usage_err;
	}
	status = list_paths(&ctx, argv + optind, npaths);
	goto out;

usage_err:
	fprintf(stderr, "Try 'usdtkit list --help'.\n");
	status = EXIT_USAGE;
out:
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
		if (status == EXIT_OK)
			status = EXIT_FAIL;
	}
	probe_specs__free(&ctx.patterns);
	free(ctx.seen.keys);
	for (int i = 0; owned && i < argc; i++)
		free(owned[i]);
	free(owned);
	return status;
}
